-- ServingEndpoint: Progressing while a rollout (spec.rollout) or a config update runs, Degraded when a rollout
-- was aborted or an update failed. A completed rollout is Healthy once the endpoint is Ready.

-- "name -> version N" for each served entity an update moves to a new version.
local function pending_versions(status)
  local moves = {}
  for _, entity in ipairs(status.servedEntities or {}) do
    if entity.pendingVersion ~= nil then
      table.insert(moves, entity.name .. " -> version " .. tostring(entity.pendingVersion))
    end
  end
  if #moves == 0 then
    return ""
  end
  return ": " .. table.concat(moves, ", ")
end

-- The deployment messages Databricks gives for the served entities, or else Ready's message.
local function failure_detail(status, ready)
  local messages = {}
  for _, entity in ipairs(status.servedEntities or {}) do
    if not is_empty(entity.message) then
      table.insert(messages, entity.name .. ": " .. entity.message)
    end
  end
  if #messages == 0 then
    return ready_detail(ready)
  end
  return ": " .. table.concat(messages, "; ")
end

-- ": <text>" when text is set.
local function detail(text)
  if is_empty(text) then
    return ""
  end
  return ": " .. text
end

-- The rollout's own health while it runs or after an abort; nil once it completed (or none ever ran).
local function rollout_state(rollout)
  if rollout == nil then
    return nil
  end
  if rollout.phase == "Aborted" then
    return result("Degraded", "Rollout aborted" .. detail(rollout.message))
  end
  if rollout.phase == "Paused" then
    if is_empty(rollout.message) then
      return result("Progressing", "Rollout paused")
    end
    return result("Progressing", "Rollout: " .. rollout.message)
  end
  if rollout.phase == "Progressing" then
    return result("Progressing", "Rollout in progress" .. detail(rollout.summary))
  end
  return nil
end

return assess(obj, {
  state = function(status, ready)
    local rolling = rollout_state(status.rollout)
    if rolling ~= nil then
      return rolling
    end
    if status.configUpdate == "IN_PROGRESS" then
      return result("Progressing", "Config update in progress" .. pending_versions(status))
    end
    if status.configUpdate == "UPDATE_FAILED" then
      return result("Degraded", "Config update failed" .. failure_detail(status, ready))
    end
    return nil
  end,
  note = function(status)
    local rollout = status.rollout
    if rollout ~= nil and rollout.phase == "Completed" and not is_empty(rollout.summary) then
      return "rollout " .. rollout.summary
    end
    return nil
  end,
})
