//! How migration runs are shown: each step as it happens, results on stdout and waiting on
//! stderr.

use std::time::Duration;

use crate::migrations::source::Version;
use crate::migrations::Event;
use crate::ui::note;

/// Prints one step of a migration run.
pub fn print_event(event: Event<'_>) {
    match event {
        Event::Waiting { holder } => note(&format!(
            "another migration run holds the lock (PostgreSQL session {holder}); waiting"
        )),
        Event::Applied(m, d) => println!("applied  {} ({})", m.name(), millis(d)),
        Event::Reverted(m, d) => println!("reverted {} ({})", m.name(), millis(d)),
    }
}

/// Says so when a run applied nothing (each migration it applied has had its line).
pub fn print_applied(applied: &[Version]) {
    if applied.is_empty() {
        note("no pending migrations");
    }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}
