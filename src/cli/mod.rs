//! The `charter` command line: `run`, `crds`, `approve`, `reject`, `review`, `revision`,
//! `sandbox`, `portfolio`.

pub mod apply;
mod context;
pub mod control_plane;
pub mod decide;
pub mod http;
pub mod leader;
pub mod portfolio;
pub mod revision;
pub mod run;
pub mod sandbox;

use crate::api::Decision;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "charter",
    version,
    about = "A Kubernetes operator that runs a service catalog the declarative way"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the controller against the cluster in KUBECONFIG or the in-cluster config.
    Run(run::RunArgs),
    /// Print the CustomResourceDefinitions generated from the Rust types (the content of crds/).
    Crds,
    /// Approve the current revision of a Service as the current kubeconfig user.
    Approve(DecideArgs),
    /// Reject the current revision of a Service as the current kubeconfig user.
    Reject(DecideArgs),
    /// Record a periodic review of an Active Service's published revision as the current
    /// kubeconfig user: it resets the review clock. A review that finds the service unfit is a
    /// `charter reject --revision <published revision>`, which withdraws it.
    Review(DecideArgs),
    /// Print the revision of every Service in a manifest, computed offline as the operator does.
    Revision(RevisionArgs),
    /// Start an embedded API server with the CRDs and the operator; no cluster needed.
    Sandbox(sandbox::SandboxArgs),
    /// Show the portfolio: the pipeline (and what each Service waits for), the catalog and the
    /// retired Services.
    Portfolio(portfolio::PortfolioArgs),
}

#[derive(clap::Args, Debug)]
pub struct DecideArgs {
    /// The Service's name.
    pub service: String,
    /// The Service's namespace (default: the kubeconfig context's namespace).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Why.
    #[arg(long)]
    pub comment: Option<String>,
    /// The kubeconfig context to act as (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// The revision you reviewed (default: the revision of the Service's current content; for a
    /// review, the published revision).
    #[arg(long)]
    pub revision: Option<String>,
    /// Record the decision even when it will not count (owner, not an approver, stale revision)
    /// or changes nothing (your latest decision on the revision is already this one).
    #[arg(long)]
    pub force: bool,
    /// Print the ServiceApproval instead of creating it (for a pull request); needs `-o yaml`.
    #[arg(long, requires = "output")]
    pub dry_run: bool,
    /// Output format of a dry run.
    #[arg(short, long, value_parser = ["yaml"], requires = "dry_run")]
    pub output: Option<String>,
    /// The approver named in a dry-run manifest (default: the current user); in a cluster,
    /// admission accepts it from that user or from an approval delegate (GitOps).
    #[arg(long, requires = "dry_run")]
    pub approver: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct RevisionArgs {
    /// A manifest file, or a directory of them.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<std::path::PathBuf>,
}

/// An error as the command line prints it: each cause after the error that carries it,
/// unless that error's message already says it (many include their source's text, and
/// printing the chain again gave "Address already in use (os error 98): Address already in
/// use (os error 98)").
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

/// Run the parsed command; errors are printed by `main`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Crds => {
            print!("{}", crate::crds::yaml());
            Ok(())
        }
        Command::Approve(args) => decide_cmd(args, Decision::Approved).await,
        Command::Reject(args) => decide_cmd(args, Decision::Rejected).await,
        Command::Review(args) => decide_cmd(args, Decision::Reviewed).await,
        Command::Revision(args) => {
            for file in &args.files {
                for found in revision::of_path(file)? {
                    println!("{}\t{}", found.service, found.revision);
                }
            }
            Ok(())
        }
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Portfolio(args) => portfolio::run(args).await,
    }
}

async fn decide_cmd(args: DecideArgs, decision: Decision) -> anyhow::Result<()> {
    let config = context::config(args.context.as_deref()).await?;
    let namespace = args
        .namespace
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config)?;
    let decided = decide::decide(
        &client,
        decide::Request {
            namespace: &namespace,
            name: &args.service,
            decision,
            comment: args.comment,
            revision: args.revision,
            force: args.force,
            dry_run: args.dry_run,
            approver: args.approver,
        },
    )
    .await?;
    for warning in &decided.warnings {
        eprintln!("{}", decide::warning_line(warning, args.dry_run));
    }
    for note in &decided.notes {
        eprintln!("note: {note}");
    }
    let approval = decided.approval;
    if args.dry_run {
        if let Some(earlier) = &decided.supersedes {
            eprintln!("once applied, it supersedes your earlier decision {earlier}");
        }
        let mut value = serde_json::to_value(&approval)?;
        if let Some(meta) = value["metadata"].as_object_mut() {
            meta.retain(|k, _| k == "name" || k == "namespace");
        }
        print!("{}", serde_saphyr::to_string(&value)?);
        return Ok(());
    }
    println!(
        "serviceapproval.catalog.charter.dev/{} created: {} {:?} revision {} of {}/{}",
        approval.metadata.name.unwrap_or_default(),
        approval.spec.approver,
        decision,
        approval.spec.revision,
        namespace,
        args.service
    );
    if let Some(earlier) = decided.supersedes {
        println!("it supersedes your earlier decision {earlier}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on 127.0.0.1:80: {0}")]
    struct Listen(#[source] std::io::Error);

    #[test]
    fn an_error_names_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let repeated = anyhow::Error::new(Listen(io()));
        assert_eq!(
            describe(&repeated),
            "cannot listen on 127.0.0.1:80: Address already in use"
        );
        let chained = anyhow::Error::new(io()).context("cannot start the sandbox");
        assert_eq!(
            describe(&chained),
            "cannot start the sandbox: Address already in use"
        );
    }
}
