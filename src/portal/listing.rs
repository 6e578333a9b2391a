//! The catalog as a table: one row per published Service (Active, with an approved snapshot:
//! exactly what the catalog ConfigMaps serve), filtered, searched and sorted by the query
//! parameters of the view, so that every view has a link.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::{Phase, Service, ServiceContent, Snapshot, Tier};

/// How many rows a page shows; the exports hold every row of the view.
pub const PAGE_ROWS: usize = 100;

/// A Service's namespace as the portal shows it (empty when absent).
pub(super) fn namespace_of(service: &Service) -> &str {
    service.metadata.namespace.as_deref().unwrap_or_default()
}

/// A Service's name as the portal shows it (empty when absent).
pub(super) fn name_of(service: &Service) -> &str {
    service.metadata.name.as_deref().unwrap_or_default()
}

/// What the portal calls a Service: the display name in `content`, else `name`.
pub(super) fn title_of<'a>(content: &'a ServiceContent, name: &'a str) -> &'a str {
    content.display_name.as_deref().unwrap_or(name)
}

/// A published Service, read in place from the cache.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub service: &'a Service,
    snapshot: &'a Snapshot,
}

impl<'a> Row<'a> {
    /// The row of a Service the catalog publishes, if it does.
    pub fn of(service: &'a Service) -> Option<Row<'a>> {
        let status = service.status.as_ref()?;
        if status.phase != Some(Phase::Active) {
            return None;
        }
        Some(Row {
            service,
            snapshot: status.snapshot.as_ref()?,
        })
    }

    /// The approved content the catalog serves.
    pub fn content(&self) -> &'a ServiceContent {
        &self.snapshot.content
    }
    pub fn namespace(&self) -> &'a str {
        namespace_of(self.service)
    }
    pub fn name(&self) -> &'a str {
        name_of(self.service)
    }
    /// The display name, else the name.
    pub fn title(&self) -> &'a str {
        title_of(self.content(), self.name())
    }
    pub fn owner(&self) -> &'a str {
        &self.content().owner
    }
    pub fn tier(&self) -> Option<Tier> {
        self.content().tier
    }
    pub fn tier_name(&self) -> &'static str {
        self.tier().map(tier_name).unwrap_or_default()
    }
    /// The owner's current category names (outside the revision, as the catalog shows them).
    pub fn categories(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.service.spec.categories.iter().map(|c| c.name.as_str())
    }
    pub fn category_list(&self) -> String {
        self.categories().collect::<Vec<_>>().join(", ")
    }
    pub fn availability(&self) -> Option<&'a str> {
        self.content()
            .service_level
            .as_ref()?
            .availability
            .as_deref()
    }
    pub fn description(&self) -> &'a str {
        self.content().description.as_deref().unwrap_or_default()
    }
    pub fn revision(&self) -> &'a str {
        &self.snapshot.revision
    }
    pub fn tags(&self) -> &'a [String] {
        &self.content().tags
    }
    /// When its next periodic review is due (the catalog entry's `reviewDueAt`).
    pub fn review_due_at(&self) -> Option<Timestamp> {
        Some(self.service.status.as_ref()?.review_due_at.as_ref()?.0)
    }

    fn matches(&self, words: &[String]) -> bool {
        words.iter().all(|word| {
            let has = |text: &str| text.to_lowercase().contains(word.as_str());
            has(self.name())
                || has(self.namespace())
                || has(self.title())
                || has(self.description())
                || has(self.owner())
                || self.tags().iter().any(|t| has(t))
                || self.categories().any(has)
        })
    }
}

pub fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Critical => "Critical",
        Tier::High => "High",
        Tier::Medium => "Medium",
        Tier::Low => "Low",
    }
}

/// A column the table sorts by.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Column {
    #[default]
    Name,
    Namespace,
    Owner,
    Tier,
    Availability,
}

/// The direction of a sort.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// The catalog view a link names: its filters, search, sort and page. An empty parameter
/// (a form's "any") is no filter.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Words searched in the name, namespace, display name, description, owner, tags and
    /// categories (every word must appear, in any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `due`: only the Services whose periodic review is due ("needs review").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl View {
    /// The rows of this view (every page) at `now`, sorted.
    pub fn select<'a>(&self, rows: &[Row<'a>], now: Timestamp) -> Vec<Row<'a>> {
        let due_only = set(&self.review) == Some("due");
        let words: Vec<String> = set(&self.q)
            .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        let mut selected: Vec<Row<'a>> = rows
            .iter()
            .filter(|r| set(&self.namespace).is_none_or(|ns| r.namespace() == ns))
            .filter(|r| set(&self.tier).is_none_or(|t| r.tier_name() == t))
            .filter(|r| set(&self.category).is_none_or(|c| r.categories().any(|n| n == c)))
            .filter(|r| set(&self.owner).is_none_or(|o| r.owner() == o))
            .filter(|r| words.is_empty() || r.matches(&words))
            .filter(|r| !due_only || r.review_due_at().is_some_and(|due| due <= now))
            .copied()
            .collect();
        let column = self.sort.unwrap_or_default();
        selected.sort_by(|a, b| {
            let by = match column {
                Column::Name => a.title().to_lowercase().cmp(&b.title().to_lowercase()),
                Column::Namespace => a.namespace().cmp(b.namespace()),
                Column::Owner => a.owner().cmp(b.owner()),
                // Critical first when ascending: the tiers' own order.
                Column::Tier => tier_rank(a.tier()).cmp(&tier_rank(b.tier())),
                Column::Availability => percent(a.availability())
                    .partial_cmp(&percent(b.availability()))
                    .unwrap_or(std::cmp::Ordering::Equal),
            };
            let by = match self.order.unwrap_or_default() {
                Order::Asc => by,
                Order::Desc => by.reverse(),
            };
            by.then_with(|| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())))
        });
        selected
    }

    /// The page shown (1-based), within the pages there are.
    pub fn page_of(&self, rows: usize) -> usize {
        self.page.unwrap_or(1).clamp(1, pages(rows))
    }

    /// This view with other values: what a filter, sort or page link points to.
    pub fn with(&self, change: impl FnOnce(&mut View)) -> View {
        let mut view = self.clone();
        change(&mut view);
        view
    }

    /// The query string of this view (without `?`), empty parameters left out.
    pub fn query(&self) -> String {
        let mut view = self.clone();
        for field in [
            &mut view.namespace,
            &mut view.tier,
            &mut view.category,
            &mut view.owner,
            &mut view.q,
            &mut view.review,
        ] {
            if set(field).is_none() {
                *field = None;
            }
        }
        serde_urlencoded::to_string(&view).unwrap_or_default()
    }
}

pub fn pages(rows: usize) -> usize {
    rows.div_ceil(PAGE_ROWS).max(1)
}

fn tier_rank(tier: Option<Tier>) -> u8 {
    match tier {
        Some(Tier::Critical) => 0,
        Some(Tier::High) => 1,
        Some(Tier::Medium) => 2,
        Some(Tier::Low) => 3,
        None => 4,
    }
}

fn percent(availability: Option<&str>) -> f64 {
    availability.and_then(|a| a.parse().ok()).unwrap_or(-1.0)
}

/// The values each filter offers: those of the rows the viewer sees.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Facets {
    pub namespaces: BTreeSet<String>,
    pub tiers: Vec<&'static str>,
    pub categories: BTreeSet<String>,
    pub owners: BTreeSet<String>,
}

impl Facets {
    pub fn of(rows: &[Row<'_>]) -> Facets {
        let mut facets = Facets::default();
        let mut tiers = BTreeSet::new();
        for row in rows {
            facets.namespaces.insert(row.namespace().to_owned());
            facets.owners.insert(row.owner().to_owned());
            facets
                .categories
                .extend(row.categories().map(str::to_owned));
            if let Some(tier) = row.tier() {
                tiers.insert(tier_rank(Some(tier)));
            }
        }
        facets.tiers = [Tier::Critical, Tier::High, Tier::Medium, Tier::Low]
            .into_iter()
            .filter(|t| tiers.contains(&tier_rank(Some(*t))))
            .map(tier_name)
            .collect();
        facets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Category, ServiceLevel};
    use crate::fixtures::service;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn published(ns: &str, name: &str, tier: Tier, availability: &str, category: &str) -> Service {
        let mut builder = service(name)
            .in_namespace(ns)
            .owner(&format!("{name}-owner"))
            .tier(tier)
            .description(&format!("The {name} service"));
        builder.0.spec.content.service_level = Some(ServiceLevel {
            availability: Some(availability.into()),
            ..Default::default()
        });
        builder.0.spec.categories = vec![Category {
            name: category.into(),
            subcategories: vec![],
        }];
        // Approved before it was published: the snapshot is of its current content.
        builder.phase(Phase::Active).approved("0123456789").build()
    }

    fn names(rows: &[Row<'_>]) -> Vec<String> {
        rows.iter().map(|r| r.name().to_owned()).collect()
    }

    #[test]
    fn filters_search_and_sort_come_from_the_view() {
        let services = [
            published("shop", "ledger", Tier::Critical, "99.95", "Finance"),
            published("shop", "cart", Tier::Low, "99", "Retail"),
            published("platform", "identity", Tier::High, "99.99", "Security"),
        ];
        let mut draft = published("shop", "draft", Tier::Low, "90", "Retail");
        draft.status.as_mut().unwrap().phase = Some(Phase::Approval);
        let rows: Vec<Row<'_>> = services
            .iter()
            .chain([&draft])
            .filter_map(Row::of)
            .collect();
        assert_eq!(
            names(&View::default().select(&rows, Timestamp::UNIX_EPOCH)),
            ["cart", "identity", "ledger"]
        );
        let view = |q: &str| -> View { serde_urlencoded::from_str(q).unwrap() };
        assert_eq!(
            names(&view("namespace=shop").select(&rows, Timestamp::UNIX_EPOCH)),
            ["cart", "ledger"]
        );
        assert_eq!(
            names(&view("tier=High").select(&rows, Timestamp::UNIX_EPOCH)),
            ["identity"]
        );
        assert_eq!(
            names(&view("category=Finance").select(&rows, Timestamp::UNIX_EPOCH)),
            ["ledger"]
        );
        assert_eq!(
            names(&view("owner=cart-owner").select(&rows, Timestamp::UNIX_EPOCH)),
            ["cart"]
        );
        assert_eq!(
            names(&view("q=THE+ledger").select(&rows, Timestamp::UNIX_EPOCH)),
            ["ledger"]
        );
        assert_eq!(
            names(&view("q=retail").select(&rows, Timestamp::UNIX_EPOCH)),
            ["cart"],
            "categories searched"
        );
        assert_eq!(
            names(&view("namespace=&q=").select(&rows, Timestamp::UNIX_EPOCH)).len(),
            3,
            "empty is any"
        );
        assert_eq!(
            names(&view("sort=availability&order=desc").select(&rows, Timestamp::UNIX_EPOCH)),
            ["identity", "ledger", "cart"]
        );
        assert_eq!(
            names(&view("sort=tier").select(&rows, Timestamp::UNIX_EPOCH)),
            ["ledger", "identity", "cart"]
        );
        assert_eq!(
            view("tier=High&q=a+b&namespace=").query(),
            "tier=High&q=a+b"
        );
    }

    #[test]
    fn the_needs_review_view_shows_services_whose_review_is_due() {
        let mut due = published("shop", "due", Tier::Low, "99", "Retail");
        let mut later = published("shop", "later", Tier::Low, "99", "Retail");
        let now = Timestamp::from_second(1_000).unwrap();
        due.status.as_mut().unwrap().review_due_at =
            Some(Time(Timestamp::from_second(999).unwrap()));
        later.status.as_mut().unwrap().review_due_at =
            Some(Time(Timestamp::from_second(1_001).unwrap()));
        let never = published("shop", "never", Tier::Low, "99", "Retail");
        let services = [due, later, never];
        let rows: Vec<Row<'_>> = services.iter().filter_map(Row::of).collect();
        let view: View = serde_urlencoded::from_str("review=due").unwrap();
        assert_eq!(names(&view.select(&rows, now)), ["due"]);
        assert_eq!(View::default().select(&rows, now).len(), 3);
    }

    #[test]
    fn pages_hold_a_fixed_number_of_rows() {
        assert_eq!(pages(0), 1);
        assert_eq!(pages(PAGE_ROWS), 1);
        assert_eq!(pages(PAGE_ROWS + 1), 2);
        let view = View {
            page: Some(9),
            ..Default::default()
        };
        assert_eq!(
            view.page_of(PAGE_ROWS + 1),
            2,
            "past the end shows the last"
        );
    }
}
