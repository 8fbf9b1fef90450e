//! The difference between two snapshots, object by object and attribute by attribute, and
//! the same without the column positions that only shifted because another column of the
//! table was added or removed.

use std::cmp::Ordering;
use std::collections::btree_map;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::iter::Peekable;

use serde::Serialize;

use super::change::{Change, POSITION};
use super::model::{Attributes, Snapshot};
use super::object::{ObjectId, ObjectKind};

/// The changes that turn one snapshot into another, sorted by object, then attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// The changes, sorted by object.
    pub changes: Vec<Change>,
}

impl SchemaDiff {
    /// Whether the two snapshots are the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether every change is only a column's physical position (a down that re-adds a
    /// dropped column at the end). False for an empty diff: there is then no difference at all.
    pub fn is_only_column_order(&self) -> bool {
        !self.changes.is_empty() && self.changes.iter().all(Change::is_column_order)
    }

    /// The diff without column-position changes.
    pub fn without_column_order(&self) -> SchemaDiff {
        self.split_column_order().0
    }

    /// The diff in two parts, each in the diff's order: the changes other than column
    /// positions, and the column-position changes.
    pub fn split_column_order(&self) -> (SchemaDiff, SchemaDiff) {
        let (order, other) = self
            .changes
            .iter()
            .cloned()
            .partition(Change::is_column_order);
        (SchemaDiff { changes: other }, SchemaDiff { changes: order })
    }
}

/// What changed from `before` to `after`: objects added and removed, and for objects in both,
/// each attribute whose value differs or that exists on one side only. O(objects), one merge
/// of the two sorted maps.
pub fn diff(before: &Snapshot, after: &Snapshot) -> SchemaDiff {
    let mut changes = Vec::new();
    let mut old = before.objects.iter().peekable();
    let mut new = after.objects.iter().peekable();
    loop {
        match next_pair(&mut old, &mut new) {
            Pair::Done => break,
            Pair::Removed(object) => changes.push(Change::Removed {
                object: object.clone(),
            }),
            Pair::Added(object) => changes.push(Change::Added {
                object: object.clone(),
            }),
            Pair::Both(object, a, b) => attribute_changes(object, a, b, &mut changes),
        }
    }
    SchemaDiff { changes }
}

type Objects<'a> = Peekable<btree_map::Iter<'a, ObjectId, Attributes>>;

enum Pair<'a> {
    Done,
    Removed(&'a ObjectId),
    Added(&'a ObjectId),
    Both(&'a ObjectId, &'a Attributes, &'a Attributes),
}

/// The next object of the merge of two sorted maps.
fn next_pair<'a>(old: &mut Objects<'a>, new: &mut Objects<'a>) -> Pair<'a> {
    let order = match (old.peek(), new.peek()) {
        (None, None) => return Pair::Done,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some((a, _)), Some((b, _))) => a.cmp(b),
    };
    match order {
        Ordering::Less => old.next().map_or(Pair::Done, |(id, _)| Pair::Removed(id)),
        Ordering::Greater => new.next().map_or(Pair::Done, |(id, _)| Pair::Added(id)),
        Ordering::Equal => match (old.next(), new.next()) {
            (Some((id, a)), Some((_, b))) => Pair::Both(id, a, b),
            _ => Pair::Done,
        },
    }
}

fn attribute_changes(object: &ObjectId, a: &Attributes, b: &Attributes, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for name in names {
        let (before, after) = (a.get(name), b.get(name));
        if before != after {
            out.push(Change::Changed {
                object: object.clone(),
                attribute: name.clone(),
                before: before.cloned(),
                after: after.cloned(),
            });
        }
    }
}

/// The diff of two snapshots, without column position changes that only follow from columns
/// added or removed in the same table (dropping a middle column shifts the ones after it):
/// a position change is kept only where the columns both sides have are in another order.
///
/// This is the diff to compare two states of one database with (the round-trip check,
/// `migrate redo`); [`diff`] lists every attribute that differs.
pub fn schema_diff(before: &Snapshot, after: &Snapshot) -> SchemaDiff {
    let full = diff(before, after);
    if !full.changes.iter().any(Change::is_column_order) {
        return full;
    }
    let (old, new) = (columns_by_table(before), columns_by_table(after));
    let reordered: HashSet<&str> = old
        .iter()
        .filter(|(table, columns)| {
            let Some(other) = new.get(*table) else {
                return false;
            };
            let common = |cols: &Vec<(u32, String)>, against: &Vec<(u32, String)>| -> Vec<String> {
                cols.iter()
                    .filter(|(_, c)| against.iter().any(|(_, o)| o == c))
                    .map(|(_, c)| c.clone())
                    .collect()
            };
            common(columns, other) != common(other, columns)
        })
        .map(|(table, _)| table.as_str())
        .collect();
    SchemaDiff {
        changes: full
            .changes
            .into_iter()
            .filter(|c| {
                !c.is_column_order() || reordered.contains(split_column(&c.object().name).0)
            })
            .collect(),
    }
}

/// Columns of each table, in physical order.
fn columns_by_table(s: &Snapshot) -> HashMap<String, Vec<(u32, String)>> {
    let mut tables: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    for (id, attributes) in &s.objects {
        if id.kind != ObjectKind::Column {
            continue;
        }
        let position = attributes
            .get(POSITION)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let (table, column) = split_column(&id.name);
        tables
            .entry(table.to_string())
            .or_default()
            .push((position, column.to_string()));
    }
    for columns in tables.values_mut() {
        columns.sort();
    }
    tables
}

/// Splits `schema.table.column` at the last dot outside double quotes.
pub(super) fn split_column(name: &str) -> (&str, &str) {
    let mut quoted = false;
    let mut last_dot = None;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => last_dot = Some(i),
            _ => {}
        }
    }
    match last_dot {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => ("", name),
    }
}
