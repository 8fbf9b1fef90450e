//! The binary's command line and configuration errors (no engine needed).

mod common;

use common::{assert_error, cmd_in, config_dir, stderr};

/// Every command.
const COMMANDS: &[&str] = &[
    "up",
    "down",
    "status",
    "url",
    "psql",
    "migrate",
    "test-downgrade",
    "load-dump",
    "dump",
];

#[test]
fn runs_as_a_cargo_subcommand_and_directly() {
    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in COMMANDS {
        assert!(
            help.contains(command),
            "{command} missing from help:\n{help}"
        );
    }
    let mut direct = assert_cmd::Command::cargo_bin("cargo-packit-db").unwrap();
    direct
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_command_has_an_example_in_its_help() {
    let dir = config_dir("");
    for command in COMMANDS {
        let out = cmd_in(dir.path(), &[command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && help.contains("cargo packit-db"),
            "{command}:\n{help}"
        );
    }
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["--engine", "lxc", "up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'lxc' for '--engine <ENGINE>'"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("[possible values: auto, docker, podman]"));
    let out = cmd_in(dir.path(), &["--port", "70000", "up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("70000"));
}

#[test]
fn unknown_configuration_keys_are_named_with_a_suggestion() {
    let dir = config_dir("prot = 5432\n");
    let out = cmd_in(dir.path(), &["status"]).output().unwrap();
    assert_error(&out, 3, "unknown key `prot` in");
    assert!(
        stderr(&out).contains("did you mean `port`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_configuration_values_name_key_file_and_accepted_values() {
    let dir = config_dir("port = 70000\n");
    let out = cmd_in(dir.path(), &["up"]).output().unwrap();
    assert_error(&out, 3, "invalid value 70000 for `port` in");
    assert!(stderr(&out).contains("packit-db.toml"));
    assert!(stderr(&out).contains("expected 0 to 65535"));

    let dir = config_dir("engine = \"lxc\"\n");
    let out = cmd_in(dir.path(), &["up"]).output().unwrap();
    assert_error(&out, 3, "invalid value \"lxc\" for `engine`");
    assert!(
        stderr(&out).contains("expected auto, docker or podman"),
        "{}",
        stderr(&out)
    );

    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["up"])
        .env("PACKIT_DB_PORT", "http")
        .output()
        .unwrap();
    assert_error(&out, 3, "for `port` in environment variable PACKIT_DB_PORT");
}

#[test]
fn cargo_metadata_configures_the_project() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"shop-api\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.packit-db]\nengine = \"docker\"\nport = 70000\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    let out = cmd_in(dir.path(), &["up"]).output().unwrap();
    assert_error(&out, 3, "invalid value 70000 for `port`");
    assert!(
        stderr(&out).contains("[package.metadata.packit-db]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn load_dump_checks_the_file_before_looking_for_an_engine() {
    let dir = config_dir("");
    std::fs::write(
        dir.path().join("picture.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.sql"), b"").unwrap();
    for (file, needle) in [
        (
            "missing.sql",
            "cannot read missing.sql: No such file or directory",
        ),
        (
            "picture.png",
            "picture.png is not a pg_dump dump: it is a PNG image",
        ),
        ("empty.sql", "empty.sql is empty"),
    ] {
        let out = cmd_in(dir.path(), &["load-dump", file]).output().unwrap();
        assert_error(&out, 11, needle);
    }
}
