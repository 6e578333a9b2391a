//! The kubeconfig context a command talks to the cluster as: `--context`, or the current one.

/// The client configuration of the kubeconfig context `context`, or of the current one (in a
/// pod, the in-cluster config).
pub(crate) async fn config(context: Option<&str>) -> anyhow::Result<kube::Config> {
    Ok(match context {
        Some(context) => {
            let options = kube::config::KubeConfigOptions {
                context: Some(context.to_owned()),
                ..Default::default()
            };
            kube::Config::from_kubeconfig(&options).await?
        }
        None => kube::Config::infer().await?,
    })
}
