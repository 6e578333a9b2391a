//! `charter portfolio`: the portal's portfolio in the terminal: the pipeline (Planning,
//! Approval, Development) with what each Service waits for, the catalog (Active) and the
//! retired, read as the kubeconfig user (so RBAC decides what is listed); `-o json|yaml` for
//! scripts.

use kube::{Api, api::ListParams};

use crate::api::Service;
use crate::portal::portfolio::{Item, Portfolio};

#[derive(clap::Args, Debug)]
pub struct PortfolioArgs {
    /// Only this namespace (default: every namespace).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// The kubeconfig context to read as (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Print JSON or YAML instead of a table.
    #[arg(short, long, value_enum)]
    pub output: Option<Output>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
}

pub async fn run(args: PortfolioArgs) -> anyhow::Result<()> {
    let config = super::context::config(args.context.as_deref()).await?;
    let client = kube::Client::try_from(config)?;
    let api: Api<Service> = match &args.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let services = api.list(&ListParams::default()).await.map_err(|e| {
        let scope = match &args.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "in every namespace (try -n NAMESPACE)".to_owned(),
        };
        match &e {
            kube::Error::Api(status) if status.code == 403 => {
                anyhow::anyhow!("you may not list Services {scope}: {}", status.message)
            }
            _ => anyhow::anyhow!("cannot list Services {scope}: {e}"),
        }
    })?;
    let portfolio = Portfolio::of(&services.items);
    match args.output {
        Some(Output::Json) => println!("{}", serde_json::to_string_pretty(&portfolio)?),
        Some(Output::Yaml) => print!("{}", serde_saphyr::to_string(&portfolio)?),
        None => print!("{}", table(&portfolio)),
    }
    Ok(())
}

/// The portfolio as text: one block per stage, the pipeline's with what each waits for.
pub fn table(portfolio: &Portfolio) -> String {
    let mut out = String::new();
    let service = |i: &Item| format!("{}/{}", i.namespace, i.name);
    let phase = |i: &Item| i.phase.map_or("(new)", |p| p.as_str()).to_owned();
    let approvals = |i: &Item| i.approvals.clone().unwrap_or_else(|| "-".into());
    let waits = |i: &Item| i.waits_for.clone().unwrap_or_else(|| "-".into());
    let tier = |i: &Item| {
        i.tier
            .map_or("-", crate::portal::portfolio::tier_name)
            .to_owned()
    };
    let blocks: [(&str, &[Item], bool); 3] = [
        ("PIPELINE", &portfolio.pipeline, true),
        ("CATALOG", &portfolio.catalog, false),
        ("RETIRED", &portfolio.retired, false),
    ];
    for (n, (title, items, pipeline)) in blocks.into_iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{title} ({})\n", items.len()));
        if items.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                let mut row = vec![phase(i), service(i), i.owner.clone(), tier(i)];
                if pipeline {
                    row.extend([approvals(i), waits(i)]);
                } else if i.waits_for.is_some() {
                    row.push(waits(i));
                }
                row
            })
            .collect();
        let mut header = vec!["PHASE", "SERVICE", "OWNER", "TIER"];
        if pipeline {
            header.extend(["APPROVALS", "WAITS FOR"]);
        } else if rows.iter().any(|r| r.len() > 4) {
            header.push("NOTE");
        }
        out.push_str(&columns(&header, &rows));
    }
    out
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::from("  ");
        for (i, cell) in cells.into_iter().enumerate() {
            text.push_str(cell);
            if i < last {
                let pad = widths[i] + 2 - cell.chars().count();
                text.push_str(&" ".repeat(pad));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{DesiredPhase, Phase};

    fn item(name: &str, phase: Phase, waits: Option<&str>) -> Item {
        Item {
            namespace: "shop".into(),
            name: name.into(),
            display_name: None,
            owner: "dana".into(),
            tier: None,
            phase: Some(phase),
            desired_phase: DesiredPhase::Active,
            revision: None,
            approvals: Some("0/1".into()),
            waits_for: waits.map(Into::into),
        }
    }

    #[test]
    fn the_table_has_a_block_per_stage_and_says_what_the_pipeline_waits_for() {
        let portfolio = Portfolio {
            pipeline: vec![item("fx", Phase::Approval, Some("approval by frank"))],
            catalog: vec![item("ledger", Phase::Active, None)],
            retired: vec![],
        };
        assert_eq!(
            table(&portfolio),
            "PIPELINE (1)\n\
             \x20 PHASE     SERVICE  OWNER  TIER  APPROVALS  WAITS FOR\n\
             \x20 Approval  shop/fx  dana   -     0/1        approval by frank\n\
             \n\
             CATALOG (1)\n\
             \x20 PHASE   SERVICE      OWNER  TIER\n\
             \x20 Active  shop/ledger  dana   -\n\
             \n\
             RETIRED (0)\n"
        );
    }
}
