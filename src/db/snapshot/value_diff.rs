//! How a changed attribute value is shown. Short values are shown whole (`old -> new`); long
//! or multi-line ones (view definitions, function bodies, trigger and index definitions) as a
//! line diff with a little context, so a one-line change in a 300-line view is a few lines of
//! report, not the two whole texts. The diff itself is `similar`'s.

use std::time::Duration;

use similar::{DiffOp, DiffTag, TextDiffConfig};

/// Values on one line of at most this many characters are shown whole, as `old -> new`.
const SHORT: usize = 80;
/// Unchanged lines shown before and after each changed one.
const CONTEXT_LINES: usize = 3;
/// Unchanged characters (whole tokens, at least this many) kept on each side of a change
/// inside a long line.
const CONTEXT_CHARS: usize = 24;
/// An unchanged run is shortened only if that saves at least this many characters.
const ELIDE_MIN: usize = 8;
/// The hunk separator, and what stands for the unchanged text left out of a long line.
pub(super) const ELLIPSIS: &str = "...";
/// Beyond this the diff settles for a coarser result rather than delay the report.
const TIMEOUT: Duration = Duration::from_millis(500);

/// Whether a value (absent: `None`) is shown whole: one line of at most [`SHORT`] characters.
pub(super) fn is_short(value: Option<&str>) -> bool {
    value.is_none_or(|v| !v.contains('\n') && v.chars().count() <= SHORT)
}

/// The lines that show how `before` became `after` (absent: `None`), without indentation:
/// `- old line`, `+ new line`, `  unchanged line` and `...` where unchanged lines are left
/// out. Multi-line values get a line diff with [`CONTEXT_LINES`] lines of context; values on
/// one line get one `-` and one `+` line each, with long unchanged stretches shortened to
/// `...`. An absent value shows the other whole.
pub(super) fn render(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    match (before, after) {
        (None, None) => Vec::new(),
        (None, Some(value)) => whole('+', value),
        (Some(value), None) => whole('-', value),
        (Some(old), Some(new)) if !old.contains('\n') && !new.contains('\n') => {
            let (old, new) = inline_pair(old, new);
            vec![format!("- {old}"), format!("+ {new}")]
        }
        (Some(old), Some(new)) => line_diff(old, new),
    }
}

/// Every line of a value that exists on one side only.
fn whole(marker: char, value: &str) -> Vec<String> {
    value
        .lines()
        .map(|line| format!("{marker} {line}"))
        .collect()
}

fn config() -> TextDiffConfig {
    let mut config = TextDiffConfig::default();
    config.timeout(TIMEOUT);
    config
}

/// One line of a line diff: its text without the line end, and whether to say that it has none
/// (only where the two values differ in ending with a newline).
struct Line {
    text: String,
    unterminated: bool,
}

/// A unified-style line diff: hunks of changed lines with their context, `...` between them
/// and where the first or last lines are left out.
fn line_diff(old: &str, new: &str) -> Vec<String> {
    let diff = config().diff_lines(old, new);
    let groups = diff.grouped_ops(CONTEXT_LINES);
    let newline_differs = old.ends_with('\n') != new.ends_with('\n');
    let line = |slice: Option<&str>| {
        let text = slice.unwrap_or("");
        let trimmed = text.strip_suffix('\n').unwrap_or(text);
        Line {
            unterminated: newline_differs && trimmed.len() == text.len(),
            text: trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string(),
        }
    };
    let push = |out: &mut Vec<String>, marker: char, line: Line| {
        // An empty line is its marker alone: no trailing blanks.
        out.push(if line.text.is_empty() {
            marker.to_string().trim_end().to_string()
        } else {
            format!("{marker} {}", line.text)
        });
        if line.unterminated && marker != ' ' {
            out.push("\\ no newline at end".to_string());
        }
    };
    let mut out = Vec::new();
    for group in &groups {
        let starts_at = group.first().map_or(0, |op| op.old_range().start);
        if starts_at > 0 || !out.is_empty() {
            out.push(ELLIPSIS.to_string());
        }
        for op in group {
            let (olds, news) = (op.old_range(), op.new_range());
            match op.tag() {
                DiffTag::Equal => {
                    for i in olds {
                        push(&mut out, ' ', line(diff.old_slice(i)));
                    }
                }
                DiffTag::Replace if olds.len() == news.len() => {
                    // Line by line: a long line keeps only its changes and their context.
                    let mut added = Vec::new();
                    for (i, j) in olds.zip(news) {
                        let (before, after) = (line(diff.old_slice(i)), line(diff.new_slice(j)));
                        let (a, b) = inline_pair(&before.text, &after.text);
                        push(&mut out, '-', Line { text: a, ..before });
                        added.push(Line { text: b, ..after });
                    }
                    for after in added {
                        push(&mut out, '+', after);
                    }
                }
                _ => {
                    for i in olds {
                        push(&mut out, '-', line(diff.old_slice(i)));
                    }
                    for j in news {
                        push(&mut out, '+', line(diff.new_slice(j)));
                    }
                }
            }
        }
    }
    let ends_at = groups
        .last()
        .and_then(|group| group.last())
        .map_or(0, |op| op.old_range().end);
    if !groups.is_empty() && ends_at < diff.old_len() {
        out.push(ELLIPSIS.to_string());
    }
    out
}

/// Two versions of one line, each shortened where the two agree over a long stretch (kept:
/// the tokens within [`CONTEXT_CHARS`] of a change). Lines of at most [`SHORT`] characters
/// are returned whole.
fn inline_pair(old: &str, new: &str) -> (String, String) {
    if old.chars().count() <= SHORT && new.chars().count() <= SHORT {
        return (old.to_string(), new.to_string());
    }
    let (a, b) = (tokens(old), tokens(new));
    let diff = config().diff_slices(&a, &b);
    let ops = diff.ops();
    let (mut old_out, mut new_out) = (String::new(), String::new());
    for (i, op) in ops.iter().enumerate() {
        if let DiffOp::Equal { .. } = op {
            let kept = shorten(&a[op.old_range()], i == 0, i + 1 == ops.len());
            old_out.push_str(&kept);
            new_out.push_str(&kept);
        } else {
            old_out.push_str(&a[op.old_range()].concat());
            new_out.push_str(&b[op.new_range()].concat());
        }
    }
    (old_out, new_out)
}

/// An unchanged run of tokens, its middle left out if it is long: a run that starts the line
/// keeps only its end, one that ends the line only its start. Cuts fall on blanks where one is
/// near.
fn shorten(run: &[&str], first: bool, last: bool) -> String {
    let whole: String = run.concat();
    if first && last {
        return whole;
    }
    let length = whole.chars().count();
    let keep_head = !first;
    let keep_tail = !last;
    let kept = CONTEXT_CHARS * (usize::from(keep_head) + usize::from(keep_tail));
    if length < kept + ELIDE_MIN {
        return whole;
    }
    let head = if keep_head {
        take_chars(run.iter().copied()).concat()
    } else {
        String::new()
    };
    let tail = if keep_tail {
        let mut tail = take_chars(run.iter().rev().copied());
        tail.reverse();
        tail.concat()
    } else {
        String::new()
    };
    let (head, tail) = (head.trim_end(), tail.trim_start());
    match (head.is_empty(), tail.is_empty()) {
        (true, _) => format!("{ELLIPSIS} {tail}"),
        (_, true) => format!("{head} {ELLIPSIS}"),
        _ => format!("{head} {ELLIPSIS} {tail}"),
    }
}

/// Tokens from `tokens` until they hold at least [`CONTEXT_CHARS`] characters, then on to
/// the next blank (up to twice as many characters), so that no word is cut.
fn take_chars<'a>(tokens: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut taken = Vec::new();
    let mut count = 0;
    for token in tokens {
        let blank = token.starts_with(char::is_whitespace);
        if count >= CONTEXT_CHARS && (blank || count >= 2 * CONTEXT_CHARS) {
            break;
        }
        count += token.chars().count();
        taken.push(token);
    }
    taken
}

/// SQL-ish tokens: runs of letters, digits and `_`, runs of whitespace, and every other
/// character on its own, so `(a > 0)` and `(a > 1)` differ in `0` and `1` only.
fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Class {
        Word,
        Space,
        Other,
    }
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous: Option<Class> = None;
    for (i, c) in text.char_indices() {
        let current = class(c);
        let joins = previous.as_ref() == Some(&current) && current != Class::Other;
        if !joins && i > start {
            out.push(&text[start..i]);
            start = i;
        }
        previous = Some(current);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view definition as `pg_get_viewdef` writes it, one output column a line.
    fn view(columns: usize, changed: Option<usize>) -> String {
        let mut text = String::from(" SELECT id,\n");
        for i in 1..columns {
            if Some(i) == changed {
                text.push_str(&format!("    upper(c{i}) AS c{i},\n"));
            } else {
                text.push_str(&format!("    c{i},\n"));
            }
        }
        text.push_str("    last_column\n   FROM wide;");
        text
    }

    #[test]
    fn tokens_split_words_spaces_and_punctuation() {
        assert_eq!(
            tokens("WHERE (a_1 > 0)  "),
            vec!["WHERE", " ", "(", "a_1", " ", ">", " ", "0", ")", "  "]
        );
        assert_eq!(tokens("::"), vec![":", ":"]);
        assert!(tokens("").is_empty());
    }

    #[test]
    fn short_values_are_short() {
        assert!(is_short(None));
        assert!(is_short(Some("nextval('s'::regclass)")));
        assert!(!is_short(Some("a\nb")));
        assert!(!is_short(Some(&"x".repeat(81))));
        assert!(is_short(Some(&"é".repeat(80))), "characters, not bytes");
    }

    #[test]
    fn one_changed_line_among_40_shows_only_its_hunk() {
        let lines = render(Some(&view(40, None)), Some(&view(40, Some(20))));
        assert_eq!(
            lines,
            vec![
                "...",
                "      c17,",
                "      c18,",
                "      c19,",
                "-     c20,",
                "+     upper(c20) AS c20,",
                "      c21,",
                "      c22,",
                "      c23,",
                "...",
            ]
        );
    }

    #[test]
    fn changes_at_the_start_and_end_have_no_leading_or_trailing_separator() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj";
        let new = "A\nb\nc\nd\ne\nf\ng\nh\ni\nJ";
        assert_eq!(
            render(Some(old), Some(new)),
            vec!["- a", "+ A", "  b", "  c", "  d", "...", "  g", "  h", "  i", "- j", "+ J"]
        );
    }

    #[test]
    fn close_changes_share_a_hunk() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\nten\n11\n12";
        let lines = render(Some(old), Some(new));
        assert_eq!(
            lines.iter().filter(|l| *l == ELLIPSIS).count(),
            1,
            "{lines:#?}"
        );
        assert_eq!(lines.first().map(String::as_str), Some("..."));
        assert!(lines.contains(&"- 5".to_string()) && lines.contains(&"+ ten".to_string()));
    }

    #[test]
    fn function_body_change_with_added_lines() {
        let old =
            "\nBEGIN\n  IF NEW.total < 0 THEN\n    RAISE EXCEPTION 'negative';\n  END IF;\n  \
                   NEW.updated_at := now();\n  RETURN NEW;\nEND;\n";
        let new =
            "\nBEGIN\n  IF NEW.total < 0 THEN\n    RAISE EXCEPTION 'negative';\n  END IF;\n  \
                   IF NEW.total > 1000000 THEN\n    RAISE EXCEPTION 'too large';\n  END IF;\n  \
                   NEW.updated_at := now();\n  RETURN NEW;\nEND;\n";
        assert_eq!(
            render(Some(old), Some(new)),
            vec![
                "...",
                "    IF NEW.total < 0 THEN",
                "      RAISE EXCEPTION 'negative';",
                "    END IF;",
                "+   IF NEW.total > 1000000 THEN",
                "+     RAISE EXCEPTION 'too large';",
                "+   END IF;",
                "    NEW.updated_at := now();",
                "    RETURN NEW;",
                "  END;",
            ]
        );
    }

    #[test]
    fn a_missing_final_newline_is_named() {
        let lines = render(Some("a\nb\n"), Some("a\nb"));
        assert_eq!(lines, vec!["  a", "- b", "+ b", "\\ no newline at end"]);
    }

    #[test]
    fn a_long_line_keeps_the_change_and_some_context() {
        let old = format!(
            "CREATE INDEX orders_open ON public.orders USING btree (customer_id, created_at) \
             WHERE ((status = 'open'::text) AND (total > 0){})",
            " AND (region IS NOT NULL)".repeat(3)
        );
        let new = old.replace("total > 0", "total > 10");
        let (a, b) = inline_pair(&old, &new);
        assert_eq!(
            a,
            "... 'open'::text) AND (total > 0) AND (region IS NOT NULL) ..."
        );
        assert_eq!(
            b,
            "... 'open'::text) AND (total > 10) AND (region IS NOT NULL) ..."
        );
        assert_eq!(
            render(Some(&old), Some(&new)),
            vec![format!("- {a}"), format!("+ {b}")]
        );
    }

    #[test]
    fn distant_changes_in_a_long_line_are_both_kept() {
        let middle = " AND (x IS NOT NULL)".repeat(5);
        let old = format!("CHECK ((a > 0){middle} AND (b > 0))");
        let new = format!("CHECK ((a > 1){middle} AND (b > 1))");
        let (a, b) = inline_pair(&old, &new);
        assert_eq!(
            a,
            "CHECK ((a > 0) AND (x IS NOT NULL) AND ... (x IS NOT NULL) AND (b > 0))"
        );
        assert_eq!(
            b,
            "CHECK ((a > 1) AND (x IS NOT NULL) AND ... (x IS NOT NULL) AND (b > 1))"
        );
    }

    #[test]
    fn a_long_line_inside_a_multi_line_value_is_shortened_too() {
        let condition = "(o.status = ANY (ARRAY['open'::text, 'paid'::text, 'shipped'::text]))";
        let old = format!(" SELECT o.id\n   FROM orders o\n  WHERE {condition} AND o.total > 0;");
        let new = old.replace("o.total > 0", "o.total > 5");
        let lines = render(Some(&old), Some(&new));
        assert_eq!(
            lines,
            vec![
                "   SELECT o.id",
                "     FROM orders o",
                "- ... 'shipped'::text])) AND o.total > 0;",
                "+ ... 'shipped'::text])) AND o.total > 5;",
            ]
        );
    }

    #[test]
    fn an_absent_value_shows_the_other_whole() {
        assert_eq!(render(None, Some("a\nb")), vec!["+ a", "+ b"]);
        assert_eq!(render(Some("a\nb"), None), vec!["- a", "- b"]);
    }
}
