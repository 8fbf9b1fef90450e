//! Container image references: normalisation to fully qualified names and detection of
//! Software Collections (sclorg) PostgreSQL images.

/// Normalises an image reference the way Docker does, so that Podman (which refuses short
/// names without a registry configuration) accepts it too.
///
/// When the first path component has no `.` or `:` and is not `localhost`, it is not a
/// registry: `docker.io/` is prefixed, and `docker.io/library/` for single-component names
/// (`docker.io/postgres` also becomes `docker.io/library/postgres`). `:latest` is added when
/// there is neither a tag nor a digest.
///
/// ```
/// use cargo_packit_db::config::normalize_image;
/// assert_eq!(normalize_image("postgres:16"), "docker.io/library/postgres:16");
/// assert_eq!(normalize_image("bitnami/postgresql"), "docker.io/bitnami/postgresql:latest");
/// assert_eq!(normalize_image("localhost/x/y:1"), "localhost/x/y:1");
/// ```
pub fn normalize_image(s: &str) -> String {
    let s = s.trim();
    let (name, digest) = match s.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (s, None),
    };
    let mut components: Vec<&str> = name.split('/').collect();
    let has_registry = components.len() > 1 && {
        let first = components[0];
        first.contains('.') || first.contains(':') || first == "localhost"
    };
    let mut out = String::with_capacity(s.len() + 24);
    if has_registry {
        let registry = components.remove(0);
        out.push_str(registry);
        out.push('/');
        if registry == "docker.io" && components.len() == 1 {
            out.push_str("library/");
        }
    } else {
        out.push_str("docker.io/");
        if components.len() == 1 {
            out.push_str("library/");
        }
    }
    out.push_str(&components.join("/"));
    let last = components.last().copied().unwrap_or("");
    match digest {
        Some(digest) => {
            out.push('@');
            out.push_str(digest);
        }
        None if !last.contains(':') => out.push_str(":latest"),
        None => {}
    }
    out
}

/// Whether a (normalised) image looks like a Software Collections PostgreSQL image, which
/// is configured with `POSTGRESQL_*` variables and keeps its data in `/var/lib/pgsql/data`.
///
/// True when the repository path contains `sclorg`, matches
/// `registry.redhat.io/rhel*/postgresql-*`, or its last component starts with
/// `postgresql-` (such as `quay.io/fedora/postgresql-16`).
pub fn is_sclorg_image(image: &str) -> bool {
    let repository = repository_path(image);
    if repository.contains("sclorg") {
        return true;
    }
    let components: Vec<&str> = repository.split('/').collect();
    if let ["registry.redhat.io", namespace, name] = components.as_slice() {
        if namespace.starts_with("rhel") && name.starts_with("postgresql-") {
            return true;
        }
    }
    components
        .last()
        .is_some_and(|last| last.starts_with("postgresql-"))
}

/// The image reference without its tag and digest.
fn repository_path(image: &str) -> &str {
    let name = image.split_once('@').map_or(image, |(name, _)| name);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].find(':') {
        Some(colon) => &name[..last_slash + colon],
        None => name,
    }
}
