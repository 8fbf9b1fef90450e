//! The catalog queries, assembled from one SQL file per kind of object under `sql/`, and the
//! change markers of partial snapshots (`changes*.sql` and `keys.sql` from the catalogs' row
//! versions; `events*.sql` from the event log of `event_log.sql`).
//!
//! `prelude.sql` decides which schemas are the user's and which relations are the migration
//! tracking tables; a scope (`scope_all.sql` for a whole snapshot, `scope_units.sql` for the
//! units a partial snapshot re-reads) decides which relations, types and functions are read;
//! `select.sql` opens the outer query. Every part after it yields the same columns (kind,
//! name, attributes, comment, ACL, kind of ACL, owner, for a column its relation, and the unit
//! the object is read with), joined by `UNION ALL`; the outer query turns each ACL into grants,
//! without the owner's. A row is then `(kind, name, attributes, comment, grants, relation,
//! unit)`: attributes alternate names and values (all text, a NULL value for an absent
//! attribute; NULL attributes for an object only present to carry a comment or grants), grants
//! repeat grantee, privileges and grantable privileges.

use std::sync::OnceLock;

/// The parts of the global unit: schemas, extensions, event triggers.
const GLOBAL_PARTS: [&str; 3] = [
    include_str!("sql/schemas.sql"),
    include_str!("sql/extensions.sql"),
    include_str!("sql/event_triggers.sql"),
];

/// The parts of relation units.
const RELATION_PARTS: [&str; 11] = [
    include_str!("sql/composite_types.sql"),
    include_str!("sql/sequences.sql"),
    include_str!("sql/tables.sql"),
    include_str!("sql/columns.sql"),
    include_str!("sql/constraints.sql"),
    include_str!("sql/indexes.sql"),
    include_str!("sql/views.sql"),
    include_str!("sql/triggers.sql"),
    include_str!("sql/rules.sql"),
    include_str!("sql/policies.sql"),
    include_str!("sql/statistics.sql"),
];

/// The parts of type units (enum, domain, range) and function units.
const TYPE_PARTS: [&str; 1] = [include_str!("sql/types.sql")];
const FUNCTION_PARTS: [&str; 1] = [include_str!("sql/functions.sql")];

/// A first part that yields no row and fixes the types of the union's columns (the parts
/// leave some as untyped literals).
const TYPED_NOTHING: &str = "SELECT NULL::text, NULL::text, NULL::text[], NULL::text, \
    NULL::aclitem[], NULL::\"char\", NULL::oid, NULL::oid, NULL::text WHERE false\n";

/// Which kinds of unit a partial snapshot re-reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct UnitKinds {
    /// The global unit.
    pub(super) global: bool,
    /// Relation units (`$1`).
    pub(super) relations: bool,
    /// Type units (`$2`).
    pub(super) types: bool,
    /// Function units (`$3`).
    pub(super) functions: bool,
}

impl UnitKinds {
    /// Whether a unit (`r16390`, `t…`, `f…`, `g`) is of these kinds.
    pub(super) fn includes(self, unit: &str) -> bool {
        match unit.chars().next() {
            Some('r') => self.relations,
            Some('t') => self.types,
            Some('f') => self.functions,
            Some('g') => self.global && unit == "g",
            _ => false,
        }
    }
}

/// A catalog query over the parts of the given kinds.
fn assemble(scope: &str, kinds: UnitKinds) -> String {
    let mut sql = String::from(include_str!("sql/prelude.sql"));
    sql.push_str(scope);
    push_parts(&mut sql, kinds);
    sql
}

/// The outer query over the parts of the given kinds, after the scope.
fn push_parts(sql: &mut String, kinds: UnitKinds) {
    sql.push_str(include_str!("sql/select.sql"));
    sql.push_str(TYPED_NOTHING);
    let selected = [
        (kinds.global, &GLOBAL_PARTS[..]),
        (kinds.types, &TYPE_PARTS[..]),
        (kinds.relations, &RELATION_PARTS[..]),
        (kinds.functions, &FUNCTION_PARTS[..]),
    ];
    for (_, parts) in selected.iter().filter(|(wanted, _)| *wanted) {
        for part in *parts {
            sql.push_str("UNION ALL\n");
            sql.push_str(part);
        }
    }
    sql.push_str(include_str!("sql/finish.sql"));
}

/// The kinds of a 4-bit set (global, relations, types, functions).
fn kinds_of(bits: u8) -> UnitKinds {
    UnitKinds {
        global: bits & 1 != 0,
        relations: bits & 2 != 0,
        types: bits & 4 != 0,
        functions: bits & 8 != 0,
    }
}

/// The 4-bit set of kinds.
fn bits_of(kinds: UnitKinds) -> u8 {
    u8::from(kinds.global)
        | u8::from(kinds.relations) << 1
        | u8::from(kinds.types) << 2
        | u8::from(kinds.functions) << 3
}

/// The whole-snapshot query (PostgreSQL 14 or newer).
pub(super) fn snapshot_query() -> &'static str {
    static QUERY: OnceLock<String> = OnceLock::new();
    QUERY.get_or_init(|| {
        let all = UnitKinds {
            global: true,
            relations: true,
            types: true,
            functions: true,
        };
        assemble(include_str!("sql/scope_all.sql"), all)
    })
}

/// The partial-snapshot query over the units of the given kinds: `$1` relations, `$2` types,
/// `$3` functions (OID arrays). Only the parts of those kinds are in it, so that the server
/// does not set up the plans of the others at every execution.
pub(super) fn units_query(kinds: UnitKinds) -> &'static str {
    static QUERIES: OnceLock<Vec<String>> = OnceLock::new();
    let queries = QUERIES.get_or_init(|| {
        (0..16)
            .map(|bits: u8| assemble(include_str!("sql/scope_units.sql"), kinds_of(bits)))
            .collect()
    });
    &queries[usize::from(bits_of(kinds))]
}

/// The change marker's baseline: every user row listed as changed.
pub(super) const CHANGES_ALL_QUERY: &str = concat!(
    include_str!("sql/changes_all.sql"),
    include_str!("sql/changes.sql"),
    include_str!("sql/changes_units.sql"),
    include_str!("sql/changes_rows.sql"),
    include_str!("sql/changes_counts.sql"),
);

/// Creates the event log (a superuser's statements, one string).
pub(super) const EVENT_LOG_SETUP: &str = include_str!("sql/event_log.sql");

/// Empties the event log.
pub(super) const EVENT_LOG_CLEAR: &str = "DELETE FROM _packit_db_events.log";

/// The keys of the user rows of the catalogs whose rows can vanish alone.
pub(super) const KEYS_QUERY: &str = include_str!("sql/keys.sql");

/// The oldest server the query runs on (`prosqlbody`, `attcompression`: PostgreSQL 14).
pub(super) const MIN_SERVER_VERSION_NUM: u32 = 140_000;

/// Where a marker reads changes from, for [`marker_and_units_query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarkerSource {
    /// The catalogs' row versions (`changes.sql`).
    Catalogs,
    /// The event log (`events.sql`).
    EventLog,
}

/// The change marker since the horizon `$1` and, in the same statement, the units it names
/// (changed objects and their dependents) together with the units in `$2` (text, e.g.
/// `r16390`), for the unit kinds given: one round trip and one plan where the marker and a
/// partial read were two. The marker's rows come first in the snapshot rows' shape: kind
/// `marker`, name the marker row's kind, attributes `[catalog, key]`, comment its unit,
/// grants its keys.
pub(super) fn marker_and_units_query(source: MarkerSource, kinds: UnitKinds) -> &'static str {
    static QUERIES: OnceLock<Vec<String>> = OnceLock::new();
    let queries = QUERIES.get_or_init(|| {
        let mut all = Vec::new();
        for source in [MarkerSource::Catalogs, MarkerSource::EventLog] {
            for bits in 0..16u8 {
                all.push(assemble_marker_and_units(source, kinds_of(bits)));
            }
        }
        all
    });
    let offset = match source {
        MarkerSource::Catalogs => 0,
        MarkerSource::EventLog => 16,
    };
    &queries[offset + usize::from(bits_of(kinds))]
}

fn assemble_marker_and_units(source: MarkerSource, kinds: UnitKinds) -> String {
    let (head, tail) = match source {
        MarkerSource::Catalogs => (
            concat!(
                include_str!("sql/changes_since.sql"),
                include_str!("sql/changes.sql")
            ),
            include_str!("sql/changes_counts.sql"),
        ),
        MarkerSource::EventLog => (
            include_str!("sql/events.sql"),
            include_str!("sql/events_tail.sql"),
        ),
    };
    let mut sql = String::from(head);
    sql.push_str(include_str!("sql/changes_units.sql"));
    sql.push_str(",\nmarker_rows (kind, cat, key, unit, keys) AS (\n");
    sql.push_str(include_str!("sql/changes_rows.sql"));
    sql.push_str(tail);
    sql.push_str(
        "),\n\
         -- The units to read: those the marker names and those the caller expects ($2).\n\
         wanted AS (\n\
         \x20   SELECT coalesce(array_agg(substr(w.unit, 2)::oid) FILTER (WHERE w.unit ~ '^r[0-9]+$'),\n\
         \x20                   '{}') AS rels,\n\
         \x20          coalesce(array_agg(substr(w.unit, 2)::oid) FILTER (WHERE w.unit ~ '^t[0-9]+$'),\n\
         \x20                   '{}') AS types,\n\
         \x20          coalesce(array_agg(substr(w.unit, 2)::oid) FILTER (WHERE w.unit ~ '^f[0-9]+$'),\n\
         \x20                   '{}') AS funcs\n\
         \x20   FROM (SELECT m.unit FROM marker_rows m WHERE m.kind IN ('changed', 'depends')\n\
         \x20         UNION\n\
         \x20         SELECT unnest($2::text[])) w\n\
         ),\n",
    );
    let prelude = include_str!("sql/prelude.sql");
    let start = prelude
        .find("WITH\nnsp AS")
        .expect("prelude.sql opens its WITH before nsp");
    sql.push_str(&prelude[start + "WITH\n".len()..]);
    sql.push_str(
        &include_str!("sql/scope_units.sql")
            .replace("$1::oid[]", "(SELECT w.rels FROM wanted w)")
            .replace("$2::oid[]", "(SELECT w.types FROM wanted w)")
            .replace("$3::oid[]", "(SELECT w.funcs FROM wanted w)"),
    );
    push_parts(&mut sql, kinds);
    sql.push_str(
        "UNION ALL\n\
         SELECT 'marker'::text, m.kind, ARRAY[m.cat, m.key], m.unit, m.keys, NULL::oid, NULL::text\n\
         FROM marker_rows m\n",
    );
    sql
}
