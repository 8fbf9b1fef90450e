//! `up`: make the project's Postgres container exist, run and accept connections.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::TryFutureExt;

use crate::commands::{connect, refuse_other_project};
use crate::config::Config;
use crate::db::admin::superuser_psql;
use crate::db::container::{
    check_port, connection_info, create_and_start, roll_back, started_info, wait_ready, Created,
    StartEvent,
};
use crate::db::{quote_ident, quote_literal, ConnectionInfo, DbError, StartError};
use crate::engine::{
    generate_password, ContainerError, ContainerSpec, ContainerState, Engine, PullPolicy,
};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::migrations::source::read_set;
use crate::migrations::{apply_pending, MigrateError};
use crate::ui::{self, StartDisplay};

/// How long `up` waits for another run's migration lock.
const MIGRATION_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

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

/// Runs `up`: prints the masked URL on stderr and the outcome. SIGINT (Ctrl-C) or SIGTERM
/// removes what this run created.
pub async fn up(config: &Config, args: &UpArgs) -> Result<(), Error> {
    let started = Instant::now();
    let interrupt = Interrupt::listen()?;
    let engine = interrupt.guard(connect(config)).await?;
    let created = Mutex::new(Created::default());
    let mut display = StartDisplay::default();
    let mut show = |event: StartEvent<'_>| display.show(event);
    let result = ensure_running(&engine, config, args, &created, &interrupt, &mut show).await;
    if result.is_err() {
        roll_back(&engine, &created, &mut show).await;
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

/// The body of `up`; returns the connection details and what was done. Stopped by `interrupt`
/// between steps and while it reads or waits; an engine call that creates, starts or removes
/// is let finish, so `created` names everything this run made.
async fn ensure_running(
    engine: &Engine,
    config: &Config,
    args: &UpArgs,
    created: &Mutex<Created>,
    interrupt: &Interrupt,
    on_event: &mut dyn FnMut(StartEvent<'_>),
) -> Result<(ConnectionInfo, &'static str), Error> {
    let name = &config.container;
    let existing = interrupt
        .guard(engine.inspect_container(name).err_into::<Error>())
        .await?;
    let Some(container) = existing else {
        let password = config.password.clone().unwrap_or_else(generate_password);
        let spec = config.container_spec(password);
        let info = create_ready(engine, &spec, args, created, interrupt, on_event).await?;
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
        let info = create_ready(engine, &spec, args, created, interrupt, on_event).await?;
        return Ok((info, "recreated and started"));
    }
    match container.state {
        ContainerState::Running => {
            let info = connection_info(&container).ok_or_else(|| ContainerError::NotRunning {
                name: name.clone(),
                state: "running without a published port".into(),
            })?;
            let deadline = Instant::now() + args.timeout;
            interrupt
                .guard(wait_ready(engine, &spec, &info, deadline, args.timeout))
                .await?;
            Ok((info, "reused running"))
        }
        _ => {
            interrupt.guard(check_port(engine, spec.port)).await?;
            engine.start_container(name, spec.port).await?;
            let info = interrupt.guard(started_info(engine, &spec)).await?;
            let deadline = Instant::now() + args.timeout;
            interrupt
                .guard(wait_ready(engine, &spec, &info, deadline, args.timeout))
                .await?;
            Ok((info, "started"))
        }
    }
}

/// Creates and starts the container and waits for PostgreSQL. A data volume that existed may
/// have been initialised with another password: when PostgreSQL refuses the container's, the
/// role's password is set to it, and the wait goes on under the same deadline. Once ready,
/// nothing is left for a roll-back.
async fn create_ready(
    engine: &Engine,
    spec: &ContainerSpec,
    args: &UpArgs,
    created: &Mutex<Created>,
    interrupt: &Interrupt,
    on_event: &mut dyn FnMut(StartEvent<'_>),
) -> Result<ConnectionInfo, Error> {
    let (info, volume_existed) =
        create_and_start(engine, spec, args.pull, created, interrupt, on_event).await?;
    let deadline = Instant::now() + args.timeout;
    let ready = wait_ready(engine, spec, &info, deadline, args.timeout);
    match interrupt.guard(ready).await {
        Err(StartError::Database(DbError::AuthFailed { .. })) if volume_existed => {
            let resynced = async {
                resync_password(engine, spec).await?;
                Ok::<_, Error>(wait_ready(engine, spec, &info, deadline, args.timeout).await?)
            };
            interrupt.guard(resynced).await?;
        }
        ready => ready?,
    }
    *created.lock().expect("not poisoned") = Created::default();
    Ok(info)
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
