//! One Service as its page shows it: what it is and its service level (the approved content
//! when published; the proposed content otherwise, for those who may list Services there), how
//! to reach and request it, its dependencies and dependants, its provenance and its lifecycle.

use serde::Serialize;

use super::listing::{Row, name_of, namespace_of, title_of};
use super::portfolio::Item;
use super::sight::Sight;
use crate::api::{Phase, Service, ServiceContent, ServiceRef, Transition};

/// Another Service named on a page: a link when the viewer may see it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub namespace: String,
    pub name: String,
    /// Its display name, or name; `None` when the viewer may not see it (or it does not exist).
    pub title: Option<String>,
    /// Its phase, when the viewer may see it and it has one.
    pub phase: Option<Phase>,
}

impl Neighbour {
    pub fn href(&self) -> Option<String> {
        self.title
            .as_ref()
            .map(|_| service_href(&self.namespace, &self.name))
    }
    pub fn phase_name(&self) -> &'static str {
        self.phase.map(Phase::as_str).unwrap_or_default()
    }
}

/// The portal's address of a Service's page.
pub fn service_href(namespace: &str, name: &str) -> String {
    // Namespaces and names are DNS labels and subdomains: nothing in them needs encoding.
    format!("/portal/services/{namespace}/{name}")
}

/// What the page shows of a Service the viewer may see.
pub struct Page<'a> {
    pub service: &'a Service,
    /// The published row, when the catalog serves it.
    pub published: Option<Row<'a>>,
    /// The portfolio's view of it, for viewers who may list Services in its namespace.
    pub lifecycle: Option<Item>,
    pub dependencies: Vec<Neighbour>,
    pub dependants: Vec<Neighbour>,
}

impl<'a> Page<'a> {
    /// The page of `service` for `sight`, or `None` when the viewer may not see it. `all` is
    /// every Service in the caches, to find neighbours.
    pub fn of(
        service: &'a Service,
        all: &'a [std::sync::Arc<Service>],
        sight: &Sight,
    ) -> Option<Page<'a>> {
        let namespace = service.metadata.namespace.as_deref().unwrap_or_default();
        let published = Row::of(service);
        if !sight.sees(namespace, published.is_some()) {
            return None;
        }
        let lifecycle = sight.services_in(namespace).then(|| Item::of(service));
        let find = |r: &ServiceRef| {
            all.iter().find(|s| {
                s.metadata.namespace.as_deref() == r.namespace.as_deref()
                    && s.metadata.name.as_deref() == Some(r.name.as_str())
            })
        };
        let neighbour = |r: ServiceRef, found: Option<&Service>| {
            let ns = r.namespace.clone().unwrap_or_default();
            let seen = found.filter(|s| sight.sees(&ns, Row::of(s).is_some()));
            Neighbour {
                title: seen.map(|s| title(s).to_owned()),
                phase: seen
                    .filter(|_| sight.services_in(&ns))
                    .and_then(|s| s.status.as_ref()?.phase)
                    .or_else(|| seen.and(Some(Phase::Active))),
                namespace: ns,
                name: r.name,
            }
        };
        let shown = published
            .map(|r| r.content())
            .unwrap_or(&service.spec.content);
        let dependencies = shown
            .model
            .iter()
            .flat_map(|m| &m.depends_on)
            .map(|d| d.resolved_in(namespace))
            .map(|d| {
                let found = find(&d).map(|s| s.as_ref());
                neighbour(d, found)
            })
            .collect();
        let me = ServiceRef::of(service);
        let mut dependants: Vec<Neighbour> = all
            .iter()
            .filter(|s| {
                let own = s.metadata.namespace.as_deref().unwrap_or_default();
                s.spec
                    .content
                    .model
                    .iter()
                    .flat_map(|m| &m.depends_on)
                    .any(|d| d.resolved_in(own) == me)
            })
            .map(|s| neighbour(ServiceRef::of(s.as_ref()), Some(s)))
            // Only those the viewer may see: a dependant is not this Service's to reveal.
            .filter(|n| n.title.is_some())
            .collect();
        dependants.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Some(Page {
            service,
            published,
            lifecycle,
            dependencies,
            dependants,
        })
    }

    /// The content shown: the approved snapshot when published, else the current proposal.
    pub fn content(&self) -> &'a ServiceContent {
        self.published
            .map(|r| r.content())
            .unwrap_or(&self.service.spec.content)
    }
    pub fn namespace(&self) -> &'a str {
        namespace_of(self.service)
    }
    pub fn name(&self) -> &'a str {
        name_of(self.service)
    }
    pub fn title(&self) -> &'a str {
        title_of(self.content(), self.name())
    }
    /// The phase transitions, newest first: shown with the lifecycle only.
    pub fn history(&self) -> Vec<&'a Transition> {
        match (&self.lifecycle, self.service.status.as_ref()) {
            (Some(_), Some(status)) => status.history.iter().rev().collect(),
            _ => Vec::new(),
        }
    }
}

fn title(service: &Service) -> &str {
    Row::of(service)
        .map(|r| r.title())
        .or(service.spec.content.display_name.as_deref())
        .or(service.metadata.name.as_deref())
        .unwrap_or_default()
}

/// An address a page may link to: http and https only, never `javascript:` or `data:`.
pub fn safe_href(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(safe_href("https://x.example"), Some("https://x.example"));
        assert_eq!(safe_href("HTTP://x.example"), Some("HTTP://x.example"));
        for unsafe_ in [
            "javascript:alert(1)",
            " data:text/html,x",
            "not a url",
            "//evil",
        ] {
            assert_eq!(safe_href(unsafe_), None, "{unsafe_}");
        }
    }
}
