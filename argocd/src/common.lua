-- Argo CD health of a mlops.gitops.dev resource, read from the status its controller writes.
--
-- Argo CD runs this in gopher-lua (Lua 5.1) with only the base, package and table libraries:
-- there is no string, math or global os library, so strings are compared and joined, never
-- searched or cut.
-- Argo CD calls it with the live object as `obj`; it returns {status = ..., message = ...}.

-- Reasons that mean "not yet" rather than "broken": a sync wave waits on them instead of
-- failing. Every WaitingFor* reason of controller/status/conditions.py, ExternalUnavailable,
-- MonitorPending, which the controller polls until Databricks has set the monitor up or finished
-- deleting it (status.monitorStatus may still say ACTIVE then, from before the delete), and
-- RolloutProgressing: a ServingEndpoint rolling a new version out step by step, or paused for a person.
local TRANSIENT_REASONS = {
  ExternalUnavailable = true,
  MonitorPending = true,
  RolloutProgressing = true,
  WaitingForDependency = true,
  WaitingForInferenceTable = true,
  WaitingForModelVersion = true,
  WaitingForWorkspace = true,
}

-- Ready reasons the controller gives only under ObserveOnly; their messages say so already.
local OBSERVE_ONLY_REASONS = {
  DriftDetected = true,
  Observed = true,
}

local function result(status, message)
  return { status = status, message = message }
end

local function find_condition(conditions, condition_type)
  for _, condition in ipairs(conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

local function is_empty(text)
  return text == nil or text == ""
end

-- "Reason: message", or whichever of the two is set.
local function describe(condition)
  if is_empty(condition.message) then
    return condition.reason or ""
  end
  if is_empty(condition.reason) then
    return condition.message
  end
  return condition.reason .. ": " .. condition.message
end

-- ": <Ready message>" while Ready is False with a message, to explain a kind's failed state.
local function ready_detail(ready)
  if ready ~= nil and ready.status == "False" and not is_empty(ready.message) then
    return ": " .. ready.message
  end
  return ""
end

local function healthy_message(obj, ready, rules)
  local message = ready.message
  if is_empty(message) then
    message = ready.reason or "Ready"
  end
  local spec = obj.spec or {}
  if spec.managementPolicy == "ObserveOnly" and not OBSERVE_ONLY_REASONS[ready.reason] then
    message = "ObserveOnly: " .. message
  end
  if rules.note ~= nil then
    local note = rules.note(obj.status)
    if note ~= nil then
      message = message .. " (" .. note .. ")"
    end
  end
  return message
end

-- The health of obj. rules.state(status, ready) may return a kind's own Degraded or
-- Progressing result; rules.note(status) may return words added to the Healthy message.
local function assess(obj, rules)
  local metadata = obj.metadata or {}
  if metadata.deletionTimestamp ~= nil then
    return result("Progressing", "Pending deletion")
  end
  local status = obj.status
  if status == nil or status.conditions == nil or #status.conditions == 0 then
    return result("Progressing", "Waiting for controller")
  end
  local generation = tonumber(metadata.generation)
  local observed = tonumber(status.observedGeneration)
  if generation ~= nil and (observed == nil or observed < generation) then
    return result("Progressing", "Waiting for controller to observe generation " .. tostring(generation))
  end
  local ready = find_condition(status.conditions, "Ready")
  local synced = find_condition(status.conditions, "Synced")
  if synced ~= nil and synced.status == "False" and not TRANSIENT_REASONS[synced.reason] then
    return result("Degraded", describe(synced))
  end
  if rules.state ~= nil then
    local own = rules.state(status, ready)
    if own ~= nil then
      return own
    end
  end
  if synced ~= nil and synced.status == "False" then
    return result("Progressing", describe(synced))
  end
  if ready == nil then
    return result("Progressing", "Waiting for controller")
  end
  if ready.status == "True" then
    return result("Healthy", healthy_message(obj, ready, rules))
  end
  if ready.status == "False" and not TRANSIENT_REASONS[ready.reason] then
    return result("Degraded", describe(ready))
  end
  return result("Progressing", describe(ready))
end
