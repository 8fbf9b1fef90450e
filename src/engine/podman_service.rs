//! A private Podman API service for machines that have the `podman` binary but no socket.
//!
//! `podman system service` is started on a socket in a fresh 0700 directory and lives only as
//! long as the command, and the directory is removed with it. Containers keep running without
//! the service (conmon owns them).
//!
//! The service runs in its own process group. Ctrl-C on a terminal sends SIGINT to the whole
//! foreground process group; in ours, it would end the service at the moment the tool starts
//! cleaning up through it (removing what the run created), and the clean-up would fail.
//!
//! Out of the terminal's reach, the service must still not outlive the tool: commands that
//! create nothing let Ctrl-C end them at once, without running any code, and a service left
//! behind with `--time=0` would run forever. So it runs under a small `sh` supervisor that
//! kills it as soon as the pipe on its stdin closes: the tool holds the only other end, and the
//! kernel closes it however the tool ends. [`PodmanService::stop`] and dropping the service
//! close it too (dropping also kills the supervisor, `kill_on_drop`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::engine::error::EngineError;

/// How long the service may take to create its socket.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `podman system service` on the socket `$1` until the pipe on stdin closes, then kills
/// it; exits with the service's status (127 when there is no podman). The watcher reads fd 3
/// because the stdin of a background job is /dev/null; the service gets neither.
const SUPERVISOR: &str = r#"podman system service --time=0 "$1" </dev/null &
service=$!
exec 3<&0 0</dev/null
{ read -r _ <&3; kill -KILL "$service"; } 2>/dev/null &
watcher=$!
exec 3<&-
wait "$service"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// The exit status of `sh` when a command is not found.
const NOT_FOUND: i32 = 127;

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
        // An absolute path, so that a PATH without podman still reads as "not installed".
        let spawned = Command::new("/bin/sh")
            .args(["-c", SUPERVISOR, "sh"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
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
                if status.code() == Some(NOT_FOUND) {
                    return Ok(None);
                }
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

    /// Stops the service and waits for it to exit: closing the pipe makes the supervisor kill
    /// the service, wait for it and exit.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

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

    /// The pid of the `podman` process serving `service`'s socket, found by its command line.
    fn podman_pid(service: &PodmanService) -> Option<String> {
        let uri = format!("unix://{}", service.socket().display());
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                let is_podman = args[0].ends_with(b"podman");
                let serves = args.contains(&uri.as_bytes());
                (is_podman && serves).then(|| entry.file_name().to_string_lossy().into_owned())
            })
    }

    /// Starts the service, or `None` (with a note) when this machine cannot.
    async fn start() -> Option<PodmanService> {
        if std::env::var("PACKIT_TEST_ENGINES").is_ok_and(|e| !e.contains("podman")) {
            eprintln!("note: podman not among PACKIT_TEST_ENGINES");
            return None;
        }
        let service = PodmanService::start().await.unwrap();
        if service.is_none() {
            eprintln!("note: no podman binary, nothing to start");
        }
        service
    }

    #[tokio::test]
    async fn the_private_service_is_out_of_reach_of_ctrl_c_on_the_terminal() {
        let Some(service) = start().await else {
            return;
        };
        let supervisor = service.child.id().unwrap().to_string();
        let podman = podman_pid(&service).expect("the podman process is running");
        let own = pgid("self");
        let groups = [pgid(&supervisor), pgid(&podman)];
        service.stop().await;
        for group in groups {
            assert_ne!(
                group, own,
                "the service shares the terminal's process group"
            );
            // A group of its own, not some other one it happened to land in.
            assert_eq!(group.to_string(), supervisor);
        }
    }

    #[tokio::test]
    async fn the_private_service_ends_when_the_tool_does() {
        let Some(mut service) = start().await else {
            return;
        };
        let podman = podman_pid(&service).expect("the podman process is running");
        // However the tool ends (Ctrl-C with no handler, SIGKILL), the kernel closes its end of
        // the pipe; nothing else is done here either: no kill, no wait.
        drop(service.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{podman}")).exists() {
            assert!(
                Instant::now() < deadline,
                "podman {podman} still runs 10 s after the tool's end of the pipe closed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        service.stop().await;
    }
}
