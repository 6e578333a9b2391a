//! The control plane's children: each a process whose output goes to a log file, in its own
//! process group, killed with the sandbox however the sandbox dies.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::error::{ControlPlaneError, io};
use super::{ETCD, KUBE_APISERVER};

/// A child process whose output goes to a log file.
pub(super) struct Process {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    /// Its pid, when it is etcd or kube-apiserver.
    pub(super) fn server_pid(&self) -> Option<u32> {
        [ETCD, KUBE_APISERVER]
            .contains(&self.name)
            .then(|| self.child.id())
    }

    pub(super) fn spawn(
        name: &'static str,
        program: &Path,
        args: Vec<String>,
        log: &Path,
    ) -> Result<Process, ControlPlaneError> {
        let out = File::create(log).map_err(io(format!("cannot create {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(io(format!("cannot open {}", log.display())))?;
        let mut command = Command::new(program);
        command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        orphan_proof(&mut command);
        let child = command
            .spawn()
            .map_err(io(format!("cannot start {}", program.display())))?;
        Ok(Process {
            name,
            child,
            log: log.to_path_buf(),
        })
    }

    pub(super) fn terminate(&mut self) {
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid; it is not reaped yet (we hold the
            // Child), so the pid cannot have been reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }

    pub(super) fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The children get their own process group, so a Ctrl-C in the terminal reaches only the
/// sandbox, which stops them in order; and on Linux they are killed when the thread that
/// started them (the sandbox's main thread) dies, however it dies.
fn orphan_proof(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: getpid, prctl and getppid are async-signal-safe, as pre_exec requires.
        let parent = unsafe { libc::getpid() };
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl: then no signal will come.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the sandbox exited"));
                }
                Ok(())
            });
        }
    }
}

/// The last `lines` lines of a log.
pub(super) fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
