//! What the fault suite does to the operator: a seeded random source (so a failure reproduces),
//! a schedule of injected server faults, and operators that run in a runtime of their own so that
//! killing one ends every task it has, mid-request, as a killed process would.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use charter::controller::{self, Config};
use charter_apiserver::{Faults, Matcher};
use kube::Client;
use tokio::runtime::Runtime;

/// xorshift64*: tiny, seeded, good enough to pick fault times.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.between(lo, hi))
    }
}

/// `CHARTER_FAULT_SEED`, else a fresh one; printed so that a failing run can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("CHARTER_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("{test}: seed {seed} (replay with CHARTER_FAULT_SEED={seed})");
    seed
}

/// The server faults of the fault run, until `stop` is set: 5 % of requests fail with 500 and
/// 2 % with 429 throughout; while `driving`, every 1–3 s a storm of 3–15 409 Conflicts on status
/// writes (patches of Services and approvals); every 2–4 s every watch is cut, and every other cut
/// follows an expiry of the watch history, so that the re-watches get 410 Expired and relist.
///
/// The storms stop with the drive: a storm fails the next N status writes whoever makes them, and
/// once few Services are left those are the same few retries (a conflict is retried in 1 s),
/// storm after storm: a livelock of this model, which a real server's conflicts do not aim at
/// one writer. (Run until convergence, one run in four left a Service without status for 150 s.)
pub async fn storm(faults: Faults, mut rng: Rng, driving: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    faults.fail_fraction(Matcher::default(), 500, 0.05);
    faults.fail_fraction(Matcher::default(), 429, 0.02);
    let mut next_conflicts = tokio::time::Instant::now() + rng.millis(1_000, 3_000);
    let mut next_cut = tokio::time::Instant::now() + rng.millis(2_000, 4_000);
    let mut cuts = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let now = tokio::time::Instant::now();
        if now >= next_conflicts && driving.load(Ordering::Relaxed) {
            let n = rng.between(3, 15) as u32;
            let resource = if rng.next_u64().is_multiple_of(2) {
                "services"
            } else {
                "serviceapprovals"
            };
            faults.fail_next(Matcher::new(Some("patch"), Some(resource)), 409, n);
            next_conflicts = now + rng.millis(1_000, 3_000);
        }
        if now >= next_cut {
            cuts += 1;
            if cuts.is_multiple_of(2) {
                faults.expire_history();
            }
            faults.cut_watches();
            next_cut = now + rng.millis(2_000, 4_000);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    faults.clear();
}

/// An operator in a runtime of its own: `kill` drops every task it runs at once.
pub struct Process {
    runtime: Option<Runtime>,
    pub telemetry: controller::Telemetry,
}

/// A client from a kubeconfig, made inside the runtime that will use it.
pub async fn client_from(kubeconfig: &str) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("a kubeconfig");
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("a client config");
    Client::try_from(config).expect("a client")
}

impl Process {
    /// Runs `work(client, telemetry)` on a fresh two-thread runtime, authenticated by `kubeconfig`.
    pub fn spawn<F, Fut>(kubeconfig: String, work: F) -> Process
    where
        F: FnOnce(Client, controller::Telemetry) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let telemetry = controller::Telemetry::default();
        let t = telemetry.clone();
        runtime.spawn(async move {
            let client = client_from(&kubeconfig).await;
            work(client, t).await
        });
        Process {
            runtime: Some(runtime),
            telemetry,
        }
    }

    /// The operator, with the suite's catalog and no end of its own.
    pub fn operator(kubeconfig: String, config: Config) -> Process {
        Process::spawn(kubeconfig, move |client, telemetry| async move {
            let operator = controller::Operator::new(client, config).telemetry(telemetry);
            let _ = operator.run(std::future::pending()).await;
        })
    }

    /// Kills it: every task of its runtime is dropped where it stands.
    pub fn kill(mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
