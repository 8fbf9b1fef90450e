//! Test harness: real engines, real PostgreSQL images, the real binary.
//!
//! Which engines to test comes from `PACKIT_TEST_ENGINES` (default `docker,podman`; set it to
//! `none` to run no engine test, which is then reported, never silent). An engine that was asked
//! for and does not answer fails the tests. Every container and volume a test creates carries
//! the label `io.github.packit-db.test=<binary>` and is removed by the test's guard; leftovers of
//! a killed run are removed the first time a binary touches an engine.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// The label every test resource carries.
pub const TEST_LABEL: &str = "io.github.packit-db.test";

/// A container engine under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestEngine {
    /// `docker` or `podman`.
    pub kind: &'static str,
    /// Its API endpoint, e.g. `unix:///var/run/docker.sock`.
    pub host: String,
}

/// The engines this run asked for. Panics (fails the test) when one does not answer.
pub fn engines() -> Vec<TestEngine> {
    let wanted = std::env::var("PACKIT_TEST_ENGINES").unwrap_or_else(|_| "docker,podman".into());
    let mut out = Vec::new();
    for kind in wanted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "none")
    {
        let engine = match kind {
            "docker" => TestEngine {
                kind: "docker",
                host: std::env::var("PACKIT_TEST_DOCKER_HOST")
                    .unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
            },
            "podman" => TestEngine {
                kind: "podman",
                host: std::env::var("PACKIT_TEST_PODMAN_HOST")
                    .unwrap_or_else(|_| "unix:///run/podman/podman.sock".into()),
            },
            other => panic!(
                "PACKIT_TEST_ENGINES names unknown engine `{other}` (use docker, podman or none)"
            ),
        };
        ensure_reachable(&engine);
        out.push(engine);
    }
    if out.is_empty() {
        eprintln!("note: PACKIT_TEST_ENGINES=none: engine tests ran against no engine");
    }
    out
}

fn ensure_reachable(engine: &TestEngine) {
    static CHECKED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(Default::default);
    let mut checked = checked.lock().unwrap();
    if checked.contains(engine.kind) {
        return;
    }
    let out = engine.cli(&["version", "--format", "{{.Server.Version}}"]);
    assert!(
        out.status.success(),
        "{} asked for by PACKIT_TEST_ENGINES is not reachable at {}: {} (start it with scripts/setup-engines.sh)",
        engine.kind,
        engine.host,
        String::from_utf8_lossy(&out.stderr)
    );
    remove_leftovers(engine);
    checked.insert(engine.kind.to_string());
}

/// The test binary's name, used as the label value.
fn binary_label() -> String {
    let exe = std::env::current_exe().unwrap();
    let stem = exe.file_stem().unwrap().to_string_lossy().to_string();
    // cargo appends -<hash> to test binaries.
    stem.rsplit_once('-')
        .map(|(name, _)| name.to_string())
        .unwrap_or(stem)
}

/// Removes containers and volumes left by an earlier run of this test binary.
fn remove_leftovers(engine: &TestEngine) {
    let filter = format!("label={TEST_LABEL}={}", binary_label());
    let ids = engine.cli(&["ps", "-aq", "--filter", &filter]);
    for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        engine.cli(&["rm", "-f", "-v", id]);
    }
    let vols = engine.cli(&["volume", "ls", "-q", "--filter", &filter]);
    for v in String::from_utf8_lossy(&vols.stdout).split_whitespace() {
        engine.cli(&["volume", "rm", "-f", v]);
    }
}

impl TestEngine {
    /// Runs the engine's own CLI against the same API endpoint (for setup and assertions).
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = match self.kind {
            "docker" => {
                let mut c = Command::new("docker");
                c.arg("--host").arg(&self.host);
                c
            }
            _ => {
                let mut c = Command::new("podman");
                c.arg("--url").arg(&self.host);
                c
            }
        };
        cmd.args(args).output().expect("engine CLI runs")
    }

    /// Runs the CLI and returns trimmed stdout, panicking on failure.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "{} {:?} failed: {}",
            self.kind,
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Whether a container exists.
    pub fn container_exists(&self, name: &str) -> bool {
        self.cli(&["container", "inspect", name]).status.success()
    }

    /// Whether a volume exists.
    pub fn volume_exists(&self, name: &str) -> bool {
        self.cli(&["volume", "inspect", name]).status.success()
    }

    /// A container's state string.
    pub fn container_state(&self, name: &str) -> String {
        self.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{.State.Status}}",
            name,
        ])
    }
}

/// Image names, from the environment the test command sets.
pub fn image_17() -> String {
    std::env::var("PACKIT_TEST_IMAGE_17")
        .unwrap_or_else(|_| "localhost/packit-db-test/postgres:17".into())
}
/// PostgreSQL 15 built from the host's install.
pub fn image_15() -> String {
    std::env::var("PACKIT_TEST_IMAGE_15")
        .unwrap_or_else(|_| "localhost/packit-db-test/postgres:15".into())
}
/// The Software Collections contract variant.
pub fn image_sclorg() -> String {
    std::env::var("PACKIT_TEST_IMAGE_SCLORG")
        .unwrap_or_else(|_| "localhost/packit-db-test/sclorg-postgresql:15".into())
}

/// A project directory with a packit-db.toml, bound to one engine, whose container and volume
/// are removed on drop.
pub struct TestProject {
    /// The engine.
    pub engine: TestEngine,
    /// The temp dir holding the project.
    pub dir: tempfile::TempDir,
    /// The container name.
    pub container: String,
}

impl TestProject {
    /// A project named after the test, with `extra` lines added to packit-db.toml.
    pub fn new(engine: &TestEngine, test: &str, image: &str, extra: &str) -> TestProject {
        let dir = tempfile::Builder::new()
            .prefix("packit-test-")
            .tempdir()
            .unwrap();
        let container = format!("pt-{test}-{}-{}", engine.kind, std::process::id());
        let toml = format!(
            "image = \"{image}\"\ncontainer = \"{container}\"\n\n{extra}\n[labels]\n\"{TEST_LABEL}\" = \"{}\"\n",
            binary_label()
        );
        std::fs::write(dir.path().join("packit-db.toml"), toml).unwrap();
        TestProject {
            engine: engine.clone(),
            dir,
            container,
        }
    }

    /// Rewrites packit-db.toml's settings (keeps the container name and label).
    pub fn reconfigure(&self, image: &str, extra: &str) {
        let toml = format!(
            "image = \"{image}\"\ncontainer = \"{}\"\n\n{extra}\n[labels]\n\"{TEST_LABEL}\" = \"{}\"\n",
            self.container,
            binary_label()
        );
        std::fs::write(self.dir.path().join("packit-db.toml"), toml).unwrap();
    }

    /// The data volume's name.
    pub fn volume(&self) -> String {
        format!("{}-data", self.container)
    }

    /// The binary, in the project dir, talking to this project's engine only.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("cargo-packit-db").unwrap();
        cmd.current_dir(self.dir.path());
        clean_env(&mut cmd);
        cmd.env("DOCKER_HOST", &self.engine.host);
        cmd.arg("packit-db").args(args);
        cmd
    }

    /// Runs the binary and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs the binary, asserting success; returns stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "packit-db {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The project's full DATABASE_URL.
    pub fn url(&self) -> String {
        self.run_ok(&["url"]).trim().to_string()
    }

    /// Runs SQL through the host's psql against the published port; returns trimmed stdout.
    pub fn host_psql(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .arg(self.url())
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "host psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        self.engine.cli(&["rm", "-f", "-v", &self.container]);
        self.engine.cli(&["volume", "rm", "-f", &self.volume()]);
    }
}

/// Removes every variable that would let the outer environment steer the binary.
pub fn clean_env(cmd: &mut Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("PACKIT_DB_")
            || matches!(
                key.as_str(),
                "DATABASE_URL" | "DOCKER_HOST" | "CONTAINER_HOST" | "XDG_RUNTIME_DIR"
            )
        {
            cmd.env_remove(key);
        }
    }
}

/// Asserts an output failed with `code` and a stderr whose first line contains `needle`.
pub fn assert_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}, stderr: {stderr}"
    );
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("");
    assert!(
        first.contains(needle),
        "error line `{first}` does not contain `{needle}`; stderr: {stderr}"
    );
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `f` every 10 ms until it is true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The path of the built binary.
pub fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("cargo-packit-db")
}

/// Whether the tests run as root (needed for mount namespaces).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// An empty directory with a packit-db.toml for tests that need no engine.
pub fn config_dir(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("packit-db.toml"), toml).unwrap();
    dir
}

/// The binary in `dir` with a clean environment.
pub fn cmd_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("cargo-packit-db").unwrap();
    cmd.current_dir(dir);
    clean_env(&mut cmd);
    cmd.arg("packit-db").args(args);
    cmd
}
