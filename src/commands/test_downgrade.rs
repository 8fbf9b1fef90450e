//! `test-downgrade`: prove on a scratch database that every down migration restores the
//! schema exactly and that every up can be re-applied after its down.

use std::path::PathBuf;
use std::time::Duration;

use crate::commands::{connect, running_container};
use crate::config::Config;
use crate::db::container::{remove_throwaway, start_throwaway};
use crate::db::snapshot::indent_continuation;
use crate::db::ConnectionInfo;
use crate::engine::{generate_password, ContainerSpec, Engine};
use crate::error::{CommandError, Error};
use crate::interrupt::Interrupt;
use crate::migrations::roundtrip::{CheckOptions, CheckReport, Outcome, Selection};
use crate::migrations::scratch_check::{check_on_scratch, ScratchPlace};
use crate::migrations::source::{read_set, MigrationSet, Version};
use crate::migrations::MigrateError;
use crate::ui::{self, CheckDisplay, Format, StartDisplay};

/// Arguments of `test-downgrade`.
#[derive(Clone, Debug)]
pub struct TestDowngradeArgs {
    /// Which migrations.
    pub selection: SelectionArg,
    /// Output format.
    pub format: Format,
    /// Also write a JUnit XML report here.
    pub junit: Option<PathBuf>,
    /// Use a throwaway container instead of the project's.
    pub isolated: bool,
    /// Irreversible migrations fail.
    pub require_down: bool,
    /// Accept a difference in column order only.
    pub ignore_column_order: bool,
    /// Readiness timeout of the throwaway container.
    pub timeout: Duration,
    /// Scratch databases to check on at once (`--jobs`); `None`: one per core, at most four,
    /// with at least twenty migrations each.
    pub jobs: Option<usize>,
    /// The verification mode (`--verify`, `PACKIT_DB_VERIFY`).
    pub verify: bool,
}

/// Which migrations, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectionArg {
    /// All.
    All,
    /// The last N.
    Last(usize),
    /// From a version, as typed.
    From(String),
}

/// Runs `test-downgrade`; the report decides the exit code (0, or "check failed").
pub async fn test_downgrade(config: &Config, args: &TestDowngradeArgs) -> Result<i32, Error> {
    let set = read_set(&config.migrations, config.layout).map_err(MigrateError::from)?;
    for warning in &set.warnings {
        ui::warn(warning);
    }
    if set.migrations.is_empty() {
        return Err(MigrateError::Blocked(format!(
            "{}: no migrations to check; create one with `cargo packit-db migrate new <message>`",
            set.dir.display()
        ))
        .into());
    }
    let selection = match &args.selection {
        SelectionArg::All => Selection::All,
        SelectionArg::Last(n) => Selection::Last(*n),
        SelectionArg::From(v) => Selection::From(
            Version::parse(set.layout, v).ok_or_else(|| MigrateError::UnknownVersion(v.clone()))?,
        ),
    };
    let interrupt = Interrupt::listen()?;
    let engine = interrupt.guard(connect(config)).await?;
    let result = run(&engine, config, args, &set, &selection, &interrupt).await;
    engine.close().await;
    let report = result?;
    if let Some(path) = &args.junit {
        write_junit(path, &report)?;
    }
    match args.format {
        Format::Json => ui::print_json(&report),
        Format::Human => ui::print_summary(&report),
    }
    Ok(if report.success() {
        crate::error::exit_codes::OK
    } else {
        crate::error::exit_codes::CHECK_FAILED
    })
}

/// Sets up where the check runs, runs it until SIGINT or SIGTERM, and always cleans up: the
/// throwaway container (whose start removes it itself when stopped half-way) and the scratch
/// databases.
async fn run(
    engine: &Engine,
    config: &Config,
    args: &TestDowngradeArgs,
    set: &MigrationSet,
    selection: &Selection,
    interrupt: &Interrupt,
) -> Result<CheckReport, Error> {
    let (container, style, app, throwaway): (String, _, ConnectionInfo, Option<ContainerSpec>) =
        if args.isolated {
            let mut display = StartDisplay::default();
            let (spec, info) = start_throwaway(
                engine,
                config.container_spec(generate_password()),
                args.timeout,
                interrupt,
                &mut |event| display.show(event),
            )
            .await?;
            ui::note(&format!("checking in throwaway container `{}`", spec.name));
            (spec.name.clone(), spec.env_style, info, Some(spec))
        } else {
            let (container, info) = interrupt.guard(running_container(engine, config)).await?;
            (
                config.container.clone(),
                container.observed.env_style(),
                info,
                None,
            )
        };
    let options = CheckOptions {
        require_down: args.require_down,
        ignore_column_order: args.ignore_column_order,
        verify: args.verify,
    };
    let mut display = CheckDisplay::new(args.format == Format::Human, set, &container);
    let place = ScratchPlace {
        engine,
        container: &container,
        style,
        app: &app,
    };
    let result = check_on_scratch(
        &place,
        set,
        selection,
        &options,
        args.jobs,
        interrupt,
        &mut |event| display.show(event),
    )
    .await;
    if let Some(spec) = &throwaway {
        for left in remove_throwaway(engine, spec).await {
            ui::warn(&format!(
                "could not remove {} `{}`: {}",
                left.kind, left.name, left.error
            ));
        }
    }
    result
}

/// Writes the report as JUnit XML (one test case per migration), atomically.
fn write_junit(path: &std::path::Path, r: &CheckReport) -> Result<(), Error> {
    let xml = junit_xml(r);
    let tmp = path.with_extension("xml.tmp");
    let io = |e: std::io::Error| CommandError::Io {
        action: format!("write {}", path.display()),
        reason: e.to_string(),
    };
    std::fs::write(&tmp, xml).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

/// The JUnit XML text of a report.
pub fn junit_xml(r: &CheckReport) -> String {
    // The suite and its one test suite carry the same counts.
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
        r.migrations.len(),
        r.failed,
        r.irreversible + r.not_checked,
        r.millis as f64 / 1000.0
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"cargo-packit-db test-downgrade\" {counts}>\n"
    ));
    out.push_str(&format!("  <testsuite name=\"test-downgrade\" {counts}>\n"));
    for c in &r.migrations {
        out.push_str(&format!(
            "    <testcase classname=\"migrations\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            escape(&c.name),
            escape(&c.file),
            c.millis as f64 / 1000.0
        ));
        match c.outcome {
            Outcome::Passed | Outcome::PassedIgnoringColumnOrder => out.push_str("/>\n"),
            Outcome::Irreversible | Outcome::NotChecked => out.push_str(&format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(c.note.as_deref().unwrap_or(""))
            )),
            Outcome::Failed => {
                let summary: Vec<&str> = c.problems.iter().map(|p| p.step.describe()).collect();
                let mut body = String::new();
                for p in &c.problems {
                    body.push_str(p.step.describe());
                    if let Some(m) = &p.message {
                        body.push_str(": ");
                        body.push_str(m);
                    }
                    body.push('\n');
                    for change in &p.changes {
                        body.push_str("  ");
                        body.push_str(&indent_continuation(change, "  "));
                        body.push('\n');
                    }
                }
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"round-trip\">{}</failure>\n    </testcase>\n",
                    escape(&summary.join("; ")),
                    escape(&body)
                ));
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => String::new(),
            c => c.to_string(),
        })
        .collect()
}
