//! Connection details of the local database: the URL (full and masked) and sqlx options.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

/// Characters escaped in the user-info and path parts of a URL (RFC 3986 reserved and more).
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'&')
    .add(b'=')
    .add(b'+')
    .add(b'\'');

/// How to reach the project's database from the host.
#[derive(Clone)]
pub struct ConnectionInfo {
    /// Host port on 127.0.0.1.
    pub port: u16,
    /// Role.
    pub user: String,
    /// Password (never printed by `Debug` or `Display`).
    pub password: String,
    /// Database.
    pub database: String,
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked_url())
    }
}

impl ConnectionInfo {
    /// The full DATABASE_URL, password included.
    pub fn url(&self) -> String {
        self.url_with_password(&encode(&self.password))
    }

    /// The URL with the password replaced by `***`, for logs and terminals.
    pub fn masked_url(&self) -> String {
        self.url_with_password("***")
    }

    fn url_with_password(&self, password: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            encode(&self.user),
            password,
            self.port,
            encode(&self.database)
        )
    }

    /// sqlx options for this database (statement logging off: the tool logs its own steps).
    pub fn options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(&self.user)
            .password(&self.password)
            .database(&self.database)
            .application_name("cargo-packit-db")
            .disable_statement_logging()
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(user: &str, password: &str, database: &str) -> ConnectionInfo {
        ConnectionInfo {
            port: 5432,
            user: user.into(),
            password: password.into(),
            database: database.into(),
        }
    }

    #[test]
    fn url_encodes_every_part() {
        let c = info("My User", "p@ss:w/rd", "db-1\"x");
        assert_eq!(
            c.url(),
            "postgres://My%20User:p%40ss%3Aw%2Frd@127.0.0.1:5432/db-1%22x"
        );
    }

    #[test]
    fn masked_url_and_debug_hide_the_password() {
        let c = info("app", "secret", "app");
        assert_eq!(c.masked_url(), "postgres://app:***@127.0.0.1:5432/app");
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn url_round_trips_through_sqlx_parser() {
        let c = info("My User", "p@ss:w/rd?&=", "Weird \"Db\"");
        let parsed: PgConnectOptions = c.url().parse().unwrap();
        assert_eq!(parsed.get_username(), "My User");
        assert_eq!(parsed.get_database(), Some("Weird \"Db\""));
        assert_eq!(parsed.get_port(), 5432);
    }
}
