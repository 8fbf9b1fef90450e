//! The staging database a dump is loaded into, and the swap that puts it in place.
//!
//! A staging database is a temporary database ([`crate::db::temporary`]) of kind [`STAGING`].
//! Only after a load succeeded is it renamed to the target's name, in one transaction with the
//! rename of the previous database out of the way, so there is never a moment without a
//! complete target database. A load first drops the staging databases of loads that are gone,
//! and the dump copies those left in the container's /tmp: a load killed half-way is cleaned
//! up by the next one. Everything runs as the container's superuser.

use crate::db::admin::Admin;
use crate::db::temporary::{Temporaries, STAGING};
use crate::db::{quote_ident, quote_literal};
use crate::dump::DumpError;

/// The prefix of dump copies in the container's /tmp: `<prefix><token>`, the token of the
/// staging database they are loaded into.
pub(crate) const UPLOAD_PREFIX: &str = "packit-load-";

/// Drops the staging databases of loads that are gone and their dump copies (returns the
/// databases' names), then opens this load's lease.
pub(crate) async fn prepare(admin: &Admin<'_>) -> Result<(Temporaries, Vec<String>), DumpError> {
    let (temporaries, swept) = Temporaries::open(admin, STAGING).await?;
    // A load creates its staging database before it copies anything, and removes the copy
    // before it drops the database: a copy outlives only a database that was left too.
    for name in &swept {
        if let Some(token) = name.strip_prefix(STAGING.prefix) {
            admin
                .root(&["rm", "-rf", &format!("/tmp/{UPLOAD_PREFIX}{token}")])
                .await;
        }
    }
    Ok((temporaries, swept))
}

/// A staging database being loaded.
pub(crate) struct Staging {
    /// `packit_staging_<pid>_<token>`: the marked database the dump is loaded into.
    pub name: String,
}

impl Staging {
    /// Creates an empty staging database owned by `owner`, under this load's lease.
    pub(crate) async fn create(
        admin: &Admin<'_>,
        temporaries: &Temporaries,
        owner: &str,
    ) -> Result<Staging, DumpError> {
        let name = temporaries.create(admin, owner).await?;
        Ok(Staging { name })
    }

    /// Where a copy of the dump goes in the container's /tmp.
    pub(crate) fn upload_dir(&self) -> String {
        let token = self.name.strip_prefix(STAGING.prefix).unwrap_or(&self.name);
        format!("{UPLOAD_PREFIX}{token}")
    }

    /// Drops it (terminating whatever still runs on it).
    pub(crate) async fn remove(
        &self,
        admin: &Admin<'_>,
        temporaries: &Temporaries,
    ) -> Result<(), DumpError> {
        Ok(temporaries.drop(admin, &[&self.name]).await?)
    }
}

/// Renames `staging` to `target`. An existing `target` is first closed to new connections,
/// its sessions are ended, and it is renamed to `previous` in the same transaction; it gets a
/// comment saying what it is. On failure `target` accepts connections again.
/// `server_num` is the server's `server_version_num`: from 14 on, ending a session waits until
/// it is gone.
pub(crate) async fn swap(
    admin: &Admin<'_>,
    staging: &Staging,
    target: &str,
    previous: Option<(&str, &str)>,
    server_num: u32,
) -> Result<(), DumpError> {
    let target_ident = quote_ident(target);
    let staging_ident = quote_ident(&staging.name);
    let action = format!("swap the loaded database in as `{target}`");
    let rename = format!("ALTER DATABASE {staging_ident} RENAME TO {target_ident}");
    let unmark = format!("COMMENT ON DATABASE {target_ident} IS NULL");
    let Some((previous, comment)) = previous else {
        let statements = vec!["BEGIN".into(), rename, unmark, "COMMIT".into()];
        admin.sql(&action, statements).await?;
        return Ok(());
    };
    let previous_ident = quote_ident(previous);
    let statements = vec![
        format!("ALTER DATABASE {target_ident} WITH ALLOW_CONNECTIONS false"),
        format!(
            "SELECT count(pg_terminate_backend(pid{})) FROM pg_stat_activity
             WHERE datname = {} AND pid <> pg_backend_pid()",
            if server_num >= 140000 { ", 10000" } else { "" },
            quote_literal(target)
        ),
        "BEGIN".into(),
        format!("ALTER DATABASE {target_ident} RENAME TO {previous_ident}"),
        rename,
        unmark,
        format!(
            "COMMENT ON DATABASE {previous_ident} IS {}",
            quote_literal(comment)
        ),
        "COMMIT".into(),
        format!("ALTER DATABASE {previous_ident} WITH ALLOW_CONNECTIONS true"),
    ];
    let result = admin.sql(&action, statements).await;
    if result.is_err() {
        // Whatever failed, the target keeps its name; let clients in again.
        let _ = admin
            .sql(
                "re-open the target database",
                vec![format!(
                    "ALTER DATABASE {target_ident} WITH ALLOW_CONNECTIONS true"
                )],
            )
            .await;
    }
    result?;
    Ok(())
}

/// The dated name the previous database is kept under: `<target>_before_<YYYYMMDD_HHMMSS>`,
/// the target part shortened so the whole fits PostgreSQL's 63 bytes.
pub(crate) fn previous_name(target: &str, now: chrono::DateTime<chrono::Local>) -> String {
    let suffix = now.format("_before_%Y%m%d_%H%M%S").to_string();
    let mut base = target.to_string();
    // Three bytes stay free for the `_2` that a second load within the same second adds.
    while base.len() + suffix.len() > 60 {
        base.pop();
    }
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_names_fit_63_bytes_and_keep_characters_whole() {
        let now =
            chrono::TimeZone::with_ymd_and_hms(&chrono::Local, 2026, 12, 1, 15, 4, 5).unwrap();
        assert_eq!(previous_name("shop", now), "shop_before_20261201_150405");
        let long = "ä".repeat(40);
        let name = previous_name(&long, now);
        assert!(name.len() <= 63, "{name}");
        assert!(name.ends_with("_before_20261201_150405"));
    }

    #[test]
    fn dump_copies_are_named_after_the_staging_database() {
        let staging = Staging {
            name: "packit_staging_12_ab3cd".into(),
        };
        assert_eq!(staging.upload_dir(), "packit-load-12_ab3cd");
    }
}
