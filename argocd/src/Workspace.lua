-- Workspace: Degraded while the last connection check failed.
return assess(obj, {
  state = function(status, ready)
    if status.connected == false then
      return result("Degraded", "Not connected" .. ready_detail(ready))
    end
    return nil
  end,
})
