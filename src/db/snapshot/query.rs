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

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

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

/// A catalog query over the parts of the given kinds.
fn assemble(scope: &str, kinds: UnitKinds) -> String {
    let mut sql = String::from(include_str!("sql/prelude.sql"));
    sql.push_str(scope);
    push_parts(&mut sql, kinds);
    sql
}

/// The outer query over the parts of the given kinds, after the scope.
fn push_parts(sql: &mut String, kinds: UnitKinds) {
    let relation_parts = if kinds.relations {
        ALL_RELATION_PARTS
    } else {
        0
    };
    push_selected_parts(sql, kinds, relation_parts);
}

/// The outer query over the parts of the given kinds, with only the relation parts in the
/// mask `relation_parts` (bit i: `RELATION_PARTS[i]`).
fn push_selected_parts(sql: &mut String, kinds: UnitKinds, relation_parts: u16) {
    sql.push_str(include_str!("sql/select.sql"));
    sql.push_str(TYPED_NOTHING);
    let relation_parts: Vec<&str> = RELATION_PARTS
        .iter()
        .enumerate()
        .filter(|(i, _)| relation_parts & (1 << i) != 0)
        .map(|(_, part)| *part)
        .collect();
    let selected = [
        (kinds.global, &GLOBAL_PARTS[..]),
        (kinds.types, &TYPE_PARTS[..]),
        (kinds.relations, &relation_parts[..]),
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

/// Every relation part.
pub(super) const ALL_RELATION_PARTS: u16 = (1 << RELATION_PARTS.len()) - 1;

/// The relation parts (a mask over `RELATION_PARTS`) that can yield objects of a relation of
/// this `relkind` (an index's unit is its table's); all of them for an unknown kind.
pub(super) fn relation_parts_for(relkind: Option<char>) -> u16 {
    // Bits: composite types 0, sequences 1, tables 2, columns 3, constraints 4, indexes 5,
    // views 6, triggers 7, rules 8, policies 9, statistics 10.
    const fn mask(bits: &[u16]) -> u16 {
        let mut m = 0;
        let mut i = 0;
        while i < bits.len() {
            m |= 1 << bits[i];
            i += 1;
        }
        m
    }
    match relkind {
        Some('S') => mask(&[1]),
        Some('r' | 'p' | 'f') => mask(&[2, 3, 4, 5, 7, 8, 9, 10]),
        Some('v' | 'm') => mask(&[3, 5, 6, 7, 8, 10]),
        Some('c') => mask(&[0, 3]),
        _ => ALL_RELATION_PARTS,
    }
}

/// The few part sets the re-read is prepared with: a set of parts is read with the smallest of
/// them that holds it. Each distinct statement costs the server a plan of its own (10 to 15 ms
/// for these, again whenever the catalogs' statistics change), so a table and its identity
/// sequence share one, and mixed sets read every part.
fn canonical_relation_parts(parts: u16) -> u16 {
    let sequence = relation_parts_for(Some('S'));
    let sets = [
        sequence,
        relation_parts_for(Some('c')),
        relation_parts_for(Some('v')),
        relation_parts_for(Some('r')) | sequence,
        ALL_RELATION_PARTS,
    ];
    sets.into_iter()
        .find(|set| parts & !set == 0)
        .unwrap_or(ALL_RELATION_PARTS)
}

/// The partial-snapshot query over the units of the given kinds, with the relation parts of
/// `relation_parts` (or of the smallest prepared set that holds them): `$1` relations, `$2`
/// types, `$3` functions (OID arrays). Made once per combination and kept.
pub(super) fn selected_units_query(kinds: UnitKinds, relation_parts: u16) -> &'static str {
    static QUERIES: OnceLock<Mutex<HashMap<(u8, u16), &'static str>>> = OnceLock::new();
    let relation_parts = if kinds.relations {
        canonical_relation_parts(relation_parts)
    } else {
        0
    };
    let mut queries = QUERIES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    queries
        .entry((bits_of(kinds), relation_parts))
        .or_insert_with(|| {
            let mut sql = String::from(include_str!("sql/prelude.sql"));
            sql.push_str(include_str!("sql/scope_units.sql"));
            push_selected_parts(&mut sql, kinds, relation_parts);
            // At most 2^15 combinations, few in practice: kept for the process's life, as
            // sqlx keeps a prepared statement per text.
            Box::leak(sql.into_boxed_str())
        })
}

/// The change marker alone (since the horizon `$1`), in the marker's own rows: kind, catalog,
/// key, unit, and for a changed object's or dependent's unit, its relation kind (`relkind`, or
/// NULL) as the only element of the last column.
pub(super) fn marker_query(source: MarkerSource) -> &'static str {
    static QUERIES: OnceLock<[String; 2]> = OnceLock::new();
    let queries = QUERIES.get_or_init(|| {
        [MarkerSource::Catalogs, MarkerSource::EventLog].map(|source| {
            let (head, tail) = marker_head_and_tail(source);
            let mut sql = String::from(head);
            sql.push_str(include_str!("sql/changes_units.sql"));
            sql.push_str(",\nmarker_rows (kind, cat, key, unit, keys) AS (\n");
            sql.push_str(include_str!("sql/changes_rows.sql"));
            sql.push_str(tail);
            sql.push_str(")\nSELECT m.kind, m.cat, m.key, m.unit, m.keys FROM marker_rows m\n");
            sql
        })
    });
    match source {
        MarkerSource::Catalogs => &queries[0],
        MarkerSource::EventLog => &queries[1],
    }
}

/// The head and tail of a source's change marker.
fn marker_head_and_tail(source: MarkerSource) -> (&'static str, &'static str) {
    match source {
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

/// Where a marker reads changes from, for [`marker_query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarkerSource {
    /// The catalogs' row versions (`changes.sql`).
    Catalogs,
    /// The event log (`events.sql`).
    EventLog,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sets_round_up_to_a_few_prepared_ones() {
        let [table, view, sequence, composite] =
            ['r', 'v', 'S', 'c'].map(|k| relation_parts_for(Some(k)));
        assert_eq!(canonical_relation_parts(sequence), sequence);
        assert_eq!(canonical_relation_parts(view), view);
        assert_eq!(canonical_relation_parts(composite), composite);
        assert_eq!(canonical_relation_parts(table), table | sequence);
        assert_eq!(canonical_relation_parts(table | sequence), table | sequence);
        assert_eq!(canonical_relation_parts(table | view), ALL_RELATION_PARTS);
        assert_eq!(relation_parts_for(Some('p')), table);
        assert_eq!(relation_parts_for(None), ALL_RELATION_PARTS);
        // Every part that any kind needs is in the full set, and the query text holds only
        // the parts asked for.
        let kinds = UnitKinds {
            relations: true,
            ..UnitKinds::default()
        };
        assert!(selected_units_query(kinds, sequence).contains("'sequence'"));
        assert!(!selected_units_query(kinds, sequence).contains("'table'"));
    }
}
