//! Stopping a command on a signal: SIGINT (Ctrl-C) and SIGTERM (what CI runners send when a
//! job is cancelled, and what `kill` and `timeout` send) are handled the same way.
//!
//! A command that creates something it must remove again (a container, a scratch or staging
//! database, a temporary file) calls `Interrupt::listen` before it creates anything. From then
//! on neither signal ends the process: the first one is recorded, and `Interrupt::signalled`
//! resolves, at once when the signal came earlier, so one that arrives between two guarded
//! steps is not lost. The command, or the workflow of a lower layer it hands the `Interrupt`
//! to, races its work against it (`Interrupt::guard` or a `select!`), removes what it created
//! and returns [`Interrupted`]. Further signals are ignored, so the clean-up is not cut short.
//!
//! This module sits below every other one (it imports none), so that the engine, database and
//! migration workflows can be stopped the same way as the commands that run them.
//!
//! Steps that create something on the engine (a container, a volume) are awaited without a
//! guard: dropping such a request half-way could leave an object that the run has not recorded
//! and so would not remove. The guarded step after them notices the signal.
//!
//! Commands that create nothing never listen: both signals end them at once, as by default.

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// A signal that stops a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C on a terminal.
    Interrupt,
    /// SIGTERM: a CI runner cancelling the job, `kill`, `timeout`.
    Terminate,
}

impl StopSignal {
    /// The signal's number (SIGINT 2, SIGTERM 15); the exit code is 128 plus it.
    pub fn number(self) -> i32 {
        match self {
            StopSignal::Interrupt => 2,
            StopSignal::Terminate => 15,
        }
    }
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "Ctrl-C (SIGINT)",
            StopSignal::Terminate => "SIGTERM",
        })
    }
}

/// Work stopped by a signal, after what it had created was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {signal}; nothing half-done was left behind")]
pub struct Interrupted {
    /// Which signal.
    pub signal: StopSignal,
}

/// The signal handlers could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("failed to listen for SIGINT and SIGTERM: {0}")]
pub struct ListenFailed(pub std::io::Error);

/// The first SIGINT or SIGTERM since [`Interrupt::listen`]; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Interrupt {
    received: watch::Receiver<Option<StopSignal>>,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM. Must run inside the Tokio runtime. From now on
    /// the signals no longer end the process (for the rest of its life): the command must
    /// watch [`Interrupt::signalled`].
    pub(crate) fn listen() -> Result<Interrupt, ListenFailed> {
        // Both handlers are installed here, before anything is created, not when the task
        // first runs.
        let mut sigint = signal(SignalKind::interrupt()).map_err(ListenFailed)?;
        let mut sigterm = signal(SignalKind::terminate()).map_err(ListenFailed)?;
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let first = tokio::select! {
                Some(()) = sigint.recv() => StopSignal::Interrupt,
                Some(()) = sigterm.recv() => StopSignal::Terminate,
                else => return,
            };
            tracing::debug!(signal = %first, "stopping");
            let _ = tx.send(Some(first));
            // Keep the sender, so receivers never see it closed; the handlers stay installed
            // (Tokio never uninstalls them), so later signals are ignored.
            std::future::pending::<()>().await;
        });
        Ok(Interrupt { received: rx })
    }

    /// Resolves with the first signal received since [`Interrupt::listen`]; at once when it
    /// has already come.
    pub(crate) async fn signalled(&self) -> StopSignal {
        let mut rx = self.received.clone();
        // Copied out at once: the borrow holds the channel's lock.
        let received = rx.wait_for(Option::is_some).await.map(|signal| *signal);
        match received {
            Ok(Some(signal)) => signal,
            // The listening task is gone (the runtime is shutting down): no signal will come.
            _ => std::future::pending().await,
        }
    }

    /// The signal received so far, if any.
    pub(crate) fn received(&self) -> Option<StopSignal> {
        *self.received.borrow()
    }

    /// [`Interrupted`] when a signal has come: a check before a step that creates something,
    /// so nothing more is created once the command is stopping.
    pub(crate) fn check(&self) -> Result<(), Interrupted> {
        match self.received() {
            Some(signal) => Err(Interrupted { signal }),
            None => Ok(()),
        }
    }

    /// Runs `work` unless and until a signal comes (one that already came stops it before it
    /// starts); then `work` is dropped and the result is [`Interrupted`], as `work`'s own error
    /// type. Only for work that may be dropped at any await point without leaving anything
    /// behind.
    pub(crate) async fn guard<T, E: From<Interrupted>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tokio::select! {
            biased;
            signal = self.signalled() => Err(Interrupted { signal }.into()),
            result = work => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(128 + StopSignal::Interrupt.number(), 130);
        assert_eq!(128 + StopSignal::Terminate.number(), 143);
    }

    #[tokio::test]
    async fn a_signal_that_came_before_the_wait_is_not_lost() {
        let (tx, rx) = watch::channel(None);
        let interrupt = Interrupt { received: rx };
        assert_eq!(interrupt.received(), None);
        assert!(interrupt.check().is_ok());
        tx.send(Some(StopSignal::Terminate)).unwrap();
        assert_eq!(interrupt.signalled().await, StopSignal::Terminate);
        assert!(interrupt.check().is_err());
        let stopped = interrupt.guard(async { Ok::<_, Interrupted>(1) }).await;
        assert!(matches!(
            stopped,
            Err(Interrupted {
                signal: StopSignal::Terminate
            })
        ));
    }
}
