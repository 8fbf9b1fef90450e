//! Scratch databases for checks: created empty in the project's container, marked so they can
//! never be confused with a user's database, and always dropped afterwards.
//!
//! A scratch database is named `packit_scratch_<pid>_<random>` and carries a comment that
//! marks it as ours. A run first drops the marked scratch databases nobody is connected to
//! (left by a killed run); a database with that name but without the mark is never touched.
//! Creation and removal go through the application role when it may create databases (the
//! official images make it the superuser), else through the container's superuser (see
//! `admin`).

use futures_util::future::{join_all, BoxFuture};
use rand::distr::{Alphanumeric, SampleString};
use sqlx::{Connection, PgConnection};

use crate::commands::admin::{superuser_psql, superuser_request};
use crate::config::EnvStyle;
use crate::db::snapshot::READER_SETTINGS;
use crate::db::{quote_ident, quote_literal, ConnectionInfo};
use crate::engine::Engine;
use crate::migrations::roundtrip::ScratchDatabase;
use crate::migrations::MigrateError;

/// The comment that marks a scratch database as this tool's.
pub(crate) const SCRATCH_MARK: &str = "cargo-packit-db scratch database: safe to drop";
/// The prefix of scratch database names.
pub(crate) const SCRATCH_PREFIX: &str = "packit_scratch_";
/// SQLSTATE of "permission denied".
const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// A scratch database in a container.
pub(crate) struct Scratch<'e> {
    engine: &'e Engine,
    container: String,
    style: EnvStyle,
    app: ConnectionInfo,
    name: String,
}

impl<'e> Scratch<'e> {
    /// Removes leftovers of killed runs, then creates `count` new, empty scratch databases at
    /// once. When one cannot be created, those that were are dropped again.
    pub(crate) async fn create_many(
        engine: &'e Engine,
        container: &str,
        style: EnvStyle,
        app: &ConnectionInfo,
        count: usize,
    ) -> Result<Vec<Scratch<'e>>, MigrateError> {
        let all: Vec<Scratch<'e>> = (0..count.max(1))
            .map(|_| {
                let suffix = Alphanumeric
                    .sample_string(&mut rand::rng(), 8)
                    .to_lowercase();
                Scratch {
                    engine,
                    container: container.to_string(),
                    style,
                    app: app.clone(),
                    name: format!("{SCRATCH_PREFIX}{}_{suffix}", std::process::id()),
                }
            })
            .collect();
        // Once, before any is created: a new one nobody is connected to yet looks like a
        // leftover.
        all[0].drop_leftovers().await?;
        let created = join_all(all.iter().map(Scratch::create_database)).await;
        let mut made = Vec::new();
        let mut first_error = None;
        for (scratch, outcome) in all.iter().zip(created) {
            match outcome {
                Ok(()) => made.push(scratch),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            join_all(made.into_iter().map(Scratch::remove)).await;
            return Err(e);
        }
        Ok(all)
    }

    /// The scratch database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Connection details for the scratch database.
    pub(crate) fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            database: self.name.clone(),
            ..self.app.clone()
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
        let drops = [&self.name, &checkpoint]
            .map(|name| format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)));
        let drops = [drops[0].as_str(), drops[1].as_str()];
        if self.as_app_role(&drops).await? {
            return Ok(());
        }
        self.superuser(format!("{};\n{};\n", drops[0], drops[1]))
            .await
    }

    /// The name of the copy [`ScratchDatabase::checkpoint`] makes.
    fn checkpoint_name(&self) -> String {
        format!("{}_c", self.name)
    }

    /// Creates database `name`, marked, as a copy of `template`.
    async fn create_copy(&self, name: &str, template: &str) -> Result<(), MigrateError> {
        let name = quote_ident(name);
        let create = format!(
            "CREATE DATABASE {name} OWNER {} TEMPLATE {}",
            quote_ident(&self.app.user),
            quote_ident(template)
        );
        let comment = format!(
            "COMMENT ON DATABASE {name} IS {}",
            quote_literal(SCRATCH_MARK)
        );
        if self.as_app_role(&[&create, &comment]).await? {
            return Ok(());
        }
        self.superuser(format!("{create};\n{comment};\n")).await
    }

    /// Drops database `name` if it exists.
    async fn drop_database(&self, name: &str) -> Result<(), MigrateError> {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
        if self.as_app_role(&[&drop]).await? {
            return Ok(());
        }
        self.superuser(format!("{drop};\n")).await
    }

    async fn create_database(&self) -> Result<(), MigrateError> {
        self.create_copy(&self.name, "template0").await
    }

    /// Runs the statements on the application database as the application role, when it has
    /// the privilege (the official images make it the superuser): a connection costs a few
    /// milliseconds, psql through the engine a few hundred. `false`: it has not (an sclorg
    /// image's role may not create databases), nothing was done, and the superuser must.
    async fn as_app_role(&self, statements: &[&str]) -> Result<bool, MigrateError> {
        let database = |source| MigrateError::Database {
            action: format!("manage scratch database {}", self.name),
            source,
        };
        let mut conn = PgConnection::connect_with(&self.app.options())
            .await
            .map_err(database)?;
        let mut outcome = Ok(true);
        for (i, statement) in statements.iter().enumerate() {
            match sqlx::query(statement)
                .persistent(false)
                .execute(&mut conn)
                .await
            {
                Ok(_) => {}
                // Only the first statement may be refused: after it, the role owns the database.
                Err(sqlx::Error::Database(e))
                    if i == 0 && e.code().as_deref() == Some(INSUFFICIENT_PRIVILEGE) =>
                {
                    outcome = Ok(false);
                    break;
                }
                Err(source) => {
                    outcome = Err(database(source));
                    break;
                }
            }
        }
        let _ = conn.close().await;
        outcome
    }

    /// Drops marked scratch databases that no session uses.
    async fn drop_leftovers(&self) -> Result<(), MigrateError> {
        let mut conn = PgConnection::connect_with(&self.app.options())
            .await
            .map_err(|source| MigrateError::Database {
                action: "connect to the application database".into(),
                source,
            })?;
        let leftovers: Vec<String> = sqlx::query_scalar(
            "SELECT d.datname FROM pg_database d
             JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
             WHERE starts_with(d.datname, $1) AND s.description = $2
               AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
        )
        .bind(SCRATCH_PREFIX)
        .bind(SCRATCH_MARK)
        .fetch_all(&mut conn)
        .await
        .map_err(|source| MigrateError::Database {
            action: "look for leftover scratch databases".into(),
            source,
        })?;
        let _ = conn.close().await;
        for name in leftovers {
            tracing::info!(%name, "dropping a scratch database left by a killed run");
            self.superuser(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE);\n",
                quote_ident(&name)
            ))
            .await?;
        }
        Ok(())
    }

    async fn superuser(&self, sql: String) -> Result<(), MigrateError> {
        let outcome = superuser_psql(
            self.engine,
            &self.container,
            self.style,
            &self.app.user,
            &self.app.database,
            sql,
        )
        .await
        .map_err(|e| {
            MigrateError::Blocked(format!("cannot manage scratch database {}: {e}", self.name))
        })?;
        if outcome.code != 0 {
            return Err(MigrateError::Blocked(format!(
                "cannot manage scratch database {} in `{}`: {}",
                self.name, self.container, outcome.stderr
            )));
        }
        Ok(())
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
            let checkpoint = self.checkpoint_name();
            self.drop_database(&checkpoint).await?;
            self.create_copy(&checkpoint, &self.name).await?;
            self.connect().await
        })
    }

    fn restore(&mut self) -> BoxFuture<'_, Result<PgConnection, MigrateError>> {
        Box::pin(async move {
            self.drop_database(&self.name).await?;
            self.create_copy(&self.name, &self.checkpoint_name())
                .await?;
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
            let request = superuser_request(self.style, &self.app.user, &self.name, cmd);
            let out = self
                .engine
                .exec_capture(&self.container, request, None)
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
