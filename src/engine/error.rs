//! Errors of the engine layer: reaching an engine, the project's container, images.
//!
//! Every message is one line that names the thing and says what to do about it. The layer
//! returns only these types; the crate's top-level error wraps them.

use std::fmt;

/// One place the engine discovery looked at, and what it found there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Where: `DOCKER_HOST=...`, a socket path, or `podman system service`.
    pub place: String,
    /// What happened there: `not found`, `connection refused`, ...
    pub outcome: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.outcome)
    }
}

/// Renders attempts as `a: x; b: y`.
pub(crate) fn join_attempts(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Failures to reach or talk to a container engine.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Nothing answered anywhere in the lookup order.
    #[error(
        "no container engine answered (tried {}); start Docker (`sudo systemctl start docker`) \
         or Podman (`systemctl --user start podman.socket`), or point DOCKER_HOST at a running engine",
        join_attempts(.tried)
    )]
    NotFound {
        /// Every place tried, in order.
        tried: Vec<Attempt>,
    },
    /// An explicitly configured endpoint did not answer.
    #[error("cannot reach the container engine at {place}: {reason}; start the engine there or change {fix}")]
    Unreachable {
        /// The endpoint, e.g. `DOCKER_HOST=unix:///missing.sock`.
        place: String,
        /// Why, e.g. `socket not found`.
        reason: String,
        /// What to change, e.g. `DOCKER_HOST`.
        fix: String,
    },
    /// An endpoint uses a scheme this tool cannot speak.
    #[error("{var}={value} uses the unsupported scheme `{scheme}`; use unix:///path/to/engine.sock or tcp://host:port")]
    UnsupportedScheme {
        var: String,
        value: String,
        scheme: String,
    },
    /// Something answered, but not as a Docker or Podman API.
    #[error("{place} is not a Docker or Podman API ({reason}); point DOCKER_HOST or CONTAINER_HOST at the engine's socket")]
    NotAnEngine {
        place: String,
        /// What it answered.
        reason: String,
    },
    /// The podman binary exists, but its API service could not be started.
    #[error("podman is installed but `podman system service` did not start: {reason}; run `podman info` to see what is wrong")]
    PodmanService {
        /// Why.
        reason: String,
    },
    /// An engine API call failed.
    #[error("failed to {action}: {source}")]
    Api {
        /// What was being done, e.g. `inspect container app-packit-db`.
        action: String,
        /// The engine's error.
        #[source]
        source: bollard::errors::Error,
    },
}

/// The project's container cannot be used as asked.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A container with the configured name exists but was not created by this tool.
    #[error("a container named `{name}` exists but was not created by cargo-packit-db; remove or rename it, or set `container` to another name")]
    NotOurs { name: String },
    /// A volume with the tool's name exists but was not created by this tool.
    #[error("a volume named `{name}` exists but was not created by cargo-packit-db; remove it or set `container` to another name")]
    VolumeNotOurs { name: String },
    /// The container was created by this tool for another project.
    #[error("container `{name}` belongs to project `{owner}`, not `{project}`, and is left alone; unset PACKIT_DB_CONTAINER (or change the `container` setting) if it names that container by mistake, or run the command in project `{owner}`'s directory")]
    OtherProject {
        name: String,
        owner: String,
        /// This project.
        project: String,
    },
    /// The data volume was created by this tool for another project.
    #[error("volume `{name}` belongs to project `{owner}`, not `{project}`, and is left alone; unset PACKIT_DB_CONTAINER (or change the `container` setting) if it names that volume by mistake, or run the command in project `{owner}`'s directory")]
    VolumeOtherProject {
        name: String,
        owner: String,
        /// This project.
        project: String,
    },
    /// The existing container was created with other settings.
    #[error("container `{name}` was created with other settings ({}); run `cargo packit-db up --recreate` to replace it (the data volume is kept)", .differences.join(", "))]
    SettingsDiffer {
        name: String,
        /// One entry per differing setting, e.g. `image: a -> b`.
        differences: Vec<String>,
    },
    /// The data volume was initialised for another user, database or image style.
    #[error("data volume `{volume}` was initialised with other settings ({}); run `cargo packit-db down --volumes` to start from an empty database, or restore the previous settings", .differences.join(", "))]
    VolumeMismatch {
        volume: String,
        /// What differs.
        differences: Vec<String>,
    },
    /// The configured host port is taken.
    #[error("port {port} on 127.0.0.1 is already in use{}; stop it, or set `port` to another number (0 picks a free one)", .holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    PortInUse {
        port: u16,
        /// Who holds it, when known.
        holder: Option<String>,
    },
    /// The command needs the container, and there is none.
    #[error("container `{name}` does not exist; run `cargo packit-db up` first")]
    Missing { name: String },
    /// The command needs the container running, and it is not.
    #[error("container `{name}` is {state}; run `cargo packit-db up` to start it")]
    NotRunning { name: String, state: String },
    /// The container stopped while PostgreSQL was starting.
    #[error("container `{name}` exited with code {code} while PostgreSQL was starting; its log ends with:\n{log_tail}")]
    Exited {
        name: String,
        code: i64,
        log_tail: String,
    },
}

/// The image is missing or could not be pulled.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// `--pull never` and the image is not present.
    #[error("image `{image}` is not present on {engine} and --pull never forbids pulling it; pull it yourself or use --pull missing")]
    Missing { image: String, engine: String },
    /// The pull failed.
    #[error("could not pull image `{image}`: {reason}; check the name and your network, or set `image` to one that is present")]
    PullFailed {
        image: String,
        /// The engine's message.
        reason: String,
    },
}

/// A failure of an engine call that can fail in more than one way: starting a container (the
/// engine, or a taken port) and making an image present (the engine, or the image).
#[derive(Debug, thiserror::Error)]
pub enum EngineFailure {
    /// The engine could not be reached or an API call failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The container cannot be used as asked.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The image is missing or could not be pulled.
    #[error(transparent)]
    Image(#[from] ImageError),
}
