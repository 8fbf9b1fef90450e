//! Valid and invalid command lines, parsed without running anything.

use std::time::Duration;

use clap::Parser;

use super::{normalize_args, parse_duration, Cargo, Command};

fn parse(line: &str) -> Result<Command, clap::Error> {
    let args = normalize_args(line.split_whitespace().map(Into::into).collect());
    Cargo::try_parse_from(args).map(|Cargo::PackitDb(p)| p.command)
}

#[test]
fn valid_command_lines() {
    for line in [
        "cargo packit-db up",
        "cargo-packit-db up",
        "cargo-packit-db packit-db up --pull never --timeout 2m --recreate",
        "cargo packit-db --engine podman --port 5433 up",
        "cargo packit-db up --engine docker --image postgres:16",
        "cargo packit-db down --volumes --yes",
        "cargo packit-db status --format json",
        "cargo packit-db url",
        "cargo packit-db psql -- -c select",
        "cargo packit-db --manifest-path x/Cargo.toml status",
        "cargo packit-db load-dump prod.dump",
        "cargo packit-db load-dump - --yes",
        "cargo packit-db load-dump --jobs 2 --missing-roles ignore-owner --replace -y x.dump",
        "cargo packit-db load-dump --database copy --owner app --keep-previous x.sql.gz",
        "cargo packit-db load-dump --missing-roles create x.tar",
        "cargo packit-db dump",
        "cargo packit-db dump --out - --format plain --database other",
    ] {
        assert!(parse(line).is_ok(), "{line}: {:?}", parse(line).err());
    }
}

#[test]
fn invalid_command_lines() {
    for line in [
        "cargo packit-db",
        "cargo packit-db up --pull sometimes",
        "cargo packit-db --engine lxc up",
        "cargo packit-db --port 70000 up",
        "cargo packit-db up --timeout soon",
        "cargo packit-db status --format xml",
        "cargo packit-db frobnicate",
        "cargo packit-db load-dump",
        "cargo packit-db load-dump --missing-roles maybe x.dump",
        "cargo packit-db load-dump --jobs 0 x.dump",
        "cargo packit-db load-dump --replace --keep-previous x.dump",
        "cargo packit-db dump --format directory",
    ] {
        assert!(parse(line).is_err(), "{line} should not parse");
    }
}

#[test]
fn psql_args_pass_through() {
    let Command::Psql(p) = parse("cargo packit-db psql -- -c \\dt -At").unwrap() else {
        panic!()
    };
    assert_eq!(p.args, vec!["-c", "\\dt", "-At"]);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    assert!(parse_duration("0").is_err());
    assert!(parse_duration("5d").is_err());
}

#[test]
fn load_dump_reads_stdin_for_a_dash() {
    let Command::LoadDump(l) = parse("cargo packit-db load-dump -").unwrap() else {
        panic!()
    };
    assert_eq!(
        super::load_dump_args(l).input,
        crate::dump::source::DumpInput::Stdin
    );
}
