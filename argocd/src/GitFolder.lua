-- GitFolder: health is the folder's. The checked-out branch or tag only adds words to the message.
return assess(obj, {
  note = function(status)
    if not is_empty(status.tag) then
      return "tag " .. status.tag
    end
    if not is_empty(status.branch) then
      return "branch " .. status.branch
    end
    return nil
  end,
})
