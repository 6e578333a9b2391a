//! The `charter` command line: `run`, `crds`, `approve`, `reject`, `sandbox`.

pub mod apply;
pub mod decide;
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
    /// Start an embedded API server with the CRDs and the operator; no cluster needed.
    Sandbox(sandbox::SandboxArgs),
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
        Command::Sandbox(args) => sandbox::run(args).await,
    }
}

async fn decide_cmd(args: DecideArgs, decision: Decision) -> anyhow::Result<()> {
    let config = match &args.context {
        Some(context) => {
            let options = kube::config::KubeConfigOptions {
                context: Some(context.clone()),
                ..Default::default()
            };
            kube::Config::from_kubeconfig(&options).await?
        }
        None => kube::Config::infer().await?,
    };
    let namespace = args
        .namespace
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config)?;
    let approval =
        decide::decide(&client, &namespace, &args.service, decision, args.comment).await?;
    println!(
        "serviceapproval.catalog.charter.dev/{} created: {} {:?} revision {} of {}/{}",
        approval.metadata.name.unwrap_or_default(),
        approval.spec.approver,
        decision,
        approval.spec.revision,
        namespace,
        args.service
    );
    Ok(())
}
