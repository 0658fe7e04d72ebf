-- ModelMonitor: the monitor's own status, in the short form or either API's prefixed form.
local MONITOR_PENDING = {
  PENDING = true,
  DELETE_PENDING = true,
  MONITOR_STATUS_PENDING = true,
  MONITOR_STATUS_DELETE_PENDING = true,
  DATA_PROFILING_STATUS_PENDING = true,
  DATA_PROFILING_STATUS_DELETE_PENDING = true,
}
local MONITOR_FAILED = {
  ERROR = true,
  FAILED = true,
  MONITOR_STATUS_ERROR = true,
  MONITOR_STATUS_FAILED = true,
  DATA_PROFILING_STATUS_ERROR = true,
  DATA_PROFILING_STATUS_FAILED = true,
}

return assess(obj, {
  state = function(status, ready)
    local monitor = status.monitorStatus
    if MONITOR_FAILED[monitor] then
      return result("Degraded", "Monitor " .. monitor .. ready_detail(ready))
    end
    if MONITOR_PENDING[monitor] then
      return result("Progressing", "Monitor " .. monitor)
    end
    return nil
  end,
  -- A failed refresh is a data problem, not a broken monitor definition.
  note = function(status)
    local refresh = status.lastRefresh
    if refresh == nil or is_empty(refresh.state) then
      return nil
    end
    return "last refresh " .. refresh.state
  end,
})
