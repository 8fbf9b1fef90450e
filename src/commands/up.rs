//! `up`: make the project's Postgres container exist, run and accept connections.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::TryFutureExt;

use crate::commands::{connect, connection_info, refuse_other_project};
use crate::config::Config;
use crate::db::admin::superuser_psql;
use crate::db::{quote_ident, quote_literal, wait_until_ready, ConnectionInfo, DbError, Readiness};
use crate::engine::{
    generate_password, port_holder, port_is_free, random_suffix, ContainerError, ContainerSpec,
    ContainerState, Engine, PullPolicy, LABEL_MANAGED,
};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::migrations::source::read_set;
use crate::migrations::{apply_pending, MigrateError};
use crate::ui::{self, PullProgress};

/// How long `up` waits for another run's migration lock.
const MIGRATION_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// How many log lines a failed start shows.
const LOG_TAIL_LINES: usize = 20;

/// Arguments of `up`.
#[derive(Clone, Debug)]
pub struct UpArgs {
    /// When to pull the image.
    pub pull: PullPolicy,
    /// How long PostgreSQL may take to accept connections.
    pub timeout: Duration,
    /// Replace a container whose settings differ from the configuration.
    pub recreate: bool,
    /// Apply pending migrations once the database is up.
    pub migrate: bool,
}

/// What this run created, so a failure, Ctrl-C or SIGTERM can remove exactly that.
#[derive(Default)]
struct Created {
    container: Option<String>,
    volume: Option<String>,
}

/// Runs `up`: prints the masked URL on stderr and the outcome. SIGINT (Ctrl-C) or SIGTERM
/// removes what this run created.
pub async fn up(config: &Config, args: &UpArgs) -> Result<(), Error> {
    let started = Instant::now();
    let interrupt = Interrupt::listen()?;
    let engine = interrupt.guard(connect(config)).await?;
    let created = Mutex::new(Created::default());
    let result = ensure_running(&engine, config, args, &created, &interrupt).await;
    if result.is_err() {
        roll_back(&engine, &created).await;
    }
    let kind = engine.info().kind;
    engine.close().await;
    let (info, how) = result?;
    ui::success(&format!(
        "{how} `{}` ({kind}, 127.0.0.1:{}) in {:.1} s",
        config.container,
        info.port,
        started.elapsed().as_secs_f64()
    ));
    ui::note(&format!("DATABASE_URL={}", info.masked_url()));
    if args.migrate {
        // Stopped, the migration in progress is rolled back with its connection.
        interrupt.guard(migrate_at_start(config, &info)).await?;
    }
    ui::note(
        "print it in full with `cargo packit-db url`; open a shell with `cargo packit-db psql`",
    );
    Ok(())
}

/// Applies pending migrations, as `upgrade head` at service start did. A project without a
/// migrations folder has nothing to apply.
async fn migrate_at_start(config: &Config, info: &ConnectionInfo) -> Result<(), Error> {
    if !config.migrations.exists() {
        tracing::debug!(folder = %config.migrations.display(), "no migrations folder; nothing to apply");
        return Ok(());
    }
    let set = read_set(&config.migrations, config.layout).map_err(MigrateError::from)?;
    for warning in &set.warnings {
        ui::warn(warning);
    }
    let applied = apply_pending(
        info,
        &set,
        None,
        MIGRATION_LOCK_TIMEOUT,
        &mut ui::print_event,
    )
    .await?;
    ui::print_applied(&applied);
    Ok(())
}

/// A throwaway container like the project's (same image, style, user and database; its own
/// name, volume, password and a free port), started and ready; for `test-downgrade --isolated`.
/// On failure, and when `interrupt` stops it, nothing is left behind: the steps that create the
/// volume and the container run to completion, and what they created is removed. The caller
/// removes it with [`remove_throwaway`].
pub(crate) async fn start_throwaway(
    engine: &Engine,
    config: &Config,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<(ContainerSpec, ConnectionInfo), Error> {
    let mut spec = config.container_spec(generate_password());
    spec.name = format!("{}-check-{}", config.container, random_suffix(6));
    spec.volume = crate::engine::volume_name(&spec.name);
    spec.port = 0;
    let args = UpArgs {
        pull: PullPolicy::Missing,
        timeout,
        recreate: false,
        migrate: false,
    };
    let created = Mutex::new(Created::default());
    match create_and_start(engine, &spec, &args, &created, interrupt).await {
        Ok(info) => Ok((spec, info)),
        Err(e) => {
            // create_and_start clears `created` only on success.
            roll_back(engine, &created).await;
            Err(e)
        }
    }
}

/// Removes a throwaway container and its volume.
pub(crate) async fn remove_throwaway(engine: &Engine, spec: &ContainerSpec) {
    if let Err(e) = engine.remove_container(&spec.name).await {
        ui::warn(&format!("could not remove container `{}`: {e}", spec.name));
    }
    if let Err(e) = engine.remove_volume(&spec.volume).await {
        ui::warn(&format!("could not remove volume `{}`: {e}", spec.volume));
    }
}

/// Removes what this run created (container first, then its volume).
async fn roll_back(engine: &Engine, created: &Mutex<Created>) {
    let (container, volume) = {
        let mut c = created.lock().expect("not poisoned");
        (c.container.take(), c.volume.take())
    };
    if let Some(name) = container {
        if let Err(e) = engine.remove_container(&name).await {
            ui::warn(&format!(
                "could not remove container `{name}` created by this run: {e}"
            ));
        }
    }
    if let Some(name) = volume {
        if let Err(e) = engine.remove_volume(&name).await {
            ui::warn(&format!(
                "could not remove volume `{name}` created by this run: {e}"
            ));
        }
    }
}

/// The body of `up`; returns the connection details and what was done. Stopped by `interrupt`
/// between steps and while it reads or waits; an engine call that creates, starts or removes
/// is let finish, so `created` names everything this run made.
async fn ensure_running(
    engine: &Engine,
    config: &Config,
    args: &UpArgs,
    created: &Mutex<Created>,
    interrupt: &Interrupt,
) -> Result<(ConnectionInfo, &'static str), Error> {
    let name = &config.container;
    let existing = interrupt
        .guard(engine.inspect_container(name).err_into::<Error>())
        .await?;
    let Some(container) = existing else {
        let password = config.password.clone().unwrap_or_else(generate_password);
        let spec = config.container_spec(password);
        let info = create_and_start(engine, &spec, args, created, interrupt).await?;
        return Ok((info, "created and started"));
    };
    if !container.is_ours() {
        return Err(ContainerError::NotOurs { name: name.clone() }.into());
    }
    let password = config
        .password
        .clone()
        .or_else(|| container.observed.password().map(String::from))
        .unwrap_or_else(generate_password);
    let spec = config.container_spec(password);
    let differences = spec.differences(&container.observed, config.password.is_some());
    if !differences.is_empty() {
        if !args.recreate {
            return Err(ContainerError::SettingsDiffer {
                name: name.clone(),
                differences,
            }
            .into());
        }
        refuse_other_project(&container, config)?;
        ui::note(&format!(
            "replacing `{name}` ({}); the data volume is kept",
            differences.join(", ")
        ));
        interrupt.check()?;
        engine.remove_container(name).await?;
        let info = create_and_start(engine, &spec, args, created, interrupt).await?;
        return Ok((info, "recreated and started"));
    }
    match container.state {
        ContainerState::Running => {
            let info = connection_info(&container).ok_or_else(|| ContainerError::NotRunning {
                name: name.clone(),
                state: "running without a published port".into(),
            })?;
            interrupt
                .guard(wait_ready(engine, &spec, &info, args.timeout, false))
                .await?;
            Ok((info, "reused running"))
        }
        _ => {
            interrupt.guard(check_port(engine, spec.port)).await?;
            engine.start_container(name, spec.port).await?;
            let info = interrupt.guard(started_info(engine, &spec)).await?;
            interrupt
                .guard(wait_ready(engine, &spec, &info, args.timeout, false))
                .await?;
            Ok((info, "started"))
        }
    }
}

/// Creates the volume (unless it exists and fits), pulls the image, creates and starts the
/// container, and waits for PostgreSQL. What it creates is recorded in `created` as soon as the
/// engine has created it; `interrupt` stops it before each creating step and during the reads
/// and waits, never inside a creating call, so nothing exists that `created` does not name.
async fn create_and_start(
    engine: &Engine,
    spec: &ContainerSpec,
    args: &UpArgs,
    created: &Mutex<Created>,
    interrupt: &Interrupt,
) -> Result<ConnectionInfo, Error> {
    let volume_existed = match interrupt
        .guard(engine.volume_labels(&spec.volume).err_into::<Error>())
        .await?
    {
        Some(labels) => {
            if labels.get(LABEL_MANAGED).map(String::as_str) != Some("true") {
                return Err(ContainerError::VolumeNotOurs {
                    name: spec.volume.clone(),
                }
                .into());
            }
            let differences = spec.volume_differences(&labels);
            if !differences.is_empty() {
                return Err(ContainerError::VolumeMismatch {
                    volume: spec.volume.clone(),
                    differences,
                }
                .into());
            }
            true
        }
        None => false,
    };
    interrupt.guard(check_port(engine, spec.port)).await?;
    let mut progress: Option<PullProgress> = None;
    let pulled = interrupt
        .guard(
            engine
                .ensure_image(&spec.image, args.pull, |event| {
                    progress
                        .get_or_insert_with(|| PullProgress::new(&spec.image))
                        .update(event)
                })
                .err_into::<Error>(),
        )
        .await;
    if let Some(bar) = progress {
        bar.finish();
    }
    if pulled? {
        ui::success(&format!("pulled {}", spec.image));
    }
    if !volume_existed {
        interrupt.check()?;
        engine
            .create_volume(&spec.volume, &spec.volume_labels())
            .await?;
        created.lock().expect("not poisoned").volume = Some(spec.volume.clone());
    }
    interrupt.check()?;
    engine.create_container(spec).await?;
    created.lock().expect("not poisoned").container = Some(spec.name.clone());
    interrupt.check()?;
    engine.start_container(&spec.name, spec.port).await?;
    let info = interrupt.guard(started_info(engine, spec)).await?;
    interrupt
        .guard(wait_ready(
            engine,
            spec,
            &info,
            args.timeout,
            volume_existed,
        ))
        .await?;
    // Success: nothing to roll back any more.
    *created.lock().expect("not poisoned") = Created::default();
    Ok(info)
}

/// Refuses a configured port that something else holds, naming the holder.
async fn check_port(engine: &Engine, port: u16) -> Result<(), Error> {
    if port != 0 && !port_is_free(port) {
        let holder = port_holder(engine, port).await;
        return Err(ContainerError::PortInUse { port, holder }.into());
    }
    Ok(())
}

/// Connection details of a container that was just started.
async fn started_info(engine: &Engine, spec: &ContainerSpec) -> Result<ConnectionInfo, Error> {
    let container =
        engine
            .inspect_container(&spec.name)
            .await?
            .ok_or_else(|| ContainerError::Missing {
                name: spec.name.clone(),
            })?;
    if container.state != ContainerState::Running {
        return Err(exited(engine, &spec.name, container.exit_code.unwrap_or(-1)).await);
    }
    connection_info(&container).ok_or_else(|| {
        ContainerError::NotRunning {
            name: spec.name.clone(),
            state: "running without a published port".into(),
        }
        .into()
    })
}

async fn exited(engine: &Engine, name: &str, code: i64) -> Error {
    let log_tail = engine.log_tail(name, LOG_TAIL_LINES).await;
    ContainerError::Exited {
        name: name.to_string(),
        code,
        log_tail,
    }
    .into()
}

/// Waits until PostgreSQL answers `SELECT 1`. With `may_resync`, a rejected password means
/// the data volume predates this container: the role's password is set to the container's.
async fn wait_ready(
    engine: &Engine,
    spec: &ContainerSpec,
    info: &ConnectionInfo,
    timeout: Duration,
    may_resync: bool,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    let mut resynced = false;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let readiness = wait_until_ready(info, remaining, || async {
            // Only an exited container is gone; paused or restarting ones may still come up.
            match engine.inspect_container(&spec.name).await {
                Ok(Some(c)) if c.state == ContainerState::Stopped => {
                    Some(c.exit_code.unwrap_or(-1))
                }
                Ok(None) => Some(-1),
                _ => None,
            }
            .map(|code| code.to_string())
        })
        .await;
        match readiness {
            Readiness::Ready(version) => {
                tracing::debug!(%version, "postgres is ready");
                return Ok(());
            }
            Readiness::AuthFailed if may_resync && !resynced => {
                resync_password(engine, spec).await?;
                resynced = true;
            }
            Readiness::AuthFailed => {
                return Err(DbError::AuthFailed {
                    container: spec.name.clone(),
                    user: spec.user.clone(),
                }
                .into())
            }
            Readiness::Gone(code) => {
                return Err(exited(engine, &spec.name, code.parse().unwrap_or(-1)).await)
            }
            Readiness::TimedOut(last_error) => {
                let log_tail = engine.log_tail(&spec.name, LOG_TAIL_LINES).await;
                return Err(DbError::NotReady {
                    container: spec.name.clone(),
                    timeout_secs: timeout.as_secs(),
                    last_error,
                    log_tail: Some(log_tail),
                }
                .into());
            }
        }
    }
}

/// Sets the application role's password to the container's, as the superuser over the
/// container's local socket. The statement goes through stdin, never argv.
async fn resync_password(engine: &Engine, spec: &ContainerSpec) -> Result<(), Error> {
    ui::note(
        "the data volume predates this container: setting the role's password to the container's",
    );
    let statement = format!(
        "ALTER ROLE {} PASSWORD {};\n",
        quote_ident(&spec.user),
        quote_literal(&spec.password)
    );
    let outcome = superuser_psql(
        engine,
        &spec.name,
        spec.env_style,
        &spec.user,
        &spec.database,
        statement,
    )
    .await?;
    let code = outcome.code;
    if code != 0 {
        return Err(DbError::AuthFailed {
            container: spec.name.clone(),
            user: spec.user.clone(),
        }
        .into());
    }
    Ok(())
}
