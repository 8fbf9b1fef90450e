//! One difference between two snapshots.

use std::fmt;

use serde::Serialize;

use super::object::{ObjectId, ObjectKind};
use super::value_diff;

/// The attribute that records a column's physical position.
pub(super) const POSITION: &str = "position";

/// `text` with every line after the first indented by `indent`, to print a multi-line entry
/// (a changed definition's diff) under a first line that is itself indented by `indent`.
pub fn indent_continuation(text: &str, indent: &str) -> String {
    text.replace('\n', &format!("\n{indent}"))
}

/// One difference between two snapshots: an object added or removed, or one attribute of an
/// object that changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// The object exists only after.
    Added {
        /// What was added.
        object: ObjectId,
    },
    /// The object exists only before.
    Removed {
        /// What was removed.
        object: ObjectId,
    },
    /// An attribute of an object in both snapshots differs (`None`: absent on that side).
    Changed {
        /// The object whose attribute differs.
        object: ObjectId,
        /// The attribute's name, e.g. `type`.
        attribute: String,
        /// The attribute's value in the first snapshot.
        before: Option<String>,
        /// The attribute's value in the second snapshot.
        after: Option<String>,
    },
}

impl Change {
    /// The object the change is about.
    pub fn object(&self) -> &ObjectId {
        match self {
            Change::Added { object } | Change::Removed { object } => object,
            Change::Changed { object, .. } => object,
        }
    }

    /// Whether this is only a column's physical position changing.
    pub fn is_column_order(&self) -> bool {
        matches!(
            self,
            Change::Changed { object, attribute, .. }
                if object.kind == ObjectKind::Column && attribute == POSITION
        )
    }
}

/// `table public.audit: added`, `index public.x: removed`,
/// `column public.builds.status: type build_status -> text`,
/// `column public.t.c: default 0 -> (none)`.
///
/// A long or multi-line value (a view definition, a function body) is shown as a diff, on the
/// lines after `view public.v: definition changed` (`added`, `removed` when absent on one
/// side), each indented by two spaces: `- ` lines before, `+ ` lines after, a little unchanged
/// context, and `...` where unchanged lines or text are left out.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { object } => write!(f, "{object}: added"),
            Change::Removed { object } => write!(f, "{object}: removed"),
            Change::Changed {
                object,
                attribute,
                before,
                after,
            } => {
                let (before, after) = (before.as_deref(), after.as_deref());
                if value_diff::is_short(before) && value_diff::is_short(after) {
                    return write!(
                        f,
                        "{object}: {attribute} {} -> {}",
                        before.unwrap_or("(none)"),
                        after.unwrap_or("(none)")
                    );
                }
                let what = match (before, after) {
                    (None, _) => "added",
                    (_, None) => "removed",
                    _ => "changed",
                };
                write!(f, "{object}: {attribute} {what}")?;
                for line in value_diff::render(before, after) {
                    write!(f, "\n  {line}")?;
                }
                Ok(())
            }
        }
    }
}
