//! The built `charter sandbox` process, driven as a new user drives it: the real kubectl with
//! the kubeconfig it writes, and the `charter` CLI.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `charter` binary cargo built beside the running test (`target/<profile>/charter`).
pub fn charter() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    let profile = exe
        .ancestors()
        .find(|dir| {
            dir.join(format!("charter{}", std::env::consts::EXE_SUFFIX))
                .is_file()
        })
        .expect("the charter binary beside the test (cargo builds it for the crate's tests)");
    profile.join(format!("charter{}", std::env::consts::EXE_SUFFIX))
}

/// The sandbox process; stopped with SIGTERM (then killed) when dropped.
pub struct Sandbox {
    child: Child,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
    /// What it printed up to "Press Ctrl-C".
    pub printed: Vec<String>,
}

impl Sandbox {
    pub fn start(apply: &Path) -> Sandbox {
        Sandbox::start_with(apply, &[])
    }

    /// `charter sandbox --apply <apply>` on `ground`.
    pub fn start_on(ground: &test_programs::Ground, apply: &Path) -> Sandbox {
        let args = ground.sandbox_args();
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        Sandbox::start_with(apply, &args)
    }

    /// `charter sandbox <args>` on `ground`.
    pub fn launch_on(ground: &test_programs::Ground, args: &[&str]) -> Sandbox {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(ground.sandbox_args());
        Sandbox::launch(&all)
    }

    /// With more arguments for `charter sandbox` (`--control-plane DIR`).
    pub fn start_with(apply: &Path, args: &[&std::ffi::OsStr]) -> Sandbox {
        let mut all = vec![std::ffi::OsStr::new("--apply"), apply.as_os_str()];
        all.extend_from_slice(args);
        let sandbox = Sandbox::launch(&all);
        assert!(
            sandbox
                .printed
                .iter()
                .any(|l| l.contains("services.catalog.charter.dev/ledger")),
            "sandbox applied the examples: {:?}",
            sandbox.printed
        );
        sandbox
    }

    /// `charter sandbox <args>`, once it says it is ready.
    pub fn launch<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(charter())
            .arg("sandbox")
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("charter sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) => {
                    let ready = line.contains("Press Ctrl-C");
                    seen.push(line);
                    if ready {
                        break;
                    }
                }
                _ => panic!(
                    "sandbox exited before it was ready; it printed:\n{}",
                    seen.join("\n")
                ),
            }
        }
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Sandbox {
            child,
            kubeconfig,
            dir,
            printed: seen,
        }
    }

    pub fn kubectl(&self, args: &[&str]) -> (bool, String) {
        let out = test_programs::kubectl::command()
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .expect("kubectl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// `kubectl wait --for=condition=Ready` on the Service, for at most `seconds`.
    pub fn wait_ready(&self, service: &str, namespace: &str, seconds: u32) {
        self.kubectl_ok(&[
            "wait",
            "--for=condition=Ready",
            &format!("csvc/{service}"),
            "-n",
            namespace,
            &format!("--timeout={seconds}s"),
        ]);
    }

    /// kubectl as `user` (a context of the sandbox's kubeconfig) is refused, printing `why`.
    pub fn refused(&self, user: &str, args: &[&str], why: &str) {
        let mut full = vec!["--context", user];
        full.extend_from_slice(args);
        let (ok, text) = self.kubectl(&full);
        assert!(!ok, "{user} {args:?} was allowed:\n{text}");
        assert!(
            text.contains(why),
            "{user} {args:?} was refused for another reason:\n{text}"
        );
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed:\n{text}");
        text
    }

    pub fn charter(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(charter())
            .env("KUBECONFIG", &self.kubeconfig)
            .args(args)
            .output()
            .expect("charter runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Poll `kubectl get -o jsonpath` until it prints `want`.
    pub fn wait_for(&self, args: &[&str], want: &str) -> String {
        self.wait_until(args, want, |text| text.trim() == want)
    }

    /// Poll kubectl until its output satisfies `done`; returns that output.
    pub fn wait_until(&self, args: &[&str], want: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, text) = self.kubectl(args);
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "kubectl {args:?} never printed {want:?}; last: {text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// Writes `yaml` to a file in the sandbox's directory and returns its path.
    pub fn manifest(&self, name: &str, yaml: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).expect("manifest written");
        path.to_str().expect("utf-8 path").to_string()
    }
}
