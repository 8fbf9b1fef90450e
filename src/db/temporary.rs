//! Temporary databases on the container: scratch databases for checks, staging databases for
//! loads, and whatever kind comes next, all made, guarded and removed the same way.
//!
//! A temporary database is named `<prefix><pid>_<random>` (a copy of it, such as a checkpoint,
//! `<that name>_<suffix>`), carries a comment marking it as this tool's, and is created and
//! dropped as the container's superuser ([`Admin`]: a direct connection, or psql in the
//! container). A database with such a name but without the mark is never touched.
//!
//! **Liveness.** The run that creates temporary databases holds a lease for their whole life: a
//! session-level advisory lock per database, keyed by a hash of its name ([`lease_key`]), on a
//! session of its own to the maintenance database. The lock is taken before `CREATE DATABASE`
//! and given up only after the database is dropped (or renamed into place and unmarked). A run
//! that dies loses its session, and the lock goes with it. Before creating its own, a run
//! sweeps the marked databases whose key no session holds: what runs that are gone left
//! behind. A database of a live run is never taken for a leftover, whether it has no session
//! yet (between `CREATE DATABASE` and the first connection, or while a checkpoint is copied)
//! or its run is on another machine sharing the engine.
//!
//! The sweep reads the held keys of every database from `pg_locks` instead of trying the lock
//! in its own: an advisory lock belongs to the database its session is on, and owners do not
//! all use the same one (a load into `postgres` must end every session on `postgres`, so it
//! works from `template1`).

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::db::admin::{psql_command, sql_detail, superuser_request, Admin};
use crate::db::error::AdminError;
use crate::db::sql::{quote_ident, quote_literal};
use crate::engine::{random_suffix, HeldExec};

/// A kind of temporary database.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kind {
    /// How their names start.
    pub prefix: &'static str,
    /// The comment that marks one as this tool's.
    pub mark: &'static str,
    /// What one is called in messages: ``create {noun} database `x` ``.
    pub noun: &'static str,
}

/// Scratch databases: the round-trip check's, and any other check's.
pub(crate) const SCRATCH: Kind = Kind {
    prefix: "packit_scratch_",
    mark: "cargo-packit-db scratch database: safe to drop",
    noun: "scratch",
};

/// Staging databases: a dump is loaded into one, which is then renamed into place.
pub(crate) const STAGING: Kind = Kind {
    prefix: "packit_staging_",
    mark: "cargo-packit-db staging database: safe to drop",
    noun: "staging",
};

/// A unique token for this run's names: `<pid>_<random>`.
pub(crate) fn run_token() -> String {
    format!("{}_{}", std::process::id(), random_suffix(8))
}

/// `DROP DATABASE IF EXISTS <name> WITH (FORCE)`: sessions on it are ended.
pub(crate) fn drop_database(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name))
}

/// The name a temporary database's lease is keyed by: `<prefix><pid>_<random>`, without the
/// suffix of a copy. A name of another shape is its own.
fn owner_name<'n>(name: &'n str, prefix: &str) -> &'n str {
    let Some(rest) = name.strip_prefix(prefix) else {
        return name;
    };
    match rest.match_indices('_').nth(1) {
        Some((end, _)) => &name[..prefix.len() + end],
        None => name,
    }
}

/// The advisory-lock key of the temporary database `owner` (and of its copies): the first
/// eight bytes of the SHA-256 of the name, big-endian. The same in SQL:
/// `('x' || left(encode(sha256(convert_to(name, 'UTF8')), 'hex'), 16))::bit(64)::bigint`.
pub(crate) fn lease_key(owner: &str) -> i64 {
    let digest = Sha256::digest(owner.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The session that holds a run's advisory locks.
enum Session {
    /// A connection of its own over the published port.
    Direct(PgConnection),
    /// psql in the container, its stdin kept open.
    Psql(HeldExec),
}

/// The liveness token of a run's temporary databases: a session whose advisory locks say
/// which of them the run still owns. Dropping it ends the session too (its connection
/// closes), which is what happens when the process is killed; [`Lease::close`] ends it
/// politely.
pub(crate) struct Lease {
    /// The session, and the owner names it holds.
    session: tokio::sync::Mutex<(Session, Vec<String>)>,
}

impl Lease {
    /// Opens a session on the maintenance database: over `admin`'s direct connection where
    /// there is one, else psql in the container as the superuser (both end when this process
    /// does).
    pub(crate) async fn open(admin: &Admin<'_>) -> Result<Lease, AdminError> {
        let failed = |detail: String| AdminError {
            action: "open a session for this run's lease".into(),
            detail,
        };
        let session = match admin.direct {
            Some(direct) => Session::Direct(
                direct
                    .open(None)
                    .await
                    .map_err(|e| failed(sql_detail(&e)))?,
            ),
            None => {
                let request = superuser_request(
                    admin.style,
                    admin.app_user,
                    admin.maintenance_db,
                    psql_command(),
                );
                Session::Psql(
                    admin
                        .engine
                        .exec_held(admin.container, request)
                        .await
                        .map_err(|e| failed(e.to_string()))?,
                )
            }
        };
        Ok(Lease {
            session: tokio::sync::Mutex::new((session, Vec::new())),
        })
    }

    /// Takes the lock of temporary database `owner` (a name [`run_token`] made unique), before
    /// the database is created.
    async fn hold(&self, owner: &str) -> Result<(), AdminError> {
        let failed = |detail: String| AdminError {
            action: format!("take the lease of database `{owner}`"),
            detail,
        };
        let key = lease_key(owner);
        let mut guard = self.session.lock().await;
        let (session, held) = &mut *guard;
        let taken = match session {
            Session::Direct(conn) => {
                sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| failed(sql_detail(&e)))?
            }
            Session::Psql(psql) => {
                let asked = format!("SELECT pg_try_advisory_lock({key});\n");
                psql.write(asked.as_bytes())
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                match psql.read_line().await.map_err(|e| failed(e.to_string()))? {
                    Some(answer) => answer == "t",
                    None => return Err(failed(format!("psql ended: {}", psql.stderr()))),
                }
            }
        };
        if !taken {
            return Err(failed("another session holds it".into()));
        }
        held.push(owner.to_string());
        Ok(())
    }

    /// Whether the lease covers database `name` of kind `kind`.
    async fn covers(&self, name: &str, kind: Kind) -> bool {
        let owner = owner_name(name, kind.prefix);
        self.session.lock().await.1.iter().any(|held| held == owner)
    }

    /// Ends the session, and with it every lock; after the databases are gone.
    pub(crate) async fn close(self) {
        match self.session.into_inner().0 {
            Session::Direct(conn) => {
                let _ = conn.close().await;
            }
            Session::Psql(psql) => psql.close().await,
        }
    }
}

/// The marked databases of `kind` whose key no session holds, dropped; their names.
pub(crate) async fn sweep(admin: &Admin<'_>, kind: Kind) -> Result<Vec<String>, AdminError> {
    let marked = admin
        .sql(
            &format!("look for leftover {} databases", kind.noun),
            vec![format!(
                "SELECT d.datname::text FROM pg_database d
                 JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
                 WHERE starts_with(d.datname, {}) AND s.description = {}",
                quote_literal(kind.prefix),
                quote_literal(kind.mark)
            )],
        )
        .await?;
    if marked.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<i64> = marked
        .iter()
        .map(|name| lease_key(owner_name(name, kind.prefix)))
        .collect();
    // The locks are read after the list, by a statement of its own: a listed database was
    // created after its owner took the lock, so a lock still held is seen. (In one statement
    // the server may read pg_locks first, and miss the lock of a database created meanwhile.)
    let list: Vec<String> = keys.iter().map(i64::to_string).collect();
    let unheld = admin
        .sql(
            "read which temporary databases live runs hold",
            vec![format!(
                "SELECT k::text FROM unnest(ARRAY[{}]::bigint[]) AS k
                 WHERE NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'
                   AND l.objsubid = 1 AND l.classid::bigint = (k >> 32) & 4294967295
                   AND l.objid::bigint = k & 4294967295)",
                list.join(", ")
            )],
        )
        .await?;
    let mut leftovers = Vec::new();
    for (name, key) in marked.into_iter().zip(keys) {
        if !unheld.contains(&key.to_string()) {
            continue;
        }
        tracing::info!(%name, "dropping a {} database no live run holds", kind.noun);
        admin
            .sql(
                &format!("drop leftover {} database `{name}`", kind.noun),
                vec![drop_database(&name)],
            )
            .await?;
        leftovers.push(name);
    }
    Ok(leftovers)
}

/// One run's temporary databases of one kind, and the lease that keeps them its own.
pub(crate) struct Temporaries {
    kind: Kind,
    lease: Lease,
}

impl Temporaries {
    /// Drops the leftovers of `kind` (their names are returned), then opens this run's lease.
    pub(crate) async fn open(
        admin: &Admin<'_>,
        kind: Kind,
    ) -> Result<(Temporaries, Vec<String>), AdminError> {
        let swept = sweep(admin, kind).await?;
        let lease = Lease::open(admin).await?;
        Ok((Temporaries { kind, lease }, swept))
    }

    /// Creates a new, empty, marked database owned by `owner`, under the lease; its name.
    pub(crate) async fn create(
        &self,
        admin: &Admin<'_>,
        owner: &str,
    ) -> Result<String, AdminError> {
        let name = format!("{}{}", self.kind.prefix, run_token());
        self.lease.hold(&name).await?;
        self.copy(admin, &name, "template0", owner).await?;
        Ok(name)
    }

    /// Creates database `name` as a marked copy of `template`, owned by `owner`. `name` is one
    /// of this run's, or a copy's name derived from one (`<name>_<suffix>`).
    pub(crate) async fn copy(
        &self,
        admin: &Admin<'_>,
        name: &str,
        template: &str,
        owner: &str,
    ) -> Result<(), AdminError> {
        let action = format!("create {} database `{name}`", self.kind.noun);
        if !self.lease.covers(name, self.kind).await {
            return Err(AdminError {
                action,
                detail: "this run holds no lease for it".into(),
            });
        }
        let ident = quote_ident(name);
        let statements = vec![
            format!(
                "CREATE DATABASE {ident} OWNER {} TEMPLATE {}",
                quote_ident(owner),
                quote_ident(template)
            ),
            format!(
                "COMMENT ON DATABASE {ident} IS {}",
                quote_literal(self.kind.mark)
            ),
        ];
        admin.sql(&action, statements).await.map(|_| ())
    }

    /// Drops databases `names` (ending the sessions on them).
    pub(crate) async fn drop(&self, admin: &Admin<'_>, names: &[&str]) -> Result<(), AdminError> {
        let action = format!("drop {} database `{}`", self.kind.noun, names.join("`, `"));
        let statements = names.iter().map(|name| drop_database(name)).collect();
        admin.sql(&action, statements).await.map(|_| ())
    }

    /// Gives up the lease: once every database is dropped, or renamed into place and unmarked.
    pub(crate) async fn close(self) {
        self.lease.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_covered_by_their_owners_name() {
        let p = SCRATCH.prefix;
        assert_eq!(
            owner_name("packit_scratch_12_ab3cd", p),
            "packit_scratch_12_ab3cd"
        );
        assert_eq!(
            owner_name("packit_scratch_12_ab3cd_c", p),
            "packit_scratch_12_ab3cd"
        );
        assert_eq!(owner_name("packit_scratch_odd", p), "packit_scratch_odd");
        assert_eq!(owner_name("other_12_ab3cd_c", p), "other_12_ab3cd_c");
    }

    #[test]
    fn lease_keys_are_stable() {
        // The value PostgreSQL computes with the expression in `lease_key`'s documentation.
        assert_eq!(lease_key("packit_scratch_1_leftover"), -5544318905416546767);
    }

    #[test]
    fn run_tokens_are_pid_and_random() {
        let token = run_token();
        let (pid, random) = token.split_once('_').unwrap();
        assert_eq!(pid, std::process::id().to_string());
        assert_eq!(random.len(), 8);
        assert!(random
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(
            owner_name(&format!("{}{token}_c", STAGING.prefix), STAGING.prefix),
            format!("{}{token}", STAGING.prefix)
        );
    }
}
