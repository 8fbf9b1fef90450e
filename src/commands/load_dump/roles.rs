//! `--missing-roles`: deciding each role-naming statement of a dump, creating roles, and
//! the read-ahead of a plain script that names every missing role before anything loads.

use std::collections::BTreeSet;

use futures_util::future::BoxFuture;

use crate::commands::load_dump::plain::compression;
use crate::commands::load_dump::MissingRoles;
use crate::db::admin::Admin;
use crate::db::quote_ident;
use crate::dump::feed::{feed_plain, FeedError, RolePolicy, Verdict};
use crate::dump::roles::RoleStatement;
use crate::dump::source::{decode_reason, PlainReader};
use crate::dump::{DumpError, DumpFormat};
use crate::error::Error;

/// Decides role lines and creates missing roles, per `--missing-roles`.
pub(super) struct RolePlan<'e> {
    pub(super) admin: Admin<'e>,
    pub(super) known: BTreeSet<String>,
    pub(super) mode: MissingRoles,
    pub(super) owner: String,
    pub(super) path: String,
    pub(super) created: Vec<String>,
    pub(super) dropped: usize,
    pub(super) failure: Option<DumpError>,
    /// A read-ahead of the whole file runs beside the load (and reports missing roles).
    pub(super) read_ahead: bool,
}

impl RolePlan<'_> {
    pub(super) fn missing<'s>(&self, statement: &'s RoleStatement) -> Vec<&'s str> {
        statement
            .roles()
            .into_iter()
            .filter(|r| !self.known.contains(*r))
            .collect()
    }

    pub(super) fn fail(&mut self, roles: Vec<String>) -> String {
        let error = DumpError::MissingRoles {
            path: self.path.clone(),
            roles: roles.join(", "),
            owner: self.owner.clone(),
        };
        let text = error.to_string();
        self.failure = Some(error);
        text
    }

    /// Creates `roles` NOLOGIN, each granted to the owner role.
    pub(super) async fn create(&mut self, roles: &[&str]) -> Result<(), DumpError> {
        let mut statements = Vec::new();
        for role in roles {
            let ident = quote_ident(role);
            statements.push(format!("CREATE ROLE {ident} NOLOGIN"));
            statements.push(format!("GRANT {ident} TO {}", quote_ident(&self.owner)));
        }
        self.admin
            .sql(&format!("create roles {}", roles.join(", ")), statements)
            .await?;
        for role in roles {
            self.known.insert(role.to_string());
            self.created.push(role.to_string());
        }
        Ok(())
    }
}

impl RolePolicy for RolePlan<'_> {
    fn decide<'a>(
        &'a mut self,
        statement: &'a RoleStatement,
    ) -> BoxFuture<'a, Result<Verdict, String>> {
        Box::pin(async move {
            let owner_statement = !matches!(statement, RoleStatement::Privilege(_));
            if self.mode == MissingRoles::IgnoreOwner && owner_statement {
                // Like pg_restore --no-owner: everything is owned by the role that loads it.
                self.dropped += 1;
                return Ok(Verdict::Drop);
            }
            let missing = self.missing(statement);
            if missing.is_empty() {
                return Ok(Verdict::Keep);
            }
            match self.mode {
                // The read-ahead of the same file names every missing role, this one included:
                // wait for it to stop the load.
                MissingRoles::Fail if self.read_ahead => std::future::pending().await,
                MissingRoles::Fail => {
                    Err(self.fail(missing.into_iter().map(String::from).collect()))
                }
                MissingRoles::IgnoreOwner => {
                    self.dropped += 1;
                    Ok(Verdict::Drop)
                }
                MissingRoles::Create => match self.create(&missing).await {
                    Ok(()) => Ok(Verdict::Keep),
                    Err(e) => {
                        let text = e.to_string();
                        self.failure = Some(e);
                        Err(text)
                    }
                },
            }
        })
    }
}

/// Reads a whole plain script for the roles it names that are not in `known`, and fails
/// naming them all (run beside the load, it reports them long before the load would).
pub(super) async fn prescan(
    reader: PlainReader,
    known: &BTreeSet<String>,
    path: &str,
    owner: &str,
    format: DumpFormat,
) -> Result<(), Error> {
    struct Collect<'k>(&'k BTreeSet<String>, BTreeSet<String>);
    impl RolePolicy for Collect<'_> {
        fn decide<'a>(
            &'a mut self,
            statement: &'a RoleStatement,
        ) -> BoxFuture<'a, Result<Verdict, String>> {
            Box::pin(async move {
                let missing = statement
                    .roles()
                    .into_iter()
                    .filter(|r| !self.0.contains(*r));
                self.1.extend(missing.map(String::from));
                Ok(Verdict::Keep)
            })
        }
    }
    let mut collect = Collect(known, BTreeSet::new());
    let path = path.to_string();
    match feed_plain(reader, tokio::io::sink(), &mut collect).await {
        Ok(_) => {}
        Err(FeedError::Read(e)) => {
            return Err(DumpError::Corrupt {
                path,
                reason: decode_reason(compression(format), &e),
            }
            .into())
        }
        Err(FeedError::Connect) => return Err(DumpError::Connects { path }.into()),
        Err(e) => {
            return Err(DumpError::Corrupt {
                path,
                reason: e.to_string(),
            }
            .into())
        }
    }
    if collect.1.is_empty() {
        return Ok(());
    }
    Err(DumpError::MissingRoles {
        path,
        roles: collect.1.into_iter().collect::<Vec<_>>().join(", "),
        owner: owner.to_string(),
    }
    .into())
}
