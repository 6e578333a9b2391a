//! The service portfolio, as ITIL divides it: the pipeline (Planning, Approval, Development),
//! the catalog (Active) and the retired Services, each with what it waits for, in words. Read
//! from Services as they are, tolerant of any status; the portal and `charter portfolio` show it.

use serde::Serialize;

use crate::api::{DesiredPhase, Phase, Service, Tier};
use crate::lifecycle::{READY, REVIEW_DUE};

pub use super::listing::tier_name;

/// Where a Service stands in the portfolio.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Pipeline,
    Catalog,
    Retired,
}

impl Stage {
    /// The stage of a phase; a Service without a phase yet is in the pipeline.
    pub fn of(phase: Option<Phase>) -> Stage {
        match phase {
            Some(Phase::Active) => Stage::Catalog,
            Some(Phase::Retired) => Stage::Retired,
            _ => Stage::Pipeline,
        }
    }
}

/// One Service in the portfolio.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// `None` until the operator has seen the Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    pub desired_phase: DesiredPhase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Valid approvals of the current revision, `received/required` (or `rejected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvals: Option<String>,
    /// What it waits for, in words; `None` when it waits for nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
}

impl Item {
    pub fn of(service: &Service) -> Item {
        let status = service.status.as_ref();
        let conditions = status.map(|s| s.conditions.as_slice()).unwrap_or_default();
        let condition = |type_: &str| conditions.iter().find(|c| c.type_ == type_);
        let phase = status.and_then(|s| s.phase);
        let desired = service.spec.lifecycle.desired_phase;
        let waits_for = match (phase, condition(READY)) {
            (None, _) => Some("the operator: it has not judged this Service yet".to_owned()),
            (_, Some(ready)) if ready.status == "False" => Some(ready.message.clone()),
            (Some(Phase::Active), _) => condition(REVIEW_DUE)
                .filter(|c| c.status == "True")
                .map(|c| c.message.clone()),
            (Some(Phase::Retired), _) => None,
            (Some(phase), _) if Phase::from(desired) == phase => Some(format!(
                "its owner: the desired phase is {phase}; asking for Active submits it"
            )),
            (Some(_), _) => None,
        };
        Item {
            namespace: service.metadata.namespace.clone().unwrap_or_default(),
            name: service.metadata.name.clone().unwrap_or_default(),
            display_name: service.spec.content.display_name.clone(),
            owner: service.spec.content.owner.clone(),
            tier: service.spec.content.tier,
            phase,
            desired_phase: desired,
            revision: status.and_then(|s| s.revision.clone()),
            approvals: status
                .and_then(|s| s.approvals.as_ref())
                .map(|a| a.progress.clone()),
            waits_for,
        }
    }

    pub fn stage(&self) -> Stage {
        Stage::of(self.phase)
    }
}

/// The portfolio: each stage sorted by phase, then namespace and name.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct Portfolio {
    pub pipeline: Vec<Item>,
    pub catalog: Vec<Item>,
    pub retired: Vec<Item>,
}

impl Portfolio {
    pub fn of<'a>(services: impl IntoIterator<Item = &'a Service>) -> Portfolio {
        let mut portfolio = Portfolio::default();
        for item in services.into_iter().map(Item::of) {
            match item.stage() {
                Stage::Pipeline => portfolio.pipeline.push(item),
                Stage::Catalog => portfolio.catalog.push(item),
                Stage::Retired => portfolio.retired.push(item),
            }
        }
        for stage in [
            &mut portfolio.pipeline,
            &mut portfolio.catalog,
            &mut portfolio.retired,
        ] {
            stage.sort_by(|a, b| {
                (a.phase, &a.namespace, &a.name).cmp(&(b.phase, &b.namespace, &b.name))
            });
        }
        portfolio
    }

    /// The pipeline's Services in one phase (`None`: not judged yet, shown with Planning).
    pub fn in_phase(&self, phase: Phase) -> impl Iterator<Item = &Item> {
        self.pipeline
            .iter()
            .filter(move |i| i.phase.unwrap_or(Phase::Planning) == phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn service(name: &str, phase: Option<Phase>, ready: Option<(&str, &str)>) -> Service {
        let s = fixtures::service(name)
            .in_namespace("shop")
            .owner("dana")
            .desired(DesiredPhase::Active);
        match (phase, ready) {
            (Some(phase), Some((status, message))) => s.phase(phase).ready(status, message),
            (Some(phase), None) => s.phase(phase),
            (None, _) => s,
        }
        .build()
    }

    #[test]
    fn the_pipeline_holds_planning_approval_and_development_and_says_what_each_waits_for() {
        let services = [
            service("new", None, None),
            service(
                "draft",
                Some(Phase::Planning),
                Some(("False", "needs a description")),
            ),
            service(
                "asked",
                Some(Phase::Approval),
                Some(("False", "0/1 approvals")),
            ),
            service("live", Some(Phase::Active), Some(("True", "Active"))),
            service("gone", Some(Phase::Retired), Some(("True", "Retired"))),
        ];
        let p = Portfolio::of(&services);
        let names = |items: &[Item]| items.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&p.pipeline), ["new", "draft", "asked"]);
        assert_eq!(names(&p.catalog), ["live"]);
        assert_eq!(names(&p.retired), ["gone"]);
        assert_eq!(
            p.pipeline[1].waits_for.as_deref(),
            Some("needs a description")
        );
        assert!(
            p.pipeline[0]
                .waits_for
                .as_deref()
                .unwrap()
                .contains("operator")
        );
        assert_eq!(p.catalog[0].waits_for, None);
        assert_eq!(
            p.in_phase(Phase::Planning).count(),
            2,
            "not judged yet reads as Planning"
        );
    }
}
