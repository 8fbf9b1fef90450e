//! Statements that change the whole PostgreSQL cluster rather than one database: roles, role
//! membership, tablespaces, databases and server settings.
//!
//! The round-trip check can run on several scratch databases of one server at once, and each
//! of them applies the migrations before its share of the chain. A migration that creates or
//! drops a role would then meet the role another database's migrations created, or drop it from
//! under them: such chains are checked on one database. The scan is textual and errs towards
//! finding too much (a word in a string counts, so statements a `DO` block runs through
//! `EXECUTE` are found too); a false find only costs the parallel speed-up.

use crate::migrations::lexer::{dollar_body, Kind, Lexer};

/// Words that, after CREATE, ALTER or DROP, name a cluster-wide object.
const CLUSTER_OBJECTS: [&str; 5] = ["ROLE", "USER", "GROUP", "TABLESPACE", "DATABASE"];

/// The first cluster-wide statement in `sql`, as its leading words (`CREATE ROLE`,
/// `GRANT ... TO` for role membership), or `None`.
pub fn cluster_wide_statement(sql: &str) -> Option<String> {
    let words = words(sql);
    for (i, word) in words.iter().enumerate() {
        let next = |n: usize| words.get(i + n).map(String::as_str);
        match word.as_str() {
            "CREATE" | "ALTER" | "DROP" => {
                if let Some(object) = next(1).filter(|w| CLUSTER_OBJECTS.contains(w)) {
                    // CREATE USER MAPPING is a foreign-data wrapper's, in one database.
                    if !(object == "USER" && next(2) == Some("MAPPING")) {
                        return Some(format!("{word} {object}"));
                    }
                }
                if word == "ALTER" && next(1) == Some("SYSTEM") {
                    return Some("ALTER SYSTEM".into());
                }
            }
            "REASSIGN" if next(1) == Some("OWNED") => return Some("REASSIGN OWNED".into()),
            // GRANT role TO role / REVOKE role FROM role: membership, without ON.
            "GRANT" | "REVOKE" => {
                let end = if word == "GRANT" { "TO" } else { "FROM" };
                let rest = &words[i + 1..];
                if let Some(p) = rest.iter().position(|w| w == end) {
                    if !rest[..p].iter().any(|w| w == "ON") {
                        return Some(format!("{word} ... {end} (role membership)"));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The words of `sql` (letters, digits and `_`, starting with a letter or `_`), upper-cased,
/// outside comments; words inside strings and quoted identifiers count, and a dollar-quoted
/// body is read as SQL in its turn (it is usually a function's or a `DO` block's code).
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The texts being read, a body above the text that holds it: an explicit stack rather
    // than recursion, and in order, since the caller looks at neighbouring words.
    let mut stack = vec![(sql, Lexer::new(sql))];
    while let Some((text, tokens)) = stack.last_mut() {
        let text = *text;
        let Some(token) = tokens.next() else {
            stack.pop();
            continue;
        };
        match token.kind {
            Kind::LineComment | Kind::BlockComment | Kind::Whitespace => {}
            Kind::DollarQuoted => {
                let body = dollar_body(token.text(text));
                stack.push((body, Lexer::new(body)));
            }
            _ => push_words(token.text(text), &mut out),
        }
    }
    out
}

/// Pushes the words of `text`, read as plain characters.
fn push_words(text: &str, out: &mut Vec<String>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(text[start..i].to_ascii_uppercase());
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_wide_statement as find;

    #[test]
    fn roles_tablespaces_databases_and_settings_are_found() {
        assert_eq!(
            find("create role app_ro nologin;").as_deref(),
            Some("CREATE ROLE")
        );
        assert_eq!(find("DROP USER IF EXISTS x").as_deref(), Some("DROP USER"));
        assert_eq!(
            find("alter  role app set search_path = x").as_deref(),
            Some("ALTER ROLE")
        );
        assert_eq!(
            find("CREATE TABLESPACE t LOCATION '/x'").as_deref(),
            Some("CREATE TABLESPACE")
        );
        assert_eq!(
            find("alter system set work_mem = '8MB'").as_deref(),
            Some("ALTER SYSTEM")
        );
        assert_eq!(
            find("REASSIGN OWNED BY a TO b").as_deref(),
            Some("REASSIGN OWNED")
        );
        assert_eq!(
            find("grant app_ro to app;").as_deref(),
            Some("GRANT ... TO (role membership)")
        );
        assert_eq!(
            find("REVOKE app_ro FROM app").as_deref(),
            Some("REVOKE ... FROM (role membership)")
        );
        // Dynamic SQL in a DO block is found too.
        assert_eq!(
            find("DO $$ BEGIN EXECUTE 'CREATE ROLE ' || quote_ident('r'); END $$;").as_deref(),
            Some("CREATE ROLE")
        );
    }

    #[test]
    fn database_objects_and_comments_are_not() {
        for sql in [
            "CREATE TABLE users (id int); CREATE INDEX ON users (id);",
            "GRANT SELECT ON users TO app_ro; REVOKE ALL ON users FROM PUBLIC;",
            "CREATE USER MAPPING FOR CURRENT_USER SERVER s;",
            "-- create role later\n/* drop role x /* nested */ */ SELECT 1;",
            "ALTER TABLE role ADD COLUMN database text;",
        ] {
            assert_eq!(find(sql), None, "{sql}");
        }
    }

    #[test]
    fn comments_are_told_from_strings() {
        // `--` in a string starts no comment, so what follows it is read.
        assert_eq!(
            find("select '--'; create role r;").as_deref(),
            Some("CREATE ROLE")
        );
        // A dollar-quoted body is read as code: its comments are skipped.
        assert_eq!(
            find("DO $$ BEGIN -- create role later\n NULL; END $$;"),
            None
        );
    }
}
