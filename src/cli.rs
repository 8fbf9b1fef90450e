//! Command-line types (clap only). `cargo packit-db <command>`: cargo runs the binary with
//! `packit-db` as its first argument; run directly, `cargo-packit-db <command>` works too.

// The doc comments below are also the `--help` text, where `<name>` is a placeholder, not HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    DumpArgs, DumpOutFormat, LoadDumpArgs, MigrateAction, MigrateArgs, MissingRoles, SelectionArg,
    TestDowngradeArgs,
};
use crate::config::{EngineChoice, EnvStyle, Overrides};
use crate::dump::source::DumpInput;
use crate::engine::PullPolicy;
use crate::migrations::source::VersionStyle;
use crate::ui::Format;

/// The `cargo` wrapper: one subcommand, `packit-db`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", disable_help_subcommand = true)]
pub enum Cargo {
    /// A local PostgreSQL for your project, in Docker or Podman: start it, migrate it, inspect it.
    #[command(name = "packit-db", version, long_about = None)]
    PackitDb(PackitDb),
}

/// `cargo packit-db`.
#[derive(Debug, Args)]
#[command(
    after_help = "Start here:\n  cargo packit-db up                     # start Postgres, print DATABASE_URL\n  export DATABASE_URL=$(cargo packit-db url)\n  cargo packit-db psql                   # open psql in the container"
)]
pub struct PackitDb {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command (they override configuration and environment).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to Cargo.toml (the project whose [package.metadata.packit-db] is read).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Container engine to use [default: auto: Docker's socket, then Podman's].
    #[arg(long, global = true, value_enum)]
    pub engine: Option<EngineChoice>,
    /// PostgreSQL image [default: docker.io/library/postgres:17].
    #[arg(long, global = true, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Container name [default: <project>-packit-db].
    #[arg(long, global = true, value_name = "NAME")]
    pub container: Option<String>,
    /// Host port on 127.0.0.1 [default: 0, a free port].
    #[arg(long, global = true, value_name = "PORT")]
    pub port: Option<u16>,
    /// Environment-variable contract of the image [default: official, or sclorg for Software Collections images].
    #[arg(long, global = true, value_enum)]
    pub env_style: Option<EnvStyle>,
    /// More output on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The flags that override configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            manifest_path: self.manifest_path.clone(),
            engine: self.engine,
            image: self.image.clone(),
            container: self.container.clone(),
            port: self.port,
            env_style: self.env_style,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the project's PostgreSQL container (create, pull, start as needed) and wait until it accepts connections.
    #[command(
        after_help = "Examples:\n  cargo packit-db up\n  cargo packit-db up --pull never --timeout 120\n  cargo packit-db --port 5433 up --recreate"
    )]
    Up(UpCli),
    /// Stop and remove the container; --volumes also deletes its data.
    #[command(
        after_help = "Examples:\n  cargo packit-db down\n  cargo packit-db down --volumes --yes"
    )]
    Down(DownCli),
    /// Show the engine, the container and whether the database answers.
    #[command(
        after_help = "Examples:\n  cargo packit-db status\n  cargo packit-db status --format json"
    )]
    Status(StatusCli),
    /// Print the DATABASE_URL, password included, and nothing else.
    #[command(after_help = "Example:\n  export DATABASE_URL=$(cargo packit-db url)")]
    Url,
    /// Apply, revert, redo, show or create migrations (no subcommand: apply pending ones).
    #[command(
        after_help = "Examples:\n  cargo packit-db migrate                      # apply pending migrations (like `upgrade head`)\n  cargo packit-db migrate new add users table\n  cargo packit-db migrate down                 # revert the last one (like `downgrade -1`)\n  cargo packit-db migrate status"
    )]
    Migrate(MigrateCli),
    /// Prove that every down migration restores the schema exactly (on a scratch database).
    #[command(
        name = "test-downgrade",
        after_help = "Examples:\n  cargo packit-db test-downgrade\n  cargo packit-db test-downgrade --last 1\n  cargo packit-db test-downgrade --format json --junit target/test-downgrade.xml   # in CI\n  cargo packit-db test-downgrade --isolated    # in a throwaway container\n  cargo packit-db test-downgrade --jobs 1      # on one scratch database"
    )]
    TestDowngrade(TestDowngradeCli),
    /// Load a pg_dump dump (plain, gzip/zstd plain, custom, tar or directory) into the container, atomically.
    #[command(
        name = "load-dump",
        after_help = "The dump is loaded into a staging database; only when that succeeded does it replace the\ntarget, which is kept under a dated name (or dropped with --replace). A failed or interrupted\nload leaves the target untouched.\n\nExamples:\n  cargo packit-db load-dump prod.dump\n  cargo packit-db load-dump --missing-roles ignore-owner --jobs 2 prod.dump\n  ssh prod pg_dump -Fp app | gzip | cargo packit-db load-dump --yes -\n  cargo packit-db load-dump --database shop_copy --replace --yes backup.sql.gz"
    )]
    LoadDump(LoadDumpCli),
    /// Dump a local database with pg_dump inside the container (custom format by default).
    #[command(
        after_help = "Examples:\n  cargo packit-db dump                          # <database>-<time>.dump in the current directory\n  cargo packit-db dump --out backup.dump\n  cargo packit-db dump --format plain --out - | gzip > backup.sql.gz"
    )]
    Dump(DumpCli),
    /// Run psql in the container as the application role (interactive on a terminal, piped otherwise).
    #[command(
        after_help = "Examples:\n  cargo packit-db psql\n  cargo packit-db psql -- -c '\\dt'\n  echo 'select 1' | cargo packit-db psql"
    )]
    Psql(PsqlCli),
}

/// `up` options.
#[derive(Debug, Args)]
pub struct UpCli {
    /// When to pull the image.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// How long PostgreSQL may take to accept connections (seconds, or e.g. 90s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Replace a container whose settings differ from the configuration (the data volume is kept).
    #[arg(long)]
    pub recreate: bool,
    /// Do not apply pending migrations once the database is up.
    #[arg(long)]
    pub no_migrate: bool,
}

/// `load-dump` options.
#[derive(Debug, Args)]
pub struct LoadDumpCli {
    /// The dump: a file, a directory-format dump, or - for standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Database to load into [default: the application database].
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Role that owns the database and loads it (created LOGIN with the project password if absent) [default: the application role].
    #[arg(long, value_name = "ROLE")]
    pub owner: Option<String>,
    /// Parallel pg_restore jobs for custom and directory dumps [default: the number of cores, at most 4].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// What to do about roles the dump names that do not exist here.
    #[arg(long, value_enum, default_value_t = MissingRoles::Fail)]
    pub missing_roles: MissingRoles,
    /// Keep the previous database under a dated name (the default).
    #[arg(long, conflicts_with = "replace")]
    pub keep_previous: bool,
    /// Drop the previous database once the new one is in place.
    #[arg(long)]
    pub replace: bool,
    /// Do not ask before ending sessions on the target or dropping it.
    #[arg(short, long)]
    pub yes: bool,
}

/// The validated arguments of `load-dump`.
pub fn load_dump_args(cli: LoadDumpCli) -> LoadDumpArgs {
    LoadDumpArgs {
        input: if cli.file.as_os_str() == "-" {
            DumpInput::Stdin
        } else {
            DumpInput::Path(cli.file)
        },
        database: cli.database,
        owner: cli.owner,
        jobs: cli.jobs.map(usize::from),
        missing_roles: cli.missing_roles,
        replace: cli.replace,
        yes: cli.yes,
    }
}

/// `dump` options.
#[derive(Debug, Args)]
pub struct DumpCli {
    /// Output file, or - for standard output [default: <database>-<YYYYMMDD-HHMMSS>.dump, or .sql].
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Dump format.
    #[arg(long, value_enum, default_value_t = DumpOutFormat::Custom)]
    pub format: DumpOutFormat,
    /// Database to dump [default: the application database].
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
}

/// The validated arguments of `dump`.
pub fn dump_args(cli: DumpCli) -> DumpArgs {
    DumpArgs {
        out: cli.out,
        format: cli.format,
        database: cli.database,
    }
}

/// `test-downgrade` options.
#[derive(Debug, Args)]
pub struct TestDowngradeCli {
    /// Check every migration (the default).
    #[arg(long, conflicts_with_all = ["last", "from"])]
    pub all: bool,
    /// Check only the last N migrations (the ones before are applied unchecked).
    #[arg(long, value_name = "N", conflicts_with = "from")]
    pub last: Option<usize>,
    /// Check from this version on.
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Check in a throwaway container instead of the project's.
    #[arg(long)]
    pub isolated: bool,
    /// Fail on migrations without a down file (or with one that holds no statement).
    #[arg(long)]
    pub require_down: bool,
    /// Accept a down that re-adds a dropped column at the end (only column order differs).
    #[arg(long)]
    pub ignore_column_order: bool,
    /// How long the throwaway container may take to start (--isolated).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Scratch databases to check on at once, each checking its share of the chain [default:
    /// one per core, at most 4, with at least 20 migrations each; 1 when a migration changes
    /// roles, tablespaces or databases].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// The verification mode (hidden; for the test suite and scripts/check-real-histories.sh):
    /// every file committed on its own, every partial snapshot compared with a whole one, and
    /// every verdict with `pg_dump --schema-only`; a divergence is an error.
    #[arg(long, hide = true, env = "PACKIT_DB_VERIFY", value_parser = clap::builder::BoolishValueParser::new())]
    pub verify: bool,
}

/// The validated arguments of `test-downgrade`.
pub fn test_downgrade_args(cli: TestDowngradeCli) -> TestDowngradeArgs {
    let selection = match (cli.last, cli.from) {
        (Some(n), _) => SelectionArg::Last(n),
        (_, Some(v)) => SelectionArg::From(v),
        _ => SelectionArg::All,
    };
    TestDowngradeArgs {
        selection,
        format: cli.format,
        junit: cli.junit,
        isolated: cli.isolated,
        require_down: cli.require_down,
        ignore_column_order: cli.ignore_column_order,
        timeout: cli.timeout,
        jobs: cli.jobs.map(usize::from),
        verify: cli.verify,
    }
}

/// `migrate` options.
#[derive(Debug, Args)]
pub struct MigrateCli {
    /// What to do (default: apply pending migrations).
    #[command(subcommand)]
    pub action: Option<MigrateSub>,
    /// How long to wait while another run holds the migration lock.
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

/// `migrate` subcommands.
#[derive(Debug, Subcommand)]
pub enum MigrateSub {
    /// Apply pending migrations in order, each in its own transaction.
    #[command(
        after_help = "Examples:\n  cargo packit-db migrate up\n  cargo packit-db migrate up --to 20260101090000"
    )]
    Up {
        /// Stop after this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
    /// Revert applied migrations, newest first (default: one step, like `downgrade -1`).
    #[command(
        after_help = "Examples:\n  cargo packit-db migrate down\n  cargo packit-db migrate down --steps 3\n  cargo packit-db migrate down --to 20260101090000   # keep it, revert everything after\n  cargo packit-db migrate down --to 0                # revert everything"
    )]
    Down {
        /// How many to revert.
        #[arg(long, value_name = "N", conflicts_with = "to")]
        steps: Option<usize>,
        /// Revert every migration newer than this version (0: all).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
    /// Revert the last N migrations and apply them again.
    #[command(after_help = "Example:\n  cargo packit-db migrate redo")]
    Redo {
        /// How many.
        #[arg(long, value_name = "N", default_value_t = 1)]
        steps: usize,
    },
    /// Show every migration: applied, pending, modified, missing locally or failed.
    #[command(
        after_help = "Examples:\n  cargo packit-db migrate status\n  cargo packit-db migrate status --format json"
    )]
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write a new migration from the templates (reversible unless --simple) and print its paths.
    #[command(
        after_help = "Examples:\n  cargo packit-db migrate new add users table\n  cargo packit-db migrate new --simple seed countries"
    )]
    New {
        /// What the migration does (becomes its description).
        #[arg(required = true, num_args = 1.., value_name = "MESSAGE")]
        message: Vec<String>,
        /// Irreversible: one file, no down.
        #[arg(long)]
        simple: bool,
        /// Number it one after the last (sqlx only).
        #[arg(long, conflicts_with = "timestamp")]
        sequential: bool,
        /// Number it with the current UTC time.
        #[arg(long)]
        timestamp: bool,
    },
}

/// `down` options.
#[derive(Debug, Args)]
pub struct DownCli {
    /// Also delete the data volume (asks first; without a terminal, needs --yes).
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusCli {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `psql` options.
#[derive(Debug, Args)]
pub struct PsqlCli {
    /// Arguments passed to psql (after `--`).
    #[arg(last = true, allow_hyphen_values = true, value_name = "PSQL_ARGS")]
    pub args: Vec<String>,
}

/// The validated arguments of `migrate`.
pub fn migrate_args(cli: MigrateCli) -> MigrateArgs {
    let action = match cli.action {
        None => MigrateAction::Up { to: None },
        Some(MigrateSub::Up { to }) => MigrateAction::Up { to },
        Some(MigrateSub::Down { steps, to }) => MigrateAction::Down { steps, to },
        Some(MigrateSub::Redo { steps }) => MigrateAction::Redo { steps },
        Some(MigrateSub::Status { format }) => MigrateAction::Status { format },
        Some(MigrateSub::New {
            message,
            simple,
            sequential,
            timestamp,
        }) => MigrateAction::New {
            message: message.join(" "),
            simple,
            style: match (sequential, timestamp) {
                (true, _) => Some(VersionStyle::Sequential),
                (_, true) => Some(VersionStyle::Timestamp),
                _ => None,
            },
        },
    };
    MigrateArgs {
        action,
        lock_timeout: cli.lock_timeout,
    }
}

/// Parses `90`, `90s`, `2m` or `1h` into a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: use seconds (90), 90s, 2m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(format!(
                "`{s}` is not a duration: use seconds (90), 90s, 2m or 1h"
            ))
        }
    };
    if secs == 0 {
        return Err("the timeout must be at least 1 s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Inserts `packit-db` after the program name when the binary is run directly
/// (`cargo-packit-db up`), so both invocations parse the same.
pub fn normalize_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).map(|a| a != "packit-db").unwrap_or(true) {
        args.insert(1.min(args.len()), "packit-db".into());
    }
    args
}

#[cfg(test)]
mod tests;
