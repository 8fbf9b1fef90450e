//! Quoting of SQL identifiers and literals built from user input.

/// Quotes an SQL identifier: `my "db"` becomes `"my ""db"""`.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes an SQL string literal (standard_conforming_strings is on by default, so only `'`
/// needs doubling).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote_ident("My \"App\""), "\"My \"\"App\"\"\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
