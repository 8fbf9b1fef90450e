//! What changed since a mark: for every unit replaced since, the objects it had at the mark.
//! Comparing a later snapshot with the one at the mark then reads those units only, not the
//! whole schema (the round-trip check compares twice a migration, and clones nothing).

use std::collections::HashMap;

use super::super::model::{Attributes, Snapshot};
use super::super::object::ObjectId;
use super::super::rows::Units;

/// A point in a tracker's history to compare later snapshots with (see
/// [`super::Tracker::mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u64);

/// The open marks of a tracker.
#[derive(Debug, Default)]
pub(super) struct Journals {
    next: u64,
    open: Vec<Journal>,
}

#[derive(Debug)]
struct Journal {
    mark: Mark,
    /// The objects each unit replaced since the mark had at the mark (none: new since).
    units: HashMap<String, Vec<(ObjectId, Attributes)>>,
    /// The whole snapshot at the mark, once a whole snapshot has replaced everything.
    whole: Option<Snapshot>,
    /// The unit each catalog key changed since the mark had at the mark (none: unknown then).
    keys: HashMap<(String, String), Option<String>>,
}

/// What a tracker must put back to return to a mark: the objects of every unit replaced since,
/// and the units of every key changed since.
#[derive(Debug)]
pub(super) struct Undo {
    /// Each unit's objects at the mark (none: the unit did not exist).
    pub(super) units: HashMap<String, Vec<(ObjectId, Attributes)>>,
    /// Each key's unit at the mark, by catalog and key (none: not known then).
    pub(super) keys: HashMap<(String, String), Option<String>>,
}

impl Journals {
    /// Opens a mark at the current snapshot.
    pub(super) fn open(&mut self) -> Mark {
        let mark = Mark(self.next);
        self.next += 1;
        self.open.push(Journal {
            mark,
            units: HashMap::new(),
            whole: None,
            keys: HashMap::new(),
        });
        mark
    }

    /// Closes a mark and every mark opened after it, and returns what was replaced since it;
    /// `None` when a whole snapshot was taken since (the units at the mark are not known) or
    /// the mark is not open.
    pub(super) fn undo(&mut self, mark: Mark) -> Option<Undo> {
        let at = self.open.iter().position(|j| j.mark == mark)?;
        let journal = self.open.drain(at..).next()?;
        if journal.whole.is_some() {
            return None;
        }
        Some(Undo {
            units: journal.units,
            keys: journal.keys,
        })
    }

    /// Records, for every open mark, the unit a catalog key had before it changes.
    pub(super) fn before_key_change(&mut self, catalog: &str, key: &str, unit: Option<&String>) {
        for journal in self.open.iter_mut().filter(|j| j.whole.is_none()) {
            journal
                .keys
                .entry((catalog.to_string(), key.to_string()))
                .or_insert_with(|| unit.cloned());
        }
    }

    /// Forgets a mark.
    pub(super) fn close(&mut self, mark: Mark) {
        self.open.retain(|j| j.mark != mark);
    }

    /// Records, for every open mark, what the units about to be replaced hold.
    pub(super) fn before_replacing<'a>(
        &mut self,
        replaced: impl IntoIterator<Item = &'a String>,
        snapshot: &Snapshot,
        units: &Units,
    ) {
        if self.open.iter().all(|j| j.whole.is_some()) {
            return;
        }
        for unit in replaced {
            for journal in self.open.iter_mut().filter(|j| j.whole.is_none()) {
                journal
                    .units
                    .entry(unit.clone())
                    .or_insert_with(|| objects_of(unit, snapshot, units));
            }
        }
    }

    /// Records, for every open mark, the snapshot at the mark before a whole snapshot replaces
    /// the current one (`None`: there is none yet).
    pub(super) fn before_whole(&mut self, current: Option<(&Snapshot, &Units)>) {
        for journal in self.open.iter_mut().filter(|j| j.whole.is_none()) {
            let at_mark = match current {
                Some((snapshot, units)) => journal.at_mark(snapshot, units),
                None => Snapshot::default(),
            };
            journal.whole = Some(at_mark);
            journal.units.clear();
            journal.keys.clear();
        }
    }

    /// The objects at the mark and now of what changed since (whole snapshots after a whole
    /// snapshot); `None` for a mark that is not open.
    pub(super) fn changes_since(
        &self,
        mark: Mark,
        snapshot: &Snapshot,
        units: &Units,
    ) -> Option<(Snapshot, Snapshot)> {
        let journal = self.open.iter().find(|j| j.mark == mark)?;
        if let Some(whole) = &journal.whole {
            return Some((whole.clone(), snapshot.clone()));
        }
        let then = journal.units.values().flatten().cloned().collect();
        let now = journal
            .units
            .keys()
            .flat_map(|unit| objects_of(unit, snapshot, units))
            .collect();
        Some((Snapshot { objects: then }, Snapshot { objects: now }))
    }
}

impl Journal {
    /// The snapshot at the mark: the current one with the replaced units put back.
    fn at_mark(&self, snapshot: &Snapshot, units: &Units) -> Snapshot {
        let mut at_mark = snapshot.clone();
        for unit in self.units.keys() {
            for id in units.get(unit).into_iter().flatten() {
                at_mark.objects.remove(id);
            }
        }
        at_mark
            .objects
            .extend(self.units.values().flatten().cloned());
        at_mark
    }
}

/// The objects of a unit, with their attributes.
fn objects_of(unit: &str, snapshot: &Snapshot, units: &Units) -> Vec<(ObjectId, Attributes)> {
    units
        .get(unit)
        .into_iter()
        .flatten()
        .filter_map(|id| Some((id.clone(), snapshot.objects.get(id)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::snapshot::ObjectKind;

    fn id(name: &str) -> ObjectId {
        ObjectId::new(ObjectKind::Table, name.to_string())
    }

    fn attrs(value: &str) -> Attributes {
        Attributes::from([("v".to_string(), value.to_string())])
    }

    /// A snapshot and its units from (unit, object, value) triples.
    fn state(objects: &[(&str, &str, &str)]) -> (Snapshot, Units) {
        let mut snapshot = Snapshot::default();
        let mut units = Units::new();
        for (unit, name, value) in objects {
            snapshot.objects.insert(id(name), attrs(value));
            units.entry(unit.to_string()).or_default().push(id(name));
        }
        (snapshot, units)
    }

    fn names(s: &Snapshot) -> Vec<String> {
        s.objects
            .iter()
            .map(|(id, a)| format!("{}={}", id.name, a["v"]))
            .collect()
    }

    #[test]
    fn changes_since_hold_the_replaced_units_then_and_now() {
        let mut journals = Journals::default();
        let (a, a_units) = state(&[("r1", "t", "1"), ("r2", "u", "1"), ("r3", "w", "1")]);
        let mark = journals.open();
        // r1 re-read with t changed; r2 dropped; r4 new.
        journals.before_replacing(
            [&"r1".to_string(), &"r2".to_string(), &"r4".to_string()],
            &a,
            &a_units,
        );
        let (b, b_units) = state(&[("r1", "t", "2"), ("r3", "w", "1"), ("r4", "x", "1")]);
        let later = journals.open();
        // r1 re-read again: the first mark keeps what r1 held at the mark.
        journals.before_replacing([&"r1".to_string()], &b, &b_units);
        let (c, c_units) = state(&[("r1", "t", "3"), ("r3", "w", "1"), ("r4", "x", "1")]);

        let (then, now) = journals.changes_since(mark, &c, &c_units).unwrap();
        assert_eq!(names(&then), ["t=1", "u=1"]);
        assert_eq!(names(&now), ["t=3", "x=1"]);
        let (then, now) = journals.changes_since(later, &c, &c_units).unwrap();
        assert_eq!(names(&then), ["t=2"]);
        assert_eq!(names(&now), ["t=3"]);

        journals.close(mark);
        assert!(journals.changes_since(mark, &c, &c_units).is_none());
    }

    #[test]
    fn a_whole_snapshot_keeps_the_snapshot_at_the_mark() {
        let mut journals = Journals::default();
        let (a, a_units) = state(&[("r1", "t", "1"), ("r2", "u", "1")]);
        let mark = journals.open();
        journals.before_replacing([&"r1".to_string()], &a, &a_units);
        let (b, b_units) = state(&[("r1", "t", "2"), ("r2", "u", "1")]);
        journals.before_whole(Some((&b, &b_units)));
        let (c, c_units) = state(&[("r5", "t", "2"), ("r6", "v", "1")]);
        let (then, now) = journals.changes_since(mark, &c, &c_units).unwrap();
        assert_eq!(names(&then), ["t=1", "u=1"]);
        assert_eq!(names(&now), ["t=2", "v=1"]);
    }
}
