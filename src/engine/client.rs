//! The one owner of `bollard::Docker`: every engine call the crate makes goes through
//! [`Engine`], which returns the crate's own types and errors.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, HostConfig, PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use serde::Serialize;

use crate::engine::discovery::{discover, Connected, EngineChoice, EngineEnv};
use crate::engine::error::{ContainerError, EngineError, EngineFailure};
use crate::engine::podman_service::PodmanService;
use crate::engine::port_holder::port_holder;
use crate::engine::spec::{ContainerSpec, Observed, CONTAINER_PORT, LABEL_MANAGED, LABEL_PORT};

/// Which engine answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Docker Engine.
    Docker,
    /// Podman's Docker-compatible API service.
    Podman,
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        })
    }
}

/// What `status` reports about the engine.
#[derive(Clone, Debug, Serialize)]
pub struct EngineInfo {
    /// Docker or Podman.
    pub kind: EngineKind,
    /// The engine's version.
    pub version: String,
    /// The negotiated API version.
    pub api_version: String,
    /// Where it was found.
    pub endpoint: String,
}

/// A container's state, reduced to what the commands act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    /// Running.
    Running,
    /// Created, exited or stopped: `start` brings it up.
    Stopped,
    /// Anything else (paused, restarting, removing, dead).
    Other(String),
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContainerState::Running => f.write_str("running"),
            ContainerState::Stopped => f.write_str("stopped"),
            ContainerState::Other(s) => f.write_str(s),
        }
    }
}

/// An existing container, as the commands see it.
#[derive(Clone, Debug)]
pub struct ContainerInfo {
    /// Container id.
    pub id: String,
    /// Running, stopped, or on the way between.
    pub state: ContainerState,
    /// Exit code when stopped.
    pub exit_code: Option<i64>,
    /// The host port PostgreSQL is published on, when running.
    pub host_port: Option<u16>,
    /// Creation settings, for comparison with the configuration.
    pub observed: Observed,
}

impl ContainerInfo {
    /// Whether this tool created the container.
    pub fn is_ours(&self) -> bool {
        self.observed.labels.get(LABEL_MANAGED).map(String::as_str) == Some("true")
    }
}

/// A connected container engine.
pub struct Engine {
    docker: Docker,
    info: EngineInfo,
    service: Option<PodmanService>,
}

impl Engine {
    /// Finds and connects to an engine in the documented order (see `discovery`).
    pub async fn connect(choice: EngineChoice, env: &EngineEnv) -> Result<Engine, EngineError> {
        let Connected {
            docker,
            pong,
            endpoint,
            service,
        } = discover(choice, env).await?;
        let api = docker.client_version();
        let info = EngineInfo {
            kind: if pong.is_podman() {
                EngineKind::Podman
            } else {
                EngineKind::Docker
            },
            version: pong.engine_version().unwrap_or_else(|| "unknown".into()),
            api_version: format!("{}.{}", api.major_version, api.minor_version),
            endpoint,
        };
        tracing::debug!(?info, "connected to container engine");
        Ok(Engine {
            docker,
            info,
            service,
        })
    }

    /// What was connected to.
    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    /// Stops a private Podman service, if one was started.
    pub async fn close(self) {
        if let Some(service) = self.service {
            service.stop().await;
        }
    }

    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Inspects a container by name; `None` when it does not exist.
    pub async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInfo>, EngineError> {
        let result = retry_podman_stopped(|| self.docker.inspect_container(name, None)).await;
        let inspect = match result {
            Ok(inspect) => inspect,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(source) => return Err(api(format!("inspect container {name}"), source)),
        };
        let state = inspect.state.as_ref();
        let status = state.and_then(|s| s.status);
        let state_kind = match status {
            Some(ContainerStateStatusEnum::RUNNING) => ContainerState::Running,
            Some(ContainerStateStatusEnum::CREATED | ContainerStateStatusEnum::EXITED) | None => {
                ContainerState::Stopped
            }
            Some(other) => ContainerState::Other(other.to_string()),
        };
        let config = inspect.config.unwrap_or_default();
        let host_port = inspect
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|ports| published_port(&ports));
        let labels: BTreeMap<String, String> =
            config.labels.unwrap_or_default().into_iter().collect();
        let requested_port = match labels.get(LABEL_PORT).map(|p| p.parse::<u16>()) {
            Some(Ok(0)) => None,
            Some(Ok(port)) => Some(port),
            // Not created by this tool (or by an older version): the binding is the best guess.
            _ => inspect
                .host_config
                .and_then(|h| h.port_bindings)
                .and_then(|ports| published_port(&ports)),
        };
        Ok(Some(ContainerInfo {
            id: inspect.id.unwrap_or_default(),
            state: state_kind,
            exit_code: state.and_then(|s| s.exit_code),
            host_port,
            observed: Observed {
                image: config.image.unwrap_or_default(),
                env: config.env.unwrap_or_default(),
                labels,
                requested_port,
            },
        }))
    }

    /// Creates the project's container (not started). The port is bound to 127.0.0.1 only.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, EngineError> {
        let port_bindings = HashMap::from([(
            CONTAINER_PORT.to_string(),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(spec.port.to_string()),
            }]),
        )]);
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            env: Some(spec.env()),
            labels: Some(spec.labels.clone().into_iter().collect()),
            exposed_ports: Some(vec![CONTAINER_PORT.to_string()]),
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                binds: Some(vec![format!(
                    "{}:{}",
                    spec.volume,
                    spec.env_style.data_dir()
                )]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|source| api(format!("create container {}", spec.name), source))?;
        Ok(created.id)
    }

    /// Starts a container; a host port conflict becomes [`ContainerError::PortInUse`] naming
    /// `port` and, when it can be found, who holds it.
    pub async fn start_container(&self, name: &str, port: u16) -> Result<(), EngineFailure> {
        match self.docker.start_container(name, None).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) if is_port_conflict(&e) => {
                let holder = if port == 0 {
                    None
                } else {
                    port_holder(self, port).await
                };
                Err(ContainerError::PortInUse { port, holder }.into())
            }
            Err(source) => Err(api(format!("start container {name}"), source).into()),
        }
    }

    /// Stops a container (SIGTERM, then SIGKILL after `grace`).
    pub async fn stop_container(&self, name: &str, grace: Duration) -> Result<(), EngineError> {
        let options = StopContainerOptionsBuilder::default()
            .t(grace.as_secs() as i32)
            .build();
        match self.docker.stop_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            // 304: already stopped.
            Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(api(format!("stop container {name}"), source)),
        }
    }

    /// Removes a container (forcefully: it may be running).
    pub async fn remove_container(&self, name: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(false)
            .build();
        match retry_podman_stopped(|| self.docker.remove_container(name, Some(options.clone())))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(api(format!("remove container {name}"), source)),
        }
    }

    /// The last `lines` lines of a container's log (stdout and stderr).
    pub async fn log_tail(&self, name: &str, lines: usize) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(name, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The labels of a volume; `None` when it does not exist.
    pub async fn volume_labels(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, EngineError> {
        match self.docker.inspect_volume(name).await {
            Ok(volume) => Ok(Some(volume.labels.into_iter().collect())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(source) => Err(api(format!("inspect volume {name}"), source)),
        }
    }

    /// Creates a labelled volume.
    pub async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.docker
            .create_volume(request)
            .await
            .map(|_| ())
            .map_err(|source| api(format!("create volume {name}"), source))
    }

    /// Removes a volume.
    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        let options = RemoveVolumeOptionsBuilder::default().force(false).build();
        match self.docker.remove_volume(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(api(format!("remove volume {name}"), source)),
        }
    }

    /// Running containers that publish `port` on the host, by name.
    pub async fn containers_publishing(&self, port: u16) -> Result<Vec<String>, EngineError> {
        let options = ListContainersOptionsBuilder::default().all(false).build();
        let list = retry_podman_stopped(|| self.docker.list_containers(Some(options.clone())))
            .await
            .map_err(|source| api("list containers".into(), source))?;
        Ok(list
            .into_iter()
            .filter(|c| {
                c.ports
                    .iter()
                    .flatten()
                    .any(|p| p.public_port == Some(port))
            })
            .map(|c| {
                c.names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_else(|| c.id.unwrap_or_default())
            })
            .collect())
    }
}

/// The first host port published for PostgreSQL's port in a port map.
fn published_port(ports: &HashMap<String, Option<Vec<PortBinding>>>) -> Option<u16> {
    ports
        .get(CONTAINER_PORT)?
        .as_ref()?
        .iter()
        .filter_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())
        .find(|p| *p != 0)
}

/// Whether a start failed because the host port is taken (Docker and Podman word it apart).
fn is_port_conflict(e: &BollardError) -> bool {
    let text = e.to_string();
    text.contains("address already in use") || text.contains("port is already allocated")
}

/// Wraps a bollard error with what was being done.
pub(crate) fn api(action: String, source: BollardError) -> EngineError {
    EngineError::Api { action, source }
}

/// Whether the engine answered 404.
pub(crate) fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Podman 4.3 reports a container that is exiting as state "stopped", which bollard cannot
/// deserialize (bollard issue #701). It passes within a few tries, 50 ms apart.
pub(crate) async fn retry_podman_stopped<T, F, Fut>(mut call: F) -> Result<T, BollardError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BollardError>>,
{
    let mut tries = 0;
    loop {
        match call().await {
            Err(BollardError::JsonDataError { message, .. })
                if message.contains("stopped") && tries < 20 =>
            {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}
