-- Argo CD health of a catalog.charter.dev Service, from its kstatus-style Ready condition.
-- Healthy: the desired phase is reached with its content live. Progressing: the operator
-- has not seen this generation yet, or the Service waits on others (approval, a
-- dependency). Degraded: it waits on its owner (content incomplete, rejected, a
-- dependency cycle, no categories, a bad review setting).
local hs = { status = "Progressing", message = "Waiting for the Charter operator" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.message = "Waiting for the Charter operator to observe generation " .. generation
  return hs
end
local owner_must_act = {
  Incomplete = true, Rejected = true, NoCategories = true, DependencyCycle = true,
  InvalidReviewInterval = true, InvalidLastReviewed = true,
}
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    if c.status == "True" then
      hs.status = "Healthy"
    elseif owner_must_act[c.reason] then
      hs.status = "Degraded"
    else
      hs.status = "Progressing"
    end
    hs.message = (c.reason or "") .. ": " .. (c.message or "")
    return hs
  end
end
return hs
