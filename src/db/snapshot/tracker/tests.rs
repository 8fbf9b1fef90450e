//! The planning of partial snapshots from a change marker: which units are re-read, and when
//! a whole snapshot is taken instead.

use std::collections::{BTreeSet, HashMap};

use super::{Keys, Marker, Plan, State};
use crate::db::snapshot::object::{ObjectId, ObjectKind};
use crate::db::snapshot::query::{relation_parts_for, ALL_RELATION_PARTS};
use crate::db::snapshot::Snapshot;

fn state(keys: &[(&str, &[(&str, &str)])]) -> State {
    State {
        snapshot: Snapshot::default(),
        units: HashMap::new(),
        keys: keys
            .iter()
            .map(|(catalog, keys)| {
                let keys = keys
                    .iter()
                    .map(|(k, u)| (k.to_string(), u.to_string()))
                    .collect();
                (catalog.to_string(), keys)
            })
            .collect(),
        horizon: 100,
        settings: "s".into(),
        extension_members: "4".into(),
        event_triggers: "e".into(),
        key_changes: Vec::new(),
    }
}

/// A marker with these row counts and changed rows.
fn marker(counts: &[(&str, usize)], changed: &[(&str, Option<&str>, &str)]) -> Marker {
    Marker {
        counts: counts.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
        changed: changed
            .iter()
            .map(|(c, k, u)| (c.to_string(), k.map(str::to_string), u.to_string()))
            .collect(),
        dependents: Vec::new(),
        relkinds: HashMap::new(),
        dropped: Vec::new(),
        whole: Vec::new(),
        horizon: 120,
        settings: "s".into(),
        extension_members: "4".into(),
        event_triggers: "e".into(),
    }
}

fn keys(catalog: &str, keys: &[&str]) -> Keys {
    Keys::from([(
        catalog.to_string(),
        keys.iter().map(|k| k.to_string()).collect(),
    )])
}

fn partial(units: &[&str]) -> Plan {
    Plan::Partial(units.iter().map(|u| u.to_string()).collect::<BTreeSet<_>>())
}

#[test]
fn nothing_changed_reads_nothing() {
    let mut s = state(&[("pg_class", &[("10", "r10")])]);
    assert_eq!(
        s.plan(&marker(&[("pg_class", 1)], &[]), None),
        Plan::Unchanged
    );
}

#[test]
fn changed_rows_and_their_dependents_are_re_read() {
    let mut s = state(&[("pg_class", &[("10", "r10")])]);
    let mut m = marker(
        &[("pg_class", 2)],
        &[
            ("pg_class", Some("11"), "r11"),
            ("pg_attribute", None, "r10"),
        ],
    );
    m.dependents.push("r20".into());
    assert_eq!(s.plan(&m, None), partial(&["r10", "r11", "r20"]));
    assert_eq!(s.keys["pg_class"]["11"], "r11", "the new key is remembered");
}

#[test]
fn a_deleted_row_re_reads_the_unit_it_belonged_to() {
    // A trigger (key 30) of table 10 dropped: nothing else changed.
    let mut s = state(&[("pg_trigger", &[("30", "r10"), ("31", "r12")])]);
    let m = marker(&[("pg_trigger", 1)], &[]);
    assert_eq!(s.plan(&m, None), Plan::NeedKeys);
    assert_eq!(s.keys["pg_trigger"].len(), 2, "nothing forgotten yet");
    let current = keys("pg_trigger", &["31"]);
    assert_eq!(s.plan(&m, Some(&current)), partial(&["r10"]));
    assert!(!s.keys["pg_trigger"].contains_key("30"));
}

#[test]
fn a_row_deleted_and_another_added_is_seen_by_the_count() {
    // Constraint 40 of table 10 replaced by constraint 41 (a new key, changed).
    let mut s = state(&[("pg_constraint", &[("40", "r10"), ("50", "r12")])]);
    let m = marker(
        &[("pg_constraint", 2)],
        &[("pg_constraint", Some("41"), "r10")],
    );
    assert_eq!(s.plan(&m, None), Plan::NeedKeys);
    let current = keys("pg_constraint", &["41", "50"]);
    assert_eq!(s.plan(&m, Some(&current)), partial(&["r10"]));
}

#[test]
fn untrackable_changes_make_a_whole_snapshot() {
    let whole = |m: Marker| {
        let mut s = state(&[
            ("pg_namespace", &[("2200", "x")]),
            ("pg_proc", &[("40", "f40")]),
        ]);
        matches!(s.plan(&m, None), Plan::Whole(_))
    };
    let counts = [("pg_namespace", 1), ("pg_proc", 1)];
    assert!(!whole(marker(&counts, &[])));
    // A change that cannot be tracked, a reason from the server, other settings.
    assert!(whole(marker(&counts, &[("pg_class", Some("9"), "x")])));
    let mut m = marker(&counts, &[]);
    m.whole.push("schemas".into());
    assert!(whole(m));
    let mut m = marker(&counts, &[]);
    m.settings = "other".into();
    assert!(whole(m));
    // A schema or a function deleted.
    assert!(whole(marker(&[("pg_namespace", 0), ("pg_proc", 1)], &[])));
    assert!(whole(marker(&[("pg_namespace", 1), ("pg_proc", 0)], &[])));
    // More rows than seen and changed: the marker missed something.
    assert!(whole(marker(&[("pg_namespace", 1), ("pg_proc", 2)], &[])));
}

#[test]
fn ignored_changes_read_nothing() {
    let mut s = state(&[("pg_class", &[])]);
    let m = marker(&[("pg_class", 1)], &[("pg_class", Some("50"), "-")]);
    assert_eq!(s.plan(&m, None), Plan::Unchanged);
}

/// An event marker (no counts) with these dropped objects: catalog, key, column.
fn dropped(objects: &[(&str, &str, bool)]) -> Marker {
    Marker {
        dropped: objects
            .iter()
            .map(|(c, k, col)| (c.to_string(), k.to_string(), *col))
            .collect(),
        ..marker(&[], &[])
    }
}

#[test]
fn dropped_objects_re_read_the_units_they_belonged_to() {
    let mut s = state(&[("pg_class", &[("10", "r10"), ("11", "r10"), ("12", "r12")])]);
    // An index of table 10 dropped: its table is re-read, and the key forgotten.
    assert_eq!(
        s.plan(&dropped(&[("pg_class", "11", false)]), None),
        partial(&["r10"])
    );
    assert!(!s.keys["pg_class"].contains_key("11"));
    // A column of table 12 dropped: the table is re-read and stays known.
    assert_eq!(
        s.plan(&dropped(&[("pg_class", "12", true)]), None),
        partial(&["r12"])
    );
    assert!(s.keys["pg_class"].contains_key("12"));
    // Created and dropped since the last snapshot, or of a catalog without keys: nothing.
    assert_eq!(
        s.plan(
            &dropped(&[("pg_class", "99", false), ("pg_attrdef", "5", false)]),
            None
        ),
        Plan::Unchanged
    );
}

#[test]
fn a_dropped_object_survives_a_plan_that_needs_the_keys_first() {
    // A down changes a column's type back (the rewrite drops the TOAST table 21 the up's
    // rewrite made, unreported) and drops enum type 30 with its array type 29: the pg_class
    // count is one short, so the keys are read and the marker planned again. The second plan
    // must still know that type 30 was unit t30.
    let mut s = state(&[
        ("pg_class", &[("10", "r10"), ("21", "-")]),
        ("pg_type", &[("30", "t30")]),
    ]);
    let m = Marker {
        counts: HashMap::from([("pg_class".to_string(), 2)]),
        changed: vec![
            ("pg_class".into(), Some("10".into()), "r10".into()),
            ("pg_class".into(), Some("22".into()), "-".into()),
        ],
        ..dropped(&[("pg_type", "29", false), ("pg_type", "30", false)])
    };
    assert_eq!(s.plan(&m, None), Plan::NeedKeys);
    assert!(
        s.keys["pg_type"].contains_key("30"),
        "nothing forgotten before the plan is final"
    );
    let current = Keys::from([("pg_class".to_string(), vec!["10".into(), "22".into()])]);
    assert_eq!(s.plan(&m, Some(&current)), partial(&["r10", "t30"]));
    assert!(!s.keys["pg_type"].contains_key("30"));
    assert!(!s.keys["pg_class"].contains_key("21"));
    assert_eq!(s.keys["pg_class"]["22"], "-");
}

#[test]
fn a_dropped_schema_or_function_makes_a_whole_snapshot() {
    for catalog in ["pg_namespace", "pg_proc"] {
        let mut s = state(&[(catalog, &[("20", "f20")])]);
        assert!(matches!(
            s.plan(&dropped(&[(catalog, "20", false)]), None),
            Plan::Whole(_)
        ));
    }
}

#[test]
fn changed_event_triggers_make_a_whole_snapshot() {
    let mut s = state(&[]);
    let m = Marker {
        event_triggers: "other".into(),
        ..marker(&[], &[])
    };
    assert!(matches!(s.plan(&m, None), Plan::Whole(_)));
}

#[test]
fn the_marker_gives_relation_kinds_and_dropped_units() {
    let row = |kind: &str, catalog: &str, key: &str, unit: Option<&str>, part: Option<&str>| {
        (
            kind.to_string(),
            Some(catalog.to_string()),
            Some(key.to_string()),
            unit.map(str::to_string),
            part.map(|p| vec![Some(p.to_string())]),
        )
    };
    let m = Marker::parse(vec![
        row("changed", "pg_class", "16390", Some("r16390"), Some("r")),
        row("changed", "pg_class", "16400", Some("r16400"), None),
        row("dropped", "pg_class", "16500", None, None),
        row("dropped", "pg_class", "16390", Some("column"), None),
        row("dropped", "pg_type", "16600", None, None),
        row("state", "horizon", "130", None, None),
    ])
    .unwrap();
    assert_eq!(m.relkinds.get("r16390"), Some(&'r'));
    assert_eq!(m.relkinds.get("r16400"), None);
    // A dropped column leaves its table to read.
    assert_eq!(
        m.dropped_units(),
        BTreeSet::from(["r16500".to_string(), "t16600".to_string()])
    );
}

#[test]
fn relation_kinds_come_from_the_marker_else_the_snapshot() {
    let mut s = state(&[]);
    s.units.insert(
        "r16400".into(),
        vec![ObjectId::new(ObjectKind::View, "public.v")],
    );
    let mut m = marker(&[], &[]);
    m.relkinds.insert("r16390".into(), 'S');
    assert_eq!(s.relkind_of("r16390", &m), Some('S'));
    assert_eq!(s.relkind_of("r16400", &m), Some('v'));
    assert_eq!(s.relkind_of("r16410", &m), None);
    // Unknown kinds read every part; known ones fewer.
    assert_eq!(relation_parts_for(None), ALL_RELATION_PARTS);
    for relkind in ['S', 'r', 'v', 'c'] {
        let parts = relation_parts_for(Some(relkind));
        assert!(parts != 0 && parts < ALL_RELATION_PARTS, "{relkind}");
    }
}

#[test]
fn rolling_back_puts_back_units_and_keys_even_when_an_object_moved_between_units() {
    use super::Tracker;
    let view = ObjectId::new(ObjectKind::View, "public.v".to_string());
    let attrs = |definition: &str| {
        crate::db::snapshot::Attributes::from([("definition".into(), definition.into())])
    };
    let mut s = state(&[("pg_class", &[("100", "r100")])]);
    s.snapshot.objects.insert(view.clone(), attrs("old"));
    s.units.insert("r100".into(), vec![view.clone()]);
    let mut tracker = Tracker {
        state: Some(s),
        ..Tracker::default()
    };
    let mark = tracker.mark();

    // In a transaction: the view is dropped and created again (OID 200) with another text.
    let m = Marker {
        counts: HashMap::from([("pg_class".to_string(), 1)]),
        changed: vec![("pg_class".into(), Some("200".into()), "r200".into())],
        ..marker(&[], &[])
    };
    let state = tracker.state.as_mut().unwrap();
    let current = keys("pg_class", &["200"]);
    assert_eq!(state.plan(&m, None), Plan::NeedKeys);
    let plan = state.plan(&m, Some(&current));
    assert_eq!(plan, partial(&["r100", "r200"]));
    for (catalog, key, unit) in state.key_changes.drain(..) {
        tracker
            .journals
            .before_key_change(&catalog, &key, unit.as_ref());
    }
    let state = tracker.state.as_mut().unwrap();
    let dirty: BTreeSet<String> = ["r100".to_string(), "r200".to_string()].into();
    tracker
        .journals
        .before_replacing(dirty.iter(), &state.snapshot, &state.units);
    let mut read = Snapshot::default();
    read.objects.insert(view.clone(), attrs("new"));
    state.replace(
        &dirty,
        read,
        HashMap::from([("r200".to_string(), vec![view.clone()])]),
    );

    // Rolled back: the view as it was, in its old unit, and the keys as they were, whichever
    // unit is put back first.
    tracker.undo_to(mark);
    let state = tracker.state.as_ref().unwrap();
    assert_eq!(state.snapshot.objects.get(&view), Some(&attrs("old")));
    assert_eq!(state.units.get("r100"), Some(&vec![view.clone()]));
    assert!(!state.units.contains_key("r200"));
    assert_eq!(
        state.keys["pg_class"],
        HashMap::from([("100".to_string(), "r100".to_string())])
    );
}
