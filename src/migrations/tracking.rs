//! The tracking tables, exactly as each tool keeps them.
//!
//! sqlx: `_sqlx_migrations (version, description, installed_on, success, checksum,
//! execution_time)`, rows written the way `sqlx::migrate::Migrator` writes them (SHA-384 of the
//! up file, `success = true` inside the migration's transaction, execution time in
//! nanoseconds), so an app that runs `sqlx::migrate!()` at start-up sees our work as its own.
//! diesel: `__diesel_schema_migrations (version, run_on)`, which has no checksum, so edited
//! diesel migrations cannot be detected.

use sqlx::{PgConnection, Row};

use crate::migrations::error::MigrateError;
use crate::migrations::source::{Layout, Migration, Version};

/// One row of the tracking table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedRow {
    /// The applied migration's version.
    pub version: Version,
    /// The description recorded (sqlx only).
    pub description: Option<String>,
    /// The checksum recorded (sqlx only).
    pub checksum: Option<Vec<u8>>,
    /// False for a migration that failed outside a transaction (sqlx's "dirty").
    pub success: bool,
    /// When it was applied, as text.
    pub installed_on: String,
}

/// The other layout's tracking table, if it exists while ours does not.
pub async fn foreign_table(
    conn: &mut PgConnection,
    layout: Layout,
) -> Result<Option<Layout>, MigrateError> {
    let other = match layout {
        Layout::Sqlx => Layout::Diesel,
        Layout::Diesel => Layout::Sqlx,
    };
    if table_exists(conn, layout.tracking_table()).await? {
        return Ok(None);
    }
    Ok(table_exists(conn, other.tracking_table())
        .await?
        .then_some(other))
}

/// Whether a table is visible on the search path.
pub async fn table_exists(conn: &mut PgConnection, table: &str) -> Result<bool, MigrateError> {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(conn)
        .await
        .map_err(|source| db("look for the tracking table", source))
}

/// sqlx 0.8's tracking table, as its migrator creates it: a table made by either tool serves
/// the other.
pub const SQLX_TRACKING_DDL: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);";

/// diesel's tracking table, as diesel_migrations creates it.
pub const DIESEL_TRACKING_DDL: &str = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);";

/// Creates the tracking table if needed (the tool's own DDL).
pub async fn ensure(conn: &mut PgConnection, layout: Layout) -> Result<(), MigrateError> {
    let ddl = match layout {
        Layout::Sqlx => SQLX_TRACKING_DDL,
        Layout::Diesel => DIESEL_TRACKING_DDL,
    };
    sqlx::raw_sql(ddl)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|source| db("create the tracking table", source))
}

/// Every row, in version order (empty when the table does not exist).
pub async fn applied(
    conn: &mut PgConnection,
    layout: Layout,
) -> Result<Vec<AppliedRow>, MigrateError> {
    if !table_exists(conn, layout.tracking_table()).await? {
        return Ok(Vec::new());
    }
    let mut rows = match layout {
        Layout::Sqlx => sqlx::query(
            "SELECT version, description, checksum, success, installed_on::text AS installed_on
             FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|source| db("read _sqlx_migrations", source))?
        .into_iter()
        .map(|r| AppliedRow {
            version: Version::Sqlx(r.get("version")),
            description: Some(r.get("description")),
            checksum: Some(r.get("checksum")),
            success: r.get("success"),
            installed_on: r.get("installed_on"),
        })
        .collect::<Vec<_>>(),
        Layout::Diesel => {
            sqlx::query("SELECT version, run_on::text AS run_on FROM __diesel_schema_migrations")
                .fetch_all(&mut *conn)
                .await
                .map_err(|source| db("read __diesel_schema_migrations", source))?
                .into_iter()
                .map(|r| AppliedRow {
                    version: Version::Diesel(r.get("version")),
                    description: None,
                    checksum: None,
                    success: true,
                    installed_on: r.get("run_on"),
                })
                .collect()
        }
    };
    rows.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(rows)
}

/// Records a migration as applied (`success = false` marks a failed no-transaction one).
pub async fn record(
    conn: &mut PgConnection,
    migration: &Migration,
    success: bool,
) -> Result<(), MigrateError> {
    let result = match &migration.version {
        Version::Sqlx(v) => sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES ($1, $2, $3, $4, -1)",
        )
        .bind(v)
        .bind(&migration.description)
        .bind(success)
        .bind(&migration.checksum)
        .execute(conn)
        .await,
        Version::Diesel(v) => {
            sqlx::query("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)")
                .bind(v)
                .execute(conn)
                .await
        }
    };
    result
        .map(|_| ())
        .map_err(|source| db(&format!("record migration {}", migration.version), source))
}

/// Stores the execution time (sqlx only, in nanoseconds, as sqlx does after the commit).
pub async fn set_execution_time(
    conn: &mut PgConnection,
    version: &Version,
    nanos: i64,
) -> Result<(), MigrateError> {
    if let Version::Sqlx(v) = version {
        sqlx::query("UPDATE _sqlx_migrations SET execution_time = $1 WHERE version = $2")
            .bind(nanos)
            .bind(v)
            .execute(conn)
            .await
            .map_err(|source| db(&format!("record the execution time of {version}"), source))?;
    }
    Ok(())
}

/// Deletes a migration's row (after its down ran).
pub async fn remove(conn: &mut PgConnection, version: &Version) -> Result<(), MigrateError> {
    let result = match version {
        Version::Sqlx(v) => {
            sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
                .bind(v)
                .execute(conn)
                .await
        }
        Version::Diesel(v) => {
            sqlx::query("DELETE FROM __diesel_schema_migrations WHERE version = $1")
                .bind(v)
                .execute(conn)
                .await
        }
    };
    result.map(|_| ()).map_err(|source| {
        db(
            &format!("remove migration {version} from the tracking table"),
            source,
        )
    })
}

pub(crate) fn db(action: &str, source: sqlx::Error) -> MigrateError {
    MigrateError::Database {
        action: action.to_string(),
        source,
    }
}
