//! The project's PostgreSQL container as a database server: created from a spec, started, and
//! waited for until PostgreSQL serves queries; and the throwaway copies that
//! `test-downgrade --isolated` checks in.
//!
//! What a run creates is recorded in [`Created`] as soon as the engine has created it, so that
//! a failure, SIGINT or SIGTERM removes exactly that ([`roll_back`]). The [`Interrupt`] stops the
//! reads and waits between the steps, never a step that creates something: dropping such a
//! request half-way could leave an object that [`Created`] does not name.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::TryFutureExt;

use crate::db::connection::ConnectionInfo;
use crate::db::error::{DbError, StartError};
use crate::db::ready::{wait_until_ready, Readiness};
use crate::engine::{
    env_keys, port_holder, port_is_free, random_suffix, volume_name, ContainerError, ContainerInfo,
    ContainerSpec, ContainerState, Engine, EngineError, PullEvent, PullPolicy, LABEL_MANAGED,
};
use crate::interrupt::Interrupt;

/// How many log lines a failed start shows.
const LOG_TAIL_LINES: usize = 20;

/// What a run created, so that a failure, Ctrl-C or SIGTERM can remove exactly that.
#[derive(Default)]
pub(crate) struct Created {
    container: Option<String>,
    volume: Option<String>,
}

/// What starting a container reports while it works, for the command to show.
pub(crate) enum StartEvent<'a> {
    /// Progress of pulling `image`.
    Pull {
        /// The image being pulled.
        image: &'a str,
        /// One event from the engine.
        event: PullEvent,
    },
    /// Making the image present is over, also when it failed or was stopped.
    PullDone {
        /// The image that was made present (or was not).
        image: &'a str,
        /// Whether it was pulled (not already present).
        pulled: bool,
    },
    /// Something the run created could not be removed again.
    NotRemoved(NotRemoved),
}

/// A container or volume that could not be removed.
pub(crate) struct NotRemoved {
    /// `container` or `volume`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Why.
    pub error: EngineError,
}

/// Creates the volume (unless it exists and fits), pulls the image, creates and starts the
/// container; returns its connection details and whether the volume existed before (its data
/// directory may then hold another password). PostgreSQL is not waited for: see
/// [`wait_ready`]. What it creates is recorded in `created` as soon as the engine has created
/// it; `interrupt` stops it before each creating step and during the reads and waits, never
/// inside a creating call, so nothing exists that `created` does not name.
pub(crate) async fn create_and_start(
    engine: &Engine,
    spec: &ContainerSpec,
    pull: PullPolicy,
    created: &Mutex<Created>,
    interrupt: &Interrupt,
    on_event: &mut dyn FnMut(StartEvent<'_>),
) -> Result<(ConnectionInfo, bool), StartError> {
    let volume_labels = engine.volume_labels(&spec.volume).err_into::<StartError>();
    let volume_existed = match interrupt.guard(volume_labels).await? {
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
    let image = spec.image.as_str();
    let pulled = interrupt
        .guard(
            engine
                .ensure_image(image, pull, |event| {
                    on_event(StartEvent::Pull { image, event })
                })
                .err_into::<StartError>(),
        )
        .await;
    on_event(StartEvent::PullDone {
        image,
        pulled: matches!(pulled, Ok(true)),
    });
    pulled?;
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
    Ok((info, volume_existed))
}

/// Removes what a run created (container first, then its volume); reports what could not be.
pub(crate) async fn roll_back(
    engine: &Engine,
    created: &Mutex<Created>,
    on_event: &mut dyn FnMut(StartEvent<'_>),
) {
    let (container, volume) = {
        let mut c = created.lock().expect("not poisoned");
        (c.container.take(), c.volume.take())
    };
    for left in remove(engine, container, volume).await {
        on_event(StartEvent::NotRemoved(left));
    }
}

/// Refuses a configured port that something else holds, naming the holder.
pub(crate) async fn check_port(engine: &Engine, port: u16) -> Result<(), StartError> {
    if port != 0 && !port_is_free(port) {
        let holder = port_holder(engine, port).await;
        return Err(ContainerError::PortInUse { port, holder }.into());
    }
    Ok(())
}

/// Connection details of a container that was just started.
pub(crate) async fn started_info(
    engine: &Engine,
    spec: &ContainerSpec,
) -> Result<ConnectionInfo, StartError> {
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

/// Connection details as the container was created (user, database and password from its
/// environment, the port from its published bindings).
pub(crate) fn connection_info(container: &ContainerInfo) -> Option<ConnectionInfo> {
    let (user_key, password_key, db_key) = env_keys(container.observed.env_style());
    let observed = &container.observed;
    Some(ConnectionInfo {
        port: container.host_port?,
        user: observed.env_var(user_key)?.to_string(),
        password: observed.env_var(password_key)?.to_string(),
        database: observed.env_var(db_key)?.to_string(),
    })
}

async fn exited(engine: &Engine, name: &str, code: i64) -> StartError {
    let log_tail = engine.log_tail(name, LOG_TAIL_LINES).await;
    ContainerError::Exited {
        name: name.to_string(),
        code,
        log_tail,
    }
    .into()
}

/// Waits until PostgreSQL answers `SELECT 1`, at the latest until `deadline` (`timeout` is the
/// whole wait, for the message). A rejected password is [`DbError::AuthFailed`] at once.
pub(crate) async fn wait_ready(
    engine: &Engine,
    spec: &ContainerSpec,
    info: &ConnectionInfo,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), StartError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let readiness = wait_until_ready(info, remaining, || async {
        // Only an exited container is gone; paused or restarting ones may still come up.
        match engine.inspect_container(&spec.name).await {
            Ok(Some(c)) if c.state == ContainerState::Stopped => Some(c.exit_code.unwrap_or(-1)),
            Ok(None) => Some(-1),
            _ => None,
        }
        .map(|code| code.to_string())
    })
    .await;
    match readiness {
        Readiness::Ready(version) => {
            tracing::debug!(%version, "postgres is ready");
            Ok(())
        }
        Readiness::AuthFailed => Err(DbError::AuthFailed {
            container: spec.name.clone(),
            user: spec.user.clone(),
        }
        .into()),
        Readiness::Gone(code) => Err(exited(engine, &spec.name, code.parse().unwrap_or(-1)).await),
        Readiness::TimedOut(last_error) => {
            let log_tail = engine.log_tail(&spec.name, LOG_TAIL_LINES).await;
            Err(DbError::NotReady {
                container: spec.name.clone(),
                timeout_secs: timeout.as_secs(),
                last_error,
                log_tail: Some(log_tail),
            }
            .into())
        }
    }
}

/// A throwaway container like `project` (the project's spec: same image, style, user and
/// database; its own name, volume and a free port, with `password`), started and ready. On
/// failure, and when `interrupt` stops it, nothing is left behind: the steps that create the
/// volume and the container run to completion, and what they created is removed. The caller
/// removes it with [`remove_throwaway`].
pub(crate) async fn start_throwaway(
    engine: &Engine,
    project: ContainerSpec,
    timeout: Duration,
    interrupt: &Interrupt,
    on_event: &mut dyn FnMut(StartEvent<'_>),
) -> Result<(ContainerSpec, ConnectionInfo), StartError> {
    let mut spec = project;
    spec.name = format!("{}-check-{}", spec.name, random_suffix(6));
    spec.volume = volume_name(&spec.name);
    spec.port = 0;
    let created = Mutex::new(Created::default());
    // Its volume is new (the name is random), so no data directory initialised with another
    // password can refuse the container's: the wait needs no password reset.
    let started = async {
        let (info, _) = create_and_start(
            engine,
            &spec,
            PullPolicy::Missing,
            &created,
            interrupt,
            on_event,
        )
        .await?;
        let deadline = Instant::now() + timeout;
        interrupt
            .guard(wait_ready(engine, &spec, &info, deadline, timeout))
            .await?;
        Ok(info)
    }
    .await;
    match started {
        Ok(info) => Ok((spec, info)),
        Err(e) => {
            roll_back(engine, &created, on_event).await;
            Err(e)
        }
    }
}

/// Removes a throwaway container and its volume; returns what could not be removed.
pub(crate) async fn remove_throwaway(engine: &Engine, spec: &ContainerSpec) -> Vec<NotRemoved> {
    remove(engine, Some(spec.name.clone()), Some(spec.volume.clone())).await
}

/// Removes a container, then a volume (each when named); returns what could not be removed.
async fn remove(
    engine: &Engine,
    container: Option<String>,
    volume: Option<String>,
) -> Vec<NotRemoved> {
    let mut left = Vec::new();
    if let Some(name) = container {
        if let Err(error) = engine.remove_container(&name).await {
            left.push(NotRemoved {
                kind: "container",
                name,
                error,
            });
        }
    }
    if let Some(name) = volume {
        if let Err(error) = engine.remove_volume(&name).await {
            left.push(NotRemoved {
                kind: "volume",
                name,
                error,
            });
        }
    }
    left
}
