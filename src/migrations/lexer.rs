//! The one SQL lexer of the crate: tokens of PostgreSQL's lexical structure, and where psql
//! would end each statement.
//!
//! It knows what decides where a statement ends and what is a comment: quoted strings (`'...'`
//! with doubled quotes, `E'...'` with backslash escapes), quoted identifiers, dollar quoting
//! (`$$`, `$tag$`, not `$1`), nested block comments, line comments, psql meta-command lines and
//! the semicolons of `BEGIN ATOMIC ... END` bodies. It is a single pass over the bytes that
//! allocates nothing: migration files are scanned on every run.
//!
//! Hand-written because no crate fits: pg_query needs a C build, and `squawk-lexer` tracks the
//! newest Rust (its current releases need 1.94 and later, above this crate's 1.85) while knowing
//! neither psql meta-commands nor statement ends, which are most of what callers need here.

use std::ops::Range;

use memchr::{memchr, memchr2, memmem};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Spaces, tabs, line breaks, vertical tabs and form feeds (PostgreSQL's whitespace).
    Whitespace,
    /// `-- ...` up to, not including, the end of its line.
    LineComment,
    /// `/* ... */`, nesting as PostgreSQL nests them; an unterminated one runs to the end.
    BlockComment,
    /// A string constant: `'...'`, or `E'...'` (its prefix included) with backslash escapes.
    String,
    /// A quoted identifier, `"..."`.
    QuotedIdent,
    /// A dollar-quoted string, `$tag$ ... $tag$`, tags included (see [`dollar_body`]).
    DollarQuoted,
    /// A positional parameter, `$1`.
    Param,
    /// An identifier or key word (letters, digits, `_`, `$` and non-ASCII bytes, not starting
    /// with a digit or `$`).
    Word,
    /// A run starting with a digit (a number, possibly with junk after it).
    Number,
    /// `;`
    Semicolon,
    /// `(`
    OpenParen,
    /// `)`
    CloseParen,
    /// A psql meta-command: a backslash that is the first thing on its line but for spaces and
    /// tabs, up to, not including, the end of that line.
    MetaCommand,
    /// Any other single byte: operators, punctuation, a `$` that starts nothing, a backslash
    /// inside a line.
    Other,
}

/// One token: its kind and its byte range in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// What it is.
    pub(crate) kind: Kind,
    /// Its first byte.
    pub(crate) start: usize,
    /// The byte after it.
    pub(crate) end: usize,
}

impl Token {
    /// Its text in `sql`, the text it was lexed from.
    pub(crate) fn text(self, sql: &str) -> &str {
        &sql[self.start..self.end]
    }

    /// Whether it is whitespace or a comment, which separate tokens and mean nothing else.
    pub(crate) fn is_trivia(self) -> bool {
        matches!(
            self.kind,
            Kind::Whitespace | Kind::LineComment | Kind::BlockComment
        )
    }
}

/// The tokens of a text, in order; together they cover it exactly.
#[derive(Clone, Debug)]
pub(crate) struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `sql`.
    pub(crate) fn new(sql: &'a str) -> Self {
        Lexer {
            bytes: sql.as_bytes(),
            pos: 0,
        }
    }

    /// The kind of the token at `self.pos`, and the byte after it.
    fn token_at_pos(&self) -> (Kind, usize) {
        let bytes = self.bytes;
        let i = self.pos;
        let next = bytes.get(i + 1).copied();
        match bytes[i] {
            b if is_space(b) => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !is_space(b))
                    .map_or(bytes.len(), |p| i + p);
                (Kind::Whitespace, end)
            }
            b'-' if next == Some(b'-') => {
                let end = memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                (Kind::LineComment, end)
            }
            b'/' if next == Some(b'*') => (Kind::BlockComment, block_comment_end(bytes, i)),
            b'\'' => (Kind::String, quoted_end(bytes, i + 1, b'\'', false)),
            b'E' | b'e' if next == Some(b'\'') => {
                (Kind::String, quoted_end(bytes, i + 2, b'\'', true))
            }
            b'"' => (Kind::QuotedIdent, quoted_end(bytes, i + 1, b'"', false)),
            b'$' => dollar(bytes, i),
            b if is_ident_start(b) => (Kind::Word, ident_end(bytes, i + 1)),
            b'0'..=b'9' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !(is_ident_start(b) || b.is_ascii_digit()))
                    .map_or(bytes.len(), |p| i + p);
                (Kind::Number, end)
            }
            b';' => (Kind::Semicolon, i + 1),
            b'(' => (Kind::OpenParen, i + 1),
            b')' => (Kind::CloseParen, i + 1),
            b'\\' if at_line_start(bytes, i) => {
                let end = memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                (Kind::MetaCommand, end)
            }
            // Always an ASCII byte (non-ASCII bytes start words), so a character boundary
            // follows it.
            _ => (Kind::Other, i + 1),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let (kind, end) = self.token_at_pos();
        let token = Token {
            kind,
            start: self.pos,
            end,
        };
        self.pos = end;
        Some(token)
    }
}

/// PostgreSQL's whitespace: space, tab, line feed, carriage return, vertical tab, form feed.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// PostgreSQL's `ident_start`: a letter, `_` or any non-ASCII byte.
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// The byte after the identifier characters (`ident_cont`: `ident_start`, digits and `$`) from
/// `i` on.
fn ident_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| !(is_ident_start(b) || b.is_ascii_digit() || b == b'$'))
        .map_or(bytes.len(), |p| i + p)
}

/// The byte after the block comment starting at `i` (`/*`), nesting included; the end of the
/// text if it is not closed.
fn block_comment_end(bytes: &[u8], i: usize) -> usize {
    let mut depth = 1usize;
    let mut j = i + 2;
    while let Some(p) = memchr2(b'/', b'*', &bytes[j..]) {
        j += p;
        match (bytes[j], bytes.get(j + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                j += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    bytes.len()
}

/// The byte after the quoted text whose content starts at `i`: it ends at a `quote` that is
/// not doubled (and, with `backslash_escapes`, not escaped by a backslash); the end of the text
/// if none.
fn quoted_end(bytes: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut j = i;
    loop {
        let found = if backslash_escapes {
            memchr2(quote, b'\\', &bytes[j..])
        } else {
            memchr(quote, &bytes[j..])
        };
        let Some(p) = found else {
            return bytes.len();
        };
        j += p;
        if bytes[j] == b'\\' {
            j = (j + 2).min(bytes.len());
        } else if bytes.get(j + 1) == Some(&quote) {
            j += 2;
        } else {
            return j + 1;
        }
    }
}

/// The token at a `$` (`i`): a dollar-quoted string when a tag (`$`, or an identifier without
/// `$` followed by `$`) follows, a parameter when digits do, else the `$` alone.
fn dollar(bytes: &[u8], i: usize) -> (Kind, usize) {
    let after = i + 1;
    let tag_end = bytes[after..]
        .iter()
        .position(|&b| !(is_ident_start(b) || b.is_ascii_digit()))
        .map_or(bytes.len(), |p| after + p);
    let tag_is_word = tag_end == after || is_ident_start(bytes[after]);
    if tag_is_word && bytes.get(tag_end) == Some(&b'$') {
        let tag = &bytes[i..=tag_end];
        let body = tag_end + 1;
        let end = memmem::find(&bytes[body..], tag).map_or(bytes.len(), |p| body + p + tag.len());
        return (Kind::DollarQuoted, end);
    }
    let digits_end = bytes[after..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(bytes.len(), |p| after + p);
    if digits_end > after {
        (Kind::Param, digits_end)
    } else {
        (Kind::Other, after)
    }
}

/// Whether only spaces and tabs stand between the start of the line holding `i` and `i`.
fn at_line_start(bytes: &[u8], i: usize) -> bool {
    bytes[..i]
        .iter()
        .rev()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_none_or(|&b| b == b'\n')
}

/// The text between the tags of a [`Kind::DollarQuoted`] token's text (to the end, if the
/// closing tag is missing).
pub(crate) fn dollar_body(token_text: &str) -> &str {
    let tag_len = memchr(b'$', &token_text.as_bytes()[1..]).map_or(token_text.len(), |p| p + 2);
    let tag = &token_text[..tag_len];
    if token_text.len() >= 2 * tag_len && token_text.ends_with(tag) {
        &token_text[tag_len..token_text.len() - tag_len]
    } else {
        &token_text[tag_len..]
    }
}

/// One statement as [`statements`] finds it: byte offsets in the whole text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StatementSpan {
    /// Its bytes, without the `;` that ends it.
    pub(crate) range: Range<usize>,
    /// Where its first token besides whitespace and comments starts, if it has one.
    pub(crate) code_start: Option<usize>,
}

/// The statements of `sql`, split where psql would send them: at each `;` outside quotes and
/// comments, parentheses, and the `BEGIN ... END` body of a `CREATE [OR REPLACE]
/// {FUNCTION|PROCEDURE}` (psql's heuristic in `psqlscan.l`, so `BEGIN ATOMIC` bodies stay
/// whole). The text after the last `;` is the last statement; statements that hold only
/// whitespace and comments are yielded too (with no `code_start`).
pub(crate) fn statements(sql: &str) -> Statements<'_> {
    Statements {
        sql,
        tokens: Lexer::new(sql),
        start: 0,
        code_start: None,
        paren_depth: 0,
        begin_depth: 0,
        words: 0,
        head: [0; 4],
        done: false,
    }
}

/// The iterator [`statements`] returns.
#[derive(Clone, Debug)]
pub(crate) struct Statements<'a> {
    sql: &'a str,
    tokens: Lexer<'a>,
    /// Where the current statement starts.
    start: usize,
    code_start: Option<usize>,
    paren_depth: usize,
    begin_depth: usize,
    /// How many words the current statement has had so far.
    words: usize,
    /// The first letters of its first four words, where they are `create`, `or`, `replace`,
    /// `function` or `procedure` (0 for other words): psql's test for a routine definition.
    head: [u8; 4],
    done: bool,
}

impl Statements<'_> {
    /// Follows a word for psql's `BEGIN ... END` tracking.
    fn word(&mut self, word: &str) {
        if self.words < self.head.len()
            && ["create", "or", "replace", "function", "procedure"]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
        {
            self.head[self.words] = word.as_bytes()[0].to_ascii_lowercase();
        }
        self.words += 1;
        let routine = matches!(
            self.head,
            [b'c', b'f' | b'p', ..] | [b'c', b'o', b'r', b'f' | b'p']
        );
        if !routine || self.paren_depth > 0 {
            return;
        }
        if word.eq_ignore_ascii_case("begin") {
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case("case") {
            // CASE ends with END too; it only matters inside a BEGIN.
            if self.begin_depth > 0 {
                self.begin_depth += 1;
            }
        } else if word.eq_ignore_ascii_case("end") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
        }
    }

    /// Ends the current statement at `end` and starts the next one at `next`.
    fn cut(&mut self, end: usize, next: usize) -> StatementSpan {
        let span = StatementSpan {
            range: self.start..end,
            code_start: self.code_start.take(),
        };
        self.start = next;
        self.words = 0;
        self.head = [0; 4];
        span
    }
}

impl Iterator for Statements<'_> {
    type Item = StatementSpan;

    fn next(&mut self) -> Option<StatementSpan> {
        if self.done {
            return None;
        }
        while let Some(token) = self.tokens.next() {
            if token.is_trivia() {
                continue;
            }
            match token.kind {
                Kind::Semicolon if self.paren_depth == 0 && self.begin_depth == 0 => {
                    return Some(self.cut(token.start, token.end));
                }
                Kind::OpenParen => self.paren_depth += 1,
                Kind::CloseParen => self.paren_depth = self.paren_depth.saturating_sub(1),
                Kind::Word => self.word(token.text(self.sql)),
                _ => {}
            }
            self.code_start.get_or_insert(token.start);
        }
        self.done = true;
        Some(self.cut(self.sql.len(), self.sql.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each token as its kind and text.
    fn lex(sql: &str) -> Vec<(Kind, &str)> {
        Lexer::new(sql).map(|t| (t.kind, t.text(sql))).collect()
    }

    /// The tokens that are not whitespace, as their kind and text.
    fn solid(sql: &str) -> Vec<(Kind, &str)> {
        lex(sql)
            .into_iter()
            .filter(|(k, _)| *k != Kind::Whitespace)
            .collect()
    }

    /// The statements' texts, trimmed.
    fn texts(sql: &str) -> Vec<&str> {
        statements(sql).map(|s| sql[s.range].trim()).collect()
    }

    #[test]
    fn tokens_cover_the_text_exactly() {
        let sql = "select 'a''b', E'c\\'d', \"e\"\"f\", $$g$$, $t$h$t$, $1 -- i\n/* j /* k */ */ ;\n\\x\n(é) 1.5e3 x$y";
        let mut at = 0;
        for token in Lexer::new(sql) {
            assert_eq!(token.start, at, "{token:?}");
            assert!(token.end > token.start, "{token:?}");
            at = token.end;
        }
        assert_eq!(at, sql.len());
    }

    #[test]
    fn single_quotes_double_to_escape() {
        assert_eq!(
            solid("'it''s; fine' x"),
            vec![(Kind::String, "'it''s; fine'"), (Kind::Word, "x")]
        );
        // A backslash is an ordinary character in a standard string.
        assert_eq!(
            solid(r"'a\' b"),
            vec![(Kind::String, r"'a\'"), (Kind::Word, "b")]
        );
        assert_eq!(
            solid("'open; to the end"),
            vec![(Kind::String, "'open; to the end")]
        );
    }

    #[test]
    fn e_strings_take_backslash_escapes() {
        assert_eq!(
            solid(r"E'it\'s; \\' x"),
            vec![(Kind::String, r"E'it\'s; \\'"), (Kind::Word, "x")]
        );
        assert_eq!(
            solid(r"e'a''b\n' y"),
            vec![(Kind::String, r"e'a''b\n'"), (Kind::Word, "y")]
        );
        // Only a lone E is a prefix: here the word ends in E and a standard string follows.
        assert_eq!(
            solid(r"typE'a\' b"),
            vec![
                (Kind::Word, "typE"),
                (Kind::String, r"'a\'"),
                (Kind::Word, "b")
            ]
        );
        // A backslash as the last byte does not run past the end.
        assert_eq!(solid("E'\\"), vec![(Kind::String, "E'\\")]);
    }

    #[test]
    fn double_quotes_make_identifiers() {
        assert_eq!(
            solid(r#""we;ird ""x"" -- no" y"#),
            vec![
                (Kind::QuotedIdent, r#""we;ird ""x"" -- no""#),
                (Kind::Word, "y")
            ]
        );
    }

    #[test]
    fn dollar_quotes_and_parameters() {
        assert_eq!(
            solid("$$ it's; $x$ $$ $fn$ a $$ b $fn$ $1 $23x a$b$c $ $1$"),
            vec![
                (Kind::DollarQuoted, "$$ it's; $x$ $$"),
                (Kind::DollarQuoted, "$fn$ a $$ b $fn$"),
                (Kind::Param, "$1"),
                (Kind::Param, "$23"),
                (Kind::Word, "x"),
                (Kind::Word, "a$b$c"),
                (Kind::Other, "$"),
                (Kind::Param, "$1"),
                (Kind::Other, "$"),
            ]
        );
        // A tag may not start with a digit, may be non-ASCII, and must match exactly.
        assert_eq!(
            solid("$é$ $É$ $é$"),
            vec![(Kind::DollarQuoted, "$é$ $É$ $é$")]
        );
        assert_eq!(solid("$a$ open"), vec![(Kind::DollarQuoted, "$a$ open")]);
        assert_eq!(dollar_body("$fn$ a $$ b $fn$"), " a $$ b ");
        assert_eq!(dollar_body("$$$$"), "");
        assert_eq!(dollar_body("$a$"), "");
        assert_eq!(dollar_body("$a$ open $a"), " open $a");
    }

    #[test]
    fn block_comments_nest() {
        assert_eq!(
            solid("/* a /* b; */ c; */ x /* open /* */"),
            vec![
                (Kind::BlockComment, "/* a /* b; */ c; */"),
                (Kind::Word, "x"),
                (Kind::BlockComment, "/* open /* */"),
            ]
        );
        assert_eq!(
            solid("/*/ x */ y"),
            vec![(Kind::BlockComment, "/*/ x */"), (Kind::Word, "y")]
        );
        assert_eq!(
            solid("a/**/-b"),
            vec![
                (Kind::Word, "a"),
                (Kind::BlockComment, "/**/"),
                (Kind::Other, "-"),
                (Kind::Word, "b")
            ]
        );
    }

    #[test]
    fn line_comments_end_at_the_line_break() {
        assert_eq!(
            lex("a -- b; 'c\r\nd"),
            vec![
                (Kind::Word, "a"),
                (Kind::Whitespace, " "),
                (Kind::LineComment, "-- b; 'c\r"),
                (Kind::Whitespace, "\n"),
                (Kind::Word, "d"),
            ]
        );
        assert_eq!(
            solid("x-1"),
            vec![(Kind::Word, "x"), (Kind::Other, "-"), (Kind::Number, "1")]
        );
    }

    #[test]
    fn psql_meta_commands_run_to_the_end_of_their_line() {
        assert_eq!(
            solid("\\set ON_ERROR_STOP on\n  \\echo it's; done\nselect 1 \\gset\n"),
            vec![
                (Kind::MetaCommand, "\\set ON_ERROR_STOP on"),
                (Kind::MetaCommand, "\\echo it's; done"),
                (Kind::Word, "select"),
                (Kind::Number, "1"),
                // Inside a line, a backslash is only a byte.
                (Kind::Other, "\\"),
                (Kind::Word, "gset"),
            ]
        );
        assert_eq!(
            solid("\\connect db"),
            vec![(Kind::MetaCommand, "\\connect db")]
        );
    }

    #[test]
    fn code_start_skips_whitespace_and_comments() {
        let code_start = |sql| statements(sql).next().and_then(|s| s.code_start);
        let sql = "  -- x\n/* y /* z */ */\n select";
        assert_eq!(code_start(sql), sql.find("select"));
        assert_eq!(code_start(" \t\r\n\x0b\x0c-- only\n/* comments"), None);
        assert_eq!(code_start("'--'"), Some(0));
        assert_eq!(code_start(""), None);
    }

    #[test]
    fn statements_end_at_top_level_semicolons() {
        assert_eq!(
            texts("select ';'; select \";\"; -- ;\nselect $$;$$ /* ; */; select E'\\';';"),
            vec![
                "select ';'",
                "select \";\"",
                "-- ;\nselect $$;$$ /* ; */",
                "select E'\\';'",
                "",
            ]
        );
        let spans: Vec<StatementSpan> = statements(" -- c\n;select 1").collect();
        assert_eq!(
            spans,
            vec![
                StatementSpan {
                    range: 0..6,
                    code_start: None
                },
                StatementSpan {
                    range: 7..15,
                    code_start: Some(7)
                },
            ]
        );
        assert_eq!(statements("").count(), 1);
    }

    #[test]
    fn semicolons_inside_parentheses_do_not_end_a_statement() {
        assert_eq!(
            texts("create rule r as on insert to t do also (insert into a values (1); delete from b); select 1"),
            vec![
                "create rule r as on insert to t do also (insert into a values (1); delete from b)",
                "select 1",
            ]
        );
        // A stray `)` does not leave the depth below zero.
        assert_eq!(texts("select ); select 1"), vec!["select )", "select 1"]);
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let sql = "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  INSERT INTO t VALUES (x);\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\nEND;\ncreate procedure p() begin atomic select 1; end; select 2;";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  INSERT INTO t VALUES (x);\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\nEND",
                "create procedure p() begin atomic select 1; end",
                "select 2",
                "",
            ]
        );
        // Outside a routine definition, BEGIN is a transaction's and ends at its semicolon.
        assert_eq!(
            texts("begin; create table a (x int); end;"),
            vec!["begin", "create table a (x int)", "end", ""]
        );
        // Parameter names in parentheses do not count, nor do words in a dollar-quoted body.
        assert_eq!(
            texts("create function f(begin int) returns void language plpgsql as $$ begin null; end $$; select 1"),
            vec![
                "create function f(begin int) returns void language plpgsql as $$ begin null; end $$",
                "select 1",
            ]
        );
    }
}
