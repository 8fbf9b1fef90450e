//! Finding a container engine.
//!
//! The lookup order (also in the README):
//! 1. `--engine` / the `engine` key narrows the candidates to Docker's or Podman's;
//! 2. `DOCKER_HOST`, then `CONTAINER_HOST` — explicit settings: if one is set and does not
//!    answer, that is the error (no silent fallback to another engine);
//! 3. `/var/run/docker.sock`;
//! 4. `$XDG_RUNTIME_DIR/podman/podman.sock` (rootless Podman);
//! 5. `/run/podman/podman.sock` (rootful Podman);
//! 6. when the `podman` binary exists, its API service started on a private socket for the
//!    duration of the command ([`PodmanService`]).
//!
//! Every place is probed with a ping under a short timeout, then the API version is negotiated
//! (the engines here speak 1.41; bollard defaults to a newer one).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};

use crate::engine::error::{Attempt, EngineError};
use crate::engine::ping::{ping, Pong, ProbeFailure, Target};
use crate::engine::podman_service::PodmanService;

/// How long one probe may take before the place counts as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The timeout bollard applies to every request (pulls and long execs stream within it).
const REQUEST_TIMEOUT_SECS: u64 = 3600;

/// Docker's and Podman's default socket paths (rootful).
pub(crate) const DOCKER_SOCKET: &str = "/var/run/docker.sock";
pub(crate) const PODMAN_ROOT_SOCKET: &str = "/run/podman/podman.sock";

/// Which container engine to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// Discover Docker or Podman.
    Auto,
    /// Docker (or anything speaking its API at the Docker socket).
    Docker,
    /// Podman (its Docker-compatible API service).
    Podman,
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Docker => "docker",
            Self::Podman => "podman",
        })
    }
}

/// What the container-engine discovery needs from the environment (only config reads the
/// environment). Empty variables count as unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineEnv {
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `CONTAINER_HOST` (Podman).
    pub container_host: Option<String>,
    /// `XDG_RUNTIME_DIR` (rootless Podman's socket lives below it).
    pub xdg_runtime_dir: Option<PathBuf>,
}

/// One place to look for an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// An endpoint named by an environment variable; failing it is an error.
    Variable {
        /// `DOCKER_HOST` or `CONTAINER_HOST`.
        var: &'static str,
        /// The endpoint it holds.
        value: String,
    },
    /// A well-known socket path; a missing one is skipped.
    Socket(PathBuf),
    /// Start `podman system service` privately.
    PodmanService,
}

/// The candidates for `choice`, in the documented order.
pub(crate) fn candidates(choice: EngineChoice, env: &EngineEnv) -> Vec<Candidate> {
    let docker = matches!(choice, EngineChoice::Auto | EngineChoice::Docker);
    let podman = matches!(choice, EngineChoice::Auto | EngineChoice::Podman);
    let mut out = Vec::new();
    if docker {
        if let Some(value) = &env.docker_host {
            out.push(Candidate::Variable {
                var: "DOCKER_HOST",
                value: value.clone(),
            });
        }
    }
    if podman {
        if let Some(value) = &env.container_host {
            out.push(Candidate::Variable {
                var: "CONTAINER_HOST",
                value: value.clone(),
            });
        }
    }
    if docker {
        out.push(Candidate::Socket(PathBuf::from(DOCKER_SOCKET)));
    }
    if podman {
        if let Some(dir) = &env.xdg_runtime_dir {
            out.push(Candidate::Socket(dir.join("podman/podman.sock")));
        }
        out.push(Candidate::Socket(PathBuf::from(PODMAN_ROOT_SOCKET)));
        out.push(Candidate::PodmanService);
    }
    out
}

/// A connected, version-negotiated engine client and where it was found.
pub(crate) struct Connected {
    pub(crate) docker: Docker,
    pub(crate) pong: Pong,
    pub(crate) endpoint: String,
    pub(crate) service: Option<PodmanService>,
}

/// Walks the candidates and returns the first engine that answers.
pub(crate) async fn discover(
    choice: EngineChoice,
    env: &EngineEnv,
) -> Result<Connected, EngineError> {
    let mut tried = Vec::new();
    for candidate in candidates(choice, env) {
        match candidate {
            Candidate::Variable { var, value } => {
                let (docker, pong) = connect_url(var, &value).await?;
                return Ok(Connected {
                    docker,
                    pong,
                    endpoint: value,
                    service: None,
                });
            }
            Candidate::Socket(path) => match probe_socket(&path).await {
                Ok((docker, pong)) => {
                    return Ok(Connected {
                        docker,
                        pong,
                        endpoint: format!("unix://{}", path.display()),
                        service: None,
                    })
                }
                Err(outcome) => tried.push(Attempt {
                    place: path.display().to_string(),
                    outcome,
                }),
            },
            Candidate::PodmanService => match PodmanService::start().await {
                Ok(Some(service)) => {
                    let path = service.socket().to_path_buf();
                    let (docker, pong) = probe_socket(&path)
                        .await
                        .map_err(|reason| EngineError::PodmanService { reason })?;
                    return Ok(Connected {
                        docker,
                        pong,
                        endpoint: format!("unix://{} (private podman service)", path.display()),
                        service: Some(service),
                    });
                }
                Ok(None) => tried.push(Attempt {
                    place: "podman system service".into(),
                    outcome: "podman not installed".into(),
                }),
                Err(e) => return Err(e),
            },
        }
    }
    Err(EngineError::NotFound { tried })
}

/// An engine endpoint; a client for it can be made for any API version without I/O.
enum Endpoint {
    Unix(String),
    Http(String),
}

impl Endpoint {
    fn client(&self, version: &ClientVersion) -> Result<Docker, bollard::errors::Error> {
        match self {
            Endpoint::Unix(path) => Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, version),
            Endpoint::Http(url) => Docker::connect_with_http(url, REQUEST_TIMEOUT_SECS, version),
        }
    }

    fn ping_target(&self) -> Target<'_> {
        match self {
            Endpoint::Unix(path) => Target::Unix(path),
            Endpoint::Http(url) => Target::Tcp(
                url.split_once("://")
                    .map_or(url.as_str(), |(_, rest)| rest.trim_end_matches('/')),
            ),
        }
    }
}

/// Connects to an endpoint given as a URL in `var`; every failure is an error naming it.
async fn connect_url(var: &str, value: &str) -> Result<(Docker, Pong), EngineError> {
    let place = format!("{var}={value}");
    let unreachable = |reason: String| EngineError::Unreachable {
        place: place.clone(),
        reason,
        fix: var.to_string(),
    };
    let scheme = value.split_once("://").map(|(s, _)| s).unwrap_or("");
    let endpoint = match scheme {
        "unix" => Endpoint::Unix(value["unix://".len()..].to_string()),
        "tcp" | "http" => Endpoint::Http(value.to_string()),
        // A bare path: users type it, and it can only mean a socket.
        "" if value.starts_with('/') => Endpoint::Unix(value.to_string()),
        other => {
            return Err(EngineError::UnsupportedScheme {
                var: var.to_string(),
                value: value.to_string(),
                scheme: if other.is_empty() {
                    value.to_string()
                } else {
                    other.to_string()
                },
            })
        }
    };
    if let Endpoint::Unix(path) = &endpoint {
        if !Path::new(path).exists() {
            return Err(unreachable("socket not found".into()));
        }
    }
    negotiate(&endpoint).await.map_err(|failure| match failure {
        ProbeFailure::NoAnswer(reason) => unreachable(reason),
        ProbeFailure::NotAnEngine(reason) => EngineError::NotAnEngine {
            place: place.clone(),
            reason,
        },
    })
}

/// Probes a socket path; `Err` carries the outcome for the "tried" list.
async fn probe_socket(path: &Path) -> Result<(Docker, Pong), String> {
    if !path.exists() {
        return Err("not found".into());
    }
    negotiate(&Endpoint::Unix(path.to_string_lossy().into_owned()))
        .await
        .map_err(|failure| match failure {
            ProbeFailure::NoAnswer(reason) => reason,
            ProbeFailure::NotAnEngine(reason) => format!("not a Docker or Podman API ({reason})"),
        })
}

/// Pings the engine and returns a client speaking the lower of its API version and bollard's
/// (what `Docker::negotiate_version` does, from the ping's headers instead of `/version`).
async fn negotiate(endpoint: &Endpoint) -> Result<(Docker, Pong), ProbeFailure> {
    let pong = ping(endpoint.ping_target(), PROBE_TIMEOUT).await?;
    let server = ClientVersion {
        major_version: pong.api_version.0,
        minor_version: pong.api_version.1,
    };
    let chosen = if server < *API_DEFAULT_VERSION {
        server
    } else {
        *API_DEFAULT_VERSION
    };
    let docker = endpoint
        .client(&chosen)
        .map_err(|e| ProbeFailure::NoAnswer(e.to_string()))?;
    Ok((docker, pong))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(docker: Option<&str>, container: Option<&str>, xdg: Option<&str>) -> EngineEnv {
        EngineEnv {
            docker_host: docker.map(String::from),
            container_host: container.map(String::from),
            xdg_runtime_dir: xdg.map(PathBuf::from),
        }
    }

    #[test]
    fn auto_order_is_the_documented_one() {
        let got = candidates(
            EngineChoice::Auto,
            &env(
                Some("unix:///d.sock"),
                Some("unix:///c.sock"),
                Some("/run/user/1000"),
            ),
        );
        assert_eq!(
            got,
            vec![
                Candidate::Variable {
                    var: "DOCKER_HOST",
                    value: "unix:///d.sock".into()
                },
                Candidate::Variable {
                    var: "CONTAINER_HOST",
                    value: "unix:///c.sock".into()
                },
                Candidate::Socket(PathBuf::from("/var/run/docker.sock")),
                Candidate::Socket(PathBuf::from("/run/user/1000/podman/podman.sock")),
                Candidate::Socket(PathBuf::from("/run/podman/podman.sock")),
                Candidate::PodmanService,
            ]
        );
    }

    #[test]
    fn docker_choice_skips_podman_places() {
        let got = candidates(
            EngineChoice::Docker,
            &env(None, Some("unix:///c.sock"), Some("/run/user/1")),
        );
        assert_eq!(
            got,
            vec![Candidate::Socket(PathBuf::from("/var/run/docker.sock"))]
        );
    }

    #[test]
    fn podman_choice_skips_docker_places() {
        let got = candidates(
            EngineChoice::Podman,
            &env(Some("unix:///d.sock"), None, None),
        );
        assert_eq!(
            got,
            vec![
                Candidate::Socket(PathBuf::from("/run/podman/podman.sock")),
                Candidate::PodmanService
            ]
        );
    }

    #[tokio::test]
    async fn unsupported_scheme_is_named() {
        let err = connect_url("DOCKER_HOST", "ssh://me@host")
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "DOCKER_HOST=ssh://me@host uses the unsupported scheme `ssh`; use unix:///path/to/engine.sock or tcp://host:port"
        );
    }

    #[tokio::test]
    async fn missing_socket_in_docker_host_is_an_error() {
        let err = connect_url("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .await
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("cannot reach the container engine at DOCKER_HOST=unix:///nonexistent/docker.sock: socket not found"), "{err}");
    }
}
