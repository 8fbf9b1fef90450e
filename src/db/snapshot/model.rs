//! The snapshot model: every object of a schema with its attributes, sorted.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::object::ObjectId;

/// An object's attributes by name, e.g. `{"type": "build_status", "not_null": "true"}`.
/// An attribute that does not apply or has its default is absent.
pub type Attributes = BTreeMap<String, String>;

/// A canonical, deterministically sorted model of a database's schema.
///
/// Two databases whose schemas are the same compare equal, whatever their owners, object
/// identifiers (OIDs) or the order the objects were created in, except for the physical order
/// of a table's columns, which the `position` attribute records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Every object, sorted by kind and name. In JSON, keyed by the object's display
    /// (`"column public.builds.status"`).
    #[serde(serialize_with = "objects_by_display")]
    pub objects: BTreeMap<ObjectId, Attributes>,
}

impl Snapshot {
    /// The number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the snapshot holds no object at all.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// JSON object keys must be strings: the ids are written as their display.
fn objects_by_display<S: Serializer>(
    objects: &BTreeMap<ObjectId, Attributes>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(objects.len()))?;
    for (id, attributes) in objects {
        map.serialize_entry(&id.to_string(), attributes)?;
    }
    map.end()
}
