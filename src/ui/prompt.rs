//! Confirmation prompts for destructive steps.

use crate::error::CommandError;
use crate::ui::interactive;

/// Asks `question` on a terminal; without one, `yes` must have been given. `what` names the
/// step for the error ("delete volume app-packit-db-data").
pub fn confirm(question: &str, what: &str, yes: bool) -> Result<(), CommandError> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(CommandError::NotConfirmed {
            what: what.to_string(),
        });
    }
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| CommandError::Io {
            action: "read the answer".into(),
            reason: e.to_string(),
        })?;
    if answer {
        Ok(())
    } else {
        Err(CommandError::Declined {
            what: what.to_string(),
        })
    }
}
