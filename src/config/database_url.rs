//! `DATABASE_URL` as a source of settings: a `postgres://` URL that points at this machine
//! supplies the user, password, database and port; any other URL is left to other tools.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use percent_encoding::percent_decode_str;
use url::{Host, ParseError, Url};

use super::error::ValueOrigin;
use super::layer::{is_valid_ident, is_valid_password, Layer, Val};

/// The settings a `DATABASE_URL` supplies; every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) port: Option<u16>,
}

/// Why a `DATABASE_URL` is not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Not a `postgres://` or `postgresql://` URL.
    OtherScheme(String),
    /// A PostgreSQL URL for another host (or a Unix socket).
    NotLocal(String),
    /// Not a URL that can be understood; the reason never contains the password.
    Malformed(&'static str),
}

/// Parses a `DATABASE_URL`. Query parameters (`?host=/run/postgresql` included) and the
/// fragment are ignored.
pub(crate) fn parse(url: &str) -> Result<UrlParts, Skip> {
    let url = url.trim();
    // The scheme is read before parsing so that another tool's URL is recognised as such
    // (and skipped quietly) even when it is not one `Url` accepts.
    let (scheme, _) = url
        .split_once("://")
        .ok_or(Skip::Malformed("not a URL (no `://`)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(Skip::OtherScheme(scheme));
    }
    // `Url` silently drops tabs and line breaks anywhere in its input, which would turn
    // `my<TAB>db` into another database name.
    if url.contains(['\t', '\n', '\r']) {
        return Err(Skip::Malformed("tab or line break inside the URL"));
    }
    let url = Url::parse(url).map_err(|error| Skip::Malformed(parse_error(error)))?;
    match url.host() {
        Some(host) if is_local(&host) => {}
        Some(Host::Ipv6(addr)) => return Err(Skip::NotLocal(addr.to_string())),
        Some(host) => return Err(Skip::NotLocal(host.to_string())),
        None => return Err(Skip::NotLocal(String::new())),
    }
    let port = match url.port() {
        Some(0) => return Err(Skip::Malformed("invalid port")),
        port => port,
    };
    let user = decode(
        url.username(),
        "user name is not valid UTF-8 once percent-decoded",
    )?;
    let password = decode(
        url.password().unwrap_or_default(),
        "password is not valid UTF-8 once percent-decoded",
    )?;
    let database = decode(
        url.path().strip_prefix('/').unwrap_or_default(),
        "database name is not valid UTF-8 once percent-decoded",
    )?;
    if user.as_deref().is_some_and(|u| !is_valid_ident(u)) {
        return Err(Skip::Malformed("invalid user name"));
    }
    if database.as_deref().is_some_and(|d| !is_valid_ident(d)) {
        return Err(Skip::Malformed("invalid database name"));
    }
    if password.as_deref().is_some_and(|p| !is_valid_password(p)) {
        return Err(Skip::Malformed("invalid password"));
    }
    Ok(UrlParts {
        user,
        password,
        database,
        port,
    })
}

/// Why `Url` refused a URL, in words that never quote the URL.
fn parse_error(error: ParseError) -> &'static str {
    match error {
        ParseError::InvalidPort => "invalid port",
        ParseError::InvalidIpv6Address => "invalid IPv6 address in host",
        ParseError::EmptyHost => "empty host",
        ParseError::InvalidDomainCharacter => "invalid character in host",
        _ => "not a valid URL",
    }
}

/// `localhost`, `127.0.0.1` or `[::1]`. To the URL standard `postgres:` is not a special
/// scheme, so `Url` keeps its host as written (no lowercasing, no IPv4 parsing) unless it is
/// an IPv6 address in brackets.
fn is_local(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost") || *name == "127.0.0.1",
        Host::Ipv4(addr) => *addr == Ipv4Addr::LOCALHOST,
        Host::Ipv6(addr) => *addr == Ipv6Addr::LOCALHOST,
    }
}

/// Percent-decodes a URL part; empty parts count as absent. `not_utf8` is the reason given
/// when the decoded bytes are not UTF-8.
fn decode(part: &str, not_utf8: &'static str) -> Result<Option<String>, Skip> {
    let decoded = percent_decode_str(part)
        .decode_utf8()
        .map_err(|_| Skip::Malformed(not_utf8))?;
    Ok((!decoded.is_empty()).then(|| decoded.into_owned()))
}

/// The layer a `DATABASE_URL` contributes (empty when the URL is not used). `file` is the
/// `.env` file it was read from, `None` for the process environment.
pub(crate) fn layer(url: &str, file: Option<&Path>) -> Layer {
    let origin = match file {
        Some(path) => ValueOrigin::DotEnv {
            path: path.to_path_buf(),
            var: "DATABASE_URL".to_owned(),
        },
        None => ValueOrigin::EnvVar("DATABASE_URL".to_owned()),
    };
    let parts = match parse(url) {
        Ok(parts) => parts,
        Err(Skip::OtherScheme(scheme)) => {
            tracing::debug!("ignoring DATABASE_URL from {origin}: {scheme}:// is not PostgreSQL");
            return Layer::default();
        }
        Err(Skip::NotLocal(host)) => {
            tracing::debug!("ignoring DATABASE_URL from {origin}: host {host:?} is not local");
            return Layer::default();
        }
        Err(Skip::Malformed(reason)) => {
            tracing::warn!("ignoring DATABASE_URL from {origin}: {reason}");
            return Layer::default();
        }
    };
    Layer {
        user: parts.user.map(|v| Val::new(v, &origin)),
        password: parts.password.map(|v| Val::new(v, &origin)),
        database: parts.database.map(|v| Val::new(v, &origin)),
        port: parts.port.map(|v| Val::new(v, &origin)),
        ..Layer::default()
    }
}
