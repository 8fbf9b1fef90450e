//! Loading an archive (custom, tar, directory): copied into the container, its roles read
//! from its definitions, restored by pg_restore.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::io::AsyncWriteExt;

use crate::commands::load_dump::plain::load_failed;
use crate::commands::load_dump::roles::RolePlan;
use crate::commands::load_dump::tail::TailBuffer;
use crate::commands::load_dump::{LoadDumpArgs, MissingRoles};
use crate::db::admin::{last_lines, superuser_request, Admin};
use crate::dump::feed::{feed_plain, RolePolicy, Verdict};
use crate::dump::roles::RoleStatement;
use crate::dump::source::{archive_name, OpenedDump};
use crate::dump::staging::Staging;
use crate::dump::{DumpError, DumpFormat};
use crate::engine::UploadFile;
use crate::error::Error;
use crate::ui;

/// Copies the archive into the container, settles its roles, and runs pg_restore.
#[allow(clippy::too_many_arguments)]
pub(super) async fn load_archive(
    admin: &Admin<'_>,
    dump: &OpenedDump,
    staging: &Staging,
    upload_dir: &str,
    files: Vec<UploadFile>,
    total: u64,
    roles: &mut RolePlan<'_>,
    args: &LoadDumpArgs,
) -> Result<(), Error> {
    let progress = ui::ByteProgress::new(
        &format!("copying {} into the container", dump.display),
        Some(total),
    );
    let bar = progress.clone();
    admin
        .engine
        .upload_files(
            admin.container,
            "/tmp",
            upload_dir,
            files,
            Arc::new(move |n| bar.set_position(n)),
        )
        .await?;
    progress.finish();
    let archive = match dump.format {
        DumpFormat::Directory => format!("/tmp/{upload_dir}"),
        format => format!("/tmp/{upload_dir}/{}", archive_name(format)),
    };

    // The roles it names, from the script pg_restore would run (definitions only).
    let referenced = archive_roles(admin, &archive, dump).await?;
    let missing: Vec<String> = referenced
        .iter()
        .flat_map(|s| roles.missing(s))
        .map(String::from)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut options = vec!["--exit-on-error".to_string()];
    match args.missing_roles {
        MissingRoles::Fail if !missing.is_empty() => {
            roles.fail(missing);
            return Err(roles.failure.take().expect("just set").into());
        }
        MissingRoles::Create if !missing.is_empty() => {
            let names: Vec<&str> = missing.iter().map(String::as_str).collect();
            roles.create(&names).await?;
        }
        MissingRoles::IgnoreOwner => {
            options.push("--no-owner".into());
            roles.dropped = referenced
                .iter()
                .filter(|s| !matches!(s, RoleStatement::Privilege(_)))
                .count();
            let grants_to_missing = referenced
                .iter()
                .any(|s| matches!(s, RoleStatement::Privilege(_)) && !roles.missing(s).is_empty());
            if grants_to_missing {
                options.push("--no-privileges".into());
                ui::warn(&format!(
                    "grants in {} name missing roles ({}): restoring without any grants (--no-privileges)",
                    dump.display,
                    missing.join(", ")
                ));
            }
        }
        MissingRoles::Fail | MissingRoles::Create => {}
    }
    let jobs = if dump.format.parallel() {
        args.jobs.unwrap_or_else(default_jobs)
    } else {
        if args.jobs.is_some_and(|j| j > 1) {
            ui::note(&format!(
                "{} cannot be restored in parallel: using one job",
                dump.format
            ));
        }
        1
    };
    if jobs > 1 {
        options.push(format!("--jobs={jobs}"));
    }
    options.push(format!("--role={}", roles.owner));
    options.push(format!("--dbname={}", staging.name));
    let mut cmd = vec!["pg_restore".to_string()];
    cmd.extend(options);
    cmd.push(archive);
    let spinner = ui::ByteProgress::spinner(&format!(
        "restoring {} ({}, {jobs} job{})",
        dump.display,
        dump.format,
        if jobs == 1 { "" } else { "s" }
    ));
    let request = superuser_request(admin.style, admin.app_user, &staging.name, cmd);
    let out = admin
        .engine
        .exec_capture(admin.container, request, None)
        .await;
    spinner.finish();
    let out = out?;
    if out.code != 0 {
        return Err(restore_failed(dump, &out.stderr));
    }
    Ok(())
}

/// pg_restore's failure: a damaged archive is reported as such.
fn restore_failed(dump: &OpenedDump, stderr: &str) -> Error {
    const DAMAGED: &[&str] = &[
        "could not read from input file",
        "unexpected end of file",
        "did not find magic string",
        "could not find block ID",
        "could not uncompress data",
        "corrupt tar header",
        "found unexpected block ID",
        "could not find header for file",
        "could not open input file",
    ];
    let detail = stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .map(|l| l.replace("pg_restore: error: ", "").replace(":  ", ": "))
        .next()
        .unwrap_or_else(|| last_lines(stderr, 2));
    if DAMAGED.iter().any(|d| stderr.contains(d)) {
        return DumpError::Corrupt {
            path: dump.display.clone(),
            reason: detail,
        }
        .into();
    }
    load_failed(dump, detail)
}

/// The role statements in an archive's definitions (`pg_restore --schema-only -f -`).
async fn archive_roles(
    admin: &Admin<'_>,
    archive: &str,
    dump: &OpenedDump,
) -> Result<Vec<RoleStatement>, Error> {
    struct Record(Vec<RoleStatement>);
    impl RolePolicy for Record {
        fn decide<'a>(
            &'a mut self,
            statement: &'a RoleStatement,
        ) -> BoxFuture<'a, Result<Verdict, String>> {
            Box::pin(async move {
                self.0.push(statement.clone());
                Ok(Verdict::Keep)
            })
        }
    }
    let cmd = ["pg_restore", "--schema-only", "--file=-", archive]
        .map(String::from)
        .to_vec();
    let request = superuser_request(admin.style, admin.app_user, admin.maintenance_db, cmd);
    let (mut script_in, script_out) = tokio::io::duplex(256 * 1024);
    let mut stderr = TailBuffer::default();
    let mut record = Record(Vec::new());
    let exec = async {
        let code = admin
            .engine
            .exec_streaming(
                admin.container,
                request,
                None::<tokio::io::Empty>,
                &mut script_in,
                &mut stderr,
                None,
            )
            .await;
        let _ = script_in.shutdown().await;
        drop(script_in);
        code
    };
    let scan = feed_plain(script_out, tokio::io::sink(), &mut record);
    let (code, scanned) = tokio::join!(exec, scan);
    if code? != 0 {
        return Err(restore_failed(dump, &stderr.text()));
    }
    if let Err(e) = scanned {
        tracing::debug!(%e, "reading the archive's definitions");
    }
    Ok(record.0)
}

fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1)
}
