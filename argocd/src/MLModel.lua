-- MLModel: the Ready and Synced conditions tell everything, except that an alias held back by its promotion
-- gates is Suspended: the registry serves the version it held before, and it waits for evidence (a metric, an
-- approval tag) rather than being broken.
return assess(obj, {
  state = function(status, ready)
    if ready ~= nil and ready.status == "False" and ready.reason == "PromotionBlocked" then
      return result("Suspended", "Promotion held back" .. ready_detail(ready))
    end
    return nil
  end,
})
