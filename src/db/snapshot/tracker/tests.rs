//! The planning of partial snapshots from a change marker: which units are re-read, and when
//! a whole snapshot is taken instead.

use std::collections::{BTreeSet, HashMap};

use super::{Marker, Plan, State};
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
    }
}

fn marker(keys: &[(&str, &[&str])], changed: &[(&str, Option<&str>, &str)]) -> Marker {
    Marker {
        keys: keys
            .iter()
            .map(|(c, k)| (c.to_string(), k.iter().map(|k| k.to_string()).collect()))
            .collect(),
        changed: changed
            .iter()
            .map(|(c, k, u)| (c.to_string(), k.map(str::to_string), u.to_string()))
            .collect(),
        dependents: Vec::new(),
        whole: Vec::new(),
        horizon: 120,
        settings: "s".into(),
        extension_members: "4".into(),
    }
}

fn partial(units: &[&str]) -> Plan {
    Plan::Partial(units.iter().map(|u| u.to_string()).collect::<BTreeSet<_>>())
}

#[test]
fn nothing_changed_reads_nothing() {
    let mut s = state(&[("pg_class", &[("10", "r10")])]);
    assert_eq!(
        s.plan(&marker(&[("pg_class", &["10"])], &[])),
        Plan::Unchanged
    );
}

#[test]
fn changed_rows_and_their_dependents_are_re_read_with_the_global_unit() {
    let mut s = state(&[("pg_class", &[("10", "r10")])]);
    let mut m = marker(
        &[("pg_class", &["10", "11"])],
        &[
            ("pg_class", Some("11"), "r11"),
            ("pg_attribute", None, "r10"),
        ],
    );
    m.dependents.push("r20".into());
    assert_eq!(s.plan(&m), partial(&["g", "r10", "r11", "r20"]));
    assert_eq!(s.keys["pg_class"]["11"], "r11", "the new key is remembered");
}

#[test]
fn a_deleted_row_re_reads_the_unit_it_belonged_to() {
    // A trigger (key 30) of table 10 dropped: nothing else changed.
    let mut s = state(&[("pg_trigger", &[("30", "r10"), ("31", "r12")])]);
    assert_eq!(
        s.plan(&marker(&[("pg_trigger", &["31"])], &[])),
        partial(&["g", "r10"])
    );
    assert!(!s.keys["pg_trigger"].contains_key("30"));
}

#[test]
fn untrackable_changes_make_a_whole_snapshot() {
    let plan = |mut s: State, m: Marker| matches!(s.plan(&m), Plan::Whole(_));
    let base = || {
        state(&[
            ("pg_namespace", &[("2200", "x")]),
            ("pg_proc", &[("40", "f40")]),
        ])
    };
    let keys: &[(&str, &[&str])] = &[("pg_namespace", &["2200"]), ("pg_proc", &["40"])];
    assert!(!plan(base(), marker(keys, &[])));
    // A change that cannot be tracked, a reason from the server, other settings.
    assert!(plan(base(), marker(keys, &[("pg_class", Some("9"), "x")])));
    let mut m = marker(keys, &[]);
    m.whole.push("schemas".into());
    assert!(plan(base(), m));
    let mut m = marker(keys, &[]);
    m.settings = "other".into();
    assert!(plan(base(), m));
    // A schema or a function deleted.
    assert!(plan(
        base(),
        marker(&[("pg_namespace", &[]), ("pg_proc", &["40"])], &[])
    ));
    assert!(plan(
        base(),
        marker(&[("pg_namespace", &["2200"]), ("pg_proc", &[])], &[])
    ));
    // A key that is new but not changed: the marker missed something.
    assert!(plan(
        base(),
        marker(
            &[("pg_namespace", &["2200"]), ("pg_proc", &["40", "41"])],
            &[]
        )
    ));
}

#[test]
fn ignored_changes_read_nothing() {
    let mut s = state(&[("pg_class", &[])]);
    let m = marker(&[("pg_class", &["50"])], &[("pg_class", Some("50"), "-")]);
    assert_eq!(s.plan(&m), Plan::Unchanged);
}
