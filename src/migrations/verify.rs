//! The round-trip check's verification mode (`test-downgrade --verify`, `PACKIT_DB_VERIFY=1`):
//! a check that cannot be fooled twice. After every step, the tracker's partial snapshot must
//! equal a whole one read afresh, and every verdict must agree with the one a naive check gives
//! from `pg_dump --schema-only` (owners and privileges included) of the same states: the
//! schema after a down differs from the one before its up exactly when the check reports the
//! down, and the schema after the second up differs from the one after the first exactly when
//! the check reports the second up. A divergence ends the run with an error naming the
//! migration, the step and what differs: it is a bug of the check, never of the migration.

use sqlx::PgConnection;

use crate::db::snapshot::{self, Tracker};
use crate::migrations::error::MigrateError;

/// Objects of the tool itself that `pg_dump` shows and snapshots leave out: the event log
/// (its schema and event triggers) of partial snapshots.
const TOOL_OBJECTS: [&str; 3] = ["_packit_db_events", "_packit_db_command", "_packit_db_drop"];
/// The migration tracking tables, which snapshots hide (not what is attached to them).
const TRACKING_TABLES: [&str; 2] = ["_sqlx_migrations", "__diesel_schema_migrations"];
/// Statements about a tracking table that snapshots compare: objects attached to it.
const ATTACHED: [&str; 4] = [
    "CREATE TRIGGER ",
    "CREATE CONSTRAINT TRIGGER ",
    "CREATE POLICY ",
    "CREATE RULE ",
];

/// `pg_dump --schema-only` output as a list of statements, without comments, settings,
/// blank lines, the tool's own objects and the tracking tables' own definition.
pub fn normalise_dump(dump: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in dump.lines() {
        if current.is_empty()
            && (line.starts_with("--")
                || line.trim().is_empty()
                || line.starts_with("\\restrict")
                || line.starts_with("\\unrestrict")
                || line.starts_with("SET ")
                || line.starts_with("SELECT pg_catalog.set_config"))
        {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements.retain(|s| {
        if TOOL_OBJECTS.iter().any(|o| s.contains(o)) {
            return false;
        }
        !TRACKING_TABLES.iter().any(|t| s.contains(t)) || ATTACHED.iter().any(|a| s.starts_with(a))
    });
    statements
}

/// Statements in one normalised dump and not the other, a line each (`-` before, `+` after),
/// at most `limit` of them.
pub fn dump_difference(before: &[String], after: &[String], limit: usize) -> Vec<String> {
    let first_line = |s: &String| s.lines().next().unwrap_or_default().to_string();
    let removed = before
        .iter()
        .filter(|s| !after.contains(s))
        .map(|s| format!("- {}", first_line(s)));
    let added = after
        .iter()
        .filter(|s| !before.contains(s))
        .map(|s| format!("+ {}", first_line(s)));
    let mut lines: Vec<String> = removed.chain(added).take(limit).collect();
    if lines.is_empty() && before != after {
        lines.push("(the same statements, in another order)".into());
    }
    lines
}

/// Checks that the tracker's snapshot equals a whole one read now; `what` names the step.
pub async fn incremental_equals_whole(
    tracker: &mut Tracker,
    conn: &mut PgConnection,
    what: &str,
) -> Result<(), MigrateError> {
    let read = |source| MigrateError::Database {
        action: "take a whole schema snapshot (verification)".into(),
        source,
    };
    let whole = snapshot::take(conn).await.map_err(read)?;
    let incremental = tracker.refresh(conn).await.map_err(read)?;
    let difference = snapshot::diff(&whole, incremental);
    if difference.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = difference
        .changes
        .iter()
        .take(20)
        .map(|c| format!("  {c}"))
        .collect();
    Err(MigrateError::Blocked(format!(
        "verification failed {what}: the partial snapshot differs from a whole one \
         (whole -> partial):\n{}",
        shown.join("\n")
    )))
}

/// Checks one verdict against the dumps: `differs` is whether the check found the two states
/// different; `what` names the comparison.
pub fn verdict_agrees(
    what: &str,
    differs: bool,
    dump_then: &[String],
    dump_now: &[String],
) -> Result<(), MigrateError> {
    let dump_differs = dump_then != dump_now;
    if differs == dump_differs {
        return Ok(());
    }
    let detail = if dump_differs {
        format!(
            "pg_dump shows a difference the check missed:\n  {}",
            dump_difference(dump_then, dump_now, 20).join("\n  ")
        )
    } else {
        "the check reports a difference that pg_dump does not show".to_string()
    };
    Err(MigrateError::Blocked(format!(
        "verification failed {what}: {detail}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n\n\
        CREATE TABLE public.jobs (\n    id integer NOT NULL\n);\n\n\
        ALTER TABLE public.jobs OWNER TO app;\n\n\
        CREATE TABLE public._sqlx_migrations (\n    version bigint NOT NULL\n);\n\n\
        ALTER TABLE public._sqlx_migrations OWNER TO app;\n\n\
        CREATE TRIGGER forbid BEFORE INSERT ON public._sqlx_migrations \
        FOR EACH ROW EXECUTE FUNCTION public.forbid();\n\n\
        CREATE SCHEMA _packit_db_events;\n\n\
        CREATE EVENT TRIGGER _packit_db_drop ON sql_drop\n   EXECUTE FUNCTION _packit_db_events.on_drop();\n";

    #[test]
    fn dumps_keep_the_user_objects_and_what_is_attached_to_tracking_tables() {
        let statements = normalise_dump(DUMP);
        assert_eq!(
            statements,
            vec![
                "CREATE TABLE public.jobs (\n    id integer NOT NULL\n);\n",
                "ALTER TABLE public.jobs OWNER TO app;\n",
                "CREATE TRIGGER forbid BEFORE INSERT ON public._sqlx_migrations FOR EACH ROW \
                 EXECUTE FUNCTION public.forbid();\n",
            ]
        );
    }

    #[test]
    fn verdicts_agree_only_when_both_see_the_same() {
        let a = normalise_dump(DUMP);
        let mut b = a.clone();
        b.push("CREATE TYPE public.mood AS ENUM ('ok');\n".into());
        assert!(verdict_agrees("x", false, &a, &a).is_ok());
        assert!(verdict_agrees("x", true, &a, &b).is_ok());
        let missed = verdict_agrees("after down", false, &a, &b).unwrap_err();
        assert!(
            missed.to_string().contains("+ CREATE TYPE public.mood"),
            "{missed}"
        );
        assert!(verdict_agrees("x", true, &a, &a).is_err());
    }
}
