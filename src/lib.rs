//! cargo-packit-db: the local PostgreSQL workflow of a Rust project as one cargo subcommand.
//!
//! Data flows one way: command-line arguments ([`cli`]) -> a validated [`config::Config`] ->
//! a command function ([`commands`]) -> the engine ([`engine`]) and database ([`db`]) layers ->
//! a result rendered by [`ui`] -> an exit code ([`error::exit_codes`]). No module imports one
//! above it (the migrations, dumps, database and engine layers know nothing of the commands,
//! the configuration or `ui`); `tests/layers.rs` holds the order and checks every import.

pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dump;
pub mod engine;
pub mod error;
pub mod interrupt;
pub mod migrations;
pub mod ui;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cargo, Command};
use crate::commands::{DownArgs, PsqlArgs, StatusArgs, UpArgs};
use crate::config::Environment;
use crate::error::{exit_codes, Error};

/// Runs the tool with `args` (including the program name) and returns the exit code.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let Cargo::PackitDb(cli) = match Cargo::try_parse_from(cli::normalize_args(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit_codes::USAGE as u8
            } else {
                0
            });
        }
    };
    init_tracing(cli.global.verbose);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(exit_codes::FAILURE as u8);
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // A task may still block on stdin (psql's feeder); do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Loads the configuration and runs the command; `Ok` carries the exit code.
async fn dispatch(cli: cli::PackitDb) -> Result<i32, Error> {
    let env = Environment::from_process().map_err(|e| error::CommandError::Io {
        action: "read the current directory".into(),
        reason: e.to_string(),
    })?;
    let config = config::load(&env, &cli.global.overrides())?;
    tracing::debug!(?config, "configuration");
    match cli.command {
        Command::Up(a) => {
            commands::up(
                &config,
                &UpArgs {
                    pull: a.pull,
                    timeout: a.timeout,
                    recreate: a.recreate,
                    migrate: !a.no_migrate,
                },
            )
            .await?;
        }
        Command::Down(a) => {
            commands::down(
                &config,
                &DownArgs {
                    volumes: a.volumes,
                    yes: a.yes,
                },
            )
            .await?
        }
        Command::Status(a) => commands::status(&config, &StatusArgs { format: a.format }).await?,
        Command::Url => commands::url(&config).await?,
        Command::Migrate(m) => return commands::migrate(&config, &cli::migrate_args(m)).await,
        Command::TestDowngrade(t) => {
            return commands::test_downgrade(&config, &cli::test_downgrade_args(t)).await
        }
        Command::LoadDump(a) => commands::load_dump(&config, &cli::load_dump_args(a)).await?,
        Command::Dump(a) => commands::dump(&config, &cli::dump_args(a)).await?,
        Command::Psql(a) => return commands::psql(&config, &PsqlArgs { args: a.args }).await,
    }
    Ok(exit_codes::OK)
}

/// Prints `error: ...` and each `caused by: ...` on stderr.
fn report(error: &Error) {
    let style = console::Style::new().red().bold();
    eprintln!("{} {error}", style.apply_to("error:"));
    let mut source = std::error::Error::source(error);
    // `transparent` wrappers repeat the inner message as the first source; skip duplicates.
    let mut last = error.to_string();
    while let Some(cause) = source {
        let text = cause.to_string();
        if text != last {
            eprintln!("  caused by: {text}");
        }
        last = text;
        source = cause.source();
    }
}

/// Logs go to stderr. bollard is capped at `info` whatever is asked: at `debug` it logs request
/// and response bodies, which hold the container's password.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "cargo_packit_db=debug",
        _ => "cargo_packit_db=trace,sqlx=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PACKIT_DB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level))
        .add_directive("bollard=info".parse().expect("static directive"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// The runtime the CLI runs on: multi-threaded with two workers (these machines' cores), every
/// driver enabled. The benchmarks use it too, so they measure the same shape.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
