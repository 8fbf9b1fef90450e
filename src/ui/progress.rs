//! Pull progress: one bar of bytes across all layers.

use std::collections::HashMap;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::db::container::StartEvent;
use crate::engine::PullEvent;
use crate::ui::{success, warn};

/// Aggregates per-layer pull events into one byte bar on stderr (hidden without a terminal).
pub struct PullProgress {
    bar: ProgressBar,
    layers: HashMap<String, (u64, u64)>,
}

impl PullProgress {
    /// A bar for pulling `image`.
    pub fn new(image: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} pulling {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(image.to_string());
        PullProgress {
            bar,
            layers: HashMap::new(),
        }
    }

    /// Feeds one event from the engine.
    pub fn update(&mut self, event: PullEvent) {
        let Some(layer) = event.layer else { return };
        let entry = self.layers.entry(layer).or_insert((0, 0));
        if event.status.starts_with("Downloading") {
            if let Some(total) = event.total {
                entry.1 = total;
            }
            if let Some(current) = event.current {
                entry.0 = current;
            }
        } else if event.status.starts_with("Download complete")
            || event.status.starts_with("Pull complete")
        {
            entry.0 = entry.1;
        }
        let (done, total) = self
            .layers
            .values()
            .fold((0, 0), |(d, t), (c, n)| (d + c, t + n));
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A byte counter on stderr: a bar with rate and time left when the total is known, a spinner
/// with bytes and rate otherwise (hidden without a terminal). Cloning shares the bar.
#[derive(Clone)]
pub struct ByteProgress {
    bar: ProgressBar,
}

impl ByteProgress {
    /// A counter for `message` ("loading dump.sql").
    pub fn new(message: &str, total: Option<u64>) -> Self {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{spinner} {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{spinner} {msg} {bytes} {bytes_per_sec} {elapsed}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ByteProgress { bar }
    }

    /// A spinner without bytes, for a step whose progress cannot be measured.
    pub fn spinner(message: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template"),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ByteProgress { bar }
    }

    /// Replaces the message.
    pub fn set_message(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    /// Sets the bytes done.
    pub fn set_position(&self, bytes: u64) {
        self.bar.set_position(bytes);
    }

    /// Adds to the bytes done.
    pub fn inc(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// The bytes done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Shows what starting a container reports: the pull's bar, `✓ pulled IMAGE` once the pull is
/// over, and what could not be removed after a failure.
#[derive(Default)]
pub(crate) struct StartDisplay {
    bar: Option<PullProgress>,
}

impl StartDisplay {
    /// Shows one event.
    pub(crate) fn show(&mut self, event: StartEvent<'_>) {
        match event {
            StartEvent::Pull { image, event } => self
                .bar
                .get_or_insert_with(|| PullProgress::new(image))
                .update(event),
            StartEvent::PullDone { image, pulled } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish();
                }
                if pulled {
                    success(&format!("pulled {image}"));
                }
            }
            StartEvent::NotRemoved(left) => warn(&format!(
                "could not remove {} `{}` created by this run: {}",
                left.kind, left.name, left.error
            )),
        }
    }
}
