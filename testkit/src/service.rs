//! The Services of every test and the bench: `service("ledger").owner("dana").approvers(..)`.
//! A builder makes what a user sends (a name and a spec); whoever receives it — the API server,
//! or a [`World`](crate::world::World) standing in for it — adds what the server records.

use charter::api::{
    Category, Contact, DesiredPhase, Link, PriorityTarget, Request, Service, ServiceLevel,
    ServiceModel, ServiceRef, ServiceSpec, Support, Tier, revision_of,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// A Service under construction.
pub struct ServiceBuilder(pub Service);

/// A Service ready to go all the way: complete (description, service level), categorised,
/// owned by `dana`, approvable by `ava`, desired phase `Active`.
pub fn service(name: &str) -> ServiceBuilder {
    draft(name)
        .display_name(&format!("The {name} service"))
        .description("Books every payment")
        .approvers(&["ava"])
        .service_level("99.9")
        .categorised("finance", &["payments"])
        .desired(DesiredPhase::Active)
}

/// A Service with nothing but its owner, `dana`: it stays in Planning until it is completed.
pub fn draft(name: &str) -> ServiceBuilder {
    let mut s = Service::new(name, ServiceSpec::default());
    s.spec.content.owner = "dana".to_owned();
    ServiceBuilder(s)
}

impl ServiceBuilder {
    pub fn owner(mut self, owner: &str) -> Self {
        self.0.spec.content.owner = owner.to_owned();
        self
    }
    pub fn approvers(mut self, approvers: &[&str]) -> Self {
        self.0.spec.content.approvers = approvers.iter().map(|a| a.to_string()).collect();
        self
    }
    pub fn quorum(mut self, n: u32) -> Self {
        self.0.spec.content.required_approvals = Some(n);
        self
    }
    pub fn desired(mut self, desired: DesiredPhase) -> Self {
        self.0.spec.lifecycle.desired_phase = desired;
        self
    }
    pub fn display_name(mut self, text: &str) -> Self {
        self.0.spec.content.display_name = Some(text.to_owned());
        self
    }
    pub fn description(mut self, text: &str) -> Self {
        self.0.spec.content.description = Some(text.to_owned());
        self
    }
    /// A service level of `availability` percent, supported around the clock.
    pub fn service_level(mut self, availability: &str) -> Self {
        self.0.spec.content.service_level = Some(ServiceLevel {
            availability: Some(availability.to_owned()),
            support_hours: Some("24x7".to_owned()),
            ..ServiceLevel::default()
        });
        self
    }
    /// Description (unless it has one) and service level: ready to go to Approval.
    pub fn complete(mut self) -> Self {
        if self.0.spec.content.description.is_none() {
            self = self.description("the general ledger");
        }
        self.service_level("99.9")
    }
    /// One category, replacing any other.
    pub fn categorised(mut self, name: &str, subcategories: &[&str]) -> Self {
        self.0.spec.categories = vec![Category {
            name: name.to_owned(),
            subcategories: subcategories.iter().map(|s| s.to_string()).collect(),
        }];
        self
    }
    /// Categorised under finance/accounting.
    pub fn categories(self) -> Self {
        self.categorised("finance", &["accounting"])
    }
    /// No categories: the Service waits in Development before Active.
    pub fn without_categories(mut self) -> Self {
        self.0.spec.categories.clear();
        self
    }
    /// Everything an activation needs.
    pub fn ready_to_activate(self) -> Self {
        self.complete().categories().desired(DesiredPhase::Active)
    }
    /// Depends on `name` in the same namespace (written without a namespace).
    pub fn depends_on(self, name: &str) -> Self {
        self.dependency(None, name)
    }
    /// Depends on `name` in `namespace`.
    pub fn depends_on_in(self, namespace: &str, name: &str) -> Self {
        self.dependency(Some(namespace), name)
    }
    fn dependency(mut self, namespace: Option<&str>, name: &str) -> Self {
        let model = self
            .0
            .spec
            .content
            .model
            .get_or_insert_with(ServiceModel::default);
        model.depends_on.push(ServiceRef {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        });
        self
    }
    pub fn review(mut self, interval: &str, last_reviewed: Option<&str>) -> Self {
        self.0.spec.lifecycle.review_interval = Some(interval.to_owned());
        self.0.spec.lifecycle.last_reviewed = last_reviewed.map(str::to_owned);
        self
    }
    pub fn tier(mut self, tier: Tier) -> Self {
        self.0.spec.content.tier = Some(tier);
        self
    }
    /// How consumers reach it: a contact, a support channel and a request form.
    pub fn reachable(mut self) -> Self {
        self.0.spec.contact = Some(Contact {
            team: "Payments Platform".into(),
            email: Some("payments@example.com".into()),
            chat: Some("#payments".into()),
        });
        let content = &mut self.0.spec.content;
        content.support = Some(Support {
            channel: "https://support.example.com/payments".into(),
            hours: Some("Mon-Fri 08:00-18:00 CET".into()),
        });
        content.request = Some(Request {
            url: Some("https://forms.example.com/ledger".into()),
            instructions: None,
        });
        self
    }
    /// Every field the catalog shows filled as a real team fills it (the bench's Services):
    /// a long description, two approvers, a service level with targets, outcomes, links, a
    /// tier, tags and two categories.
    pub fn realistic(mut self) -> Self {
        let name = self.0.metadata.name.clone().unwrap_or_default();
        let content = &mut self.0.spec.content;
        content.description = Some(format!(
            "{name} books, settles and reconciles payments for the retail and corporate \
             channels; it is the system of record for every posting."
        ));
        content.approvers = vec!["ava".into(), "bo".into()];
        content.service_level = Some(ServiceLevel {
            availability: Some("99.95".into()),
            support_hours: Some("24x7".into()),
            targets: vec![
                PriorityTarget {
                    priority: "P1".into(),
                    response: "15m".into(),
                    resolution: Some("4h".into()),
                },
                PriorityTarget {
                    priority: "P3".into(),
                    response: "1d".into(),
                    resolution: Some("5d".into()),
                },
            ],
            agreement_url: Some(format!("https://sla.example.com/{name}")),
        });
        content.model = Some(ServiceModel {
            outcomes: vec![
                "payments are booked the same day".into(),
                "balances are exact".into(),
            ],
            depends_on: vec![],
        });
        content.links = vec![
            Link {
                name: "runbook".into(),
                url: format!("https://runbooks.example.com/{name}"),
            },
            Link {
                name: "dashboard".into(),
                url: format!("https://grafana.example.com/d/{name}"),
            },
        ];
        content.tier = Some(Tier::High);
        content.tags = vec!["pci".into(), "tier-1".into(), "eu".into()];
        self.0.spec.categories = vec![
            Category {
                name: "finance".into(),
                subcategories: vec!["payments".into(), "ledger".into()],
            },
            Category {
                name: "platform".into(),
                subcategories: vec![],
            },
        ];
        self
    }
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.0.metadata.namespace = Some(namespace.to_owned());
        self
    }
    /// An identity the API server recorded on the Service (`charter::api::identity`).
    pub fn recorded(mut self, key: &str, user: &str) -> Self {
        self.0
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), user.to_owned());
        self
    }
    pub fn created_by(self, user: &str) -> Self {
        self.recorded(charter::api::identity::CREATED_BY, user)
    }
    pub fn revised_by(self, user: &str) -> Self {
        self.recorded(charter::api::identity::REVISED_BY, user)
    }
    /// The object as the server holds it: its uid and creation time.
    pub fn object(mut self, uid: &str, created: Timestamp) -> Self {
        self.0.metadata.uid = Some(uid.to_owned());
        self.0.metadata.creation_timestamp = Some(Time(created));
        self
    }
    pub fn build(self) -> Service {
        self.0
    }
    /// The revision of its approvable content.
    pub fn revision(&self) -> String {
        revision_of(&self.0.spec.content)
    }
}
