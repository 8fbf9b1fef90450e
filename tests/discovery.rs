//! Engine discovery through the real binary: explicit endpoints that fail, a socket that is not
//! an engine, nothing reachable at all, and a private Podman service.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::process::Command;

use common::{assert_error, binary, clean_env, cmd_in, config_dir, engines, is_root, stderr};

#[test]
fn docker_host_pointing_at_a_missing_socket() {
    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["status"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_error(&out, 4, "cannot reach the container engine at DOCKER_HOST=unix:///nonexistent/docker.sock: socket not found");
    assert!(stderr(&out).contains("change DOCKER_HOST"));
}

#[test]
fn docker_host_with_an_unsupported_scheme() {
    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["up"])
        .env("DOCKER_HOST", "ssh://me@build-host")
        .output()
        .unwrap();
    assert_error(
        &out,
        4,
        "DOCKER_HOST=ssh://me@build-host uses the unsupported scheme `ssh`",
    );
    let out = cmd_in(dir.path(), &["up"])
        .env("DOCKER_HOST", "npipe:////./pipe/docker_engine")
        .output()
        .unwrap();
    assert_error(&out, 4, "unsupported scheme `npipe`");
}

#[test]
fn a_socket_that_is_not_a_container_engine() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("not-an-engine.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    // Answers every request like a web server that knows no such page.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nnot here\n");
        }
    });
    let project = config_dir("");
    let host = format!("unix://{}", socket.display());
    let out = cmd_in(project.path(), &["status"])
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert_error(
        &out,
        4,
        &format!("DOCKER_HOST={host} is not a Docker or Podman API"),
    );
}

#[test]
fn an_engine_choice_that_finds_nothing_lists_every_place_tried() {
    // `--engine docker` with no DOCKER_HOST looks at /var/run/docker.sock only; hide it in a
    // private mount namespace (root only) so nothing answers.
    if !is_root() {
        eprintln!(
            "note: not root, so /var/run cannot be hidden; covered by the unit tests of discovery"
        );
        return;
    }
    let project = config_dir("");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs tmpfs /run && exec \"$0\" \"$@\"",
    ])
    .arg(binary())
    .args(["packit-db", "--engine", "docker", "status"])
    .current_dir(project.path());
    clean_env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_error(
        &out,
        4,
        "no container engine answered (tried /var/run/docker.sock: not found)",
    );
    assert!(
        stderr(&out).contains("sudo systemctl start docker"),
        "{}",
        stderr(&out)
    );

    // With every socket hidden and no podman binary on PATH, auto lists all places.
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs tmpfs /run && PATH=/nonexistent exec \"$0\" \"$@\"",
    ])
    .arg(binary())
    .args(["packit-db", "status"])
    .current_dir(project.path())
    .env("XDG_RUNTIME_DIR", "/run/user/4242");
    clean_env(&mut cmd);
    cmd.env("XDG_RUNTIME_DIR", "/run/user/4242");
    let out = cmd.output().unwrap();
    assert_error(
        &out,
        4,
        "tried /var/run/docker.sock: not found; /run/user/4242/podman/podman.sock: not found; /run/podman/podman.sock: not found; podman system service: podman not installed",
    );
}

#[test]
fn podman_without_a_socket_gets_a_private_service_for_the_command() {
    if !engines().iter().any(|e| e.kind == "podman") {
        eprintln!("note: podman not among PACKIT_TEST_ENGINES");
        return;
    }
    if !is_root() {
        eprintln!("note: not root, so /run/podman cannot be hidden");
        return;
    }
    let project = config_dir("");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs tmpfs /run/podman && exec \"$0\" \"$@\"",
    ])
    .arg(binary())
    .args([
        "packit-db",
        "--engine",
        "podman",
        "status",
        "--format",
        "json",
    ])
    .current_dir(project.path());
    clean_env(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["engine"]["kind"], "podman");
    assert!(
        json["engine"]["endpoint"]
            .as_str()
            .unwrap()
            .contains("private podman service"),
        "{json}"
    );
    // The service lived only as long as the command.
    let left = Command::new("pgrep")
        .args(["-f", "packit-db-podman-"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "private podman service still running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}
