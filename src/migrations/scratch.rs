//! Scratch databases for checks: temporary databases ([`crate::db::temporary`]) of kind
//! [`SCRATCH`], created empty in the project's container and owned by the application role,
//! connected to with settings for disposable data, and always dropped afterwards.
//!
//! They are created and dropped as the container's superuser: over a direct connection where
//! the application role is the superuser (the official images), else with psql in the
//! container (see [`Admin`]).

use std::sync::Arc;

use futures_util::future::{join_all, BoxFuture};
use sqlx::{Connection, PgConnection};

use crate::db::admin::{superuser_request, Admin, DirectSql};
use crate::db::snapshot::READER_SETTINGS;
use crate::db::temporary::{Temporaries, SCRATCH};
use crate::db::{AdminError, ConnectionInfo};
use crate::engine::Engine;
use crate::engine::EnvStyle;
use crate::migrations::roundtrip::ScratchDatabase;
use crate::migrations::MigrateError;

/// The database the scratch databases are managed from, and the lease lives on: never a
/// scratch database, nor the application database (a load into that one ends its sessions).
const MAINTENANCE_DB: &str = "postgres";

/// What the scratch databases of one run share: the container, superuser access and the
/// lease. The lease ends when the last of them is dropped, after their removal.
struct Run<'e> {
    engine: &'e Engine,
    container: String,
    style: EnvStyle,
    app: ConnectionInfo,
    direct: Option<DirectSql>,
    temporaries: Temporaries,
}

impl Run<'_> {
    fn admin(&self) -> Admin<'_> {
        Admin {
            engine: self.engine,
            container: &self.container,
            style: self.style,
            app_user: &self.app.user,
            maintenance_db: MAINTENANCE_DB,
            direct: self.direct.as_ref(),
        }
    }
}

/// A scratch database in a container.
pub(crate) struct Scratch<'e> {
    run: Arc<Run<'e>>,
    name: String,
}

/// A failed step on scratch databases.
fn blocked(e: AdminError) -> MigrateError {
    MigrateError::Blocked(e.to_string())
}

impl<'e> Scratch<'e> {
    /// Removes leftovers of runs that are gone, then creates `count` new, empty scratch
    /// databases at once. When one cannot be created, those that were are dropped again.
    pub(crate) async fn create_many(
        engine: &'e Engine,
        container: &str,
        style: EnvStyle,
        app: &ConnectionInfo,
        count: usize,
    ) -> Result<Vec<Scratch<'e>>, MigrateError> {
        let direct = match style {
            EnvStyle::Official => DirectSql::connect(app, MAINTENANCE_DB).await,
            EnvStyle::Sclorg => None,
        };
        let admin = Admin {
            engine,
            container,
            style,
            app_user: &app.user,
            maintenance_db: MAINTENANCE_DB,
            direct: direct.as_ref(),
        };
        let (temporaries, _) = Temporaries::open(&admin, SCRATCH).await.map_err(blocked)?;
        let created =
            join_all((0..count.max(1)).map(|_| temporaries.create(&admin, &app.user))).await;
        let mut names = Vec::new();
        let mut first_error = None;
        for outcome in created {
            match outcome {
                Ok(name) => names.push(name),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            let made: Vec<&str> = names.iter().map(String::as_str).collect();
            if !made.is_empty() {
                let _ = temporaries.drop(&admin, &made).await;
            }
            return Err(blocked(e));
        }
        let run = Arc::new(Run {
            engine,
            container: container.to_string(),
            style,
            app: app.clone(),
            direct,
            temporaries,
        });
        Ok(names
            .into_iter()
            .map(|name| Scratch {
                run: Arc::clone(&run),
                name,
            })
            .collect())
    }

    /// The scratch database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Connection details for the scratch database.
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            database: self.name.clone(),
            ..self.run.app.clone()
        }
    }

    /// Connects to the scratch database. Its data is disposable, so commits need not wait for
    /// the WAL flush (about 3 ms each, three times a migration). JIT is off: compiling the
    /// catalog queries of the snapshots would take longer than running them.
    pub(crate) async fn connect(&self) -> Result<PgConnection, MigrateError> {
        let database = |source| MigrateError::Database {
            action: format!("connect to scratch database {}", self.name),
            source,
        };
        let mut conn = PgConnection::connect_with(&self.info().options())
            .await
            .map_err(database)?;
        let mut settings = vec![("synchronous_commit", "off")];
        settings.extend(READER_SETTINGS);
        let mut set = sqlx::QueryBuilder::new("SELECT ");
        let mut columns = set.separated(", ");
        for (name, value) in settings {
            columns.push("set_config(");
            columns.push_bind_unseparated(name);
            columns.push_unseparated(", ");
            columns.push_bind_unseparated(value);
            columns.push_unseparated(", false)");
        }
        set.build().execute(&mut conn).await.map_err(database)?;
        Ok(conn)
    }

    /// Drops the scratch database and its checkpoint (terminating any session on them).
    pub(crate) async fn remove(&self) -> Result<(), MigrateError> {
        let checkpoint = self.checkpoint_name();
        self.run
            .temporaries
            .drop(&self.run.admin(), &[&self.name, &checkpoint])
            .await
            .map_err(blocked)
    }

    /// The name of the copy [`ScratchDatabase::checkpoint`] makes.
    fn checkpoint_name(&self) -> String {
        format!("{}_c", self.name)
    }

    /// Replaces database `name` (this one or its checkpoint) by a copy of `template`.
    async fn recreate(&self, name: &str, template: &str) -> Result<(), MigrateError> {
        let run = &self.run;
        let admin = run.admin();
        run.temporaries
            .drop(&admin, &[name])
            .await
            .map_err(blocked)?;
        run.temporaries
            .copy(&admin, name, template, &run.app.user)
            .await
            .map_err(blocked)
    }
}

impl ScratchDatabase for Scratch<'_> {
    fn checkpoint(
        &mut self,
        conn: PgConnection,
    ) -> BoxFuture<'_, Result<PgConnection, MigrateError>> {
        Box::pin(async move {
            // A template must have no session: ours closes, and comes back afterwards.
            let _ = conn.close().await;
            self.recreate(&self.checkpoint_name(), &self.name).await?;
            self.connect().await
        })
    }

    fn restore(&mut self) -> BoxFuture<'_, Result<PgConnection, MigrateError>> {
        Box::pin(async move {
            self.recreate(&self.name, &self.checkpoint_name()).await?;
            self.connect().await
        })
    }

    fn schema_dump(&mut self) -> BoxFuture<'_, Result<String, MigrateError>> {
        Box::pin(async move {
            // The container's own pg_dump (the server's version), as the superuser, so that
            // every object can be read whoever owns it.
            let cmd = ["pg_dump", "--schema-only", "--no-password"]
                .map(String::from)
                .to_vec();
            let run = &self.run;
            let request = superuser_request(run.style, &run.app.user, &self.name, cmd);
            let out = run
                .engine
                .exec_capture(&run.container, request, None)
                .await
                .map_err(|e| {
                    MigrateError::Blocked(format!(
                        "cannot dump scratch database {}: {e}",
                        self.name
                    ))
                })?;
            if out.code != 0 {
                return Err(MigrateError::Blocked(format!(
                    "pg_dump of scratch database {} failed: {}",
                    self.name, out.stderr
                )));
            }
            String::from_utf8(out.stdout).map_err(|_| {
                MigrateError::Blocked(format!("pg_dump of {} is not UTF-8", self.name))
            })
        })
    }
}
