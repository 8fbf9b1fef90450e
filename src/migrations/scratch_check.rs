//! The round-trip check as `test-downgrade` and `migrate new` run it: on scratch databases
//! ([`Scratch`]) made for the run in a container, one a lane, and always dropped again,
//! whatever happened. What the run reports on the way is a [`CheckEvent`] for the command to
//! show; the result is the [`CheckReport`].

use futures_util::future::{join_all, try_join_all};
use futures_util::TryFutureExt;

use crate::db::ConnectionInfo;
use crate::engine::{Engine, EnvStyle};
use crate::interrupt::{Interrupt, Interrupted};
use crate::migrations::error::MigrateError;
use crate::migrations::roundtrip::{
    check, plan_lanes, CheckOptions, CheckReport, Lane, MigrationCheck, ScratchDatabase, Selection,
};
use crate::migrations::scratch::Scratch;
use crate::migrations::source::MigrationSet;

/// Where the scratch databases are made: a running container and its application role.
#[derive(Clone, Copy)]
pub(crate) struct ScratchPlace<'a> {
    /// The engine the container runs on.
    pub engine: &'a Engine,
    /// The container.
    pub container: &'a str,
    /// Its image's environment style (which role is the superuser).
    pub style: EnvStyle,
    /// The application role's connection to it.
    pub app: &'a ConnectionInfo,
}

/// What the run reports while it works.
pub(crate) enum CheckEvent<'a> {
    /// The scratch databases exist; the check starts.
    Started {
        /// Their names, one a lane.
        scratches: &'a [&'a str],
        /// Why only one lane although more were possible.
        single_because: Option<&'a str>,
    },
    /// One migration's result, in migration order.
    Checked(&'a MigrationCheck),
    /// A scratch database could not be dropped at the end.
    NotDropped {
        /// The scratch database left behind.
        name: &'a str,
        /// Why.
        error: &'a MigrateError,
    },
}

/// Runs the round-trip check of `selection` on scratch databases made in `place` (as many as
/// `jobs`, or by default as [`plan_lanes`] decides for this machine's cores), connected to and
/// checked on until `interrupt` stops it, then dropped.
///
/// Errors come back as the caller's error type, which holds a [`MigrateError`] and
/// [`Interrupted`].
pub(crate) async fn check_on_scratch<E>(
    place: &ScratchPlace<'_>,
    set: &MigrationSet,
    selection: &Selection,
    options: &CheckOptions,
    jobs: Option<usize>,
    interrupt: &Interrupt,
    on_event: &mut (dyn FnMut(CheckEvent<'_>) + Send),
) -> Result<CheckReport, E>
where
    E: From<MigrateError> + From<Interrupted>,
{
    let plan = plan_lanes(set, selection, jobs, default_jobs())?;
    // Creating them is not stopped half-way: a signal then stops the check before it starts.
    interrupt.check()?;
    let ScratchPlace {
        engine,
        container,
        style,
        app,
    } = *place;
    let mut scratches = Scratch::create_many(engine, container, style, app, plan.lanes).await?;
    let names: Vec<&str> = scratches.iter().map(Scratch::name).collect();
    on_event(CheckEvent::Started {
        scratches: &names,
        single_because: plan.single_because.as_deref(),
    });
    let outcome = async {
        let conns = interrupt
            .guard(try_join_all(scratches.iter().map(Scratch::connect)).err_into::<E>())
            .await?;
        let lanes = conns
            .into_iter()
            .zip(scratches.iter_mut())
            .map(|(conn, scratch)| Lane {
                conn,
                scratch: scratch as &mut dyn ScratchDatabase,
            })
            .collect();
        let mut on_result = |c: &MigrationCheck| on_event(CheckEvent::Checked(c));
        interrupt
            .guard(check(set, selection, options, lanes, &mut on_result).err_into::<E>())
            .await
    }
    .await;
    // Always drop the scratch databases, whatever happened.
    let removed = join_all(scratches.iter().map(Scratch::remove)).await;
    for (scratch, removed) in scratches.iter().zip(removed) {
        if let Err(error) = removed {
            on_event(CheckEvent::NotDropped {
                name: scratch.name(),
                error: &error,
            });
        }
    }
    outcome
}

/// The cores, for the lanes when `--jobs` is not given (`plan_lanes` caps them).
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
