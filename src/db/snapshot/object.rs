//! Object identities: the kind of a schema object and its canonical, schema-qualified name.

use std::fmt;

use serde::Serialize;

/// The kinds of object a snapshot records, in the order snapshots and diffs sort them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// A schema (namespace).
    Schema,
    /// An installed extension.
    Extension,
    /// An enum type.
    EnumType,
    /// A domain type.
    DomainType,
    /// A composite type (`CREATE TYPE ... AS (...)`).
    CompositeType,
    /// A range type.
    RangeType,
    /// A sequence (identity sequences included).
    Sequence,
    /// A table: ordinary, unlogged, partitioned or foreign.
    Table,
    /// A column of a table.
    Column,
    /// A primary key, unique, check, foreign key or exclusion constraint of a table.
    Constraint,
    /// An index that does not back a constraint.
    Index,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A function (window functions included).
    Function,
    /// A procedure.
    Procedure,
    /// An aggregate function.
    Aggregate,
    /// A trigger on a table or view.
    Trigger,
    /// An event trigger.
    EventTrigger,
    /// A rewrite rule on a table or view.
    Rule,
    /// A row-level security policy.
    Policy,
    /// An extended statistics object (`CREATE STATISTICS`).
    Statistics,
    /// A comment on another object; its name is that object's identity.
    Comment,
    /// The privileges one grantee holds on another object, beyond its owner's.
    Grant,
}

/// Every kind, in sort order.
const ALL: [ObjectKind; 23] = [
    ObjectKind::Schema,
    ObjectKind::Extension,
    ObjectKind::EnumType,
    ObjectKind::DomainType,
    ObjectKind::CompositeType,
    ObjectKind::RangeType,
    ObjectKind::Sequence,
    ObjectKind::Table,
    ObjectKind::Column,
    ObjectKind::Constraint,
    ObjectKind::Index,
    ObjectKind::View,
    ObjectKind::MaterializedView,
    ObjectKind::Function,
    ObjectKind::Procedure,
    ObjectKind::Aggregate,
    ObjectKind::Trigger,
    ObjectKind::EventTrigger,
    ObjectKind::Rule,
    ObjectKind::Policy,
    ObjectKind::Statistics,
    ObjectKind::Comment,
    ObjectKind::Grant,
];

impl ObjectKind {
    /// The kebab-case key used in JSON and by the catalog query (`enum-type`).
    pub fn key(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::EnumType => "enum-type",
            ObjectKind::DomainType => "domain-type",
            ObjectKind::CompositeType => "composite-type",
            ObjectKind::RangeType => "range-type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized-view",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::Trigger => "trigger",
            ObjectKind::EventTrigger => "event-trigger",
            ObjectKind::Rule => "rule",
            ObjectKind::Policy => "policy",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Comment => "comment",
            ObjectKind::Grant => "grant",
        }
    }

    /// The kind with this key, if any.
    pub fn from_key(key: &str) -> Option<ObjectKind> {
        ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// Words, as in `enum type public.build_status`.
impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, word) in self.key().split('-').enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
    }
}

/// One object of a schema: its kind and its canonical name.
///
/// Names are schema-qualified, with identifiers quoted only when needed (`quote_ident`):
/// `public.builds` for tables, views, sequences, indexes, types and statistics objects;
/// `public.builds.status` for a column and `public.builds.builds_pkey` for a constraint,
/// trigger, rule or policy (the table's name, then the object's); `public.f(integer, text)`
/// for a function, procedure or aggregate (its input argument types). Schemas, extensions and
/// event triggers, which belong to no schema, go by their own name. For a comment the name is
/// the commented object's display (`column public.builds.status`); for a grant, the object's
/// display and the grantee (`table public.builds to reader`, `... to PUBLIC`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    /// What kind of object.
    pub kind: ObjectKind,
    /// Its canonical name.
    pub name: String,
}

impl ObjectId {
    /// An object id.
    pub fn new(kind: ObjectKind, name: impl Into<String>) -> ObjectId {
        ObjectId {
            kind,
            name: name.into(),
        }
    }
}

/// `column public.builds.status`, `comment on table public.builds`,
/// `grant on table public.builds to reader`.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ObjectKind::Comment => write!(f, "comment on {}", self.name),
            ObjectKind::Grant => write!(f, "grant on {}", self.name),
            kind => write!(f, "{kind} {}", self.name),
        }
    }
}
