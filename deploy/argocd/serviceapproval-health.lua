-- Argo CD health of a catalog.charter.dev ServiceApproval. Healthy when it counts, and also
-- when it is history (a stale revision, superseded by the approver's later decision,
-- expired): approvals are an audit trail kept in git. Degraded when it is a mistake that
-- will never count (self-approval, an approver not on the list, an unknown Service, an
-- approval without the justification an ApprovalPolicy requires).
local hs = { status = "Progressing", message = "Waiting for the Charter operator" }
if obj.status == nil or obj.status.reason == nil then
  return hs
end
local mistake = {
  SelfApproval = true, ApproverNotAllowed = true, UnknownService = true,
  JustificationRequired = true,
}
if obj.status.counted == true or not mistake[obj.status.reason] then
  hs.status = "Healthy"
else
  hs.status = "Degraded"
end
hs.message = obj.status.reason .. ": " .. (obj.status.message or "")
return hs
