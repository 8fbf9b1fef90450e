//! `migrate`: apply, revert, redo, show and create migrations.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use crate::commands::{connect, running_container};
use crate::config::Config;
use crate::db::snapshot::{self, schema_diff};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::migrations::roundtrip::{CheckOptions, CheckReport, Selection};
use crate::migrations::scratch_check::{check_on_scratch, ScratchPlace};
use crate::migrations::source::{
    has_statement, plan_new, read_set, MigrationSet, Version, VersionStyle,
};
use crate::migrations::templates::{TemplateKind, TemplateVars, Templates};
use crate::migrations::{
    apply_pending, read_status, DownTarget, MigrateError, Session, State, Status,
};
use crate::ui::{self, CheckDisplay, Format};

/// What `migrate` does.
#[derive(Clone, Debug)]
pub enum MigrateAction {
    /// Apply pending migrations, up to a version.
    Up {
        /// Stop after this version.
        to: Option<String>,
    },
    /// Revert applied migrations.
    Down {
        /// How far.
        steps: Option<usize>,
        /// Down to (not including) this version.
        to: Option<String>,
    },
    /// Revert and re-apply the last N.
    Redo {
        /// How many.
        steps: usize,
    },
    /// Show the state of every migration.
    Status {
        /// Output format.
        format: Format,
    },
    /// Write a new migration from the templates.
    New {
        /// What the migration does.
        message: String,
        /// Irreversible: one file, no down.
        simple: bool,
        /// Version style, when forced.
        style: Option<VersionStyle>,
    },
}

/// Arguments of `migrate`.
#[derive(Clone, Debug)]
pub struct MigrateArgs {
    /// The action.
    pub action: MigrateAction,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
}

/// Runs `migrate`; `Ok` carries the exit code (a failed verification of `migrate new` is
/// "check failed").
pub async fn migrate(config: &Config, args: &MigrateArgs) -> Result<i32, Error> {
    if let MigrateAction::New {
        message,
        simple,
        style,
    } = &args.action
    {
        let version = new_migration(config, message, *simple, *style)?;
        return verify_new(config, &version).await;
    }
    run(config, args).await?;
    Ok(crate::error::exit_codes::OK)
}

/// Verifies a new migration's round trip at once when it already holds statements (a
/// project template may write some); an empty one is "not yet verifiable", never "passed".
async fn verify_new(config: &Config, version: &Version) -> Result<i32, Error> {
    let set = read_set(&config.migrations, config.layout).map_err(MigrateError::from)?;
    let Some(migration) = set.find(version) else {
        return Ok(crate::error::exit_codes::OK);
    };
    if !has_statement(&migration.up.sql) {
        ui::note(&format!(
            "not yet verifiable: {} holds no statement yet; once it does, `cargo packit-db test-downgrade --last 1` checks its round trip",
            migration.up.path.display()
        ));
        return Ok(crate::error::exit_codes::OK);
    }
    // As `test-downgrade` does when it reads the folder.
    warn_about(&set);
    match check_last(config, &set).await {
        Err(Error::Container(_) | Error::Engine(_)) => {
            ui::note("not verified: no running database; run `cargo packit-db up`, then `cargo packit-db test-downgrade --last 1`");
            Ok(crate::error::exit_codes::OK)
        }
        Err(e) => Err(e),
        Ok(report) => {
            ui::print_summary(&report);
            Ok(if report.success() {
                crate::error::exit_codes::OK
            } else {
                crate::error::exit_codes::CHECK_FAILED
            })
        }
    }
}

/// Checks the round trip of the last migration on a scratch database in the project's running
/// container, shown as `test-downgrade --last 1` shows it.
async fn check_last(config: &Config, set: &MigrationSet) -> Result<CheckReport, Error> {
    let interrupt = Interrupt::listen()?;
    let engine = interrupt.guard(connect(config)).await?;
    let result = async {
        let (container, app) = interrupt.guard(running_container(&engine, config)).await?;
        let mut display = CheckDisplay::new(true, set, &config.container);
        let place = ScratchPlace {
            engine: &engine,
            container: &config.container,
            style: container.observed.env_style(),
            app: &app,
        };
        check_on_scratch(
            &place,
            set,
            &Selection::Last(1),
            &CheckOptions::default(),
            Some(1),
            &interrupt,
            &mut |event| display.show(event),
        )
        .await
    }
    .await;
    engine.close().await;
    result
}

async fn run(config: &Config, args: &MigrateArgs) -> Result<(), Error> {
    let set = read_set(&config.migrations, config.layout).map_err(MigrateError::from)?;
    warn_about(&set);
    let engine = connect(config).await?;
    let target = running_container(&engine, config).await;
    engine.close().await;
    let (_, info) = target?;
    match &args.action {
        MigrateAction::Status { format } => {
            let status = read_status(&info, &set).await?;
            match format {
                Format::Json => ui::print_json(&status),
                Format::Human => print_status(&set, &status),
            }
            Ok(())
        }
        MigrateAction::Up { to } => {
            let to = to.as_deref().map(|v| parse_version(&set, v)).transpose()?;
            let applied = apply_pending(
                &info,
                &set,
                to.as_ref(),
                args.lock_timeout,
                &mut ui::print_event,
            )
            .await?;
            ui::print_applied(&applied);
            Ok(())
        }
        MigrateAction::Down { steps, to } => {
            let target = match (steps, to) {
                (_, Some(v)) if v == "0" => DownTarget::To(None),
                (_, Some(v)) => DownTarget::To(Some(parse_version(&set, v)?)),
                (Some(n), None) => DownTarget::Steps(*n),
                (None, None) => DownTarget::Steps(1),
            };
            let mut session =
                Session::open(&info, &set, args.lock_timeout, &mut ui::print_event).await?;
            let result = session.down(&target, &mut ui::print_event).await;
            session.close().await;
            let done = result?;
            if done.is_empty() {
                ui::note("nothing to revert");
            }
            Ok(())
        }
        MigrateAction::Redo { steps } => {
            let mut session =
                Session::open(&info, &set, args.lock_timeout, &mut ui::print_event).await?;
            // The schema after down and up must be the one before: redo verifies that.
            let result = async {
                let before = take_snapshot(session.connection()).await?;
                let reverted = session
                    .down(&DownTarget::Steps(*steps), &mut ui::print_event)
                    .await?;
                let last = reverted.first().cloned();
                session.up(last.as_ref(), &mut ui::print_event).await?;
                let after = take_snapshot(session.connection()).await?;
                Ok::<_, MigrateError>((reverted, schema_diff(&before, &after)))
            }
            .await;
            session.close().await;
            let (reverted, difference) = result?;
            if reverted.is_empty() {
                ui::note("nothing to redo: no migration is applied");
            } else if !difference.is_empty() {
                let names: Vec<String> = reverted.iter().map(ToString::to_string).collect();
                return Err(MigrateError::RoundTripFailed {
                    context: format!("redo of {}", names.join(", ")),
                    changes: difference.changes.iter().map(ToString::to_string).collect(),
                }
                .into());
            } else {
                ui::success("redo left the schema identical");
            }
            Ok(())
        }
        MigrateAction::New { .. } => unreachable!("handled above"),
    }
}

async fn take_snapshot(conn: &mut sqlx::PgConnection) -> Result<snapshot::Snapshot, MigrateError> {
    snapshot::take(conn)
        .await
        .map_err(|source| MigrateError::Database {
            action: "take a schema snapshot".into(),
            source,
        })
}

fn warn_about(set: &MigrationSet) {
    for warning in &set.warnings {
        ui::warn(warning);
    }
}

fn parse_version(set: &MigrationSet, text: &str) -> Result<Version, MigrateError> {
    Version::parse(set.layout, text).ok_or_else(|| MigrateError::UnknownVersion(text.to_string()))
}

/// Prints the status table and the diagnosis.
pub(crate) fn print_status(set: &MigrationSet, status: &Status) {
    println!(
        "{} migrations in {}, tracked in {}",
        set.layout,
        set.dir.display(),
        status.table
    );
    for e in &status.entries {
        let state = match e.state {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "MODIFIED",
            State::MissingLocally => "MISSING",
            State::Failed => "FAILED",
        };
        let mut line = format!(
            "  {state:<9} {:<22} {}",
            e.version.to_string(),
            e.description
        );
        if let Some((recorded, file)) = &e.checksums {
            line.push_str(&format!(
                "  (checksum applied {}…, file {}…)",
                &recorded[..12],
                &file[..12]
            ));
        }
        if !e.reversible && e.state != State::MissingLocally {
            line.push_str("  [irreversible]");
        }
        println!("{line}");
    }
    println!("\n{}", status.diagnosis);
}

/// Writes a new migration from the templates and prints the paths.
/// Writes the files; returns the new migration's version.
fn new_migration(
    config: &Config,
    message: &str,
    simple: bool,
    style: Option<VersionStyle>,
) -> Result<Version, Error> {
    let set = if config.migrations.exists() {
        read_set(&config.migrations, config.layout).map_err(MigrateError::from)?
    } else {
        MigrationSet::empty(&config.migrations, config.layout)
    };
    warn_about(&set);
    let templates = Templates::load(config.templates.as_deref()).map_err(MigrateError::from)?;
    let now = Utc::now();
    let plan = plan_new(&set, message, !simple, style, now).map_err(MigrateError::from)?;
    let created = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let version = plan.version.to_string();
    let up_file = relative(&set.dir, &plan.up_path);
    let down_file = plan.down_path.as_ref().map(|p| relative(&set.dir, p));
    let vars = TemplateVars {
        message,
        version: &version,
        created: &created,
        up_file: &up_file,
        down_file: down_file.as_deref(),
    };
    let up_kind = if plan.down_path.is_some() {
        TemplateKind::Up
    } else {
        TemplateKind::Simple
    };
    let up_text = templates
        .render(up_kind, &vars)
        .map_err(MigrateError::from)?;
    let down_text = match &plan.down_path {
        Some(_) => Some(
            templates
                .render(TemplateKind::Down, &vars)
                .map_err(MigrateError::from)?,
        ),
        None => None,
    };
    let dir = plan
        .dir_to_create
        .clone()
        .unwrap_or_else(|| set.dir.clone());
    std::fs::create_dir_all(&dir).map_err(|source| MigrateError::Write {
        path: dir.clone(),
        source,
    })?;
    write_new(&plan.up_path, &up_text)?;
    if let (Some(path), Some(text)) = (&plan.down_path, &down_text) {
        write_new(path, text)?;
    }
    println!("{}", plan.up_path.display());
    if let Some(path) = &plan.down_path {
        println!("{}", path.display());
    }
    ui::success(&format!(
        "created migration {version} ({message}); edit it, then run `cargo packit-db migrate`"
    ));
    Ok(plan.version)
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| MigrateError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(text.as_bytes())
        .map_err(|source| MigrateError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(())
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
