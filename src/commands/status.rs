//! `status`: engine, container and database reachability, with a plain-language diagnosis.

use serde::Serialize;

use crate::commands::connect;
use crate::config::{Config, EnvStyle};
use crate::db::container::connection_info;
use crate::db::{probe, ProbeFailure};
use crate::engine::{generate_password, ContainerInfo, ContainerState, EngineInfo};
use crate::error::Error;
use crate::migrations::source::read_set;
use crate::migrations::{read_status, State};
use crate::ui::{self, Format};

/// Arguments of `status`.
#[derive(Clone, Debug, Default)]
pub struct StatusArgs {
    /// Output format.
    pub format: Format,
}

/// The whole report (the JSON shape of `status --format json`).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// The engine that answered.
    pub engine: EngineInfo,
    /// The project's container.
    pub container: ContainerReport,
    /// The database, when the container runs.
    pub database: Option<DatabaseReport>,
    /// The migrations, when the database answers and the project has a migrations folder.
    pub migrations: Option<MigrationsReport>,
    /// One sentence: what state things are in and what to run next.
    pub diagnosis: String,
}

/// The container part of the report.
#[derive(Debug, Serialize)]
pub struct ContainerReport {
    /// Its name.
    pub name: String,
    /// Whether it exists.
    pub exists: bool,
    /// Whether this tool created it.
    pub managed: bool,
    /// running / stopped / ...
    pub state: Option<String>,
    /// The image it runs.
    pub image: Option<String>,
    /// Host port on 127.0.0.1.
    pub port: Option<u16>,
    /// Environment style.
    pub env_style: Option<EnvStyle>,
    /// Settings that differ from the configuration.
    pub differences: Vec<String>,
}

/// The database part of the report.
#[derive(Debug, Serialize)]
pub struct DatabaseReport {
    /// The URL with the password masked.
    pub url: String,
    /// Whether `SELECT 1` succeeded.
    pub reachable: bool,
    /// The server version, when reachable.
    pub server_version: Option<String>,
    /// Why not, when not.
    pub error: Option<String>,
}

/// The migrations part of the report.
#[derive(Debug, Serialize)]
pub struct MigrationsReport {
    /// The folder.
    pub folder: String,
    /// Counts per state.
    pub applied: usize,
    /// Not applied yet.
    pub pending: usize,
    /// Edited after being applied.
    pub modified: usize,
    /// Applied, not in the folder.
    pub missing_locally: usize,
    /// Failed outside a transaction.
    pub failed: usize,
    /// What to do, or why the folder could not be read.
    pub diagnosis: String,
    /// Whether something needs doing.
    pub attention: bool,
}

/// Runs `status`.
pub async fn status(config: &Config, args: &StatusArgs) -> Result<(), Error> {
    let engine = connect(config).await?;
    let container = engine.inspect_container(&config.container).await;
    let engine_info = engine.info().clone();
    engine.close().await;
    let report = build(config, engine_info, container?).await;
    match args.format {
        Format::Json => ui::print_json(&report),
        Format::Human => print_human(&report),
    }
    Ok(())
}

async fn build(
    config: &Config,
    engine: EngineInfo,
    container: Option<ContainerInfo>,
) -> StatusReport {
    let name = config.container.clone();
    let Some(c) = container else {
        return StatusReport {
            engine,
            container: ContainerReport {
                name: name.clone(),
                exists: false,
                managed: false,
                state: None,
                image: None,
                port: None,
                env_style: None,
                differences: Vec::new(),
            },
            database: None,
            migrations: None,
            diagnosis: format!("no container `{name}`: run `cargo packit-db up`"),
        };
    };
    let managed = c.is_ours();
    let spec = config.container_spec(config.password.clone().unwrap_or_else(generate_password));
    let differences = if managed {
        spec.differences(&c.observed, config.password.is_some())
    } else {
        Vec::new()
    };
    let report = ContainerReport {
        name: name.clone(),
        exists: true,
        managed,
        state: Some(c.state.to_string()),
        image: Some(c.observed.image.clone()),
        port: c.host_port,
        env_style: Some(c.observed.env_style()),
        differences: differences.clone(),
    };
    let mut database = None;
    let mut migrations = None;
    let diagnosis = if !managed {
        format!("a container named `{name}` exists but was not created by cargo-packit-db: set `container` to another name")
    } else if c.state != ContainerState::Running {
        format!(
            "container `{name}` is {}: run `cargo packit-db up`",
            c.state
        )
    } else if let Some(info) = connection_info(&c) {
        let probed = probe(&info).await;
        let (reachable, server_version, error) = match probed {
            Ok(v) => (true, Some(v), None),
            Err(ProbeFailure::AuthFailed) => (false, None, Some("password rejected".to_string())),
            Err(ProbeFailure::Transient(e)) => (false, None, Some(e)),
        };
        let sentence = match (&server_version, &error) {
            (Some(v), _) if differences.is_empty() => format!("ready: PostgreSQL {v} at {}", info.masked_url()),
            (Some(v), _) => format!(
                "running PostgreSQL {v}, but its settings differ from the configuration ({}): run `cargo packit-db up --recreate`",
                differences.join(", ")
            ),
            (None, e) => format!(
                "container `{name}` runs but PostgreSQL does not answer ({}): run `cargo packit-db up` to wait for it",
                e.as_deref().unwrap_or("unknown error")
            ),
        };
        let migrations_report = if reachable {
            migrations_report(config, &info).await
        } else {
            None
        };
        database = Some(DatabaseReport {
            url: info.masked_url(),
            reachable,
            server_version,
            error,
        });
        let sentence = match &migrations_report {
            Some(m) if m.attention && differences.is_empty() => m.diagnosis.clone(),
            _ => sentence,
        };
        migrations = migrations_report;
        sentence
    } else {
        format!(
            "container `{name}` runs without a published port: run `cargo packit-db up --recreate`"
        )
    };
    StatusReport {
        engine,
        container: report,
        database,
        migrations,
        diagnosis,
    }
}

/// The migration summary; `None` when the project has no migrations folder.
async fn migrations_report(
    config: &Config,
    info: &crate::db::ConnectionInfo,
) -> Option<MigrationsReport> {
    if !config.migrations.exists() {
        return None;
    }
    let folder = config.migrations.display().to_string();
    let status = match read_set(&config.migrations, config.layout) {
        Ok(set) => read_status(info, &set).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    Some(match status {
        Ok(st) => MigrationsReport {
            folder,
            applied: st.count(State::Applied),
            pending: st.count(State::Pending),
            modified: st.count(State::Modified),
            missing_locally: st.count(State::MissingLocally),
            failed: st.count(State::Failed),
            attention: st.blocking() || st.count(State::Pending) > 0,
            diagnosis: st.diagnosis,
        },
        Err(e) => MigrationsReport {
            folder,
            applied: 0,
            pending: 0,
            modified: 0,
            missing_locally: 0,
            failed: 0,
            attention: true,
            diagnosis: e,
        },
    })
}

fn print_human(r: &StatusReport) {
    println!(
        "engine     {} {} (API {}) at {}",
        r.engine.kind, r.engine.version, r.engine.api_version, r.engine.endpoint
    );
    if r.container.exists {
        println!(
            "container  {} ({}), image {}, port {}",
            r.container.name,
            r.container.state.as_deref().unwrap_or("unknown"),
            r.container.image.as_deref().unwrap_or("unknown"),
            r.container
                .port
                .map_or("none".into(), |p| format!("127.0.0.1:{p}")),
        );
    } else {
        println!("container  {} (absent)", r.container.name);
    }
    if let Some(db) = &r.database {
        match (&db.server_version, &db.error) {
            (Some(v), _) => println!("database   {} (PostgreSQL {v})", db.url),
            (None, e) => println!(
                "database   {} (not reachable: {})",
                db.url,
                e.as_deref().unwrap_or("unknown")
            ),
        }
    }
    if let Some(m) = &r.migrations {
        println!(
            "migrations {}: {} applied, {} pending{}{}{}",
            m.folder,
            m.applied,
            m.pending,
            if m.modified > 0 {
                format!(", {} modified", m.modified)
            } else {
                String::new()
            },
            if m.missing_locally > 0 {
                format!(", {} missing locally", m.missing_locally)
            } else {
                String::new()
            },
            if m.failed > 0 {
                format!(", {} failed", m.failed)
            } else {
                String::new()
            },
        );
    }
    println!("\n{}", r.diagnosis);
}
