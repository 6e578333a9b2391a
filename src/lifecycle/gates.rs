//! The lifecycle as data: one table of (from, to, gate) that reads like DESIGN.md's lifecycle,
//! and each gate a named function saying why it is closed.

use super::reason;
use super::refusal::Refusal;
use crate::api::{Category, DesiredPhase, Phase, ServiceContent};

/// What the gates look at, computed once per evaluation.
pub(crate) struct Facts<'a> {
    pub desired: DesiredPhase,
    pub content: &'a ServiceContent,
    /// The owner's current categories (not part of the content: no approval needed).
    pub categories: &'a [Category],
    pub revision: &'a str,
    /// The revision that reached quorum (after this evaluation's approvals), if any.
    pub approved_revision: Option<&'a str>,
    /// Valid approvers and rejecters of the current revision.
    pub approved_by: &'a [String],
    pub rejected_by: &'a [String],
    /// Who approved the approved revision (its snapshot's approvers).
    pub approved_by_snapshot: &'a [String],
    /// The current revision's approvals against its bars (`1/2`), and what it still needs, in words.
    pub progress: &'a str,
    pub needs: &'a str,
    /// Who last asked for a phase, who created the Service and who wrote the current revision,
    /// as the API server recorded them.
    pub phase_requested_by: Option<&'a str>,
    pub created_by: Option<&'a str>,
    pub revised_by: Option<&'a str>,
    /// Dependencies that are not Active, as `namespace/name (phase)`.
    pub missing_dependencies: &'a [String],
    /// A dependency cycle through this Service, as `namespace/name` steps; empty when none.
    pub dependency_cycle: &'a [String],
    /// Set when this evaluation revoked the approved revision: (revision, rejecters).
    pub revoked: Option<(&'a str, &'a [String])>,
}

impl Facts<'_> {
    fn current_is_approved(&self) -> bool {
        self.approved_revision == Some(self.revision)
    }
}

pub(crate) type Gate = fn(&Facts) -> Result<(), Refusal>;

/// A move of the lifecycle: taken when its gate opens, recorded under `reason`.
pub(crate) struct Edge {
    pub from: &'static [Phase],
    pub to: Phase,
    pub gate: Gate,
    pub reason: &'static str,
}

use Phase::*;

/// Every allowed move, in priority order: the first open gate from the current phase wins.
pub(crate) const EDGES: &[Edge] = &[
    // Retired is reachable from any phase.
    Edge {
        from: &[Planning, Approval, Development, Active],
        to: Retired,
        gate: retirement_requested,
        reason: reason::RETIRED,
    },
    // Backward moves are immediate.
    Edge {
        from: &[Approval, Development, Active, Retired],
        to: Planning,
        gate: planning_requested,
        reason: reason::BACK_TO_PLANNING,
    },
    Edge {
        from: &[Development, Active],
        to: Planning,
        gate: approval_revoked,
        reason: reason::REVOKED,
    },
    Edge {
        from: &[Approval],
        to: Planning,
        gate: rejected,
        reason: reason::REJECTED,
    },
    Edge {
        from: &[Active],
        to: Development,
        gate: development_requested,
        reason: reason::BACK_TO_DEVELOPMENT,
    },
    // A new revision in Development resubmits it.
    Edge {
        from: &[Development],
        to: Approval,
        gate: content_changed,
        reason: reason::RESUBMITTED,
    },
    // Forward moves pass gates.
    Edge {
        from: &[Planning],
        to: Approval,
        gate: submission,
        reason: reason::AWAITING_APPROVAL,
    },
    Edge {
        from: &[Approval],
        to: Development,
        gate: quorum,
        reason: reason::QUORUM_REACHED,
    },
    Edge {
        from: &[Development],
        to: Active,
        gate: activation,
        reason: reason::ACTIVATED,
    },
    // Reactivation: directly when the current revision is the approved one, else through Approval.
    Edge {
        from: &[Retired],
        to: Active,
        gate: reactivation,
        reason: reason::REACTIVATED,
    },
    Edge {
        from: &[Retired],
        to: Development,
        gate: redevelopment,
        reason: reason::REACTIVATED,
    },
    Edge {
        from: &[Retired],
        to: Approval,
        gate: resubmission,
        reason: reason::AWAITING_APPROVAL,
    },
];

/// The edges leaving `phase`, in priority order.
pub(crate) fn edges_from(phase: Phase) -> impl Iterator<Item = &'static Edge> {
    EDGES.iter().filter(move |e| e.from.contains(&phase))
}

/// Whether the table allows a move from `from` to `to`.
pub fn allowed(from: Phase, to: Phase) -> bool {
    EDGES.iter().any(|e| e.from.contains(&from) && e.to == to)
}

fn wants(f: &Facts, desired: &[DesiredPhase]) -> Result<(), Refusal> {
    if desired.contains(&f.desired) {
        Ok(())
    } else {
        Err(Refusal::not_applicable())
    }
}

fn retirement_requested(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Retired])
}

fn planning_requested(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Planning])
}

fn development_requested(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Development])
}

/// Development and Active stand on an approved revision; without one they go back to Planning.
fn approval_revoked(f: &Facts) -> Result<(), Refusal> {
    if f.approved_revision.is_none() {
        Ok(())
    } else {
        Err(Refusal::not_applicable())
    }
}

/// A valid rejection of the current revision sends it back to Planning for rework.
fn rejected(f: &Facts) -> Result<(), Refusal> {
    if f.rejected_by.is_empty() {
        Err(Refusal::not_applicable())
    } else {
        Ok(())
    }
}

fn content_changed(f: &Facts) -> Result<(), Refusal> {
    if f.current_is_approved() {
        Err(Refusal::not_applicable())
    } else {
        Ok(())
    }
}

/// Planning → Approval: the owner asks for Development or Active and the content is complete.
pub(crate) fn submission(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Development, DesiredPhase::Active])?;
    content_complete(f.content)?;
    not_rejected(f)
}

/// Approval → Development: a quorum of valid approvals for the current revision, no valid rejection.
pub(crate) fn quorum(f: &Facts) -> Result<(), Refusal> {
    not_rejected(f)?;
    if f.current_is_approved() {
        Ok(())
    } else {
        Err(Refusal::awaiting_approval(f.revision, f.progress, f.needs))
    }
}

/// Development → Active: the owner asks for Active, categories are defined, every dependency is Active.
pub(crate) fn activation(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Active])?;
    if !f.current_is_approved() {
        return Err(Refusal::not_applicable());
    }
    categories_defined(f.categories)?;
    dependencies_active(f)
}

fn reactivation(f: &Facts) -> Result<(), Refusal> {
    activation(f)
}

fn redevelopment(f: &Facts) -> Result<(), Refusal> {
    wants(f, &[DesiredPhase::Development])?;
    if f.current_is_approved() {
        Ok(())
    } else {
        Err(Refusal::not_applicable())
    }
}

fn resubmission(f: &Facts) -> Result<(), Refusal> {
    if f.current_is_approved() {
        return Err(Refusal::not_applicable());
    }
    submission(f)
}

pub(crate) fn content_complete(content: &ServiceContent) -> Result<(), Refusal> {
    let blank = |s: Option<&str>| s.is_none_or(|s| s.trim().is_empty());
    let mut missing = Vec::new();
    if content.owner.trim().is_empty() {
        missing.push("owner");
    }
    if blank(content.description.as_deref()) {
        missing.push("description");
    }
    if content.service_level.is_none() {
        missing.push("serviceLevel");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal::incomplete(&missing))
    }
}

fn not_rejected(f: &Facts) -> Result<(), Refusal> {
    if f.rejected_by.is_empty() {
        Ok(())
    } else {
        Err(Refusal::rejected(f.revision, f.rejected_by))
    }
}

fn categories_defined(categories: &[Category]) -> Result<(), Refusal> {
    if categories.is_empty() {
        Err(Refusal::no_categories())
    } else {
        Ok(())
    }
}

pub(crate) fn dependencies_active(f: &Facts) -> Result<(), Refusal> {
    if !f.dependency_cycle.is_empty() {
        return Err(Refusal::dependency_cycle(f.dependency_cycle));
    }
    if f.missing_dependencies.is_empty() {
        Ok(())
    } else {
        Err(Refusal::dependencies_not_ready(f.missing_dependencies))
    }
}

/// A new revision waits for approval; while Active the catalog keeps serving the published one.
pub(crate) fn pending_revision(f: &Facts, published: Option<&str>) -> Result<(), Refusal> {
    if f.current_is_approved() {
        return Ok(());
    }
    not_rejected(f)?;
    match published {
        Some(served) => Err(Refusal::awaiting_approval_while_published(
            f.revision, f.progress, f.needs, served,
        )),
        None => Err(Refusal::awaiting_approval(f.revision, f.progress, f.needs)),
    }
}

/// The Approved condition: approved, rejected, waiting for approvers, or not submitted at all.
pub(crate) fn approval_state(
    f: &Facts,
    phase: Phase,
    published: Option<&str>,
) -> Result<(), Refusal> {
    if f.current_is_approved() {
        return Ok(());
    }
    not_rejected(f)?;
    if matches!(phase, Planning | Retired) {
        return Err(Refusal::not_submitted(f.revision, phase));
    }
    pending_revision(f, published)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Category, ServiceLevel};

    const PHASES: [Phase; 5] = [Planning, Approval, Development, Active, Retired];
    const DESIRED: [DesiredPhase; 4] = [
        DesiredPhase::Planning,
        DesiredPhase::Development,
        DesiredPhase::Active,
        DesiredPhase::Retired,
    ];

    /// Whatever the facts, following open gates from any phase stops: the table has no cycle.
    #[test]
    fn the_table_has_no_cycles_under_any_facts() {
        let mut content = ServiceContent {
            owner: "dana".into(),
            ..ServiceContent::default()
        };
        let rejecters = vec!["frank".to_owned()];
        let missing = vec!["shop/ident (not found)".to_owned()];
        for bits in 0..64u32 {
            let bit = |i: u32| bits & (1 << i) != 0;
            content.description = bit(0).then(|| "x".to_owned());
            content.service_level = bit(0).then(ServiceLevel::default);
            let categories = if bit(1) {
                vec![Category::default()]
            } else {
                Vec::new()
            };
            for desired in DESIRED {
                let facts = Facts {
                    desired,
                    content: &content,
                    categories: &categories,
                    revision: "aaaaaaaaaa",
                    approved_revision: match (bit(2), bit(3)) {
                        (true, _) => Some("aaaaaaaaaa"),
                        (false, true) => Some("bbbbbbbbbb"),
                        (false, false) => None,
                    },
                    approved_by: &[],
                    rejected_by: if bit(4) { &rejecters } else { &[] },
                    approved_by_snapshot: &[],
                    progress: "0/1",
                    needs: "1 more approval from anyone but dana",
                    phase_requested_by: None,
                    created_by: None,
                    revised_by: None,
                    missing_dependencies: if bit(5) { &missing } else { &[] },
                    dependency_cycle: &[],
                    revoked: None,
                };
                for start in PHASES {
                    let mut phase = start;
                    let mut moves = 0;
                    while let Some(edge) = edges_from(phase).find(|e| (e.gate)(&facts).is_ok()) {
                        phase = edge.to;
                        moves += 1;
                        assert!(
                            moves <= PHASES.len(),
                            "cycle from {start} with {desired:?}, bits {bits:b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn forward_moves_skip_no_phase() {
        assert!(
            allowed(Planning, Approval)
                && allowed(Approval, Development)
                && allowed(Development, Active)
        );
        assert!(
            !allowed(Planning, Development)
                && !allowed(Planning, Active)
                && !allowed(Approval, Active)
        );
        for from in [Planning, Approval, Development, Active] {
            assert!(allowed(from, Retired), "Retired is reachable from {from}");
        }
    }

    #[test]
    fn incomplete_content_names_what_is_missing() {
        let content = ServiceContent {
            owner: " ".into(),
            ..ServiceContent::default()
        };
        let refusal = content_complete(&content).unwrap_err();
        assert_eq!(refusal.reason, "Incomplete");
        assert!(
            refusal.message.contains("owner, description, serviceLevel"),
            "{}",
            refusal.message
        );
    }
}
