//! `load-dump`: a pg_dump dump into the local container, atomically, as the owning role.
//!
//! The dump is loaded into a new staging database (plain scripts streamed into psql with
//! ON_ERROR_STOP, archives copied into the container and restored with pg_restore
//! --exit-on-error, in parallel where the format allows); only when that succeeded is the
//! staging database renamed into place, the previous one kept under a dated name (or dropped
//! with `--replace`). A failure, Ctrl-C or a killed process leaves the target as it was; the
//! next run removes what a killed one left.

mod archive;
mod plain;
mod roles;
mod tail;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::commands::{connect, running_container};
use crate::config::{Config, EnvStyle};
use crate::db::admin::{Admin, DirectSql};
use crate::db::temporary::{drop_database, Temporaries};
use crate::db::{quote_ident, quote_literal};
use crate::dump::feed::FeedReport;
use crate::dump::header::{suggest_image, PgVersion};
use crate::dump::source::{open, DumpBody, DumpInput, OpenedDump};
use crate::dump::staging::{self, previous_name, swap, Staging};
use crate::dump::DumpError;
use crate::engine::Engine;
use crate::error::Error;
use crate::interrupt::{Interrupt, Interrupted};
use crate::ui;
use archive::load_archive;
use plain::load_plain;
use roles::{prescan, RolePlan};

/// What to do about roles a dump names that do not exist in the container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MissingRoles {
    /// Stop before loading, naming them.
    #[default]
    Fail,
    /// Create them (NOLOGIN, members granted to the owner).
    Create,
    /// Restore no ownership (everything owned by the loading role, like pg_restore --no-owner)
    /// and leave out grants to missing roles.
    IgnoreOwner,
}

/// Arguments of `load-dump`.
#[derive(Clone, Debug)]
pub struct LoadDumpArgs {
    /// The dump.
    pub input: DumpInput,
    /// The target database (default: the application database).
    pub database: Option<String>,
    /// The role that owns and loads it (default: the application role).
    pub owner: Option<String>,
    /// pg_restore jobs (custom and directory formats).
    pub jobs: Option<usize>,
    /// Missing roles.
    pub missing_roles: MissingRoles,
    /// Drop the previous database instead of keeping it.
    pub replace: bool,
    /// Do not ask.
    pub yes: bool,
}

/// Runs `load-dump`.
pub async fn load_dump(config: &Config, args: &LoadDumpArgs) -> Result<(), Error> {
    // The file is checked before anything else: a typo needs no engine.
    let dump = open(&args.input).await?;
    let engine = connect(config).await?;
    let result = run(&engine, config, args, dump).await;
    engine.close().await;
    result
}

/// What the load did, for the summary.
struct Loaded {
    created_roles: Vec<String>,
    dropped_lines: usize,
}

async fn run(
    engine: &Engine,
    config: &Config,
    args: &LoadDumpArgs,
    mut dump: OpenedDump,
) -> Result<(), Error> {
    let started = Instant::now();
    let (container, info) = running_container(engine, config).await?;
    let target = args
        .database
        .clone()
        .unwrap_or_else(|| info.database.clone());
    let owner = args.owner.clone().unwrap_or_else(|| info.user.clone());
    let maintenance_db = if target == "postgres" {
        "template1"
    } else {
        "postgres"
    };
    let style = container.observed.env_style();
    let direct = match style {
        EnvStyle::Official => DirectSql::connect(&info, maintenance_db).await,
        EnvStyle::Sclorg => None,
    };
    let admin = Admin {
        engine,
        container: &config.container,
        style,
        app_user: &info.user,
        maintenance_db,
        direct: direct.as_ref(),
    };

    let probe = Probe::read(&admin, &target, &owner).await?;
    check_versions(&dump, &probe.server, &config.image)?;
    let confirmed = probe.target_exists && (args.replace || probe.sessions > 0);
    if confirmed {
        confirm_replacement(&target, probe.sessions, args)?;
    }
    // Listening starts after the question: Ctrl-C at the prompt ends the process there and
    // then, as before, with nothing created yet. From here on SIGINT and SIGTERM drop the
    // staging database (a signal during its creation stops the load before it starts).
    let interrupt = Interrupt::listen()?;
    let (temporaries, swept) = staging::prepare(&admin).await?;
    for name in swept {
        ui::note(&format!(
            "dropping staging database `{name}` left by an interrupted load"
        ));
    }
    let mut known = probe.roles;
    if !probe.owner_exists {
        create_owner(&admin, &owner, &info.password).await?;
        known.insert(owner.clone());
    }
    let prescan_known = known.clone();
    let plain_file = matches!(
        (&dump.body, &args.input),
        (DumpBody::Plain(_), DumpInput::Path(_))
    );
    let read_ahead_needed = args.missing_roles == MissingRoles::Fail && plain_file;
    let mut roles = RolePlan {
        admin,
        known,
        mode: args.missing_roles,
        owner: owner.clone(),
        path: dump.display.clone(),
        created: Vec::new(),
        dropped: 0,
        failure: None,
        read_ahead: read_ahead_needed,
    };
    let staging = Staging::create(&admin, &temporaries, &owner).await?;
    let upload_dir = staging.upload_dir();
    // With --missing-roles fail, a file is read ahead for every role it names, beside the
    // load: missing ones stop it within moments, not after the data (grants come last).
    let format = dump.format;
    let display = dump.display.clone();
    let read_ahead = async {
        if read_ahead_needed {
            if let DumpBody::Plain(reader) = open(&args.input).await?.body {
                prescan(reader, &prescan_known, &display, &owner, format).await?;
            }
        }
        Ok::<(), Error>(())
    };
    let load = load(&admin, &mut dump, &staging, &upload_dir, &mut roles, args);
    let outcome = tokio::select! {
        biased;
        signal = interrupt.signalled() => Err(Interrupted { signal }.into()),
        outcome = load => outcome,
        Err(e) = read_ahead => Err(e),
    };
    if format.is_archive() {
        admin
            .root(&["rm", "-rf", &format!("/tmp/{upload_dir}")])
            .await;
    }
    let outcome = outcome
        .and_then(|report| complete(&dump, &target, report))
        .map_err(|e| for_target(e, &target));
    // On every path the staging database is dropped or swapped in before the lease ends.
    if let Err(e) = outcome {
        drop_staging(&admin, &temporaries, &staging).await;
        return Err(e);
    }
    let previous = match swap_in(&admin, &staging, &target, &dump, args, confirmed).await {
        Ok(previous) => previous,
        Err(e) => {
            drop_staging(&admin, &temporaries, &staging).await;
            return Err(e);
        }
    };
    temporaries.close().await;
    let summarised = summary(
        &admin,
        &dump,
        &target,
        &owner,
        previous.as_deref(),
        started.elapsed(),
        Loaded {
            created_roles: roles.created,
            dropped_lines: roles.dropped,
        },
    )
    .await;
    // (Error paths above simply drop it; the server notices the closed socket.)
    if let Some(direct) = direct {
        direct.close().await;
    }
    summarised
}

/// Creates the owner role, LOGIN with the project's password.
async fn create_owner(admin: &Admin<'_>, owner: &str, password: &str) -> Result<(), DumpError> {
    admin
        .sql(
            &format!("create role `{owner}`"),
            vec![format!(
                "CREATE ROLE {} LOGIN PASSWORD {}",
                quote_ident(owner),
                quote_literal(password)
            )],
        )
        .await?;
    ui::note(&format!(
        "created role `{owner}` (LOGIN, the project's password)"
    ));
    Ok(())
}

/// Drops the staging database after a failure; if even that fails, the next run will.
async fn drop_staging(admin: &Admin<'_>, temporaries: &Temporaries, staging: &Staging) {
    if let Err(e) = staging.remove(admin, temporaries).await {
        ui::warn(&format!("{e}; the next load-dump removes it"));
    }
}

/// Facts read from the server before anything changes.
pub(super) struct Probe {
    server: PgVersion,
    target_exists: bool,
    sessions: u64,
    owner_exists: bool,
    roles: BTreeSet<String>,
}

impl Probe {
    async fn read(admin: &Admin<'_>, target: &str, owner: &str) -> Result<Probe, DumpError> {
        let rows = admin
            .sql(
                "read the server's version and roles",
                vec![
                    format!(
                        "SELECT current_setting('server_version_num') || '|' || current_setting('server_version')
                           || '|' || (SELECT count(*) FROM pg_database WHERE datname = {t})
                           || '|' || (SELECT count(*) FROM pg_stat_activity WHERE datname = {t} AND pid <> pg_backend_pid())
                           || '|' || (SELECT count(*) FROM pg_roles WHERE rolname = {o})",
                        t = quote_literal(target),
                        o = quote_literal(owner)
                    ),
                    "SELECT rolname::text FROM pg_roles".into(),
                ],
            )
            .await?;
        let first = rows.first().cloned().unwrap_or_default();
        let fields: Vec<&str> = first.split('|').collect();
        let bad = || DumpError::Admin {
            action: "read the server's version".into(),
            detail: format!("unexpected answer `{first}`"),
        };
        if fields.len() != 5 {
            return Err(bad());
        }
        let num: u32 = fields[0].parse().map_err(|_| bad())?;
        Ok(Probe {
            server: PgVersion::from_num(num, fields[1]),
            target_exists: fields[2] != "0",
            sessions: fields[3].parse().unwrap_or(0),
            owner_exists: fields[4] != "0",
            roles: rows[1..].iter().cloned().collect(),
        })
    }
}

/// Refuses a dump made by a newer pg_dump (or taken from a newer server) than the container's.
fn check_versions(dump: &OpenedDump, server: &PgVersion, image: &str) -> Result<(), DumpError> {
    let Some(newest) = dump.origin.newest() else {
        return Ok(());
    };
    if newest.major_num() <= server.major_num() {
        return Ok(());
    }
    let made_by = match (&dump.origin.pg_dump, &dump.origin.server) {
        (Some(p), Some(s)) => format!("pg_dump {p} from PostgreSQL {s}"),
        (Some(p), None) => format!("pg_dump {p}"),
        (None, Some(s)) => format!("a dump of PostgreSQL {s}"),
        (None, None) => unreachable!("newest() found a version"),
    };
    Err(DumpError::TooNew {
        path: dump.display.clone(),
        made_by,
        server: server.to_string(),
        image: suggest_image(image, &newest.major()),
    })
}

pub(super) fn confirm_replacement(
    target: &str,
    sessions: u64,
    args: &LoadDumpArgs,
) -> Result<(), Error> {
    let mut steps = Vec::new();
    if sessions > 0 {
        steps.push(format!("end {sessions} open session(s) on `{target}`"));
    }
    if args.replace {
        steps.push(format!("drop the current `{target}`"));
    }
    let steps = steps.join(" and ");
    ui::confirm(
        &format!("Loading the dump will {steps}. Go on?"),
        &format!("replacing database `{target}` (which will {steps})"),
        args.yes,
    )?;
    Ok(())
}

/// What a load returned before its completeness is judged.
enum LoadReport {
    Plain(FeedReport),
    Archive,
}

async fn load(
    admin: &Admin<'_>,
    dump: &mut OpenedDump,
    staging: &Staging,
    upload_dir: &str,
    roles: &mut RolePlan<'_>,
    args: &LoadDumpArgs,
) -> Result<LoadReport, Error> {
    let body = std::mem::replace(
        &mut dump.body,
        DumpBody::Plain(Box::new(tokio::io::empty())),
    );
    match body {
        DumpBody::Plain(reader) => load_plain(admin, dump, staging, reader, roles)
            .await
            .map(LoadReport::Plain),
        DumpBody::Archive {
            files,
            total,
            spool,
        } => {
            let result =
                load_archive(admin, dump, staging, upload_dir, files, total, roles, args).await;
            drop(spool);
            result.map(|()| LoadReport::Archive)
        }
    }
}

/// Names the target in a load failure (the load itself only knows the staging database).
fn for_target(error: Error, target: &str) -> Error {
    match error {
        Error::Dump(DumpError::LoadFailed { path, detail, .. }) => DumpError::LoadFailed {
            path,
            database: target.to_string(),
            detail,
        }
        .into(),
        Error::Dump(DumpError::Truncated { path, .. }) => DumpError::Truncated {
            path,
            database: target.to_string(),
        }
        .into(),
        other => other,
    }
}

/// Judges a load that ran without error: a pg_dump script must have reached its last line.
fn complete(dump: &OpenedDump, target: &str, report: LoadReport) -> Result<(), Error> {
    if let LoadReport::Plain(feed) = report {
        if dump.pg_dump_script && !feed.footer_seen {
            return Err(DumpError::Truncated {
                path: dump.display.clone(),
                database: target.to_string(),
            }
            .into());
        }
    }
    Ok(())
}

/// Swaps the staging database in; returns the name the previous one is kept under.
async fn swap_in(
    admin: &Admin<'_>,
    staging: &Staging,
    target: &str,
    dump: &OpenedDump,
    args: &LoadDumpArgs,
    confirmed: bool,
) -> Result<Option<String>, Error> {
    let probe = Probe::read(admin, target, admin.app_user).await?;
    if !probe.target_exists {
        swap(admin, staging, target, None, probe.server.num).await?;
        return Ok(None);
    }
    if probe.sessions > 0 && !confirmed {
        // Sessions opened during the load: ask now (nothing was asked before it).
        confirm_replacement(target, probe.sessions, args)?;
    }
    let now = chrono::Local::now();
    let previous = unused_name(admin, &previous_name(target, now)).await?;
    let comment = format!(
        "cargo-packit-db: `{target}` as it was before load-dump of {} at {}",
        dump.display,
        now.format("%Y-%m-%d %H:%M:%S")
    );
    swap(
        admin,
        staging,
        target,
        Some((&previous, &comment)),
        probe.server.num,
    )
    .await?;
    if args.replace {
        admin
            .sql(
                &format!("drop the previous database `{previous}`"),
                vec![drop_database(&previous)],
            )
            .await
            .map_err(DumpError::from)?;
        return Ok(None);
    }
    Ok(Some(previous))
}

/// `name`, or `name_2`, `name_3`, ... when a database of that name exists (two loads within
/// one second).
async fn unused_name(admin: &Admin<'_>, name: &str) -> Result<String, DumpError> {
    let taken: BTreeSet<String> = admin
        .sql(
            "list databases",
            vec![format!(
                "SELECT datname::text FROM pg_database WHERE starts_with(datname, {})",
                quote_literal(name)
            )],
        )
        .await?
        .into_iter()
        .collect();
    let mut candidate = name.to_string();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    Ok(candidate)
}

async fn summary(
    admin: &Admin<'_>,
    dump: &OpenedDump,
    target: &str,
    owner: &str,
    previous: Option<&str>,
    took: Duration,
    loaded: Loaded,
) -> Result<(), Error> {
    let rows = admin
        .sql_on(
            target,
            "summarise the loaded database",
            vec!["SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                       AND n.nspname NOT LIKE 'pg_toast%')
               || '|' || (SELECT coalesce(sum(greatest(s.n_live_tup, c.reltuples::bigint)), 0)
                          FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid)
               || '|' || pg_size_pretty(pg_database_size(current_database()))"
                .into()],
        )
        .await
        .map_err(DumpError::from)?;
    let fields: Vec<String> = rows
        .first()
        .map(|r| r.split('|').map(str::to_string).collect())
        .unwrap_or_default();
    let field = |i: usize| fields.get(i).cloned().unwrap_or_else(|| "?".into());
    let version = dump
        .origin
        .pg_dump
        .as_ref()
        .map(|v| format!(", pg_dump {v}"))
        .unwrap_or_default();
    println!(
        "loaded {} ({}{version}) into `{target}` as `{owner}` in {:.1} s: {} tables, ~{} rows, {}",
        dump.display,
        dump.format,
        took.as_secs_f64(),
        field(0),
        field(1),
        field(2)
    );
    if !loaded.created_roles.is_empty() {
        println!(
            "created roles (NOLOGIN): {}",
            loaded.created_roles.join(", ")
        );
    }
    if loaded.dropped_lines > 0 {
        println!(
            "left out {} ownership/grant statement(s) naming missing roles (--missing-roles ignore-owner)",
            loaded.dropped_lines
        );
    }
    if let Some(previous) = previous {
        println!(
            "previous database kept as `{previous}` (drop it with: cargo packit-db psql -- -c 'DROP DATABASE {}')",
            quote_ident(previous)
        );
    }
    Ok(())
}
