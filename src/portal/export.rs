//! The exports of a view: CSV (RFC 4180, through the `csv` crate) and JSON, with the same
//! columns as the table, every row of the view (not only the page shown).

use std::borrow::Cow;

use serde::Serialize;

use super::listing::Row;
use super::portfolio::{Item, Portfolio};

/// One catalog row as exported.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogRecord<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub display_name: Cow<'a, str>,
    pub owner: Cow<'a, str>,
    pub tier: &'a str,
    /// Category names, separated by `; `.
    pub categories: String,
    pub availability: &'a str,
    pub description: Cow<'a, str>,
    pub revision: &'a str,
}

impl<'a> CatalogRecord<'a> {
    pub fn of(row: &Row<'a>) -> CatalogRecord<'a> {
        CatalogRecord {
            namespace: row.namespace(),
            name: row.name(),
            display_name: row
                .content()
                .display_name
                .as_deref()
                .unwrap_or_default()
                .into(),
            owner: row.owner().into(),
            tier: row.tier_name(),
            categories: row.categories().collect::<Vec<_>>().join("; "),
            availability: row.availability().unwrap_or_default(),
            description: row.description().into(),
            revision: row.revision(),
        }
    }

    /// For a spreadsheet: free text that would start a formula is quoted (see `defuse`).
    pub fn defused(self) -> CatalogRecord<'a> {
        CatalogRecord {
            display_name: defuse(self.display_name),
            owner: defuse(self.owner),
            categories: defuse(self.categories.into()).into_owned(),
            description: defuse(self.description),
            ..self
        }
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, return first) gets
/// a leading `'`, as OWASP advises against CSV injection.
pub fn defuse(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text
    }
}

/// One portfolio line as exported to CSV.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortfolioRecord<'a> {
    stage: &'static str,
    phase: &'static str,
    namespace: &'a str,
    name: &'a str,
    display_name: Cow<'a, str>,
    owner: Cow<'a, str>,
    tier: &'static str,
    desired_phase: &'static str,
    approvals: &'a str,
    waits_for: &'a str,
}

fn record<'a>(stage: &'static str, item: &'a Item) -> PortfolioRecord<'a> {
    PortfolioRecord {
        stage,
        phase: item.phase.map(|p| p.as_str()).unwrap_or_default(),
        namespace: &item.namespace,
        name: &item.name,
        display_name: defuse(item.display_name.as_deref().unwrap_or_default().into()),
        owner: defuse(item.owner.as_str().into()),
        tier: item.tier.map(super::listing::tier_name).unwrap_or_default(),
        desired_phase: crate::api::Phase::from(item.desired_phase).as_str(),
        approvals: item.approvals.as_deref().unwrap_or_default(),
        waits_for: item.waits_for.as_deref().unwrap_or_default(),
    }
}

/// Rows as CSV with a header line.
pub fn csv<T: Serialize>(records: impl IntoIterator<Item = T>) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for r in records {
        out.serialize(r)?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The portfolio as CSV: one line per Service, its stage first.
pub fn portfolio_csv(portfolio: &Portfolio) -> Result<String, csv::Error> {
    let lines = portfolio
        .pipeline
        .iter()
        .map(|i| record("pipeline", i))
        .chain(portfolio.catalog.iter().map(|i| record("catalog", i)))
        .chain(portfolio.retired.iter().map(|i| record("retired", i)));
    csv(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        #[derive(Serialize)]
        struct R {
            a: &'static str,
            b: &'static str,
        }
        let text = csv([R {
            a: "plain",
            b: "with, comma and \"quotes\"\nand a line",
        }])
        .unwrap();
        assert_eq!(
            text,
            "a,b\nplain,\"with, comma and \"\"quotes\"\"\nand a line\"\n"
        );
    }

    #[test]
    fn a_cell_that_would_run_as_a_formula_is_quoted() {
        assert_eq!(defuse("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(defuse("plain -dash".into()), "plain -dash");
    }
}
