//! Splitting a migration file into statements, for migrations that run without a transaction.
//!
//! PostgreSQL runs a multi-statement query string as one implicit transaction, so
//! `CREATE INDEX CONCURRENTLY` or `ALTER TYPE ... ADD VALUE` followed by its use cannot run
//! that way: a `-- no-transaction` migration is sent one statement at a time. The splitter
//! knows quoted strings (`'...'`, `E'...'`), quoted identifiers, dollar quoting, line comments
//! and nested block comments; only a top-level `;` ends a statement.

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
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && !is_ident_byte(bytes.get(i.wrapping_sub(2)).copied());
                i = skip_quoted(bytes, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => i = skip_dollar_quoted(sql, i),
            b';' => {
                push(sql, start, i, &mut out);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(sql, start, bytes.len(), &mut out);
    out
}

fn push<'a>(sql: &'a str, start: usize, end: usize, out: &mut Vec<Statement<'a>>) {
    let text = &sql[start..end];
    if has_code(text) {
        out.push(Statement {
            text,
            char_offset: sql[..start].chars().count(),
        });
    }
}

/// Whether `text` holds anything besides whitespace and comments.
pub fn has_code(text: &str) -> bool {
    code_start(text).is_some()
}

/// Where the first thing besides whitespace and comments starts in `text`.
fn code_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            _ => return Some(i),
        }
    }
    None
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
    split(sql).iter().any(|statement| {
        let Some(start) = code_start(statement.text) else {
            return false;
        };
        let words: Vec<String> = statement.text[start..]
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

fn is_ident_byte(b: Option<u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Skips a quoted string or identifier starting at `i`; returns the index after it.
fn skip_quoted(bytes: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut j = i + 1;
    while j < bytes.len() {
        if backslash_escapes && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// Skips a (nested) block comment starting at `i`; returns the index after it.
pub(super) fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0;
    let mut j = i;
    while j + 1 < bytes.len() {
        if bytes[j] == b'/' && bytes[j + 1] == b'*' {
            depth += 1;
            j += 2;
        } else if bytes[j] == b'*' && bytes[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    bytes.len()
}

/// Skips `$tag$ ... $tag$` starting at `i` (or just the `$` of a parameter like `$1`).
fn skip_dollar_quoted(sql: &str, i: usize) -> usize {
    let bytes = sql.as_bytes();
    // A `$` inside an identifier (`a$b`) or a positional parameter is not a quote.
    if i > 0 && is_ident_byte(Some(bytes[i - 1])) {
        return i + 1;
    }
    let tag_end = bytes[i + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|p| i + 1 + p);
    let Some(tag_end) = tag_end else {
        return bytes.len();
    };
    if bytes[tag_end] != b'$' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return i + 1;
    }
    let tag = &sql[i..=tag_end];
    match sql[tag_end + 1..].find(tag) {
        Some(p) => tag_end + 1 + p + tag.len(),
        None => bytes.len(),
    }
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
        assert!(!has_code("  -- x\n/* y */\n"));
        assert!(has_code("-- x\nselect 1"));
    }
}
