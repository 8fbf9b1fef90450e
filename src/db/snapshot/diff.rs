//! The difference between two snapshots, object by object and attribute by attribute.

use std::cmp::Ordering;
use std::collections::btree_map;
use std::collections::BTreeSet;
use std::iter::Peekable;

use serde::Serialize;

use super::change::Change;
use super::model::{Attributes, Snapshot};
use super::object::ObjectId;

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
        SchemaDiff {
            changes: self
                .changes
                .iter()
                .filter(|change| !change.is_column_order())
                .cloned()
                .collect(),
        }
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
