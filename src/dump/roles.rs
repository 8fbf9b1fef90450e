//! Roles a dump refers to: owners (`ALTER ... OWNER TO r;`), grantees (`GRANT ... TO r;`,
//! `REVOKE ... FROM r;`), default privileges (`ALTER DEFAULT PRIVILEGES FOR ROLE r ...`) and
//! `SET SESSION AUTHORIZATION 'r';`. pg_dump writes each of these statements on one line, with
//! identifiers quoted as needed, which is what this module reads.

/// What kind of reference a statement makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleStatement {
    /// `ALTER <object> OWNER TO <role>;`
    Owner(String),
    /// `GRANT`/`REVOKE` (possibly under `ALTER DEFAULT PRIVILEGES FOR ROLE`): the roles named.
    Privilege(Vec<String>),
    /// `SET SESSION AUTHORIZATION '<role>';`
    SessionAuthorization(String),
}

impl RoleStatement {
    /// Every role the statement names.
    pub fn roles(&self) -> Vec<&str> {
        match self {
            RoleStatement::Owner(r) | RoleStatement::SessionAuthorization(r) => vec![r.as_str()],
            RoleStatement::Privilege(rs) => rs.iter().map(String::as_str).collect(),
        }
    }
}

/// The role reference a dump line makes, if any. `PUBLIC` and the current-role keywords are
/// not roles.
pub fn parse_line(line: &str) -> Option<RoleStatement> {
    let line = line.trim_end_matches(['\n', '\r']);
    let body = line.strip_suffix(';')?;
    if let Some(rest) = body.strip_prefix("SET SESSION AUTHORIZATION ") {
        let name = rest
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .replace("''", "'");
        return Some(RoleStatement::SessionAuthorization(name));
    }
    if body.starts_with("ALTER DEFAULT PRIVILEGES ") {
        let mut roles = Vec::new();
        if let Some(rest) = body.strip_prefix("ALTER DEFAULT PRIVILEGES FOR ROLE ") {
            let (list, _) = ident_list(rest);
            roles.extend(list);
        }
        roles.extend(grantees(body));
        return Some(RoleStatement::Privilege(real_roles(roles))).filter(non_empty);
    }
    if body.starts_with("ALTER ") {
        let at = body.rfind(" OWNER TO ")?;
        let (list, rest) = ident_list(&body[at + " OWNER TO ".len()..]);
        if !rest.trim().is_empty() || list.len() != 1 {
            return None;
        }
        return real_roles(list).pop().map(RoleStatement::Owner);
    }
    if body.starts_with("GRANT ") || body.starts_with("REVOKE ") {
        return Some(RoleStatement::Privilege(real_roles(grantees(body)))).filter(non_empty);
    }
    None
}

fn non_empty(s: &RoleStatement) -> bool {
    !s.roles().is_empty()
}

/// The grantees of `GRANT ... TO a, b [WITH GRANT OPTION]` or `REVOKE ... FROM a, b [CASCADE]`.
fn grantees(body: &str) -> Vec<String> {
    let (keyword, marker) = if let Some(i) = find_keyword(body, "GRANT ") {
        (i, " TO ")
    } else if let Some(i) = find_keyword(body, "REVOKE ") {
        (i, " FROM ")
    } else {
        return Vec::new();
    };
    let clause = &body[keyword..];
    let Some(at) = clause.rfind(marker) else {
        return Vec::new();
    };
    let (list, rest) = ident_list(&clause[at + marker.len()..]);
    let rest = rest.trim();
    let tail_ok = rest.is_empty()
        || rest == "WITH GRANT OPTION"
        || rest == "CASCADE"
        || rest == "RESTRICT"
        || rest.starts_with("GRANTED BY ");
    if tail_ok {
        list
    } else {
        Vec::new()
    }
}

/// Where `GRANT `/`REVOKE ` starts as a statement or after `ALTER DEFAULT PRIVILEGES ...`.
fn find_keyword(body: &str, keyword: &str) -> Option<usize> {
    if body.starts_with(keyword) {
        return Some(0);
    }
    body.find(&format!(" {keyword}")).map(|i| i + 1)
}

fn real_roles(roles: Vec<String>) -> Vec<String> {
    roles
        .into_iter()
        .filter(|r| {
            !matches!(
                r.as_str(),
                "public" | "current_user" | "session_user" | "current_role"
            )
        })
        .collect()
}

/// A comma-separated list of identifiers at the start of `s`; returns them (unquoted) and the
/// text after the list.
fn ident_list(s: &str) -> (Vec<String>, &str) {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    loop {
        let Some((ident, after)) = ident(rest) else {
            return (out, rest);
        };
        out.push(ident);
        let after_ws = after.trim_start();
        match after_ws.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None => return (out, after),
        }
    }
}

/// One identifier: `"quoted ""x"""` or a bare name; bare names fold to lower case, as the
/// server folds them.
fn ident(s: &str) -> Option<(String, &str)> {
    if let Some(inner) = s.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if inner[i + 1..].starts_with('"') {
                    name.push('"');
                    chars.next();
                } else {
                    return Some((name, &inner[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    if end == 0 || s.starts_with(|c: char| c.is_ascii_digit() || c == '$') {
        return None;
    }
    Some((s[..end].to_lowercase(), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(line: &str) -> Vec<String> {
        parse_line(line)
            .map(|s| s.roles().into_iter().map(String::from).collect())
            .unwrap_or_default()
    }

    #[test]
    fn owners_of_every_object_kind() {
        assert_eq!(
            parse_line("ALTER TABLE public.builds OWNER TO ci_prod;"),
            Some(RoleStatement::Owner("ci_prod".into()))
        );
        assert_eq!(
            roles("ALTER TYPE public.state OWNER TO \"Prod Owner\";"),
            ["Prod Owner"]
        );
        assert_eq!(
            roles("ALTER FUNCTION public.f(a integer) OWNER TO x;"),
            ["x"]
        );
        assert_eq!(
            roles("ALTER SCHEMA app OWNER TO \"we\"\"ird\";"),
            ["we\"ird"]
        );
        assert_eq!(roles("ALTER TABLE public.t OWNER TO App;"), ["app"]);
    }

    #[test]
    fn grantees_and_revokes() {
        assert_eq!(
            roles("GRANT SELECT ON TABLE public.t TO reader;"),
            ["reader"]
        );
        assert_eq!(
            roles("GRANT ALL ON SCHEMA public TO \"Read Only\" WITH GRANT OPTION;"),
            ["Read Only"]
        );
        assert_eq!(
            roles("REVOKE ALL ON TABLE public.t FROM auditor;"),
            ["auditor"]
        );
        assert_eq!(roles("GRANT USAGE ON SCHEMA s TO a, b;"), ["a", "b"]);
        assert!(roles("REVOKE USAGE ON SCHEMA public FROM PUBLIC;").is_empty());
        assert!(roles("GRANT ALL ON SCHEMA public TO PUBLIC;").is_empty());
    }

    #[test]
    fn default_privileges_name_both_roles() {
        assert_eq!(
            roles("ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA public GRANT SELECT ON TABLES TO reader;"),
            ["owner", "reader"]
        );
    }

    #[test]
    fn session_authorization() {
        assert_eq!(roles("SET SESSION AUTHORIZATION 'o''brien';"), ["o'brien"]);
    }

    #[test]
    fn other_lines_name_no_role() {
        for line in [
            "CREATE TABLE public.t (",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
            "ALTER TABLE public.t OWNER TO x, y;",
            "SELECT pg_catalog.set_config('search_path', '', false);",
            "-- GRANT ALL ON TABLE t TO x;",
            "GRANT ALL ON TABLE t TO x",
        ] {
            assert_eq!(parse_line(line), None, "{line}");
        }
    }
}
