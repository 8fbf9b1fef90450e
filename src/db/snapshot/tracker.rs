//! Partial snapshots: after the first whole snapshot of a connection's database, each new one
//! re-reads only the units (a relation with everything attached to it, a type, a function,
//! the global unit) that a change marker says may have changed, and keeps the rest.
//!
//! The marker (`sql/changes*.sql`) lists the user catalog rows written since the previous
//! marker (their `xmin` is newer), the units of the objects that depend on them (a view on a
//! renamed column is written differently), and how many rows the catalogs whose rows can vanish
//! alone (a dropped index, trigger, constraint or comment) hold: fewer than the keys seen before
//! plus the new ones means rows were deleted, and their keys (`sql/keys.sql`), compared with
//! the keys seen before, name the units they belonged to. Whatever it cannot follow object by
//! object (schemas, role names, operators, collations and other catalogs that only appear by
//! name, temporary objects, extension membership, the settings that change how the server
//! writes definitions, several schemas on the search path, a dropped function) makes the next
//! snapshot a whole one again. The result is always the snapshot a whole read would give: the
//! test `incremental_snapshots_equal_whole_ones` in tests/snapshot.rs compares them after every
//! step of the coverage cases and migration chains.
//!
//! Reading a dozen catalogs at every marker costs time in proportion to the schema. A tracker
//! made with [`Tracker::with_event_log`] on a superuser's connection instead installs an event
//! log (`sql/event_log.sql`: two event triggers writing what each DDL command creates, alters or
//! drops into a table) and reads its markers from it (`sql/events.sql`), in proportion to the
//! change, plus pg_class alone as the catalog marker reads it (what commands do to relations on
//! the side). Event triggers do not see everything: a command that reports no object (GRANT,
//! REVOKE), a schema, or an object of a catalog not followed object by object makes the next
//! snapshot a whole one, and so do changes to event triggers (no event fires for them), roles,
//! extension membership and the settings, as with the catalog marker.
//!
//! The marker (`query::marker_query`) and the re-read of the units it names are two statements:
//! the re-read holds only the catalog parts the units' kinds need (a sequence needs one of the
//! eleven relation parts, a view six), known from the relation kinds the marker reads, else from
//! the snapshot; and a unit whose object a command dropped (the event marker names those) is
//! not read at all. Each part left out of a statement is planning, locking and executor start-up
//! the server no longer does at every snapshot.

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::postgres::types::Oid;
use sqlx::PgConnection;

use super::model::Snapshot;
use super::object::ObjectKind;
use super::query::{
    marker_query, relation_parts_for, selected_units_query, snapshot_query, MarkerSource,
    UnitKinds, CHANGES_ALL_QUERY, EVENT_LOG_CLEAR, EVENT_LOG_SETUP, KEYS_QUERY,
    MIN_SERVER_VERSION_NUM,
};
use super::rows::{from_rows_by_unit, Row, Units};

mod journal;

use journal::Journals;
pub use journal::Mark;

/// The global unit: schemas, extensions and event triggers.
const GLOBAL: &str = "g";
/// A change that shows in no snapshot (a TOAST table).
const IGNORED: &str = "-";
/// A change that cannot be followed object by object.
const UNTRACKED: &str = "x";
/// The catalogs a deleted key of which makes the next snapshot a whole one: a schema (every
/// qualified name may change) or a function (an overload gone can change how calls of the
/// others are written).
const WHOLE_ON_DELETE: [&str; 2] = ["pg_namespace", "pg_proc"];
/// The unit the event marker gives a dropped column (its key is its relation's).
const DROPPED_COLUMN: &str = "column";

/// One row of the change marker: kind, catalog, key, unit, keys (see sql/changes.sql).
type MarkerRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<Option<String>>>,
);

/// The session settings a tracker's connection should have (name, value), for its queries'
/// sake:
/// - `jit = off`: the marker's estimated cost can exceed `jit_above_cost` on a large schema,
///   and compiling it then costs far more than running it.
/// - `plan_cache_mode = force_generic_plan`: each statement is planned once per connection
///   (10 to 15 ms each), not five times before the server settles on the generic plan.
/// - `enable_seqscan = off`: every lookup of the marker and of a re-read is by key, through a
///   catalog index. A cached plan is made while the catalogs are as small as in a new
///   database, when a scan looks cheaper, and kept while the schema grows: then each lookup
///   reads a whole catalog (`pg_description` alone took a third of a re-read's time).
///
/// They change how statements are planned, never their results; a connection that also runs
/// the user's SQL should give that its usual settings (`runner::run_file`).
pub const READER_SETTINGS: [(&str, &str); 3] = [
    ("jit", "off"),
    ("plan_cache_mode", "force_generic_plan"),
    ("enable_seqscan", "off"),
];

/// How many snapshots were taken which way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Whole snapshots (the first, and those after untrackable changes).
    pub whole: usize,
    /// Partial snapshots that re-read some units.
    pub partial: usize,
    /// Snapshots after no change at all (the marker only).
    pub unchanged: usize,
}

/// Snapshots of one connection's database, re-reading only what changed since the previous
/// one. Use one tracker per connection; make a new one for another connection.
///
/// Connections used with a tracker should run with [`READER_SETTINGS`].
#[derive(Debug, Default)]
pub struct Tracker {
    state: Option<State>,
    stats: TrackerStats,
    source: Source,
    /// Made with [`Tracker::with_event_log`].
    wants_event_log: bool,
    journals: Journals,
}

/// Where the change markers come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Source {
    /// The catalogs' row versions (`sql/changes.sql`).
    #[default]
    Catalogs,
    /// The event log, once the first whole snapshot has set it up (or found that the role
    /// cannot, and fallen back to the catalogs).
    EventLogWanted,
    /// The event log (`sql/events.sql`).
    EventLog,
}

/// What the previous snapshot saw.
#[derive(Debug)]
struct State {
    snapshot: Snapshot,
    units: Units,
    /// For each catalog whose rows can vanish alone: every key seen, with its unit.
    keys: HashMap<String, HashMap<String, String>>,
    /// The first transaction ID not yet assigned when the previous marker ran.
    horizon: i64,
    settings: String,
    extension_members: String,
    event_triggers: String,
    /// The keys the latest plan changed, with the unit each had before (none: not seen), for
    /// the marks to record.
    key_changes: Vec<(String, String, Option<String>)>,
}

/// The keys of the user rows of each catalog whose rows can vanish alone.
type Keys = HashMap<String, Vec<String>>;

/// The change marker, sorted by kind.
#[derive(Debug, Default)]
struct Marker {
    counts: HashMap<String, usize>,
    changed: Vec<(String, Option<String>, String)>,
    dependents: Vec<String>,
    /// The relation kind of the relation units it names, where known.
    relkinds: HashMap<String, char>,
    /// Dropped objects (event marker): catalog, key, and whether it was a column of it.
    dropped: Vec<(String, String, bool)>,
    whole: Vec<String>,
    horizon: i64,
    settings: String,
    extension_members: String,
    event_triggers: String,
}

/// What the next snapshot must read.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Everything, for this reason.
    Whole(String),
    /// Nothing changed.
    Unchanged,
    /// These units.
    Partial(BTreeSet<String>),
    /// Rows were deleted: the keys are needed to tell which.
    NeedKeys,
}

impl Tracker {
    /// A tracker that has not taken a snapshot yet, reading its change markers from the
    /// catalogs: it changes nothing in the database.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A tracker that, on a superuser's connection, installs an event log in the database at
    /// its first snapshot and reads its change markers from it: far cheaper on a large schema.
    /// For scratch databases only: the log (schema `_packit_db_events`, event triggers
    /// `_packit_db_command` and `_packit_db_drop`, hidden from snapshots) stays in the
    /// database, and its triggers fire for every session's DDL. Without superuser rights it
    /// works like [`Tracker::new`].
    pub fn with_event_log() -> Tracker {
        Tracker {
            source: Source::EventLogWanted,
            wants_event_log: true,
            ..Tracker::default()
        }
    }

    /// Marks the current snapshot (take one first), to compare later ones with it through
    /// [`Tracker::changes_since`]. Forget the mark when done: until then, every unit replaced
    /// is kept as it was at the mark.
    pub fn mark(&mut self) -> Mark {
        self.journals.open()
    }

    /// Forgets a mark.
    pub fn forget(&mut self, mark: Mark) {
        self.journals.close(mark);
    }

    /// What changed between the marked snapshot and the current one, as two snapshots holding
    /// only the units re-read since (whole ones after a whole snapshot): their diff is the diff
    /// of the whole snapshots, at the cost of the change. `None` for a forgotten mark.
    pub fn changes_since(&self, mark: Mark) -> Option<(Snapshot, Snapshot)> {
        let state = self.state.as_ref()?;
        self.journals
            .changes_since(mark, &state.snapshot, &state.units)
    }

    /// Returns to the snapshot at `mark` once the database itself went back to that state (a
    /// transaction rolled back, a copy put back), and brings it up to date: every mark opened
    /// since, this one included, is forgotten, and the returned mark stands for the same
    /// state. Where a whole snapshot was taken since the mark, a whole one is taken again.
    pub async fn roll_back_to(
        &mut self,
        conn: &mut PgConnection,
        mark: Mark,
    ) -> Result<Mark, sqlx::Error> {
        self.undo_to(mark);
        self.update(conn).await?;
        Ok(self.mark())
    }

    /// The bookkeeping of [`Tracker::roll_back_to`]: puts back the units replaced and the keys
    /// changed since `mark` and forgets it and every later mark; or, past a whole snapshot,
    /// forgets the snapshot, so that the next one is whole.
    fn undo_to(&mut self, mark: Mark) {
        let undo = self.journals.undo(mark);
        let (Some(state), Some(undo)) = (self.state.as_mut(), undo) else {
            tracing::debug!("rolled back past a whole snapshot: the next one is whole");
            self.state = None;
            if self.source == Source::Catalogs && self.wants_event_log {
                // The log a migration dropped in the transaction is back.
                self.source = Source::EventLogWanted;
            }
            return;
        };
        // Every unit's current objects out first, then the old ones in: an object can move
        // between units (a view dropped and created again has a new OID).
        for unit in undo.units.keys() {
            for id in state.units.remove(unit).unwrap_or_default() {
                state.snapshot.objects.remove(&id);
            }
        }
        for (unit, objects) in undo.units {
            if !objects.is_empty() {
                state
                    .units
                    .insert(unit, objects.iter().map(|(id, _)| id.clone()).collect());
                state.snapshot.objects.extend(objects);
            }
        }
        for ((catalog, key), unit) in undo.keys {
            let Some(seen) = state.keys.get_mut(&catalog) else {
                continue;
            };
            match unit {
                Some(unit) => seen.insert(key, unit),
                None => seen.remove(&key),
            };
        }
    }

    /// Whether the change markers come from the event log.
    pub fn uses_event_log(&self) -> bool {
        self.source == Source::EventLog
    }

    /// How many snapshots were taken which way.
    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// The schema of the database `conn` is connected to, as [`super::take`] would read it.
    pub async fn take(&mut self, conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
        self.refresh(conn).await.cloned()
    }

    /// Like [`Tracker::take`], but lends the tracker's own snapshot instead of a copy: cheaper
    /// when the snapshot is only compared before the next one is taken.
    pub async fn refresh(&mut self, conn: &mut PgConnection) -> Result<&Snapshot, sqlx::Error> {
        self.update(conn).await?;
        match &self.state {
            Some(state) => Ok(&state.snapshot),
            None => Err(decode("no snapshot after an update")),
        }
    }

    /// Brings the tracker's snapshot up to date: the change marker first, then the units it
    /// names, with only the catalog parts their kinds need, and none at all for units whose
    /// object was dropped.
    async fn update(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let Some(state) = self.state.as_mut() else {
            return self.whole(conn).await;
        };
        let source = match self.source {
            Source::EventLog => MarkerSource::EventLog,
            Source::Catalogs | Source::EventLogWanted => MarkerSource::Catalogs,
        };
        let rows: Vec<MarkerRow> = match sqlx::query_as(marker_query(source))
            .bind(state.horizon)
            .fetch_all(&mut *conn)
            .await
        {
            Err(e) if self.source == Source::EventLog && is_undefined_table(&e) => {
                // A migration dropped the event log: back to the catalogs.
                tracing::debug!("the event log is gone: change markers from the catalogs");
                self.source = Source::Catalogs;
                return self.whole(conn).await;
            }
            rows => rows?,
        };
        let marker = Marker::parse(rows).map_err(decode)?;
        let mut plan = state.plan(&marker, None);
        if plan == Plan::NeedKeys {
            let keys = read_keys(conn).await?;
            plan = state.plan(&marker, Some(&keys));
        }
        for (catalog, key, unit) in state.key_changes.drain(..) {
            self.journals
                .before_key_change(&catalog, &key, unit.as_ref());
        }
        match plan {
            Plan::Whole(reason) => {
                tracing::debug!(%reason, "whole snapshot");
                self.whole(conn).await
            }
            Plan::Unchanged | Plan::NeedKeys => {
                state.horizon = marker.horizon;
                self.stats.unchanged += 1;
                Ok(())
            }
            Plan::Partial(units) => {
                tracing::debug!(units = ?units, "partial snapshot");
                let gone = marker.dropped_units();
                let wanted: BTreeSet<String> = units.difference(&gone).cloned().collect();
                let (read, read_units) = if wanted.is_empty() {
                    (Snapshot::default(), Units::new())
                } else {
                    let parts = wanted
                        .iter()
                        .filter(|u| u.starts_with('r'))
                        .map(|u| relation_parts_for(state.relkind_of(u, &marker)))
                        .fold(0, |all, parts| all | parts);
                    read_units_of(conn, &wanted, parts).await?
                };
                self.journals.before_replacing(
                    units.iter().chain(read_units.keys()),
                    &state.snapshot,
                    &state.units,
                );
                state.replace(&units, read, read_units);
                state.horizon = marker.horizon;
                self.stats.partial += 1;
                Ok(())
            }
        }
    }

    /// A whole snapshot, and the marker's baseline taken just before it.
    async fn whole(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if let Some(version) = conn.server_version_num() {
            if version < MIN_SERVER_VERSION_NUM {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "schema snapshots need PostgreSQL 14 or newer (server version {version})"
                    )
                    .into(),
                ));
            }
        }
        if self.source == Source::EventLogWanted {
            self.source = set_up_event_log(conn).await?;
        }
        if self.source == Source::EventLog {
            // What happened before this snapshot is in it.
            sqlx::query(EVENT_LOG_CLEAR).execute(&mut *conn).await?;
        }
        let rows: Vec<MarkerRow> = sqlx::query_as(CHANGES_ALL_QUERY)
            .fetch_all(&mut *conn)
            .await?;
        let marker = Marker::parse(rows).map_err(decode)?;
        let current = read_keys(conn).await?;
        // Planned at every call, as in `take`: a plan made on an almost empty database is slow
        // on a large one.
        let rows: Vec<Row> = sqlx::query_as(snapshot_query())
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        let (snapshot, units) = from_rows_by_unit(rows).map_err(decode)?;
        let mut keys: HashMap<String, HashMap<String, String>> = current
            .iter()
            .map(|(catalog, keys)| {
                let units = keys
                    .iter()
                    .map(|k| (k.clone(), UNTRACKED.to_string()))
                    .collect();
                (catalog.clone(), units)
            })
            .collect();
        for (catalog, key, unit) in &marker.changed {
            if let (Some(key), Some(seen)) = (key, keys.get_mut(catalog)) {
                seen.insert(key.clone(), unit.clone());
            }
        }
        self.journals.before_whole(
            self.state
                .as_ref()
                .map(|state| (&state.snapshot, &state.units)),
        );
        self.state = Some(State {
            snapshot,
            units,
            keys,
            horizon: marker.horizon,
            settings: marker.settings,
            extension_members: marker.extension_members,
            event_triggers: marker.event_triggers,
            key_changes: Vec::new(),
        });
        self.stats.whole += 1;
        Ok(())
    }
}

impl Marker {
    /// The units whose own object a command dropped (a table, view, sequence or composite
    /// type; a type; a function): nothing is left to read of them. Only the event marker
    /// names dropped objects.
    fn dropped_units(&self) -> BTreeSet<String> {
        self.dropped
            .iter()
            .filter(|(_, _, column)| !column)
            .filter_map(|(catalog, key, _)| {
                let prefix = match catalog.as_str() {
                    "pg_class" => 'r',
                    "pg_type" => 't',
                    "pg_proc" => 'f',
                    _ => return None,
                };
                Some(format!("{prefix}{key}"))
            })
            .collect()
    }

    fn parse(rows: Vec<MarkerRow>) -> Result<Marker, String> {
        let mut marker = Marker::default();
        let mut horizon = None;
        for (kind, catalog, key, unit, part) in rows {
            if let (Some(unit), Some(relkind)) = (
                &unit,
                part.and_then(|p| p.into_iter().next().flatten())
                    .and_then(|p| p.chars().next()),
            ) {
                marker.relkinds.insert(unit.clone(), relkind);
            }
            match (kind.as_str(), catalog) {
                ("count", Some(catalog)) => {
                    let count = key
                        .and_then(|n| n.parse().ok())
                        .ok_or("a count without a number")?;
                    marker.counts.insert(catalog, count);
                }
                ("changed", Some(catalog)) => {
                    let unit = unit.ok_or("a changed row without a unit")?;
                    marker.changed.push((catalog, key, unit));
                }
                ("dropped", Some(catalog)) => {
                    let key = key.ok_or("a dropped row without a key")?;
                    let column = unit.as_deref() == Some(DROPPED_COLUMN);
                    marker.dropped.push((catalog, key, column));
                }
                ("depends", _) => {
                    marker
                        .dependents
                        .push(unit.ok_or("a dependent without a unit")?);
                }
                ("full", Some(reason)) => marker.whole.push(reason),
                ("state", Some(name)) => {
                    let value = key.unwrap_or_default();
                    match name.as_str() {
                        "horizon" => horizon = value.parse().ok(),
                        "settings" => marker.settings = value,
                        "extension members" => marker.extension_members = value,
                        "event triggers" => marker.event_triggers = value,
                        _ => return Err(format!("unknown marker state `{name}`")),
                    }
                }
                (kind, _) => return Err(format!("unknown marker row `{kind}`")),
            }
        }
        marker.horizon = horizon.ok_or("the marker gave no horizon")?;
        Ok(marker)
    }
}

impl State {
    /// The relation kind of a relation unit: as the marker read it, else as the snapshot
    /// holds the unit's relation; `None` when neither knows.
    fn relkind_of(&self, unit: &str, marker: &Marker) -> Option<char> {
        if let Some(&relkind) = marker.relkinds.get(unit) {
            return Some(relkind);
        }
        self.units.get(unit)?.iter().find_map(|id| match id.kind {
            ObjectKind::Table => Some('r'),
            ObjectKind::View => Some('v'),
            ObjectKind::MaterializedView => Some('m'),
            ObjectKind::Sequence => Some('S'),
            ObjectKind::CompositeType => Some('c'),
            _ => None,
        })
    }

    /// Which units the marker says may have changed, given the current keys when rows were
    /// deleted (`NeedKeys` without them); updates the keys seen once the plan is final.
    ///
    /// Nothing is changed before that: after `NeedKeys`, the caller plans the same marker again
    /// with the keys, and a key forgotten in the first call would lose the unit of an object
    /// the marker names as dropped (a type dropped by a down whose table rewrite also dropped a
    /// TOAST table: the type stayed in the snapshot).
    fn plan(&mut self, marker: &Marker, current: Option<&Keys>) -> Plan {
        if let Some(reason) = marker.whole.first() {
            return Plan::Whole(format!("changed: {reason}"));
        }
        if marker.settings != self.settings {
            return Plan::Whole("the settings that change how definitions are written".into());
        }
        if marker.extension_members != self.extension_members {
            return Plan::Whole("objects joined or left an extension".into());
        }
        if marker.event_triggers != self.event_triggers {
            return Plan::Whole("event triggers changed".into());
        }
        let mut changed_keys: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (catalog, key, _) in &marker.changed {
            if let Some(key) = key {
                changed_keys.entry(catalog).or_default().insert(key);
            }
        }
        let mut deleted_units: BTreeSet<String> = BTreeSet::new();
        // Keys seen before whose rows are gone, forgotten once the plan is final.
        let mut forgotten: HashMap<String, HashSet<String>> = HashMap::new();
        // Dropped objects the event marker names: their units are known from the keys seen (a
        // key not seen is of an object created since, which no snapshot holds; a catalog
        // without keys, pg_attrdef, is followed through its table's command).
        for (catalog, key, column) in &marker.dropped {
            if WHOLE_ON_DELETE.contains(&catalog.as_str()) && !column {
                return Plan::Whole(format!("rows of {catalog} deleted"));
            }
            let Some(seen) = self.keys.get(catalog) else {
                continue;
            };
            if let Some(unit) = seen.get(key) {
                deleted_units.insert(unit.clone());
                if !column {
                    forgotten
                        .entry(catalog.clone())
                        .or_default()
                        .insert(key.clone());
                }
            }
        }
        for (catalog, &count) in &marker.counts {
            let Some(seen) = self.keys.get(catalog) else {
                return Plan::Whole(format!("a catalog not seen before: {catalog}"));
            };
            let gone = forgotten.get(catalog);
            let still_seen =
                |key: &str| seen.contains_key(key) && gone.is_none_or(|g| !g.contains(key));
            // The rows there now are the ones seen before that were not deleted, and the
            // changed ones (a new row has a new xmin).
            let new = changed_keys
                .get(catalog.as_str())
                .map_or(0, |c| c.iter().filter(|k| !still_seen(k)).count());
            let union = seen.len() - gone.map_or(0, HashSet::len) + new;
            if count > union {
                return Plan::Whole(format!("a row of {catalog} appeared unchanged"));
            }
            if count == union {
                continue;
            }
            if WHOLE_ON_DELETE.contains(&catalog.as_str()) {
                return Plan::Whole(format!("rows of {catalog} deleted"));
            }
            let Some(current) = current else {
                return Plan::NeedKeys;
            };
            let now: HashSet<&str> = current
                .get(catalog)
                .map(|keys| keys.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let deleted: Vec<(&String, &String)> = seen
                .iter()
                .filter(|(key, _)| still_seen(key) && !now.contains(key.as_str()))
                .collect();
            for (key, unit) in deleted {
                deleted_units.insert(unit.clone());
                forgotten
                    .entry(catalog.clone())
                    .or_default()
                    .insert(key.clone());
            }
        }
        // The plan is final: the keys seen follow.
        for (catalog, keys) in forgotten {
            if let Some(seen) = self.keys.get_mut(&catalog) {
                for key in keys {
                    let old = seen.remove(&key);
                    self.key_changes.push((catalog.clone(), key, old));
                }
            }
        }
        let mut dirty = deleted_units;
        for (catalog, key, unit) in &marker.changed {
            dirty.insert(unit.clone());
            if let (Some(key), Some(seen)) = (key, self.keys.get_mut(catalog)) {
                let old = seen.insert(key.clone(), unit.clone());
                if old.as_ref() != Some(unit) {
                    self.key_changes.push((catalog.clone(), key.clone(), old));
                }
            }
        }
        dirty.extend(marker.dependents.iter().cloned());
        if dirty.contains(UNTRACKED) {
            return Plan::Whole("a change that cannot be tracked".into());
        }
        dirty.remove(IGNORED);
        if dirty.is_empty() {
            Plan::Unchanged
        } else {
            Plan::Partial(dirty)
        }
    }

    /// Replaces the objects of the re-read units by what was read.
    fn replace(&mut self, dirty: &BTreeSet<String>, read: Snapshot, read_units: Units) {
        let gone = dirty.iter().chain(read_units.keys());
        for unit in gone.cloned().collect::<Vec<_>>() {
            for id in self.units.remove(&unit).unwrap_or_default() {
                self.snapshot.objects.remove(&id);
            }
        }
        self.snapshot.objects.extend(read.objects);
        self.units.extend(read_units);
    }
}

/// Reads the given units, with only the relation parts in the mask `relation_parts`.
async fn read_units_of(
    conn: &mut PgConnection,
    units: &BTreeSet<String>,
    relation_parts: u16,
) -> Result<(Snapshot, Units), sqlx::Error> {
    let ids = |prefix: char| -> Vec<Oid> {
        units
            .iter()
            .filter_map(|u| u.strip_prefix(prefix)?.parse().ok().map(Oid))
            .collect()
    };
    let (rels, types, funcs) = (ids('r'), ids('t'), ids('f'));
    let kinds = UnitKinds {
        global: units.contains(GLOBAL),
        relations: !rels.is_empty(),
        types: !types.is_empty(),
        functions: !funcs.is_empty(),
    };
    let rows: Vec<Row> = sqlx::query_as(selected_units_query(kinds, relation_parts))
        .bind(rels)
        .bind(types)
        .bind(funcs)
        .fetch_all(&mut *conn)
        .await?;
    from_rows_by_unit(rows).map_err(decode)
}

/// Installs the event log if the role may (a superuser) and it is not there yet: the source
/// of the next markers.
async fn set_up_event_log(conn: &mut PgConnection) -> Result<Source, sqlx::Error> {
    let (superuser, present): (bool, bool) = sqlx::query_as(
        "SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false), \
                to_regclass('_packit_db_events.log') IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    if present {
        return Ok(Source::EventLog);
    }
    if !superuser {
        tracing::debug!("not a superuser: change markers from the catalogs");
        return Ok(Source::Catalogs);
    }
    // One query string: one implicit transaction, so a failure leaves nothing behind. The log
    // only makes snapshots cheaper; without it they come from the catalogs.
    match sqlx::raw_sql(EVENT_LOG_SETUP).execute(&mut *conn).await {
        Ok(_) => Ok(Source::EventLog),
        Err(e) => {
            tracing::debug!(error = %e, "no event log: change markers from the catalogs");
            Ok(Source::Catalogs)
        }
    }
}

/// The keys of the user rows of every catalog whose rows can vanish alone.
async fn read_keys(conn: &mut PgConnection) -> Result<Keys, sqlx::Error> {
    let rows: Vec<MarkerRow> = sqlx::query_as(KEYS_QUERY).fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(_, catalog, _, _, keys)| {
            Some((
                catalog?,
                keys.unwrap_or_default().into_iter().flatten().collect(),
            ))
        })
        .collect())
}

/// SQLSTATE: a relation does not exist.
const UNDEFINED_TABLE: &str = "42P01";

/// Whether the server said a relation does not exist.
fn is_undefined_table(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).as_deref() == Some(UNDEFINED_TABLE)
}

fn decode(message: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(message.into().into())
}

#[cfg(test)]
mod tests;
