//! Splitting a migration file into statements, for migrations that run without a transaction.
//!
//! PostgreSQL runs a multi-statement query string as one implicit transaction, so
//! `CREATE INDEX CONCURRENTLY` or `ALTER TYPE ... ADD VALUE` followed by its use cannot run
//! that way: a `-- no-transaction` migration is sent one statement at a time, split where psql
//! would split it (the lexer's `statements`).

use crate::migrations::lexer::statements;

/// One statement and where it starts in the file (a character offset, 0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, without the `;`.
    pub text: &'a str,
    /// Its first character's offset in the file, in characters.
    pub char_offset: usize,
}

/// Splits `sql` into statements, skipping ones that hold only whitespace and comments.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    // Character offsets are counted on from the previous statement's start: one pass in all.
    let (mut counted_to, mut chars) = (0, 0);
    for span in statements(sql) {
        if span.code_start.is_none() {
            continue;
        }
        let start = span.range.start;
        chars += sql[counted_to..start].chars().count();
        counted_to = start;
        out.push(Statement {
            text: &sql[span.range],
            char_offset: chars,
        });
    }
    out
}

/// Whether a file's statements end, start or name its transaction (`COMMIT`, `BEGIN`,
/// `SAVEPOINT`, ...), or set something that lasts until the transaction ends (`SET LOCAL`,
/// `SET CONSTRAINTS`, `SET TRANSACTION`, `set_config(..., true)`): such a file behaves
/// differently when another file runs in the same transaction after it. Textual, and finds too
/// much rather than too little (`set_config` anywhere counts).
pub fn controls_its_transaction(sql: &str) -> bool {
    const STARTS: [&str; 12] = [
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "START TRANSACTION",
        "SAVEPOINT",
        "RELEASE",
        "PREPARE TRANSACTION",
        "SET LOCAL",
        "SET CONSTRAINTS",
        "SET TRANSACTION",
    ];
    if sql.to_ascii_lowercase().contains("set_config") {
        return true;
    }
    statements(sql).any(|span| {
        let Some(start) = span.code_start else {
            return false;
        };
        let words: Vec<String> = sql[start..span.range.end]
            .split_whitespace()
            .take(2)
            .map(str::to_ascii_uppercase)
            .collect();
        let head = words.join(" ");
        STARTS.iter().any(|s| {
            head == *s
                || head.starts_with(&format!("{s} "))
                || (!s.contains(' ') && words.first().is_some_and(|w| w == s))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split(sql)
            .into_iter()
            .map(|s| s.text.trim().to_string())
            .collect()
    }

    #[test]
    fn transaction_control_is_found_at_the_start_of_statements_only() {
        for sql in [
            "create table a (x int);\ncommit;",
            "-- first\nBEGIN;\ncreate table a (x int);\nEND;",
            "set local search_path = app; create table a (x int);",
            "SET CONSTRAINTS ALL IMMEDIATE;",
            "select set_config('search_path', 'app', true);",
            "savepoint s; rollback to savepoint s;",
            "/* note */ start transaction isolation level serializable;",
        ] {
            assert!(controls_its_transaction(sql), "{sql}");
        }
        for sql in [
            "create table commits (begin_at int, \"end\" int);",
            "create function f() returns void language plpgsql as $$ begin commit; end $$;",
            "comment on table a is 'BEGIN; COMMIT;';",
            "set search_path = app; -- not local",
            "-- ROLLBACK\nselect 1;",
        ] {
            assert!(!controls_its_transaction(sql), "{sql}");
        }
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let sql = "create table a (x text default ';');\n-- a comment; with a semicolon\ninsert into \"we;ird\" values (E'it\\'s;');\n/* block; /* nested; */ still */ select 1;";
        assert_eq!(
            texts(sql),
            vec![
                "create table a (x text default ';')",
                "-- a comment; with a semicolon\ninsert into \"we;ird\" values (E'it\\'s;')",
                "/* block; /* nested; */ still */ select 1",
            ]
        );
    }

    #[test]
    fn dollar_quoted_bodies_stay_whole() {
        let sql = "create function f() returns trigger language plpgsql as $fn$ begin new.x := 1; return new; end $fn$;\nselect $1, a$b from t;";
        let got = texts(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("end $fn$"));
        assert_eq!(got[1], "select $1, a$b from t");
    }

    #[test]
    fn offsets_are_in_characters_and_comment_only_parts_are_dropped() {
        let sql = "-- é header\nselect 1;\n-- trailing comment only\n";
        let got = split(sql);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].char_offset, 0);
        let sql = "select 'é';select 2;   ";
        let got = split(sql);
        assert_eq!(got[1].char_offset, 11);
        assert!(split("  -- x\n/* y */\n").is_empty());
        assert_eq!(split("-- x\nselect 1").len(), 1);
    }

    #[test]
    fn routine_bodies_and_parenthesised_actions_stay_whole() {
        let sql = "create function f() returns int language sql begin atomic select 1; end;\ncreate rule r as on insert to t do also (insert into a values (1); delete from b);";
        assert_eq!(
            texts(sql),
            vec![
                "create function f() returns int language sql begin atomic select 1; end",
                "create rule r as on insert to t do also (insert into a values (1); delete from b)",
            ]
        );
        // The body's END is not a transaction's.
        assert!(!controls_its_transaction(sql));
    }
}
