//! The catalog queries, assembled from one SQL file per kind of object under `sql/`.
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

/// The parts, one per kind of object, joined by `UNION ALL`.
macro_rules! parts {
    () => {
        concat!(
            include_str!("sql/schemas.sql"),
            "UNION ALL\n",
            include_str!("sql/extensions.sql"),
            "UNION ALL\n",
            include_str!("sql/types.sql"),
            "UNION ALL\n",
            include_str!("sql/sequences.sql"),
            "UNION ALL\n",
            include_str!("sql/tables.sql"),
            "UNION ALL\n",
            include_str!("sql/columns.sql"),
            "UNION ALL\n",
            include_str!("sql/constraints.sql"),
            "UNION ALL\n",
            include_str!("sql/indexes.sql"),
            "UNION ALL\n",
            include_str!("sql/views.sql"),
            "UNION ALL\n",
            include_str!("sql/functions.sql"),
            "UNION ALL\n",
            include_str!("sql/triggers.sql"),
            "UNION ALL\n",
            include_str!("sql/rules.sql"),
            "UNION ALL\n",
            include_str!("sql/policies.sql"),
            "UNION ALL\n",
            include_str!("sql/statistics.sql"),
            "UNION ALL\n",
            include_str!("sql/event_triggers.sql"),
            include_str!("sql/finish.sql"),
        )
    };
}

/// The whole-snapshot query (PostgreSQL 14 or newer).
pub(super) const SNAPSHOT_QUERY: &str = concat!(
    include_str!("sql/prelude.sql"),
    include_str!("sql/scope_all.sql"),
    include_str!("sql/select.sql"),
    parts!(),
);

/// The partial-snapshot query: `$1` relations, `$2` types, `$3` functions (OID arrays), plus the
/// global unit (schemas, extensions, event triggers).
pub(super) const UNITS_QUERY: &str = concat!(
    include_str!("sql/prelude.sql"),
    include_str!("sql/scope_units.sql"),
    include_str!("sql/select.sql"),
    parts!(),
);

/// The change marker since the horizon `$1`.
pub(super) const CHANGES_SINCE_QUERY: &str = concat!(
    include_str!("sql/changes_since.sql"),
    include_str!("sql/changes.sql"),
);

/// The change marker's baseline: every user row listed as changed.
pub(super) const CHANGES_ALL_QUERY: &str = concat!(
    include_str!("sql/changes_all.sql"),
    include_str!("sql/changes.sql"),
);

/// The keys of the user rows of the catalogs whose rows can vanish alone.
pub(super) const KEYS_QUERY: &str = include_str!("sql/keys.sql");

/// The oldest server the query runs on (`prosqlbody`, `attcompression`: PostgreSQL 14).
pub(super) const MIN_SERVER_VERSION_NUM: u32 = 140_000;
