//! Everything the user sees besides results: styled status lines, progress bars and prompts.
//!
//! Results go to stdout (so they pipe); progress and diagnostics go to stderr. Nothing here
//! prompts without a terminal: callers then need `--yes`.

mod check;
mod migration;
mod progress;
mod prompt;

use std::io::IsTerminal;

use console::style;
use serde::Serialize;

pub use check::print_summary;
pub(crate) use check::CheckDisplay;
pub use migration::{print_applied, print_event};
pub(crate) use progress::StartDisplay;
pub use progress::{ByteProgress, PullProgress};
pub use prompt::confirm;

/// Output format of commands that report data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// Prints a step that succeeded, on stderr.
pub fn success(message: &str) {
    eprintln!("{} {message}", style("✓").green().bold());
}

/// Prints an informational note, on stderr.
pub fn note(message: &str) {
    eprintln!("{} {message}", style("·").dim());
}

/// Prints a warning, on stderr.
pub fn warn(message: &str) {
    eprintln!("{} {message}", style("warning:").yellow().bold());
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) {
    // Serialising our own plain data types cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    );
}

/// Whether stdin and stderr are both terminals (a person can answer a prompt).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}
