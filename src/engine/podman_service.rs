//! A private Podman API service for machines that have the `podman` binary but no socket.
//!
//! `podman system service` is started on a socket in a fresh 0700 directory and lives only as
//! long as the command: the child is killed on drop (synchronously, `kill_on_drop`), and the
//! directory is removed with it. Containers keep running without the service (conmon owns them).
//!
//! The service runs in its own process group. Ctrl-C on a terminal sends SIGINT to the whole
//! foreground process group; in ours, it would end the service at the moment the tool starts
//! cleaning up through it (removing what the run created), and the clean-up would fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::engine::error::EngineError;

/// How long the service may take to create its socket.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running private `podman system service`.
#[derive(Debug)]
pub struct PodmanService {
    child: Child,
    socket: PathBuf,
    // Dropped after `child` (field order), so the socket directory outlives the process.
    _dir: tempfile::TempDir,
}

impl PodmanService {
    /// Starts the service; `Ok(None)` when no `podman` binary is installed.
    pub(crate) async fn start() -> Result<Option<Self>, EngineError> {
        let dir = tempfile::Builder::new()
            .prefix("packit-db-podman-")
            .tempdir()
            .map_err(|e| EngineError::PodmanService {
                reason: format!("cannot create a socket directory: {e}"),
            })?;
        let socket = dir.path().join("podman.sock");
        let log_path = dir.path().join("service.log");
        let log = std::fs::File::create(&log_path).map_err(|e| EngineError::PodmanService {
            reason: format!("cannot create {}: {e}", log_path.display()),
        })?;
        let spawned = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EngineError::PodmanService {
                    reason: e.to_string(),
                })
            }
        };
        tracing::debug!(socket = %socket.display(), "started private podman service");
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while !socket.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let last = log.lines().last().unwrap_or("no output").to_string();
                return Err(EngineError::PodmanService {
                    reason: format!("it exited with {status}: {last}"),
                });
            }
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::PodmanService {
                    reason: format!("no socket after {} s", START_TIMEOUT.as_secs()),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(Some(PodmanService {
            child,
            socket,
            _dir: dir,
        }))
    }

    /// The socket the service listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops the service and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::PodmanService;

    /// The process group of `pid`, from `/proc/<pid>/stat`: the fifth field, the third after
    /// the command name in parentheses (which may itself hold spaces and parentheses).
    fn pgid(pid: &str) -> u32 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        after_name
            .split_whitespace()
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn the_private_service_is_out_of_reach_of_ctrl_c_on_the_terminal() {
        if std::env::var("PACKIT_TEST_ENGINES").is_ok_and(|e| !e.contains("podman")) {
            eprintln!("note: podman not among PACKIT_TEST_ENGINES");
            return;
        }
        let Some(service) = PodmanService::start().await.unwrap() else {
            eprintln!("note: no podman binary, nothing to start");
            return;
        };
        let pid = service.child.id().unwrap().to_string();
        let own = pgid("self");
        let its = pgid(&pid);
        service.stop().await;
        assert_ne!(its, own, "the service shares the terminal's process group");
        // A group of its own, not some other one it happened to land in.
        assert_eq!(its.to_string(), pid);
    }
}
