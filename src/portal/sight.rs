//! Who sees what in the portal, as the API server says: the catalog to whoever may read the
//! catalog ConfigMaps (every authenticated user, through `charter-catalog-readers`), and the
//! pipeline and retired Services only in the namespaces where the viewer may list Services.
//! Every answer comes from a SubjectAccessReview, cached briefly by `Access`.

use std::collections::BTreeSet;

use futures::{StreamExt, stream};

use crate::access::{Access, Attributes, Refused, Viewer};

/// How many SubjectAccessReviews one page view asks at the same time.
const CONCURRENT_REVIEWS: usize = 8;

/// What one viewer may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sight {
    /// `None`: an anonymous viewer (only with `--portal-anonymous-catalog`).
    pub viewer: Option<Viewer>,
    /// The published catalog.
    pub catalog: bool,
    /// Where pipeline and retired Services are shown.
    pub services: Namespaces,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    All,
    Only(BTreeSet<String>),
}

impl Sight {
    /// An anonymous viewer of an open catalog: the catalog, nothing else.
    pub fn anonymous() -> Sight {
        Sight {
            viewer: None,
            catalog: true,
            services: Namespaces::Only(BTreeSet::new()),
        }
    }

    /// A viewer who may see everything (the benchmark's, and a cluster admin's).
    pub fn everything() -> Sight {
        Sight {
            viewer: None,
            catalog: true,
            services: Namespaces::All,
        }
    }

    /// Whether the viewer sees every Service of `namespace`, published or not.
    pub fn services_in(&self, namespace: &str) -> bool {
        match &self.services {
            Namespaces::All => true,
            Namespaces::Only(set) => set.contains(namespace),
        }
    }

    /// Whether the viewer sees this Service at all: published ones with the catalog.
    pub fn sees(&self, namespace: &str, published: bool) -> bool {
        (published && self.catalog) || self.services_in(namespace)
    }

    /// Asks what `viewer` may see: the catalog, and Services in every namespace or, failing
    /// that, in each of `namespaces` (those that hold Services the catalog does not show).
    pub async fn of(
        access: &Access,
        viewer: Viewer,
        catalog_namespace: &str,
        namespaces: impl IntoIterator<Item = String>,
    ) -> Result<Sight, Refused> {
        let catalog = access
            .allows(&viewer, &read_configmaps(catalog_namespace))
            .await?;
        let services = if access.allows(&viewer, &list_services(None)).await? {
            Namespaces::All
        } else {
            let answers: Vec<Result<(String, bool), Refused>> = stream::iter(namespaces)
                .map(|ns| {
                    let viewer = &viewer;
                    async move {
                        let allowed = access.allows(viewer, &list_services(Some(&ns))).await?;
                        Ok((ns, allowed))
                    }
                })
                .buffer_unordered(CONCURRENT_REVIEWS)
                .collect()
                .await;
            let mut allowed = BTreeSet::new();
            for answer in answers {
                let (ns, yes) = answer?;
                if yes {
                    allowed.insert(ns);
                }
            }
            Namespaces::Only(allowed)
        };
        Ok(Sight {
            viewer: Some(viewer),
            catalog,
            services,
        })
    }
}

fn list_services(namespace: Option<&str>) -> Attributes {
    Attributes::Resource {
        verb: "list".into(),
        group: "catalog.charter.dev".into(),
        resource: "services".into(),
        namespace: namespace.map(Into::into),
        name: None,
    }
}

/// What `charter-catalog-reader` grants: reading the catalog's ConfigMaps.
fn read_configmaps(namespace: &str) -> Attributes {
    Attributes::Resource {
        verb: "list".into(),
        group: String::new(),
        resource: "configmaps".into(),
        namespace: Some(namespace.into()),
        name: None,
    }
}
