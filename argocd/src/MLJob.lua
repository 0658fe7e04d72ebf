-- MLJob: health is the job definition's. A failed run is not a broken definition, so the
-- latest run only adds words to the message.
return assess(obj, {
  note = function(status)
    local run = status.lastRun
    if run == nil or is_empty(run.state) then
      return nil
    end
    if is_empty(run.result) then
      return "last run " .. run.state
    end
    return "last run " .. run.state .. " " .. run.result
  end,
})
