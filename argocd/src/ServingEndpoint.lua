-- ServingEndpoint: Progressing while a config update rolls out, Degraded when one failed.

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

return assess(obj, {
  state = function(status, ready)
    if status.configUpdate == "IN_PROGRESS" then
      return result("Progressing", "Config update in progress" .. pending_versions(status))
    end
    if status.configUpdate == "UPDATE_FAILED" then
      return result("Degraded", "Config update failed" .. failure_detail(status, ready))
    end
    return nil
  end,
})
