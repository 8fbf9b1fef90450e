//! The catalog query that reads a whole schema in one round trip, assembled from one SQL file
//! per kind of object under `sql/`.
//!
//! `prelude.sql` decides which schemas, relations and types are the user's and opens the
//! outer query; every part after it yields the same columns (kind, name, attributes, comment,
//! ACL, kind of ACL, owner, and for a column its relation), joined by `UNION ALL`; the outer
//! query turns each ACL into grants, without the owner's. A row is then `(kind, name,
//! attributes, comment, grants, relation)`: attributes alternate names and values (all text,
//! a NULL value for an absent attribute; NULL attributes for an object only present to carry
//! a comment or grants), grants repeat grantee, privileges and grantable privileges.

/// The snapshot query (PostgreSQL 14 or newer).
pub(super) const SNAPSHOT_QUERY: &str = concat!(
    include_str!("sql/prelude.sql"),
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
);

/// The oldest server the query runs on (`prosqlbody`, `attcompression`: PostgreSQL 14).
pub(super) const MIN_SERVER_VERSION_NUM: u32 = 140_000;
