//! Turning the rows of the catalog query into the model: attributes paired up, comments and
//! grants made objects of their own, column positions made ordinals, and every object listed
//! under the unit it was read with.

use std::collections::{BTreeMap, HashMap};

use sqlx::postgres::types::Oid;

use super::change::POSITION;
use super::model::{Attributes, Snapshot};
use super::object::{ObjectId, ObjectKind};

/// One row of the catalog query: kind, name, attributes (names and values alternating, a NULL
/// value for an absent attribute; NULL when the object only carries a comment or grants), its
/// comment, its grants (grantee, privileges, grantable privileges, repeated), for a column
/// the relation it belongs to (its `position` is then the attribute number), and its unit.
pub(super) type Row = (
    String,
    String,
    Option<Vec<Option<String>>>,
    Option<String>,
    Option<Vec<Option<String>>>,
    Option<Oid>,
    Option<String>,
);

/// The objects of each unit (see finish.sql), by the unit's key (`r16390`, `g`).
pub(super) type Units = HashMap<String, Vec<ObjectId>>;

/// Builds the model from the query's rows; an error names a malformed row.
pub(super) fn from_rows(rows: Vec<Row>) -> Result<Snapshot, String> {
    from_rows_by_unit(rows).map(|(snapshot, _)| snapshot)
}

/// Builds the model from the query's rows, with the objects of each unit (a comment and the
/// grants on an object belong to the object's unit).
pub(super) fn from_rows_by_unit(rows: Vec<Row>) -> Result<(Snapshot, Units), String> {
    let mut objects = BTreeMap::new();
    let mut units = Units::new();
    let mut columns = Vec::new();
    for (kind, name, attrs, comment, grants, relation, unit) in rows {
        let kind =
            ObjectKind::from_key(&kind).ok_or_else(|| format!("unknown object kind `{kind}`"))?;
        let id = ObjectId::new(kind, name);
        let members = units.entry(unit.unwrap_or_default()).or_default();
        if let Some(text) = comment {
            let attributes = Attributes::from([("text".to_string(), text)]);
            let comment = ObjectId::new(ObjectKind::Comment, id.to_string());
            members.push(comment.clone());
            objects.insert(comment, attributes);
        }
        if let Some(grants) = grants {
            members.extend(add_grants(&id, grants, &mut objects)?);
        }
        if let Some(attrs) = attrs {
            members.push(id.clone());
            let attributes = pairs(attrs).ok_or_else(|| format!("malformed attributes of {id}"))?;
            if let (ObjectKind::Column, Some(relation)) = (kind, relation) {
                let number: i32 = attributes
                    .get(POSITION)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("no attribute number for {id}"))?;
                columns.push((relation.0, number, id.clone()));
            }
            objects.insert(id, attributes);
        }
    }
    number_columns(columns, &mut objects);
    Ok((Snapshot { objects }, units))
}

/// Pairs up alternating names and values, leaving out absent (NULL) values. `None` when the
/// array is malformed (odd length or a NULL name).
fn pairs(flat: Vec<Option<String>>) -> Option<Attributes> {
    if flat.len() % 2 != 0 {
        return None;
    }
    let mut out = Attributes::new();
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        if let Some(value) = value {
            out.insert(name?, value);
        }
    }
    Some(out)
}

/// One grant object per grantee: `grant on <object> to <grantee>`; returns their ids.
fn add_grants(
    on: &ObjectId,
    flat: Vec<Option<String>>,
    objects: &mut BTreeMap<ObjectId, Attributes>,
) -> Result<Vec<ObjectId>, String> {
    if flat.len() % 3 != 0 {
        return Err(format!("malformed grants on {on}"));
    }
    let mut ids = Vec::new();
    let mut items = flat.into_iter();
    while let (Some(grantee), Some(privileges), Some(grantable)) =
        (items.next(), items.next(), items.next())
    {
        let (Some(grantee), Some(privileges)) = (grantee, privileges) else {
            return Err(format!("malformed grants on {on}"));
        };
        let mut attributes = Attributes::from([("privileges".to_string(), privileges)]);
        if let Some(grantable) = grantable {
            attributes.insert("grantable".to_string(), grantable);
        }
        let id = ObjectId::new(ObjectKind::Grant, format!("{on} to {grantee}"));
        ids.push(id.clone());
        objects.insert(id, attributes);
    }
    Ok(ids)
}

/// Replaces each column's attribute number by its ordinal among its relation's columns (1, 2,
/// ...), so that the holes dropped columns leave do not count.
fn number_columns(
    mut columns: Vec<(u32, i32, ObjectId)>,
    objects: &mut BTreeMap<ObjectId, Attributes>,
) {
    columns.sort_unstable_by_key(|(relation, number, _)| (*relation, *number));
    let mut previous = None;
    let mut ordinal = 0;
    for (relation, _, id) in columns {
        if previous != Some(relation) {
            previous = Some(relation);
            ordinal = 0;
        }
        ordinal += 1;
        if let Some(attributes) = objects.get_mut(&id) {
            attributes.insert(POSITION.to_string(), ordinal.to_string());
        }
    }
}
