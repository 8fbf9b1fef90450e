//! Taking a snapshot: one catalog query, its rows turned into the sorted model.

use sqlx::PgConnection;

use super::model::Snapshot;
use super::query::{snapshot_query, MIN_SERVER_VERSION_NUM};
use super::rows::{from_rows, Row};

/// Reads the schema of the database `conn` is connected to, in one round trip.
///
/// System schemas, objects that belong to an extension, and the migration tracking tables
/// (`_sqlx_migrations`, `__diesel_schema_migrations`, with everything attached to them) are
/// left out. Expressions and type names are rendered by the server as the session's
/// `search_path` sees them, so snapshots to compare should come from sessions with the same
/// `search_path`. Needs PostgreSQL 14 or newer.
pub async fn take(conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
    if let Some(version) = conn.server_version_num() {
        if version < MIN_SERVER_VERSION_NUM {
            return Err(sqlx::Error::Configuration(
                format!("schema snapshots need PostgreSQL 14 or newer (server version {version})")
                    .into(),
            ));
        }
    }
    // Planned at every call (an unnamed statement), not prepared once per connection: a plan
    // made while the database was still empty (the start of a migration chain) sees most
    // catalogs as one-row tables and nests loops over them, several times slower once the
    // database holds hundreds of tables. Planning costs a few milliseconds.
    let rows: Vec<Row> = sqlx::query_as(snapshot_query())
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    from_rows(rows).map_err(|message| sqlx::Error::Decode(message.into()))
}
