//! `down`: stop and remove the project's container; with `--volumes`, its data too.

use std::time::Duration;

use crate::commands::{connect, refuse_other_project};
use crate::config::Config;
use crate::engine::{other_project, volume_name, ContainerError, LABEL_MANAGED};
use crate::error::Error;
use crate::ui;

/// Seconds PostgreSQL gets to shut down cleanly before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Arguments of `down`.
#[derive(Clone, Debug, Default)]
pub struct DownArgs {
    /// Also delete the data volume.
    pub volumes: bool,
    /// Do not ask for confirmation.
    pub yes: bool,
}

/// Runs `down`. Never touches a container or volume without the tool's label, or one labelled
/// for another project.
pub async fn down(config: &Config, args: &DownArgs) -> Result<(), Error> {
    let engine = connect(config).await?;
    let result = run(&engine, config, args).await;
    engine.close().await;
    result
}

async fn run(
    engine: &crate::engine::Engine,
    config: &Config,
    args: &DownArgs,
) -> Result<(), Error> {
    let name = &config.container;
    let container = engine.inspect_container(name).await?;
    if let Some(c) = &container {
        if !c.is_ours() {
            return Err(ContainerError::NotOurs { name: name.clone() }.into());
        }
        refuse_other_project(c, config)?;
    }
    let volume = volume_name(name);
    let volume_labels = if args.volumes {
        engine.volume_labels(&volume).await?
    } else {
        None
    };
    if let Some(labels) = &volume_labels {
        if labels.get(LABEL_MANAGED).map(String::as_str) != Some("true") {
            return Err(ContainerError::VolumeNotOurs { name: volume }.into());
        }
        if let Some(owner) = other_project(labels, &config.project) {
            return Err(ContainerError::VolumeOtherProject {
                name: volume,
                owner: owner.to_string(),
                project: config.project.clone(),
            }
            .into());
        }
        // Ask before anything is stopped, so a refusal changes nothing.
        ui::confirm(
            &format!("Delete volume `{volume}` and every database in it?"),
            &format!("deleting volume `{volume}`"),
            args.yes,
        )?;
    }
    if container.is_some() {
        engine.stop_container(name, STOP_GRACE).await?;
        engine.remove_container(name).await?;
        ui::success(&format!("stopped and removed container `{name}`"));
    } else {
        ui::note(&format!("no container `{name}`"));
    }
    if args.volumes {
        if volume_labels.is_some() {
            engine.remove_volume(&volume).await?;
            ui::success(&format!("deleted volume `{volume}`"));
        } else {
            ui::note(&format!("no volume `{volume}`"));
        }
    } else if container.is_some() {
        ui::note(&format!(
            "data kept in volume `{volume}`; `down --volumes` deletes it"
        ));
    }
    Ok(())
}
