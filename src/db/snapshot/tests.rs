//! Unit tests of the pure parts: ids and their display, the diff, column-order classification,
//! and the JSON forms.

use std::collections::BTreeMap;

use sqlx::postgres::types::Oid;

use super::diff::split_column;
use super::rows::{from_rows, from_rows_by_unit, Row};
use super::{diff, schema_diff, Attributes, Change, ObjectId, ObjectKind, SchemaDiff, Snapshot};

fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An object for a test snapshot: kind, name and attributes.
type Spec<'a> = (ObjectKind, &'a str, &'a [(&'a str, &'a str)]);

fn snapshot(objects: &[Spec]) -> Snapshot {
    Snapshot {
        objects: objects
            .iter()
            .map(|(kind, name, pairs)| (ObjectId::new(*kind, *name), attrs(pairs)))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn lines(d: &SchemaDiff) -> Vec<String> {
    d.changes.iter().map(ToString::to_string).collect()
}

#[test]
fn kinds_round_trip_through_their_keys_and_read_as_words() {
    for key in [
        "schema",
        "enum-type",
        "materialized-view",
        "event-trigger",
        "grant",
    ] {
        assert_eq!(ObjectKind::from_key(key).unwrap().key(), key);
    }
    assert_eq!(ObjectKind::from_key("table-ish"), None);
    assert_eq!(
        ObjectKind::MaterializedView.to_string(),
        "materialized view"
    );
    assert_eq!(ObjectKind::EnumType.to_string(), "enum type");
}

#[test]
fn ids_display_with_their_kind() {
    assert_eq!(
        ObjectId::new(ObjectKind::Column, "public.builds.status").to_string(),
        "column public.builds.status"
    );
    assert_eq!(
        ObjectId::new(ObjectKind::Index, "public.builds_status_idx").to_string(),
        "index public.builds_status_idx"
    );
    assert_eq!(
        ObjectId::new(ObjectKind::Comment, "column public.builds.status").to_string(),
        "comment on column public.builds.status"
    );
    assert_eq!(
        ObjectId::new(ObjectKind::Grant, "table public.builds to reader").to_string(),
        "grant on table public.builds to reader"
    );
}

#[test]
fn equal_snapshots_have_an_empty_diff() {
    let s = snapshot(&[
        (ObjectKind::Table, "public.t", &[("kind", "ordinary")]),
        (ObjectKind::Column, "public.t.a", &[("type", "integer")]),
    ]);
    let d = diff(&s, &s.clone());
    assert!(d.is_empty());
    assert!(!d.is_only_column_order());
    assert!(d.without_column_order().is_empty());
}

#[test]
fn added_removed_and_changed_objects_are_listed_in_object_order() {
    let before = snapshot(&[
        (ObjectKind::Table, "public.builds", &[("kind", "ordinary")]),
        (
            ObjectKind::Column,
            "public.builds.status",
            &[
                ("type", "build_status"),
                ("default", "'queued'::build_status"),
            ],
        ),
        (ObjectKind::Column, "public.t.c", &[("default", "0")]),
        (
            ObjectKind::Index,
            "public.x",
            &[("definition", "CREATE INDEX x")],
        ),
    ]);
    let after = snapshot(&[
        (ObjectKind::Table, "public.audit", &[("kind", "ordinary")]),
        (ObjectKind::Table, "public.builds", &[("kind", "ordinary")]),
        (
            ObjectKind::Column,
            "public.builds.status",
            &[("type", "text"), ("not_null", "true")],
        ),
        (ObjectKind::Column, "public.t.c", &[]),
    ]);
    let d = diff(&before, &after);
    assert_eq!(
        lines(&d),
        [
            "table public.audit: added",
            "column public.builds.status: default 'queued'::build_status -> (none)",
            "column public.builds.status: not_null (none) -> true",
            "column public.builds.status: type build_status -> text",
            "column public.t.c: default 0 -> (none)",
            "index public.x: removed",
        ]
    );
    assert!(!d.is_only_column_order());
    // The reverse diff mirrors it.
    let back = diff(&after, &before);
    assert_eq!(back.changes.len(), d.changes.len());
    assert!(lines(&back).contains(&"table public.audit: removed".to_string()));
    assert!(lines(&back).contains(&"index public.x: added".to_string()));
}

fn changed(
    kind: ObjectKind,
    name: &str,
    attribute: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> String {
    Change::Changed {
        object: ObjectId::new(kind, name),
        attribute: attribute.into(),
        before: old.map(Into::into),
        after: new.map(Into::into),
    }
    .to_string()
}

/// A view definition of `columns` lines as `pg_get_viewdef` writes it; column `changed` is
/// computed.
fn wide_view(columns: usize, changed: Option<usize>) -> String {
    let mut text = String::from(" SELECT o.id,\n");
    for i in 1..columns {
        if Some(i) == changed {
            text.push_str(&format!("    (o.amount_{i} * 2) AS amount_{i},\n"));
        } else {
            text.push_str(&format!("    o.amount_{i},\n"));
        }
    }
    text.push_str("    o.created_at\n   FROM orders o;");
    text
}

#[test]
fn a_changed_view_definition_shows_one_hunk_not_the_two_texts() {
    let text = changed(
        ObjectKind::View,
        "public.order_totals",
        "definition",
        Some(&wide_view(40, None)),
        Some(&wide_view(40, Some(20))),
    );
    assert_eq!(
        text,
        "view public.order_totals: definition changed
  ...
        o.amount_17,
        o.amount_18,
        o.amount_19,
  -     o.amount_20,
  +     (o.amount_20 * 2) AS amount_20,
        o.amount_21,
        o.amount_22,
        o.amount_23,
  ..."
    );
}

#[test]
fn a_change_near_the_start_or_end_shows_the_identical_prefix_or_suffix_only_as_context() {
    let at_start = changed(
        ObjectKind::View,
        "public.v",
        "definition",
        Some(&wide_view(30, None)),
        Some(&wide_view(30, Some(1))),
    );
    assert_eq!(at_start.lines().count(), 1 + 6 + 1, "{at_start}");
    assert!(
        at_start.lines().nth(1) == Some("     SELECT o.id,"),
        "{at_start}"
    );
    assert!(at_start.ends_with("\n  ..."), "{at_start}");
    let at_end = changed(
        ObjectKind::View,
        "public.v",
        "definition",
        Some(&wide_view(30, None)),
        Some(&wide_view(30, None).replace("FROM orders o", "FROM archived_orders o")),
    );
    assert!(at_end.lines().nth(1) == Some("  ..."), "{at_end}");
    assert!(
        at_end.ends_with("\n  -    FROM orders o;\n  +    FROM archived_orders o;"),
        "{at_end}"
    );
}

#[test]
fn short_values_keep_the_old_to_new_form() {
    assert_eq!(
        changed(
            ObjectKind::Column,
            "public.t.c",
            "default",
            Some("0"),
            Some("1")
        ),
        "column public.t.c: default 0 -> 1"
    );
    assert_eq!(
        changed(
            ObjectKind::Index,
            "public.t_a_idx",
            "definition",
            Some("CREATE INDEX t_a_idx ON public.t USING btree (a) WHERE (a > 0)"),
            None
        ),
        "index public.t_a_idx: definition CREATE INDEX t_a_idx ON public.t USING btree (a) \
         WHERE (a > 0) -> (none)"
    );
}

#[test]
fn a_changed_function_body_shows_the_changed_lines() {
    let body = |limit: &str| {
        format!(
            "\nDECLARE\n  n integer;\nBEGIN\n  SELECT count(*) INTO n FROM orders WHERE customer = c;\n  \
             IF n > {limit} THEN\n    RAISE EXCEPTION 'too many orders';\n  END IF;\n  RETURN n;\nEND;\n"
        )
    };
    let text = changed(
        ObjectKind::Function,
        "public.check_orders(integer)",
        "body",
        Some(&body("100")),
        Some(&body("250")),
    );
    assert_eq!(
        text,
        "function public.check_orders(integer): body changed
  ...
      n integer;
    BEGIN
      SELECT count(*) INTO n FROM orders WHERE customer = c;
  -   IF n > 100 THEN
  +   IF n > 250 THEN
        RAISE EXCEPTION 'too many orders';
      END IF;
      RETURN n;
  ..."
    );
}

#[test]
fn a_long_value_on_one_side_only_is_shown_once() {
    let text = changed(
        ObjectKind::Function,
        "public.f()",
        "body",
        None,
        Some("BEGIN\n  RETURN 1;\nEND;"),
    );
    assert_eq!(
        text,
        "function public.f(): body added\n  + BEGIN\n  +   RETURN 1;\n  + END;"
    );
}

#[test]
fn a_long_single_line_value_keeps_the_change_and_some_context() {
    let definition = |n: &str| {
        format!(
            "CHECK (((quantity > {n}) AND (unit_price >= (0)::numeric) AND (discount <= unit_price) \
             AND (currency = ANY (ARRAY['EUR'::text, 'USD'::text]))))"
        )
    };
    let text = changed(
        ObjectKind::Constraint,
        "public.lines.lines_check",
        "definition",
        Some(&definition("0")),
        Some(&definition("1")),
    );
    assert_eq!(
        text,
        "constraint public.lines.lines_check: definition changed
  - CHECK (((quantity > 0) AND (unit_price >= (0)::numeric) ...
  + CHECK (((quantity > 1) AND (unit_price >= (0)::numeric) ..."
    );
}

#[test]
fn a_column_re_added_at_the_end_is_only_column_order() {
    let before = snapshot(&[
        (
            ObjectKind::Column,
            "public.t.a",
            &[("position", "1"), ("type", "int")],
        ),
        (
            ObjectKind::Column,
            "public.t.b",
            &[("position", "2"), ("type", "text")],
        ),
        (
            ObjectKind::Column,
            "public.t.c",
            &[("position", "3"), ("type", "int")],
        ),
    ]);
    let after = snapshot(&[
        (
            ObjectKind::Column,
            "public.t.a",
            &[("position", "1"), ("type", "int")],
        ),
        (
            ObjectKind::Column,
            "public.t.b",
            &[("position", "3"), ("type", "text")],
        ),
        (
            ObjectKind::Column,
            "public.t.c",
            &[("position", "2"), ("type", "int")],
        ),
    ]);
    let d = diff(&before, &after);
    assert_eq!(
        lines(&d),
        [
            "column public.t.b: position 2 -> 3",
            "column public.t.c: position 3 -> 2",
        ]
    );
    assert!(d.is_only_column_order());
    assert!(d.without_column_order().is_empty());
}

#[test]
fn column_order_mixed_with_a_real_change_is_not_only_column_order() {
    let before = snapshot(&[
        (
            ObjectKind::Column,
            "public.t.b",
            &[("position", "2"), ("type", "text")],
        ),
        (ObjectKind::Table, "public.t", &[]),
    ]);
    let after = snapshot(&[
        (
            ObjectKind::Column,
            "public.t.b",
            &[("position", "3"), ("type", "varchar")],
        ),
        (ObjectKind::Table, "public.t", &[]),
        (ObjectKind::Index, "public.t_b_idx", &[]),
    ]);
    let d = diff(&before, &after);
    assert!(!d.is_only_column_order());
    assert_eq!(
        lines(&d.without_column_order()),
        [
            "column public.t.b: type text -> varchar",
            "index public.t_b_idx: added",
        ]
    );
}

#[test]
fn a_diff_splits_into_column_order_and_the_rest_in_order() {
    let before = table(&[("a", 1), ("b", 2), ("c", 3)]);
    let mut after = table(&[("a", 1), ("c", 2), ("b", 3)]);
    after.objects.insert(
        ObjectId::new(ObjectKind::Index, "public.t_a_idx"),
        Attributes::new(),
    );
    let d = diff(&before, &after);
    let (rest, order) = d.split_column_order();
    assert_eq!(lines(&rest), ["index public.t_a_idx: added"]);
    assert_eq!(
        lines(&order),
        [
            "column public.\"t.x\".b: position 2 -> 3",
            "column public.\"t.x\".c: position 3 -> 2",
        ]
    );
    assert_eq!(rest, d.without_column_order());
}

#[test]
fn a_position_attribute_on_another_kind_is_not_column_order() {
    let before = snapshot(&[(ObjectKind::Table, "public.t", &[("position", "1")])]);
    let after = snapshot(&[(ObjectKind::Table, "public.t", &[("position", "2")])]);
    assert!(!diff(&before, &after).is_only_column_order());
}

/// Columns of one table whose quoted name holds a dot, `public."t.x"`, at these positions.
fn table(columns: &[(&str, u32)]) -> Snapshot {
    let mut s = Snapshot::default();
    for (name, position) in columns {
        let attributes = [
            ("position".to_string(), position.to_string()),
            ("type".to_string(), "int".to_string()),
        ];
        s.objects.insert(
            ObjectId::new(ObjectKind::Column, format!("public.\"t.x\".{name}")),
            attributes.into_iter().collect(),
        );
    }
    s
}

#[test]
fn positions_shifted_by_a_removed_column_are_not_an_order_change() {
    let before = table(&[("a", 1), ("b", 2), ("c", 3)]);
    let after = table(&[("a", 1), ("c", 2)]);
    let d = schema_diff(&before, &after);
    assert_eq!(d.changes.len(), 1, "{d:?}");
    assert!(matches!(d.changes[0], Change::Removed { .. }));
}

#[test]
fn a_column_re_added_at_the_end_is_an_order_change() {
    let before = table(&[("a", 1), ("b", 2), ("c", 3)]);
    let after = table(&[("a", 1), ("c", 2), ("b", 3)]);
    assert!(schema_diff(&before, &after).is_only_column_order());
}

#[test]
fn column_names_split_outside_quotes() {
    assert_eq!(split_column("public.\"a.b\".c"), ("public.\"a.b\"", "c"));
    assert_eq!(split_column("public.t.\"x.y\""), ("public.t", "\"x.y\""));
}

#[test]
fn changes_serialize_tagged_and_snapshots_keyed_by_display() {
    let change = Change::Changed {
        object: ObjectId::new(ObjectKind::EnumType, "public.build_status"),
        attribute: "labels".into(),
        before: Some("'a'".into()),
        after: None,
    };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        serde_json::json!({
            "change": "changed",
            "object": {"kind": "enum-type", "name": "public.build_status"},
            "attribute": "labels",
            "before": "'a'",
            "after": null,
        })
    );
    let added = Change::Added {
        object: ObjectId::new(ObjectKind::MaterializedView, "public.mv"),
    };
    assert_eq!(
        serde_json::to_value(SchemaDiff {
            changes: vec![added]
        })
        .unwrap(),
        serde_json::json!({"changes": [
            {"change": "added", "object": {"kind": "materialized-view", "name": "public.mv"}}
        ]})
    );
    let s = snapshot(&[(ObjectKind::Column, "public.t.a", &[("type", "integer")])]);
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"objects": {"column public.t.a": {"type": "integer"}}})
    );
}

fn flat(items: &[Option<&str>]) -> Option<Vec<Option<String>>> {
    Some(items.iter().map(|i| i.map(str::to_string)).collect())
}

fn column_row(name: &str, relation: u32, attnum: &str) -> Row {
    (
        "column".into(),
        name.into(),
        flat(&[
            Some("type"),
            Some("integer"),
            Some("position"),
            Some(attnum),
        ]),
        None,
        None,
        Some(Oid(relation)),
        Some(format!("r{relation}")),
    )
}

#[test]
fn rows_become_objects_comments_and_grants() {
    let rows: Vec<Row> = vec![
        (
            "table".into(),
            "public.t".into(),
            flat(&[Some("kind"), Some("ordinary"), Some("options"), None]),
            Some("the t".into()),
            flat(&[
                Some("PUBLIC"),
                Some("SELECT"),
                None,
                Some("reader"),
                Some("INSERT, SELECT"),
                Some("SELECT"),
            ]),
            None,
            Some("r7".into()),
        ),
        // Only carries a comment: not listed itself.
        (
            "index".into(),
            "public.t_pkey".into(),
            None,
            Some("the key".into()),
            None,
            None,
            Some("r7".into()),
        ),
        (
            "schema".into(),
            "public".into(),
            flat(&[]),
            None,
            None,
            None,
            Some("g".into()),
        ),
    ];
    let (s, units) = from_rows_by_unit(rows).unwrap();
    let ids: Vec<String> = s.objects.keys().map(ToString::to_string).collect();
    assert_eq!(
        ids,
        [
            "schema public",
            "table public.t",
            "comment on index public.t_pkey",
            "comment on table public.t",
            "grant on table public.t to PUBLIC",
            "grant on table public.t to reader",
        ]
    );
    assert_eq!(
        s.objects[&ObjectId::new(ObjectKind::Table, "public.t")],
        attrs(&[("kind", "ordinary")])
    );
    assert_eq!(
        s.objects[&ObjectId::new(ObjectKind::Grant, "table public.t to reader")],
        attrs(&[("grantable", "SELECT"), ("privileges", "INSERT, SELECT")])
    );
    // Comments and grants belong to the unit of their object.
    let mut r7: Vec<String> = units["r7"].iter().map(ToString::to_string).collect();
    r7.sort();
    let mut expected = ids[1..].to_vec();
    expected.sort();
    assert_eq!(r7, expected);
    assert_eq!(units["g"], [ObjectId::new(ObjectKind::Schema, "public")]);
}

#[test]
fn column_positions_are_ordinals_without_the_holes_of_dropped_columns() {
    // Table 7 had columns 1..4, column 2 dropped and re-added as 5; table 9 is untouched.
    let rows = vec![
        column_row("public.a.c", 7, "3"),
        column_row("public.a.a", 7, "1"),
        column_row("public.a.b", 7, "5"),
        column_row("public.a.d", 7, "4"),
        column_row("public.b.x", 9, "1"),
        column_row("public.b.y", 9, "2"),
    ];
    let s = from_rows(rows).unwrap();
    let position =
        |name: &str| s.objects[&ObjectId::new(ObjectKind::Column, name)]["position"].clone();
    assert_eq!(position("public.a.a"), "1");
    assert_eq!(position("public.a.c"), "2");
    assert_eq!(position("public.a.d"), "3");
    assert_eq!(position("public.a.b"), "4");
    assert_eq!(position("public.b.x"), "1");
    assert_eq!(position("public.b.y"), "2");
}

#[test]
fn malformed_rows_are_errors() {
    let odd: Row = (
        "table".into(),
        "public.t".into(),
        flat(&[Some("kind")]),
        None,
        None,
        None,
        None,
    );
    assert!(from_rows(vec![odd]).unwrap_err().contains("table public.t"));
    let unknown: Row = ("gizmo".into(), "x".into(), None, None, None, None, None);
    assert!(from_rows(vec![unknown]).unwrap_err().contains("gizmo"));
}
