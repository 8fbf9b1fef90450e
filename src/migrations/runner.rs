//! Applying and reverting migrations, one transaction each, under a PostgreSQL advisory lock
//! held on a dedicated connection for the whole run.
//!
//! The lock id is the one `sqlx::migrate::Migrator` uses (`0x3d32ad9e * crc32(database)`), so a
//! run of this tool and an app migrating itself at start-up exclude each other too.

use std::time::{Duration, Instant};

use sqlx::postgres::PgDatabaseError;
use sqlx::{Connection, PgConnection};

use crate::db::{quote_literal, ConnectionInfo};
use crate::migrations::error::{locate, MigrateError};
use crate::migrations::source::{Migration, MigrationFile, MigrationSet, Version};
use crate::migrations::split::split;
use crate::migrations::status::{compare, State, Status};
use crate::migrations::tracking::{self, db};

/// How often a waiting run retries the lock.
const LOCK_RETRY: Duration = Duration::from_millis(50);

/// What a run reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another run holds the lock; waiting.
    Waiting {
        /// The PostgreSQL session holding it, when known.
        holder: String,
    },
    /// A migration was applied.
    Applied(&'a Migration, Duration),
    /// A migration was reverted.
    Reverted(&'a Migration, Duration),
}

/// How far `down` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownTarget {
    /// The last N applied migrations.
    Steps(usize),
    /// Every applied migration newer than this version (`None`: all of them).
    To(Option<Version>),
}

/// The advisory lock id sqlx uses for a database.
pub fn lock_id(database: &str) -> i64 {
    const CRC_IEEE: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    0x3d32ad9e * i64::from(CRC_IEEE.checksum(database.as_bytes()))
}

/// An open, locked migration session.
pub struct Session<'s> {
    set: &'s MigrationSet,
    conn: PgConnection,
    lock_conn: PgConnection,
    lock: i64,
}

/// Reads the status without locking or creating anything.
pub async fn read_status(
    info: &ConnectionInfo,
    set: &MigrationSet,
) -> Result<Status, MigrateError> {
    let mut conn = connect(info).await?;
    check_layout(&mut conn, set).await?;
    let applied = tracking::applied(&mut conn, set.layout).await?;
    let _ = conn.close().await;
    Ok(compare(set, &applied))
}

async fn connect(info: &ConnectionInfo) -> Result<PgConnection, MigrateError> {
    PgConnection::connect_with(&info.options())
        .await
        .map_err(|source| db(&format!("connect to {}", info.masked_url()), source))
}

async fn check_layout(conn: &mut PgConnection, set: &MigrationSet) -> Result<(), MigrateError> {
    if let Some(found) = tracking::foreign_table(conn, set.layout).await? {
        return Err(MigrateError::WrongTrackingTable {
            layout: set.layout.to_string(),
            table: set.layout.tracking_table().to_string(),
            found: found.to_string(),
            found_table: found.tracking_table().to_string(),
            dir: set.dir.clone(),
        });
    }
    Ok(())
}

impl<'s> Session<'s> {
    /// Connects twice (one connection holds the lock), takes the lock within `lock_timeout`,
    /// checks the tracking table's layout and creates it if needed.
    pub async fn open(
        info: &ConnectionInfo,
        set: &'s MigrationSet,
        lock_timeout: Duration,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Session<'s>, MigrateError> {
        // Two connections, opened together: one holds the lock for the whole run.
        let (mut lock_conn, mut conn) = tokio::try_join!(connect(info), connect(info))?;
        let lock = lock_id(&info.database);
        let started = Instant::now();
        let mut announced = false;
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(lock)
                .fetch_one(&mut lock_conn)
                .await
                .map_err(|source| db("take the migration lock", source))?;
            if got {
                break;
            }
            let holder = lock_holder(&mut lock_conn, lock).await;
            if started.elapsed() >= lock_timeout {
                return Err(MigrateError::LockTimeout {
                    database: info.database.clone(),
                    waited_secs: lock_timeout.as_secs(),
                    holder,
                });
            }
            if !announced {
                on_event(Event::Waiting { holder });
                announced = true;
            }
            tokio::time::sleep(LOCK_RETRY).await;
        }
        check_layout(&mut conn, set).await?;
        tracking::ensure(&mut conn, set.layout).await?;
        Ok(Session {
            set,
            conn,
            lock_conn,
            lock,
        })
    }

    /// The current status (under the lock).
    pub async fn status(&mut self) -> Result<Status, MigrateError> {
        let applied = tracking::applied(&mut self.conn, self.set.layout).await?;
        Ok(compare(self.set, &applied))
    }

    /// Applies pending migrations in order, up to and including `to`.
    pub async fn up(
        &mut self,
        to: Option<&Version>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Vec<Version>, MigrateError> {
        if let Some(v) = to {
            self.known(v)?;
        }
        let status = self.status().await?;
        refuse_if_blocked(&status)?;
        let pending: Vec<&Migration> = status
            .entries
            .iter()
            .filter(|e| e.state == State::Pending && to.is_none_or(|to| e.version <= *to))
            .filter_map(|e| self.set.find(&e.version))
            .collect();
        let mut done = Vec::new();
        for migration in pending {
            let elapsed = self.apply(migration).await?;
            on_event(Event::Applied(migration, elapsed));
            done.push(migration.version.clone());
        }
        Ok(done)
    }

    /// Reverts applied migrations, newest first. Refuses, before reverting anything, when one
    /// of them has no down file, an empty one, or is missing from the folder.
    pub async fn down(
        &mut self,
        target: &DownTarget,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Vec<Version>, MigrateError> {
        if let DownTarget::To(Some(v)) = target {
            self.known(v)?;
        }
        let status = self.status().await?;
        if let Some(e) = status.entries.iter().find(|e| e.state == State::Failed) {
            return Err(MigrateError::Blocked(format!(
                "migration {} is marked failed; {}",
                e.version, status.diagnosis
            )));
        }
        let mut applied: Vec<&crate::migrations::status::Entry> = status
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    State::Applied | State::Modified | State::MissingLocally
                )
            })
            .collect();
        applied.reverse();
        let chosen: Vec<_> = match target {
            DownTarget::Steps(n) => applied.into_iter().take(*n).collect(),
            DownTarget::To(None) => applied,
            DownTarget::To(Some(v)) => applied.into_iter().filter(|e| e.version > *v).collect(),
        };
        let mut plan = Vec::new();
        for entry in &chosen {
            let Some(migration) = self.set.find(&entry.version) else {
                return Err(MigrateError::Blocked(format!(
                    "migration {} is applied but not in {}, so its down file is unknown; nothing was reverted. Switch to the branch that has it, or revert to an older version with --to",
                    entry.version,
                    self.set.dir.display()
                )));
            };
            check_reversible(migration)?;
            plan.push(migration);
        }
        let mut done = Vec::new();
        for migration in plan {
            let elapsed = self.revert(migration).await?;
            on_event(Event::Reverted(migration, elapsed));
            done.push(migration.version.clone());
        }
        Ok(done)
    }

    /// Applies one migration: its SQL and its tracking row in one transaction (or, marked
    /// `-- no-transaction`, without one, recording a failure as `success = false`).
    pub async fn apply(&mut self, migration: &Migration) -> Result<Duration, MigrateError> {
        let started = Instant::now();
        if migration.no_transaction {
            if let Err((e, offset, done)) = run_statements(&mut self.conn, &migration.up.sql).await
            {
                tracking::record(&mut self.conn, migration, false).await?;
                let (message, position, _) = describe(&e, &migration.up, signed(offset));
                return Err(MigrateError::FailedNoTransaction {
                    file: migration.up.path.clone(),
                    position,
                    message,
                    applied_statements: done,
                    table: self.set.layout.tracking_table().to_string(),
                    version: migration.version.to_string(),
                });
            }
            tracking::record(&mut self.conn, migration, true).await?;
        } else {
            let mut tx = self
                .conn
                .begin()
                .await
                .map_err(|s| db("begin a transaction", s))?;
            if let Err(e) = sqlx::raw_sql(&migration.up.sql).execute(&mut *tx).await {
                let _ = tx.rollback().await;
                return Err(failed(&e, &migration.up, 0));
            }
            tracking::record(&mut tx, migration, true).await?;
            tx.commit()
                .await
                .map_err(|s| db(&format!("commit migration {}", migration.version), s))?;
        }
        let elapsed = started.elapsed();
        let nanos = i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX);
        tracking::set_execution_time(&mut self.conn, &migration.version, nanos).await?;
        Ok(elapsed)
    }

    /// Reverts one migration: its down SQL and the row's removal in one transaction.
    pub async fn revert(&mut self, migration: &Migration) -> Result<Duration, MigrateError> {
        check_reversible(migration)?;
        let down = migration.down.as_ref().expect("checked reversible");
        let started = Instant::now();
        if migration.down_no_transaction() {
            if let Err((e, offset, _)) = run_statements(&mut self.conn, &down.sql).await {
                return Err(failed(&e, down, signed(offset)));
            }
            tracking::remove(&mut self.conn, &migration.version).await?;
        } else {
            let mut tx = self
                .conn
                .begin()
                .await
                .map_err(|s| db("begin a transaction", s))?;
            if let Err(e) = sqlx::raw_sql(&down.sql).execute(&mut *tx).await {
                let _ = tx.rollback().await;
                return Err(failed(&e, down, 0));
            }
            tracking::remove(&mut tx, &migration.version).await?;
            tx.commit()
                .await
                .map_err(|s| db(&format!("commit the revert of {}", migration.version), s))?;
        }
        Ok(started.elapsed())
    }

    /// The migration connection (for snapshots between steps).
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// Releases the lock and closes both connections.
    pub async fn close(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.lock)
            .execute(&mut self.lock_conn)
            .await;
        let _ = self.conn.close().await;
        let _ = self.lock_conn.close().await;
    }

    fn known(&self, v: &Version) -> Result<(), MigrateError> {
        if self.set.find(v).is_none() {
            return Err(MigrateError::UnknownVersion(v.to_string()));
        }
        Ok(())
    }
}

/// Applying on top of an edited, missing or failed migration is refused, as sqlx does.
fn refuse_if_blocked(status: &Status) -> Result<(), MigrateError> {
    if status.blocking() {
        return Err(MigrateError::Blocked(format!(
            "nothing was applied: {}",
            status.diagnosis
        )));
    }
    Ok(())
}

fn check_reversible(migration: &Migration) -> Result<(), MigrateError> {
    let reason = match &migration.down {
        None => Some("it has no down file (an irreversible migration)".to_string()),
        Some(down) if migration.down_is_empty() => Some(format!(
            "its down file {} holds no statement",
            down.path.display()
        )),
        Some(_) => None,
    };
    match reason {
        Some(reason) => Err(MigrateError::Irreversible {
            name: migration.name(),
            reason,
            version: migration.version.clone(),
        }),
        None => Ok(()),
    }
}

/// Runs a file's statements one by one (each its own implicit transaction). On failure:
/// the error, the failing statement's character offset in the file, and how many succeeded.
pub(crate) async fn run_statements(
    conn: &mut PgConnection,
    sql: &str,
) -> Result<(), (sqlx::Error, usize, usize)> {
    for (done, statement) in split(sql).iter().enumerate() {
        if let Err(e) = sqlx::raw_sql(statement.text).execute(&mut *conn).await {
            return Err((e, statement.char_offset, done));
        }
    }
    Ok(())
}

/// The server's message, the position in the file (`offset`: where the failing statement
/// starts in it, in characters; negative when the query string sent had a prefix before the
/// file's text), and the server's hint.
pub(crate) fn describe(
    e: &sqlx::Error,
    file: &MigrationFile,
    offset: isize,
) -> (
    String,
    Option<crate::migrations::error::FilePosition>,
    Option<String>,
) {
    match e {
        sqlx::Error::Database(dbe) => {
            let pg = dbe.try_downcast_ref::<PgDatabaseError>();
            let position = pg.and_then(|pg| match pg.position() {
                Some(sqlx::postgres::PgErrorPosition::Original(p)) => {
                    let p = p.checked_add_signed(offset).filter(|&p| p >= 1)?;
                    Some(locate(&file.sql, p))
                }
                _ => None,
            });
            let hint = pg.and_then(|pg| pg.hint().map(String::from));
            (dbe.message().to_string(), position, hint)
        }
        other => (other.to_string(), None, None),
    }
}

fn failed(e: &sqlx::Error, file: &MigrationFile, offset: isize) -> MigrateError {
    let (message, position, hint) = describe(e, file, offset);
    MigrateError::Failed {
        file: file.path.clone(),
        position,
        message,
        hint,
    }
}

/// Runs one migration file without touching the tracking table: in a transaction, or
/// statement by statement when `no_transaction`. A failure becomes a one-line message naming
/// the file (with line and column when the server gives a position).
///
/// The transaction and the file go to the server as one query string, `BEGIN;<file>\n;COMMIT;`:
/// one round trip instead of three (the round-trip check runs three files a migration). The
/// server stops at the first failing statement and leaves the transaction aborted; a
/// `ROLLBACK` then ends it.
///
/// `settings` (name, value) are what the session holds for other statements' sake (a snapshot
/// tracker's `READER_SETTINGS`): the file's statements run with them at their defaults, as on
/// any other connection, and the session holds them again afterwards. In a transaction,
/// `SET LOCAL ... TO DEFAULT` goes in the same query string as the file (no extra round trip);
/// statement by statement, a `SET ... TO DEFAULT` goes before the file and a `SET` after it,
/// whether it failed or not.
pub(crate) async fn run_file(
    conn: &mut PgConnection,
    file: &MigrationFile,
    no_transaction: bool,
    settings: &[(&str, &str)],
) -> Result<(), String> {
    let result = if no_transaction {
        let session = |e: sqlx::Error, when: &str| {
            format!(
                "{}: the session settings could not be set {when} it ({e}); the connection \
                 is probably lost: run the command again",
                file.path.display()
            )
        };
        let defaults: String = settings
            .iter()
            .map(|(name, _)| format!("SET {name} TO DEFAULT;"))
            .collect();
        let again: String = settings
            .iter()
            .map(|(name, value)| format!("SET {name} = {};", quote_literal(value)))
            .collect();
        if !settings.is_empty() {
            sqlx::raw_sql(&defaults)
                .execute(&mut *conn)
                .await
                .map_err(|e| session(e, "back to their defaults before"))?;
        }
        let ran = run_statements(conn, &file.sql)
            .await
            .map_err(|(e, offset, _)| (e, signed(offset)));
        if !settings.is_empty() {
            let restored = sqlx::raw_sql(&again).execute(&mut *conn).await;
            if let (Ok(()), Err(e)) = (&ran, restored) {
                return Err(session(e, "again after"));
            }
        }
        ran
    } else {
        let start = transaction_start(settings);
        let query = format!("{start}{}\n;COMMIT;", file.sql);
        match sqlx::raw_sql(&query).execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Ends the aborted transaction (a no-op warning if the failure ended it).
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                Err((e, -signed(start.chars().count())))
            }
        }
    };
    result.map_err(|(e, offset)| {
        let (message, position, _) = describe(&e, file, offset);
        let at = position
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        format!("{}{at}: {message}", file.path.display())
    })
}

/// Runs a migration file inside the transaction the connection is already in, or in one the
/// same query string opens first (`begin`), as `run_file` runs one in its own (`settings` at
/// their defaults for the file's statements, then set again for the session's own queries,
/// all `SET LOCAL`); commits nothing. On error the transaction is left aborted, for the caller
/// to roll back.
pub(crate) async fn run_file_in_open_transaction(
    conn: &mut PgConnection,
    file: &MigrationFile,
    settings: &[(&str, &str)],
    begin: bool,
) -> Result<(), String> {
    let mut start = String::from(if begin { "BEGIN;" } else { "" });
    start.extend(
        settings
            .iter()
            .map(|(name, _)| format!("SET LOCAL {name} TO DEFAULT;")),
    );
    let again: String = settings
        .iter()
        .map(|(name, value)| format!("SET LOCAL {name} = {};", quote_literal(value)))
        .collect();
    let query = format!("{start}{}\n;{again}", file.sql);
    sqlx::raw_sql(&query)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| {
            let (message, position, _) = describe(&e, file, -signed(start.chars().count()));
            let at = position
                .map(|p| format!(":{}:{}", p.line, p.column))
                .unwrap_or_default();
            format!("{}{at}: {message}", file.path.display())
        })
}

/// What `run_file` sends before a file's text in a transaction (no newline: line
/// numbers stay the file's).
fn transaction_start(settings: &[(&str, &str)]) -> String {
    let mut start = String::from("BEGIN;");
    for (name, _) in settings {
        start.push_str(&format!("SET LOCAL {name} TO DEFAULT;"));
    }
    start
}

/// A character offset as the signed shift `describe` takes.
fn signed(offset: usize) -> isize {
    isize::try_from(offset).unwrap_or(isize::MAX)
}

/// Names the session holding an advisory lock, for the waiting message.
async fn lock_holder(conn: &mut PgConnection, lock: i64) -> String {
    // pg_locks splits a bigint advisory key into two 32-bit halves.
    let holder: Option<(i32, Option<String>)> = sqlx::query_as(
        "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid::bigint = ($1 >> 32) & 4294967295 AND l.objid::bigint = $1 & 4294967295
         LIMIT 1",
    )
    .bind(lock)
    .fetch_optional(conn)
    .await
    .ok()
    .flatten();
    match holder {
        Some((pid, Some(app))) if !app.is_empty() => format!("pid {pid}, {app}"),
        Some((pid, _)) => format!("pid {pid}"),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::lock_id;

    #[test]
    fn lock_id_matches_sqlx() {
        // The formula of sqlx-postgres 0.8.6 `generate_lock_id`; the CRC variant is pinned by
        // its standard check value.
        const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
        assert_eq!(
            lock_id("postgres"),
            0x3d32ad9e * i64::from(CRC.checksum(b"postgres"))
        );
        assert_eq!(
            CRC.checksum(b"123456789"),
            0xcbf43926,
            "CRC-32/ISO-HDLC check value"
        );
    }
}
