//! Every reason string a user sees, named once: condition reasons, Event and history reasons,
//! and the reasons on a ServiceApproval's status. Gates, quorum, approvals and transitions
//! all use these names; no reason is spelled anywhere else.

pub const ACTIVATED: &str = "Activated";
/// A write to the API server failed (a Warning Event on the object concerned).
pub const API_ERROR: &str = "ApiError";
pub const ACTIVE: &str = "Active";
pub const APPROVER_NOT_ALLOWED: &str = "ApproverNotAllowed";
pub const AWAITING_APPROVAL: &str = "AwaitingApproval";
pub const BACK_TO_DEVELOPMENT: &str = "BackToDevelopment";
pub const BACK_TO_PLANNING: &str = "BackToPlanning";
pub const CONFIRMED: &str = "Confirmed";
pub const COUNTED: &str = "Counted";
pub const CREATED: &str = "Created";
pub const DELEGATE_NOT_ALLOWED: &str = "DelegateNotAllowed";
pub const DEPENDENCIES_ACTIVE: &str = "DependenciesActive";
pub const DEPENDENCIES_NOT_READY: &str = "DependenciesNotReady";
pub const DEPENDENCY_CYCLE: &str = "DependencyCycle";
pub const EXPIRED: &str = "Expired";
pub const INCOMPLETE: &str = "Incomplete";
pub const INVALID_LAST_REVIEWED: &str = "InvalidLastReviewed";
pub const INVALID_REVIEW_INTERVAL: &str = "InvalidReviewInterval";
pub const JUSTIFICATION_REQUIRED: &str = "JustificationRequired";
pub const NO_CATEGORIES: &str = "NoCategories";
pub const NOT_APPLICABLE: &str = "NotApplicable";
pub const NOT_PUBLISHED: &str = "NotPublished";
pub const NOT_REVIEWABLE: &str = "NotReviewable";
pub const NOT_SUBMITTED: &str = "NotSubmitted";
pub const PROGRESSING: &str = "Progressing";
pub const PUBLISHED: &str = "Published";
pub const QUORUM_REACHED: &str = "QuorumReached";
pub const REACTIVATED: &str = "Reactivated";
pub const REJECTED: &str = "Rejected";
pub const RESUBMITTED: &str = "Resubmitted";
pub const RETIRED: &str = "Retired";
pub const RETIRED_WITH_ACTIVE_DEPENDANTS: &str = "RetiredWithActiveDependants";
pub const REVIEW_DUE: &str = "ReviewDue";
pub const REVIEW_NOT_DUE: &str = "ReviewNotDue";
pub const REVIEW_RECORDED: &str = "ReviewRecorded";
pub const REVOKED: &str = "Revoked";
pub const SELF_APPROVAL: &str = "SelfApproval";
pub const SERVICE_RECREATED: &str = "ServiceRecreated";
pub const STALE_REVISION: &str = "StaleRevision";
pub const SUPERSEDED: &str = "Superseded";
pub const UNKNOWN_SERVICE: &str = "UnknownService";
pub const WITHDRAWN: &str = "Withdrawn";
