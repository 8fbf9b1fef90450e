//! The container-engine layer: the only module that talks to bollard.
//!
//! Discovery finds Docker or Podman in the documented order, [`Engine`] wraps the client, and
//! [`ContainerSpec`] describes the project's Postgres container.

mod client;
mod discovery;
mod error;
mod exec;
mod image;
mod ping;
mod podman_service;
mod port_holder;
mod spec;
mod upload;

pub use client::{ContainerInfo, ContainerState, Engine, EngineInfo, EngineKind};
pub use discovery::{EngineChoice, EngineEnv};
pub use error::{Attempt, ContainerError, EngineError, EngineFailure, ImageError};
pub use exec::{ExecOutput, ExecRequest, HeldExec, TermSize};
pub use image::{PullEvent, PullPolicy};
pub use port_holder::{port_holder, port_is_free};
pub use spec::{
    container_labels, env_keys, generate_password, other_project, random_suffix, volume_name,
    ContainerSpec, EnvStyle, Observed, LABEL_MANAGED, LABEL_PROJECT,
};
pub use upload::{UploadFile, UploadProgress};
