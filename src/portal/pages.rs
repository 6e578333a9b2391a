//! The portal's pages as askama templates (`templates/portal/`): checked at compile time, and
//! every value escaped for HTML unless a template says otherwise (none does with content).

use askama::Template;
use k8s_openapi::jiff::Timestamp;

use super::listing::{Column, Facets, Order, Row, View, tier_name};
use super::page::{Page, safe_href, service_href};
use super::portfolio::{Item, Portfolio};
use crate::api::Snapshot;

/// What every page shows around its content.
pub struct Chrome {
    /// The signed-in user's name; `None` for an anonymous viewer.
    pub viewer: Option<String>,
    /// The navigation entry of this page.
    pub section: &'static str,
}

#[derive(Template)]
#[template(path = "portal/login.html")]
pub struct Login {
    pub chrome: Chrome,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/refused.html")]
pub struct Refusal {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub problem: String,
}

#[derive(Template)]
#[template(path = "portal/catalog.html")]
pub struct Catalog<'a> {
    pub chrome: Chrome,
    pub view: &'a View,
    /// This page's rows.
    pub rows: &'a [Row<'a>],
    /// Rows in the view (every page).
    pub total: usize,
    /// Published services the viewer sees.
    pub published: usize,
    pub page: usize,
    pub pages: usize,
    pub facets: Facets,
}

/// How many characters of a description the table shows.
const BRIEF_CHARS: usize = 160;

impl Catalog<'_> {
    fn href(&self, row: &Row<'_>) -> String {
        service_href(row.namespace(), row.name())
    }

    fn chosen(&self, filter: &str, value: &str) -> bool {
        let chosen = match filter {
            "namespace" => &self.view.namespace,
            "tier" => &self.view.tier,
            "category" => &self.view.category,
            "review" => &self.view.review,
            _ => &self.view.owner,
        };
        chosen.as_deref() == Some(value)
    }

    fn link(view: &View) -> String {
        match view.query() {
            q if q.is_empty() => "/portal".to_owned(),
            q => format!("/portal?{q}"),
        }
    }

    fn export(&self, format: &str) -> String {
        let q = self.view.with(|v| v.page = None).query();
        let sep = if q.is_empty() { "" } else { "&" };
        format!("/portal?{q}{sep}format={format}")
    }

    fn column(name: &str) -> Column {
        serde_json::from_value(serde_json::Value::String(name.into())).unwrap_or_default()
    }

    /// A header's link: sort by it, or reverse the order when it is already the sort.
    fn sort_link(&self, name: &str) -> String {
        let column = Self::column(name);
        let current = self.view.sort.unwrap_or_default() == column;
        Self::link(&self.view.with(|v| {
            v.sort = Some(column);
            v.page = None;
            v.order = match (current, v.order.unwrap_or_default()) {
                (true, Order::Asc) => Some(Order::Desc),
                _ => None,
            };
        }))
    }

    fn aria_sort(&self, name: &str) -> &'static str {
        if self.view.sort.unwrap_or_default() != Self::column(name) {
            "none"
        } else if self.view.order.unwrap_or_default() == Order::Desc {
            "descending"
        } else {
            "ascending"
        }
    }

    fn page_link(&self, page: usize) -> String {
        Self::link(&self.view.with(|v| v.page = (page > 1).then_some(page)))
    }

    fn brief(&self, text: &str) -> String {
        match text.char_indices().nth(BRIEF_CHARS) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/portfolio.html")]
pub struct Portfolios<'a> {
    pub chrome: Chrome,
    pub portfolio: &'a Portfolio,
    /// The pipeline's columns: Planning, Approval, Development.
    pub pipeline: Vec<(&'static str, Vec<&'a Item>)>,
    /// Whether some namespaces' pipeline and retired Services are hidden from this viewer.
    pub limited: bool,
}

impl Portfolios<'_> {
    fn href(&self, item: &Item) -> String {
        service_href(&item.namespace, &item.name)
    }
    fn title<'i>(&self, item: &'i Item) -> &'i str {
        item.display_name.as_deref().unwrap_or(&item.name)
    }
}

#[derive(Template)]
#[template(path = "portal/service.html")]
pub struct ServicePage<'a> {
    pub chrome: Chrome,
    pub page: Page<'a>,
}

impl ServicePage<'_> {
    fn href<'u>(&self, url: &'u str) -> Option<&'u str> {
        safe_href(url)
    }
    fn tier_name(&self) -> &'static str {
        self.page.content().tier.map(tier_name).unwrap_or_default()
    }
    fn revision(&self) -> &str {
        self.page
            .service
            .status
            .as_ref()
            .and_then(|s| s.revision.as_deref())
            .unwrap_or("(not computed yet)")
    }
    fn snapshot(&self) -> Option<&Snapshot> {
        self.page.service.status.as_ref()?.snapshot.as_ref()
    }
    fn time(&self, at: &Timestamp) -> String {
        at.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
    fn activated_at(&self) -> Option<String> {
        let at = self.page.service.status.as_ref()?.activated_at.as_ref()?;
        Some(self.time(&at.0))
    }
    fn review_due(&self) -> Option<String> {
        let at = self.page.service.status.as_ref()?.review_due_at.as_ref()?;
        Some(self.time(&at.0))
    }
    fn desired(&self) -> &'static str {
        crate::api::Phase::from(self.page.service.spec.lifecycle.desired_phase).as_str()
    }
    fn json_href(&self) -> String {
        format!(
            "{}?format=json",
            service_href(self.page.namespace(), self.page.name())
        )
    }
}
