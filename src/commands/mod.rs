//! One function per command. Each takes the validated configuration and its arguments,
//! talks to the engine and database layers, and renders its result.

mod down;
mod dump;
mod load_dump;
mod migrate;
mod psql;
mod status;
mod test_downgrade;
mod up;
mod url;

pub use down::{down, DownArgs};
pub use dump::{dump, DumpArgs, DumpOutFormat};
pub use load_dump::{load_dump, LoadDumpArgs, MissingRoles};
pub use migrate::{migrate, MigrateAction, MigrateArgs};
pub use psql::{psql, PsqlArgs};
pub use status::{status, StatusArgs};
pub use test_downgrade::{junit_xml, test_downgrade, SelectionArg, TestDowngradeArgs};
pub use up::{up, UpArgs};
pub use url::url;

use crate::config::Config;
use crate::db::container::connection_info;
use crate::db::ConnectionInfo;
use crate::engine::{other_project, ContainerError, ContainerInfo, ContainerState, Engine};
use crate::error::Error;

/// Connects to the configured engine.
pub(crate) async fn connect(config: &Config) -> Result<Engine, Error> {
    Ok(Engine::connect(config.engine, &config.engine_env).await?)
}

/// Refuses a container that this tool created for another project: what names it here (a stray
/// `PACKIT_DB_CONTAINER`, a copied `container` setting) must not let this project remove it.
pub(crate) fn refuse_other_project(
    container: &ContainerInfo,
    config: &Config,
) -> Result<(), Error> {
    match other_project(&container.observed.labels, &config.project) {
        Some(owner) => Err(ContainerError::OtherProject {
            name: config.container.clone(),
            owner: owner.to_string(),
            project: config.project.clone(),
        }
        .into()),
        None => Ok(()),
    }
}

/// The project's container, which must exist, be ours and be running; with its connection info.
pub(crate) async fn running_container(
    engine: &Engine,
    config: &Config,
) -> Result<(ContainerInfo, ConnectionInfo), Error> {
    let name = &config.container;
    let Some(container) = engine.inspect_container(name).await? else {
        return Err(ContainerError::Missing { name: name.clone() }.into());
    };
    if !container.is_ours() {
        return Err(ContainerError::NotOurs { name: name.clone() }.into());
    }
    if container.state != ContainerState::Running {
        return Err(ContainerError::NotRunning {
            name: name.clone(),
            state: container.state.to_string(),
        }
        .into());
    }
    let info = connection_info(&container).ok_or_else(|| ContainerError::NotRunning {
        name: name.clone(),
        state: "running without a published port".into(),
    })?;
    Ok((container, info))
}
