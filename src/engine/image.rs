//! Images: checking presence and pulling with progress.

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use crate::engine::client::{api, is_not_found, Engine};
use crate::engine::error::{EngineError, EngineFailure, ImageError};

/// When to pull the image (`--pull`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PullPolicy {
    /// Pull only when the image is not present.
    #[default]
    Missing,
    /// Always pull (to pick up a newer build of the tag).
    Always,
    /// Never pull; fail when the image is not present.
    Never,
}

/// One progress report from a pull.
#[derive(Clone, Debug, Default)]
pub struct PullEvent {
    /// Layer id, when the event is about a layer.
    pub layer: Option<String>,
    /// Status text (`Downloading`, `Pull complete`, ...).
    pub status: String,
    /// Bytes done and total, when known.
    pub current: Option<u64>,
    /// Total bytes of the layer, when known.
    pub total: Option<u64>,
}

impl Engine {
    /// Whether the image is present locally.
    pub async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
        match self.docker().inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(source) => Err(api(format!("inspect image {image}"), source)),
        }
    }

    /// Makes sure `image` is present according to `policy`, reporting pull progress.
    /// Returns whether a pull happened.
    pub async fn ensure_image(
        &self,
        image: &str,
        policy: PullPolicy,
        mut progress: impl FnMut(PullEvent),
    ) -> Result<bool, EngineFailure> {
        let present = self.image_exists(image).await?;
        match (policy, present) {
            (PullPolicy::Never, true) | (PullPolicy::Missing, true) => return Ok(false),
            (PullPolicy::Never, false) => {
                return Err(ImageError::Missing {
                    image: image.to_string(),
                    engine: self.info().kind.to_string(),
                }
                .into())
            }
            _ => {}
        }
        let (name, tag) = split_tag(image);
        let options = CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        let mut stream = self.docker().create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => progress(PullEvent {
                    layer: info.id,
                    status: info.status.unwrap_or_default(),
                    current: info
                        .progress_detail
                        .as_ref()
                        .and_then(|d| d.current)
                        .map(|v| v.max(0) as u64),
                    total: info
                        .progress_detail
                        .as_ref()
                        .and_then(|d| d.total)
                        .map(|v| v.max(0) as u64),
                }),
                Err(e) => {
                    return Err(ImageError::PullFailed {
                        image: image.to_string(),
                        reason: one_line(&e.to_string()),
                    }
                    .into())
                }
            }
        }
        if !self.image_exists(image).await? {
            return Err(ImageError::PullFailed {
                image: image.to_string(),
                reason: "the engine reported success but the image is not present".into(),
            }
            .into());
        }
        Ok(true)
    }
}

/// Splits `repo:tag` (a digest stays with the name).
fn split_tag(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

/// Engine messages can span lines; errors here are one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::split_tag;

    #[test]
    fn tags_are_split_off_but_registry_ports_are_not() {
        assert_eq!(
            split_tag("docker.io/library/postgres:17"),
            ("docker.io/library/postgres", "17")
        );
        assert_eq!(
            split_tag("localhost:5000/pg"),
            ("localhost:5000/pg", "latest")
        );
        assert_eq!(
            split_tag("localhost:5000/pg:15"),
            ("localhost:5000/pg", "15")
        );
        assert_eq!(
            split_tag("quay.io/x/pg@sha256:abc"),
            ("quay.io/x/pg@sha256:abc", "")
        );
    }
}
