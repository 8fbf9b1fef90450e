//! `DATABASE_URL` as a source of settings: a `postgres://` URL that points at this machine
//! supplies the user, password, database and port; any other URL is left to other tools.

use std::path::Path;

use percent_encoding::percent_decode_str;

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

/// Parses a `DATABASE_URL`.
pub(crate) fn parse(url: &str) -> Result<UrlParts, Skip> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(Skip::Malformed("not a URL (no `://`)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(Skip::OtherScheme(scheme));
    }
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    if !is_local(host) {
        return Err(Skip::NotLocal(host.to_owned()));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(Skip::Malformed("invalid port")),
            Ok(p) => Some(p),
        },
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (decode(user, "user")?, decode(password, "password")?),
            None => (decode(info, "user")?, None),
        },
    };
    let database = decode(path, "database")?;
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

/// Splits `host[:port]` or `[v6][:port]`.
fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), Skip> {
    if let Some(after) = hostport.strip_prefix('[') {
        let (host, rest) = after
            .split_once(']')
            .ok_or(Skip::Malformed("unclosed '[' in host"))?;
        return match rest {
            "" => Ok((host, None)),
            _ => match rest.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(Skip::Malformed("unexpected text after ']' in host")),
            },
        };
    }
    Ok(match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

fn is_local(host: &str) -> bool {
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// Percent-decodes a URL part; empty parts count as absent.
fn decode(part: &str, what: &'static str) -> Result<Option<String>, Skip> {
    if part.is_empty() {
        return Ok(None);
    }
    let decoded = percent_decode_str(part).decode_utf8().map_err(|_| {
        Skip::Malformed(match what {
            "user" => "user name is not valid UTF-8 once percent-decoded",
            "password" => "password is not valid UTF-8 once percent-decoded",
            _ => "database name is not valid UTF-8 once percent-decoded",
        })
    })?;
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
