//! Benchmark of applying and reverting migrations: cargo-packit-db (the CLI process as users
//! run it, and the library's `Session` in-process) against sqlx's own `Migrator`, on one
//! generated set of small reversible migrations and one PostgreSQL server, in the same run.
//!
//! Run it through `scripts/bench-migrate.sh`, which starts the database with the tool and sets:
//!
//! - `PACKIT_BENCH_DATABASE_URL`: the database (from `cargo-packit-db packit-db url`);
//! - `PACKIT_BENCH_DIR`: an empty or absent folder; the set is generated there, and it must be
//!   the project's `migrations` folder;
//! - `PACKIT_BENCH_BIN`: the release binary `cargo-packit-db`;
//! - `PACKIT_BENCH_PROJECT`: the project folder (holding `packit-db.toml`) the CLI runs in;
//! - `PACKIT_BENCH_COUNT` (500), `PACKIT_BENCH_ROUNDS` (3), `PACKIT_BENCH_WARMUP` (1),
//!   `PACKIT_BENCH_ENGINE` (a description of the engine, printed);
//! - and `DOCKER_HOST` for the CLI.
//!
//! Without `PACKIT_BENCH_DATABASE_URL` it prints a one-line note and exits 0, so that
//! `cargo bench` and `cargo test --all-targets` pass without a database.
//!
//! Every round applies the set to an empty database with each of the three variants, in an
//! order that rotates per round; each apply is followed by a "no-op" run of the same variant
//! (nothing pending) and then a revert of everything by one variant (also rotating). Before
//! every timed step, untimed: the state is reset (the database dropped and recreated, so that
//! every apply meets the same pristine catalog; dropping the tables instead when the role may
//! not) or verified, then `VACUUM` and `CHECKPOINT`.
//! After every timed step the state is verified (row count, success flags, execution times,
//! checksums and the generated tables), so a broken variant cannot look fast. Times are
//! printed, never asserted: the exit status is non-zero only when a step fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use cargo_packit_db::db::{quote_ident, ConnectionInfo};
use cargo_packit_db::migrations::source::{read_set, LayoutChoice, Version};
use cargo_packit_db::migrations::{DownTarget, Event, Session, SQLX_TRACKING_DDL};
use percent_encoding::percent_decode_str;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// First version of the generated set (versions are `BASE_VERSION + i`, i = 1..=count).
const BASE_VERSION: i64 = 20_250_101_000_000;
/// The lock timeout given to the tool (nothing else should hold the lock).
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Tables dropped per statement when resetting (one lock per relation; stay far below
/// `max_locks_per_transaction * max_connections`).
const DROP_CHUNK: usize = 50;

fn main() -> ExitCode {
    let Ok(url) = std::env::var("PACKIT_BENCH_DATABASE_URL") else {
        println!(
            "bench migrate: PACKIT_BENCH_DATABASE_URL is not set, nothing measured; run scripts/bench-migrate.sh"
        );
        return ExitCode::SUCCESS;
    };
    let config = match Config::from_env(url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench migrate: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The CLI's own runtime, so the library is measured as the CLI runs it.
    let runtime = match cargo_packit_db::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench migrate: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench migrate: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the script passes in.
struct Config {
    url: String,
    info: ConnectionInfo,
    dir: PathBuf,
    bin: PathBuf,
    project: PathBuf,
    count: usize,
    rounds: usize,
    warmup: usize,
    engine: String,
}

impl Config {
    fn from_env(url: String) -> Res<Config> {
        fn var(name: &str) -> Res<String> {
            std::env::var(name).map_err(|_| format!("{name} is not set").into())
        }
        fn number(name: &str, default: usize) -> Res<usize> {
            match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(v) => v
                    .parse()
                    .map_err(|_| format!("{name}={v} is not a non-negative integer").into()),
            }
        }
        let info = connection_info(&url)?;
        let config = Config {
            info,
            url,
            dir: var("PACKIT_BENCH_DIR")?.into(),
            bin: var("PACKIT_BENCH_BIN")?.into(),
            project: var("PACKIT_BENCH_PROJECT")?.into(),
            count: number("PACKIT_BENCH_COUNT", 500)?,
            rounds: number("PACKIT_BENCH_ROUNDS", 3)?,
            warmup: number("PACKIT_BENCH_WARMUP", 1)?,
            engine: std::env::var("PACKIT_BENCH_ENGINE").unwrap_or_else(|_| "unknown".into()),
        };
        if config.count == 0 || config.count > 9999 {
            return Err("PACKIT_BENCH_COUNT must be 1 to 9999".into());
        }
        if config.rounds == 0 {
            return Err("PACKIT_BENCH_ROUNDS must be at least 1".into());
        }
        if !config.bin.is_file() {
            return Err(format!("PACKIT_BENCH_BIN {} is not a file", config.bin.display()).into());
        }
        if !config.project.join("packit-db.toml").is_file() {
            return Err(format!(
                "PACKIT_BENCH_PROJECT {} has no packit-db.toml",
                config.project.display()
            )
            .into());
        }
        Ok(config)
    }
}

/// Port, user, password and database of a `postgres://user:password@127.0.0.1:port/db` URL.
fn connection_info(url: &str) -> Res<ConnectionInfo> {
    let parsed = url::Url::parse(url).map_err(|e| format!("PACKIT_BENCH_DATABASE_URL: {e}"))?;
    let decode = |s: &str| -> Res<String> { Ok(percent_decode_str(s).decode_utf8()?.into_owned()) };
    Ok(ConnectionInfo {
        port: parsed
            .port()
            .ok_or("PACKIT_BENCH_DATABASE_URL has no port")?,
        user: decode(parsed.username())?,
        password: decode(parsed.password().unwrap_or(""))?,
        database: decode(parsed.path().trim_start_matches('/'))?,
    })
}

// --- the migration set -------------------------------------------------------------------

fn table(i: usize) -> String {
    format!("bench_{i:04}")
}

/// Writes `count` reversible sqlx migrations: each creates a table with three columns (a
/// primary key, a text column, a timestamp with a default) and an index; the down drops it.
fn generate(dir: &Path, count: usize) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(format!(
            "PACKIT_BENCH_DIR {} is not empty; the set is generated into an empty folder",
            dir.display()
        )
        .into());
    }
    for i in 1..=count {
        let version = BASE_VERSION + i64::try_from(i)?;
        let t = table(i);
        let stem = format!("{version}_create_{t}");
        let up = format!(
            "-- Generated by benches/migrate.rs: migration {i} of {count}.\n\
             CREATE TABLE {t} (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    \
             created_at timestamptz NOT NULL DEFAULT now()\n);\n\
             CREATE INDEX {t}_name_idx ON {t} (name);\n"
        );
        let down = format!("-- Reverts migration {i} of {count}.\nDROP TABLE {t};\n");
        std::fs::write(dir.join(format!("{stem}.up.sql")), up)?;
        std::fs::write(dir.join(format!("{stem}.down.sql")), down)?;
    }
    Ok(())
}

// --- database state (untimed) ------------------------------------------------------------

async fn control(config: &Config) -> Res<PgConnection> {
    Ok(PgConnection::connect_with(&config.info.options()).await?)
}

/// How the empty state is made before each apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResetMode {
    /// `DROP DATABASE ... WITH (FORCE)` and `CREATE DATABASE`: the same pristine catalog for
    /// every variant (dropped tables would leave the catalog bloated, which changes how much
    /// WAL the next apply writes).
    FreshDatabase,
    /// Drop every table (when the role may not recreate its database).
    DropTables,
}

impl ResetMode {
    fn describe(self) -> &'static str {
        match self {
            ResetMode::FreshDatabase => "database dropped and recreated",
            ResetMode::DropTables => "tables dropped",
        }
    }
}

/// Drops and recreates the database, connected to the `postgres` maintenance database.
async fn recreate_database(config: &Config) -> Res<()> {
    if config.info.database == "postgres" {
        return Err("the database is the maintenance database `postgres`".into());
    }
    let mut conn = PgConnection::connect_with(&config.info.options().database("postgres")).await?;
    let name = quote_ident(&config.info.database);
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// The empty state: a fresh database when allowed (falling back for good, with a note, when
/// not), then [`reset_empty`].
async fn reset(config: &Config, mode: &mut ResetMode) -> Res<()> {
    if *mode == ResetMode::FreshDatabase {
        if let Err(e) = recreate_database(config).await {
            println!("  note: cannot recreate the database ({e}); dropping its tables instead");
            *mode = ResetMode::DropTables;
        }
    }
    reset_empty(config).await
}

/// Empty schema (every table of `public` but the tracking table dropped), and an empty
/// tracking table.
async fn reset_empty(config: &Config) -> Res<()> {
    let mut conn = control(config).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(tablename) FROM pg_tables
         WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations' ORDER BY tablename",
    )
    .fetch_all(&mut conn)
    .await?;
    for chunk in tables.chunks(DROP_CHUNK) {
        sqlx::raw_sql(&format!("DROP TABLE {} CASCADE", chunk.join(", ")))
            .execute(&mut conn)
            .await?;
    }
    sqlx::raw_sql(SQLX_TRACKING_DDL).execute(&mut conn).await?;
    sqlx::raw_sql("TRUNCATE _sqlx_migrations")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// `VACUUM` (catalog bloat from the dropped tables) and `CHECKPOINT` (no checkpoint in the
/// middle of a timed step), so every variant starts alike. Failures (no privilege) are
/// reported once and ignored.
async fn settle(config: &Config, warned: &mut bool) -> Res<()> {
    let mut conn = control(config).await?;
    for sql in ["VACUUM", "CHECKPOINT"] {
        if let Err(e) = sqlx::raw_sql(sql).execute(&mut conn).await {
            if !*warned {
                println!("  note: {sql} failed ({e}); continuing without it");
                *warned = true;
            }
        }
    }
    conn.close().await?;
    Ok(())
}

/// The state: rows of the tracking table and the generated tables that exist.
struct State {
    rows: Vec<(i64, bool, Vec<u8>, i64)>,
    tables: i64,
}

async fn state(config: &Config) -> Res<State> {
    let mut conn = control(config).await?;
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut conn)
        .await?;
    let rows = if exists {
        sqlx::query_as(
            "SELECT version, success, checksum, execution_time FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut conn)
        .await?
    } else {
        Vec::new()
    };
    let tables: i64 = sqlx::query_scalar(
        r"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'bench\_%'",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(State { rows, tables })
}

/// Checks that every migration is applied, exactly as sqlx records it.
async fn verify_applied(config: &Config, expected: &BTreeMap<i64, Vec<u8>>, what: &str) -> Res<()> {
    let s = state(config).await?;
    let mut problems = String::new();
    if s.rows.len() != expected.len() {
        let _ = write!(
            problems,
            " {} tracking rows instead of {};",
            s.rows.len(),
            expected.len()
        );
    }
    if usize::try_from(s.tables)? != expected.len() {
        let _ = write!(
            problems,
            " {} bench tables instead of {};",
            s.tables,
            expected.len()
        );
    }
    let mut bad = 0;
    for (version, success, checksum, execution_time) in &s.rows {
        if !success || *execution_time < 0 || expected.get(version) != Some(checksum) {
            bad += 1;
        }
    }
    if bad > 0 {
        let _ = write!(
            problems,
            " {bad} rows with success = false, no execution time, or a checksum other than sqlx's;"
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("after {what}:{problems}").into())
    }
}

/// Checks that nothing is applied and no generated table is left.
async fn verify_empty(config: &Config, what: &str) -> Res<()> {
    let s = state(config).await?;
    if s.rows.is_empty() && s.tables == 0 {
        Ok(())
    } else {
        Err(format!(
            "after {what}: {} tracking rows and {} bench tables remain (expected 0 and 0)",
            s.rows.len(),
            s.tables
        )
        .into())
    }
}

// --- the variants ------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tool {
    Cli,
    Lib,
    Sqlx,
}

const TOOLS: [Tool; 3] = [Tool::Cli, Tool::Lib, Tool::Sqlx];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Apply,
    Noop,
    Revert,
}

impl Tool {
    fn short(self) -> &'static str {
        match self {
            Tool::Cli => "cli",
            Tool::Lib => "lib",
            Tool::Sqlx => "sqlx",
        }
    }

    fn label(self, step: Step) -> &'static str {
        match (self, step) {
            (Tool::Cli, Step::Apply) => "(a) cargo-packit-db migrate (process)",
            (Tool::Lib, Step::Apply) => "(b) Session::up (library)",
            (Tool::Sqlx, Step::Apply) => "(c) sqlx Migrator::run",
            (Tool::Cli, Step::Noop) => "(a) cargo-packit-db migrate (process)",
            (Tool::Lib, Step::Noop) => "(b) Session::up (library)",
            (Tool::Sqlx, Step::Noop) => "(c) sqlx Migrator::run",
            (Tool::Cli, Step::Revert) => "(a) cargo-packit-db migrate down --to 0",
            (Tool::Lib, Step::Revert) => "(b) Session::down(To(None)) (library)",
            (Tool::Sqlx, Step::Revert) => "(c) sqlx Migrator::undo(&pool, 0)",
        }
    }
}

/// One timed step: the whole (process, or read + connect + run + close) and, in-process,
/// the run alone (`up`/`down` vs `run`/`undo`).
#[derive(Clone, Copy)]
struct Timing {
    total: Duration,
    core: Option<Duration>,
}

async fn timed(config: &Config, tool: Tool, step: Step) -> Res<Timing> {
    match tool {
        Tool::Cli => cli(config, step).await,
        Tool::Lib => library(config, step).await,
        Tool::Sqlx => sqlx_migrator(config, step).await,
    }
}

/// The product as users run it: `cargo-packit-db packit-db migrate [down --to 0]` in the
/// project folder; the wall time of the process.
async fn cli(config: &Config, step: Step) -> Res<Timing> {
    let mut command = tokio::process::Command::new(&config.bin);
    command.arg("packit-db").arg("migrate");
    if step == Step::Revert {
        command.args(["down", "--to", "0"]);
    }
    command
        .current_dir(&config.project)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let output = command.output().await?;
    let total = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "`cargo-packit-db packit-db migrate{}` failed ({}):\n{stderr}{}",
            if step == Step::Revert {
                " down --to 0"
            } else {
                ""
            },
            output.status,
            stdout.lines().rev().take(5).collect::<Vec<_>>().join("\n")
        )
        .into());
    }
    let (prefix, expected) = match step {
        Step::Apply => ("applied ", config.count),
        Step::Noop => ("applied ", 0),
        Step::Revert => ("reverted ", config.count),
    };
    let reported = stdout.lines().filter(|l| l.starts_with(prefix)).count();
    if reported != expected {
        return Err(format!(
            "the CLI reported {reported} lines `{prefix}...` instead of {expected}:\n{stderr}"
        )
        .into());
    }
    Ok(Timing { total, core: None })
}

/// The library in-process: read the folder, open the session (two connections, lock,
/// tracking table), `up(None)` or `down(To(None))`, close.
async fn library(config: &Config, step: Step) -> Res<Timing> {
    let mut quiet = |_: Event<'_>| {};
    let started = Instant::now();
    let set = read_set(&config.dir, LayoutChoice::Auto)?;
    let mut session = Session::open(&config.info, &set, LOCK_TIMEOUT, &mut quiet).await?;
    let core_started = Instant::now();
    let result = match step {
        Step::Apply | Step::Noop => session.up(None, &mut quiet).await,
        Step::Revert => session.down(&DownTarget::To(None), &mut quiet).await,
    };
    let core = core_started.elapsed();
    session.close().await;
    let done = result?;
    let total = started.elapsed();
    let expected = if step == Step::Noop { 0 } else { config.count };
    if done.len() != expected {
        return Err(format!(
            "the library {} {} migrations instead of {expected}",
            if step == Step::Revert {
                "reverted"
            } else {
                "applied"
            },
            done.len()
        )
        .into());
    }
    Ok(Timing {
        total,
        core: Some(core),
    })
}

/// sqlx itself: `Migrator::new(dir)`, a one-connection pool, `run` or `undo(&pool, 0)`, close.
async fn sqlx_migrator(config: &Config, step: Step) -> Res<Timing> {
    let started = Instant::now();
    let migrator = Migrator::new(config.dir.as_path()).await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&config.url)
        .await?;
    let core_started = Instant::now();
    let result = match step {
        Step::Apply | Step::Noop => migrator.run(&pool).await,
        Step::Revert => migrator.undo(&pool, 0).await,
    };
    let core = core_started.elapsed();
    pool.close().await;
    result?;
    Ok(Timing {
        total: started.elapsed(),
        core: Some(core),
    })
}

// --- the run -----------------------------------------------------------------------------

fn rotate(round: usize, offset: usize) -> Vec<Tool> {
    (0..TOOLS.len())
        .map(|k| TOOLS[(round + offset + k) % TOOLS.len()])
        .collect()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

async fn server_version(config: &Config) -> Res<String> {
    let mut conn = control(config).await?;
    let v: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(v)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

async fn run(config: &Config) -> Res<()> {
    generate(&config.dir, config.count)?;
    // The expected tracking rows: what sqlx itself computes for the folder.
    let reference = Migrator::new(config.dir.as_path()).await?;
    let expected: BTreeMap<i64, Vec<u8>> = reference
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect();
    let ours = read_set(&config.dir, LayoutChoice::Auto)?;
    if ours.migrations.len() != config.count || expected.len() != config.count {
        return Err(format!(
            "generated {} migrations, but the tool reads {} and sqlx {}",
            config.count,
            ours.migrations.len(),
            expected.len()
        )
        .into());
    }
    if ours.migrations.iter().any(|m| match m.version {
        Version::Sqlx(v) => expected.get(&v) != Some(&m.checksum),
        Version::Diesel(_) => true,
    }) {
        return Err("the tool's checksums differ from sqlx's".into());
    }

    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: nproc {nproc}, CPU {}, engine {}",
        cpu_model(),
        config.engine
    );
    println!("server:  {}", server_version(config).await?);
    // The first reset decides how resets are made (and prints a note when it falls back).
    let mut mode = ResetMode::FreshDatabase;
    reset(config, &mut mode).await?;
    println!(
        "set:     {} reversible sqlx migrations (each: CREATE TABLE with 3 columns + CREATE INDEX; down: DROP TABLE) in {}",
        config.count,
        config.dir.display()
    );
    println!(
        "rounds:  {} measured + {} warm-up (discarded); variant order rotates per round; before each timed step (untimed): reset ({}, empty _sqlx_migrations created) or verified state, VACUUM, CHECKPOINT; after it: state verified",
        config.rounds,
        config.warmup,
        mode.describe()
    );
    println!();

    let mut warned = false;
    let mut samples: BTreeMap<(Step, Tool), Vec<Timing>> = BTreeMap::new();
    let total_rounds = config.warmup + config.rounds;
    for round in 0..total_rounds {
        let measured = round >= config.warmup;
        let applies = rotate(round, 0);
        let reverts = rotate(round, 1);
        println!(
            "{} {}: apply order {}, revert order {}",
            if measured { "round" } else { "warm-up" },
            if measured {
                round - config.warmup + 1
            } else {
                round + 1
            },
            applies
                .iter()
                .map(|t| t.short())
                .collect::<Vec<_>>()
                .join(" "),
            reverts
                .iter()
                .map(|t| t.short())
                .collect::<Vec<_>>()
                .join(" "),
        );
        for (apply_tool, revert_tool) in applies.into_iter().zip(reverts) {
            let mut line = String::new();
            // Apply everything to an empty database.
            reset(config, &mut mode).await?;
            verify_empty(config, "the reset").await?;
            settle(config, &mut warned).await?;
            let t = timed(config, apply_tool, Step::Apply).await?;
            verify_applied(
                config,
                &expected,
                &format!("apply ({})", apply_tool.short()),
            )
            .await?;
            let _ = write!(
                line,
                "  apply {:<4} {:7.3} s",
                apply_tool.short(),
                secs(t.total)
            );
            if measured {
                samples
                    .entry((Step::Apply, apply_tool))
                    .or_default()
                    .push(t);
            }
            // Nothing pending: the fixed cost of a run.
            let t = timed(config, apply_tool, Step::Noop).await?;
            verify_applied(
                config,
                &expected,
                &format!("no-op ({})", apply_tool.short()),
            )
            .await?;
            let _ = write!(
                line,
                " | no-op {:<4} {:6.3} s",
                apply_tool.short(),
                secs(t.total)
            );
            if measured {
                samples.entry((Step::Noop, apply_tool)).or_default().push(t);
            }
            // Revert everything.
            settle(config, &mut warned).await?;
            let t = timed(config, revert_tool, Step::Revert).await?;
            verify_empty(config, &format!("revert ({})", revert_tool.short())).await?;
            let _ = write!(
                line,
                " | revert {:<4} {:7.3} s",
                revert_tool.short(),
                secs(t.total)
            );
            if measured {
                samples
                    .entry((Step::Revert, revert_tool))
                    .or_default()
                    .push(t);
            }
            println!("{line}  (state verified)");
        }
    }

    report(config, &samples);
    fixed_costs(config).await?;
    Ok(())
}

/// Untimed diagnostics of the fixed cost of a run (no state involved): one connection
/// (connect + close, as each of our runs does twice and sqlx once), and one CLI process
/// that resolves the configuration and inspects the container but opens no connection
/// (`url`).
async fn fixed_costs(config: &Config) -> Res<()> {
    const N: usize = 10;
    let mut connects = Vec::with_capacity(N);
    let mut urls = Vec::with_capacity(N);
    for _ in 0..N {
        let started = Instant::now();
        let conn = PgConnection::connect_with(&config.info.options()).await?;
        conn.close().await?;
        connects.push(secs(started.elapsed()) * 1000.0);
        let started = Instant::now();
        let output = tokio::process::Command::new(&config.bin)
            .args(["packit-db", "url"])
            .current_dir(&config.project)
            .stdin(Stdio::null())
            .output()
            .await?;
        urls.push(secs(started.elapsed()) * 1000.0);
        if !output.status.success() {
            return Err(format!(
                "`cargo-packit-db packit-db url` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
    }
    println!(
        "fixed costs (median of {N}): one PostgreSQL connection (connect + close) {:.1} ms; one CLI process without a connection (`url`: start, configuration, engine ping, container inspect) {:.1} ms",
        median(&connects),
        median(&urls)
    );
    Ok(())
}

fn report(config: &Config, samples: &BTreeMap<(Step, Tool), Vec<Timing>>) {
    let totals = |step, tool| -> Vec<f64> {
        samples
            .get(&(step, tool))
            .map(|v| v.iter().map(|t| secs(t.total)).collect())
            .unwrap_or_default()
    };
    let cores = |step, tool| -> Vec<f64> {
        samples
            .get(&(step, tool))
            .map(|v| v.iter().filter_map(|t| t.core.map(secs)).collect())
            .unwrap_or_default()
    };
    let fmt_list = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!();
    println!(
        "results: median of {} rounds, seconds (total = whole process / read folder + connect + run + close; core = up/down vs run/undo only)",
        config.rounds
    );
    for (step, title) in [
        (
            Step::Apply,
            format!("apply all {} to an empty database", config.count),
        ),
        (Step::Revert, format!("revert all {}", config.count)),
        (
            Step::Noop,
            "no-op run (all applied, nothing pending)".to_string(),
        ),
    ] {
        println!("  {title}");
        let reference = median(&totals(step, Tool::Sqlx));
        let reference_core = median(&cores(step, Tool::Sqlx));
        for tool in TOOLS {
            let t = totals(step, tool);
            let c = cores(step, tool);
            let m = median(&t);
            let core = if c.is_empty() {
                "       -".to_string()
            } else {
                format!("{:8.3}", median(&c))
            };
            let ratio = if tool == Tool::Sqlx {
                "      ".to_string()
            } else {
                format!("{:5.2}x", m / reference)
            };
            let core_ratio = if tool == Tool::Sqlx || c.is_empty() {
                "      ".to_string()
            } else {
                format!("{:5.2}x", median(&c) / reference_core)
            };
            println!(
                "    {:<42} total {m:7.3}  {ratio}   core {core} {core_ratio}   [{}]",
                tool.label(step),
                fmt_list(&t)
            );
        }
    }
    println!();
    for (step, name) in [(Step::Apply, "apply"), (Step::Revert, "revert")] {
        let reference = median(&totals(step, Tool::Sqlx));
        let sqlx_rounds = totals(step, Tool::Sqlx);
        for tool in [Tool::Cli, Tool::Lib] {
            let ours = totals(step, tool);
            let ratio = median(&ours) / reference;
            // Each round ran the three variants back to back: the per-round ratios cancel
            // slow changes of the machine's load.
            let paired: Vec<f64> = ours.iter().zip(&sqlx_rounds).map(|(o, r)| o / r).collect();
            println!(
                "ratio {name:<6} ({}) / (c) = {ratio:.2}  (target <= 1.2: {}); per round {} (median {:.2})",
                if tool == Tool::Cli { "a" } else { "b" },
                if ratio <= 1.2 { "met" } else { "NOT met" },
                paired
                    .iter()
                    .map(|x| format!("{x:.2}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                median(&paired)
            );
        }
    }
}
