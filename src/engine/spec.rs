//! The project's Postgres container as data: what `up` creates, and how an existing container
//! is compared with the configuration.
//!
//! Pure logic, no engine calls: [`ContainerSpec`] is built from the configuration (by
//! `Config::container_spec`) and a password, and [`ContainerSpec::differences`] tells whether
//! an existing container matches.

use std::collections::BTreeMap;
use std::fmt;

use rand::distr::{Alphanumeric, SampleString};

/// Label present on every container and volume this tool creates.
pub const LABEL_MANAGED: &str = "io.github.packit-db.managed";
/// Label holding the project name.
pub const LABEL_PROJECT: &str = "io.github.packit-db.project";
/// Label recording the environment style the container was created with.
pub const LABEL_ENV_STYLE: &str = "io.github.packit-db.env-style";
/// Label recording the host port asked for at creation (`0` = any). Podman reports the port it
/// picked as if it had been asked for, so the binding alone cannot tell.
pub const LABEL_PORT: &str = "io.github.packit-db.port";
/// Label (on the volume) recording the user the data directory was initialised for.
pub const LABEL_USER: &str = "io.github.packit-db.user";
/// Label (on the volume) recording the database the data directory was initialised for.
pub const LABEL_DATABASE: &str = "io.github.packit-db.database";

/// The port PostgreSQL listens on inside the container.
pub const CONTAINER_PORT: &str = "5432/tcp";

/// How a PostgreSQL image is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvStyle {
    /// The Docker official image: `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`.
    Official,
    /// Software Collections images: `POSTGRESQL_USER`, `POSTGRESQL_PASSWORD`,
    /// `POSTGRESQL_DATABASE`.
    Sclorg,
}

impl EnvStyle {
    /// The data directory inside the container (where the volume is mounted).
    pub fn data_dir(self) -> &'static str {
        match self {
            Self::Official => "/var/lib/postgresql/data",
            Self::Sclorg => "/var/lib/pgsql/data",
        }
    }
}

impl fmt::Display for EnvStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Official => "official",
            Self::Sclorg => "sclorg",
        })
    }
}

/// Everything needed to create the project's container.
#[derive(Clone)]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// Fully qualified image reference.
    pub image: String,
    /// Which environment-variable contract the image follows.
    pub env_style: EnvStyle,
    /// Application role.
    pub user: String,
    /// Application database.
    pub database: String,
    /// Password of the application role.
    pub password: String,
    /// Host port on 127.0.0.1 (0 = the engine picks a free one).
    pub port: u16,
    /// Name of the data volume.
    pub volume: String,
    /// Labels for the container and the volume.
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for ContainerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerSpec")
            .field("name", &self.name)
            .field("image", &self.image)
            .field("env_style", &self.env_style)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("password", &"***")
            .field("port", &self.port)
            .field("volume", &self.volume)
            .finish()
    }
}

/// The volume name for a container name.
pub fn volume_name(container: &str) -> String {
    format!("{container}-data")
}

/// The labels of a container and its volume: `extra` (the configured ones) and this tool's own:
/// managed, the project, and the style and requested port that the comparison reads back.
pub fn container_labels(
    extra: &BTreeMap<String, String>,
    project: &str,
    env_style: EnvStyle,
    port: u16,
) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.insert(LABEL_MANAGED.into(), "true".into());
    labels.insert(LABEL_PROJECT.into(), project.to_string());
    labels.insert(LABEL_ENV_STYLE.into(), env_style.to_string());
    labels.insert(LABEL_PORT.into(), port.to_string());
    labels
}

/// The names of the user, password and database variables for a style.
pub fn env_keys(style: EnvStyle) -> (&'static str, &'static str, &'static str) {
    match style {
        EnvStyle::Official => ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"),
        EnvStyle::Sclorg => (
            "POSTGRESQL_USER",
            "POSTGRESQL_PASSWORD",
            "POSTGRESQL_DATABASE",
        ),
    }
}

/// What the comparison needs to know about an existing container.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The image it was created from (as given at creation).
    pub image: String,
    /// Its environment, `KEY=VALUE`.
    pub env: Vec<String>,
    /// Its labels, the tool's and the configured ones.
    pub labels: BTreeMap<String, String>,
    /// The host port requested at creation (`None` = any).
    pub requested_port: Option<u16>,
}

impl Observed {
    /// The value of an environment variable.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|kv| kv.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }

    /// The style recorded in its labels (official when absent).
    pub fn env_style(&self) -> EnvStyle {
        match self.labels.get(LABEL_ENV_STYLE).map(String::as_str) {
            Some("sclorg") => EnvStyle::Sclorg,
            _ => EnvStyle::Official,
        }
    }

    /// The password it was created with.
    pub fn password(&self) -> Option<&str> {
        self.env_var(env_keys(self.env_style()).1)
    }
}

impl ContainerSpec {
    /// The container's environment.
    pub fn env(&self) -> Vec<String> {
        let (user, password, database) = env_keys(self.env_style);
        vec![
            format!("{user}={}", self.user),
            format!("{password}={}", self.password),
            format!("{database}={}", self.database),
        ]
    }

    /// Labels for the data volume: the container's plus what the data was initialised for.
    pub fn volume_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.labels.clone();
        labels.insert(LABEL_USER.into(), self.user.clone());
        labels.insert(LABEL_DATABASE.into(), self.database.clone());
        labels
    }

    /// Settings in which `observed` differs from this spec, as `key: old -> new` (passwords
    /// are never shown). `password_configured` says whether a differing password matters.
    pub fn differences(&self, observed: &Observed, password_configured: bool) -> Vec<String> {
        let mut out = Vec::new();
        if observed.image != self.image {
            out.push(format!("image: {} -> {}", observed.image, self.image));
        }
        let style = observed.env_style();
        if style != self.env_style {
            out.push(format!("env_style: {style} -> {}", self.env_style));
        }
        let (user_key, _, db_key) = env_keys(style);
        let user = observed.env_var(user_key).unwrap_or("");
        if user != self.user {
            out.push(format!("user: {user} -> {}", self.user));
        }
        let database = observed.env_var(db_key).unwrap_or("");
        if database != self.database {
            out.push(format!("database: {database} -> {}", self.database));
        }
        if self.port != 0 && observed.requested_port != Some(self.port) {
            let old = observed
                .requested_port
                .map_or("any".to_string(), |p| p.to_string());
            out.push(format!("port: {old} -> {}", self.port));
        }
        if password_configured && observed.password() != Some(self.password.as_str()) {
            out.push("password: changed".into());
        }
        out
    }

    /// Settings in which the data volume (by its labels) differs from this spec.
    pub fn volume_differences(&self, volume_labels: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for (key, name, want) in [
            (LABEL_USER, "user", &self.user),
            (LABEL_DATABASE, "database", &self.database),
        ] {
            if let Some(have) = volume_labels.get(key) {
                if have != want {
                    out.push(format!("{name}: {have} -> {want}"));
                }
            }
        }
        if let Some(have) = volume_labels.get(LABEL_ENV_STYLE) {
            if *have != self.env_style.to_string() {
                out.push(format!("env_style: {have} -> {}", self.env_style));
            }
        }
        out
    }
}

/// The project named by `labels` (a container's or a volume's) when it is not `project`. A
/// container or volume without the project label (made by hand with the tool's label) is not
/// attributed to another project.
pub fn other_project<'a>(labels: &'a BTreeMap<String, String>, project: &str) -> Option<&'a str> {
    labels
        .get(LABEL_PROJECT)
        .map(String::as_str)
        .filter(|owner| *owner != project)
}

/// A random password of 32 letters and digits (URL-safe, shell-safe).
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// `len` random lowercase letters and digits: the part of a generated name (a throwaway
/// container's, a temporary database's) that keeps it from meeting another.
pub fn random_suffix(len: usize) -> String {
    Alphanumeric
        .sample_string(&mut rand::rng(), len)
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ContainerSpec {
        ContainerSpec {
            name: "app-packit-db".into(),
            image: "docker.io/library/postgres:17".into(),
            env_style: EnvStyle::Official,
            user: "app".into(),
            database: "app".into(),
            password: "s3cret-password".into(),
            port: 0,
            volume: "app-packit-db-data".into(),
            labels: BTreeMap::from([(LABEL_ENV_STYLE.to_string(), "official".to_string())]),
        }
    }

    fn observed_from(spec: &ContainerSpec) -> Observed {
        Observed {
            image: spec.image.clone(),
            env: spec.env(),
            labels: spec.labels.clone(),
            requested_port: None,
        }
    }

    #[test]
    fn identical_settings_have_no_differences() {
        let s = spec();
        assert!(s.differences(&observed_from(&s), true).is_empty());
    }

    #[test]
    fn each_setting_is_reported_without_the_password() {
        let s = spec();
        let mut o = observed_from(&s);
        o.image = "docker.io/library/postgres:16".into();
        o.env = vec![
            "POSTGRES_USER=old".into(),
            "POSTGRES_PASSWORD=other".into(),
            "POSTGRES_DB=olddb".into(),
        ];
        let mut wanted = s.clone();
        wanted.port = 5433;
        let diff = wanted.differences(&o, true);
        assert_eq!(
            diff,
            vec![
                "image: docker.io/library/postgres:16 -> docker.io/library/postgres:17",
                "user: old -> app",
                "database: olddb -> app",
                "port: any -> 5433",
                "password: changed",
            ]
        );
        assert!(!diff.join(" ").contains("other"));
        assert!(!diff.join(" ").contains("s3cret"));
    }

    #[test]
    fn generated_password_difference_is_ignored() {
        let s = spec();
        let mut o = observed_from(&s);
        o.env[1] = "POSTGRES_PASSWORD=kept-from-before".into();
        assert!(s.differences(&o, false).is_empty());
    }

    #[test]
    fn sclorg_uses_its_own_variables() {
        let mut s = spec();
        s.env_style = EnvStyle::Sclorg;
        assert_eq!(
            s.env(),
            vec![
                "POSTGRESQL_USER=app",
                "POSTGRESQL_PASSWORD=s3cret-password",
                "POSTGRESQL_DATABASE=app"
            ]
        );
    }

    #[test]
    fn volume_initialised_for_another_user_is_reported() {
        let s = spec();
        let labels = BTreeMap::from([
            (LABEL_USER.to_string(), "other".to_string()),
            (LABEL_DATABASE.to_string(), "app".to_string()),
        ]);
        assert_eq!(s.volume_differences(&labels), vec!["user: other -> app"]);
    }

    #[test]
    fn only_a_project_label_naming_another_project_is_another_project() {
        let labelled = |project: &str| {
            BTreeMap::from([
                (LABEL_MANAGED.to_string(), "true".to_string()),
                (LABEL_PROJECT.to_string(), project.to_string()),
            ])
        };
        assert_eq!(other_project(&labelled("shop"), "blog"), Some("shop"));
        assert_eq!(other_project(&labelled("shop"), "shop"), None);
        let unlabelled = BTreeMap::from([(LABEL_MANAGED.to_string(), "true".to_string())]);
        assert_eq!(other_project(&unlabelled, "blog"), None);
    }

    #[test]
    fn passwords_are_long_and_random() {
        let a = generate_password();
        assert_eq!(a.len(), 32);
        assert_ne!(a, generate_password());
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!format!("{:?}", spec()).contains("s3cret"));
    }
}
