//! The last touches on a translated segment document, and the daemon's datagram around it.
//!
//! `opentelemetry-aws` writes metadata flat (`"metadata": {"key": value}`); segment documents
//! nest it by namespace (`"metadata": {"default": {"key": value}}`, what `put_metadata` without a
//! namespace writes in every X-Ray SDK), so flat entries move under `default`. The annotations and
//! metadata the application put on a span ([`super::put_annotation`], [`super::put_metadata`])
//! are added to the (sub)segment of that span here, found by its id.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

/// The daemon's header line, then the document (`{"format": "json", "version": 1}\n{...}`).
const HEADER: &[u8] = b"{\"format\": \"json\", \"version\": 1}\n";
/// The largest datagram sent: the daemon reads 64 KB; this stays below any UDP limit.
pub const MAX_DATAGRAM_BYTES: usize = 64_000;
/// X-Ray indexes at most this many annotations per (sub)segment.
const MAX_ANNOTATIONS: usize = 50;
/// The namespace of metadata put without one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A value X-Ray can index: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationValue {
    /// A string (at most 1000 characters are kept, as X-Ray does).
    String(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl AnnotationValue {
    fn to_json(&self) -> Json {
        match self {
            Self::String(text) => Json::from(text.chars().take(1000).collect::<String>()),
            Self::Int(int) => Json::from(*int),
            Self::Float(float) => Json::from(*float),
            Self::Bool(flag) => Json::from(*flag),
        }
    }
}

impl From<&str> for AnnotationValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for AnnotationValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<i64> for AnnotationValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<usize> for AnnotationValue {
    fn from(value: usize) -> Self {
        Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl From<f64> for AnnotationValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}

impl From<bool> for AnnotationValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// What the application put on one span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    annotations: Vec<(String, AnnotationValue)>,
    metadata: Vec<(String, String, Json)>,
}

impl Extras {
    /// Adds an annotation; the key keeps only letters, digits and `_`, as X-Ray wants.
    pub fn annotate(&mut self, key: &str, value: AnnotationValue) {
        let key: String =
            key.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' }).collect();
        if key.is_empty() {
            return;
        }
        self.annotations.retain(|(existing, _)| *existing != key);
        self.annotations.push((key, value));
    }

    /// Adds metadata under `namespace`.
    pub fn add_metadata(&mut self, namespace: &str, key: &str, value: Json) {
        self.metadata.retain(|(ns, existing, _)| !(ns == namespace && existing == key));
        self.metadata.push((namespace.to_owned(), key.to_owned(), value));
    }

    fn apply(&self, entity: &mut Map<String, Json>) {
        if !self.annotations.is_empty() {
            let annotations = object_entry(entity, "annotations");
            for (key, value) in &self.annotations {
                if annotations.len() < MAX_ANNOTATIONS || annotations.contains_key(key) {
                    annotations.insert(key.clone(), value.to_json());
                }
            }
        }
        for (namespace, key, value) in &self.metadata {
            object_entry(object_entry(entity, "metadata"), namespace).insert(key.clone(), value.clone());
        }
    }
}

/// `map[key]` as an object, made one if it is missing or not an object.
fn object_entry<'a>(map: &'a mut Map<String, Json>, key: &str) -> &'a mut Map<String, Json> {
    let entry = map.entry(key.to_owned()).or_insert_with(|| Json::Object(Map::new()));
    if !entry.is_object() {
        *entry = Json::Object(Map::new());
    }
    entry.as_object_mut().expect("made an object above")
}

/// Nests flat metadata under `default` and adds each entity's extras (keyed by its 16-hex id),
/// in the document and all its nested subsegments.
pub fn finish(document: &mut Json, extras: &HashMap<String, Extras>) {
    let Some(entity) = document.as_object_mut() else { return };
    if let Some(Json::Object(metadata)) = entity.get_mut("metadata") {
        let flat: Vec<String> =
            metadata.iter().filter(|(_, value)| !value.is_object()).map(|(k, _)| k.clone()).collect();
        for key in flat {
            if let Some(value) = metadata.remove(&key) {
                object_entry(metadata, DEFAULT_NAMESPACE).insert(key, value);
            }
        }
    }
    if let Some(extra) = entity.get("id").and_then(Json::as_str).and_then(|id| extras.get(id)) {
        extra.apply(entity);
    }
    name_after_database(entity);
    if let Some(Json::Array(subsegments)) = entity.get_mut("subsegments") {
        for subsegment in subsegments {
            finish(subsegment, extras);
        }
    }
}

/// Names an SQL subsegment after its database, as the X-Ray SDKs do (`sqlite`, or the
/// connection URL when known), not after its statement: the service graph then shows one
/// database node, with every statement's call counted on one edge.
fn name_after_database(entity: &mut Map<String, Json>) {
    let Some(Json::Object(sql)) = entity.get("sql") else { return };
    let database = ["url", "database_type"]
        .iter()
        .find_map(|key| sql.get(*key).and_then(Json::as_str).filter(|text| !text.is_empty()))
        .map(str::to_owned);
    if let Some(database) = database {
        entity.insert("name".into(), Json::from(database));
        entity.entry("namespace").or_insert_with(|| Json::from("remote"));
    }
}

/// The datagram of `document`, or `None` when it is over [`MAX_DATAGRAM_BYTES`].
pub fn datagram(document: &Json) -> Option<Vec<u8>> {
    let mut bytes = HEADER.to_vec();
    serde_json::to_writer(&mut bytes, document).ok()?;
    (bytes.len() <= MAX_DATAGRAM_BYTES).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn test_finish_nests_metadata_and_adds_extras_by_id() {
        let mut document = json!({
            "name": "backend-flask", "id": "aaaaaaaaaaaaaaaa", "metadata": {"flat": 1, "ns": {"k": 2}},
            "subsegments": [{"name": "home-activities-mock-data", "id": "bbbbbbbbbbbbbbbb",
                             "subsegments": [{"name": "SELECT", "id": "cccccccccccccccc"}]}],
        });
        let mut segment = Extras::default();
        segment.annotate("user-id", "worf".into());
        let mut mock = Extras::default();
        mock.add_metadata(DEFAULT_NAMESPACE, "now", json!("2024-01-01T00:00:00Z"));
        mock.add_metadata(DEFAULT_NAMESPACE, "results-size", json!(3));
        mock.annotate("results_size", 3_usize.into());
        mock.annotate("results_size", 4_usize.into());
        let extras = HashMap::from([("aaaaaaaaaaaaaaaa".to_owned(), segment), ("bbbbbbbbbbbbbbbb".to_owned(), mock)]);
        finish(&mut document, &extras);
        assert_eq!(document["metadata"], json!({"default": {"flat": 1}, "ns": {"k": 2}}));
        assert_eq!(document["annotations"], json!({"user_id": "worf"}));
        let mock = &document["subsegments"][0];
        assert_eq!(mock["metadata"], json!({"default": {"now": "2024-01-01T00:00:00Z", "results-size": 3}}));
        assert_eq!(mock["annotations"], json!({"results_size": 4}));
        assert_eq!(mock["subsegments"][0], json!({"name": "SELECT", "id": "cccccccccccccccc"}));
    }

    #[test]
    fn test_sql_subsegments_are_named_after_their_database() {
        let mut document = json!({"id": "aaaaaaaaaaaaaaaa", "subsegments": [
            {"name": "SELECT activities", "id": "b", "sql": {"database_type": "sqlite", "sanitized_query": "SELECT 1"}},
            {"name": "INSERT users", "id": "c", "namespace": "remote", "sql": {"url": "cruddur@db", "database_type": "postgresql"}},
            {"name": "home-activities-mock-data", "id": "d"},
        ]});
        finish(&mut document, &HashMap::new());
        let names: Vec<&str> = (0..3).map(|n| document["subsegments"][n]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["sqlite", "cruddur@db", "home-activities-mock-data"]);
        assert_eq!(document["subsegments"][0]["namespace"], "remote");
        assert_eq!(document["subsegments"][0]["sql"]["sanitized_query"], "SELECT 1");
    }

    #[test]
    fn test_annotations_are_capped_and_keys_cleaned() {
        let mut extras = Extras::default();
        for n in 0..60 {
            extras.annotate(&format!("key{n}"), (n as i64).into());
        }
        extras.annotate("", true.into());
        extras.annotate("flag", true.into());
        extras.annotate("ratio", 0.5.into());
        extras.annotate("long", "x".repeat(2000).into());
        let mut document = json!({"id": "aaaaaaaaaaaaaaaa"});
        finish(&mut document, &HashMap::from([("aaaaaaaaaaaaaaaa".to_owned(), extras)]));
        let annotations = document["annotations"].as_object().unwrap();
        assert_eq!(annotations.len(), MAX_ANNOTATIONS);
        assert_eq!(annotations["key0"], 0);
        assert!(!annotations.contains_key("flag"));
    }

    #[test]
    fn test_datagram_has_the_daemon_header_and_a_size_limit() {
        let bytes = datagram(&json!({"name": "a"})).unwrap();
        assert_eq!(bytes, b"{\"format\": \"json\", \"version\": 1}\n{\"name\":\"a\"}");
        assert!(datagram(&json!({"name": "x".repeat(MAX_DATAGRAM_BYTES)})).is_none());
    }

    #[test]
    fn test_annotation_values_to_json() {
        assert_eq!(AnnotationValue::from("a").to_json(), json!("a"));
        assert_eq!(AnnotationValue::from(7_i64).to_json(), json!(7));
        assert_eq!(AnnotationValue::from(false).to_json(), json!(false));
        assert_eq!(AnnotationValue::from("x".repeat(1200)).to_json().as_str().unwrap().len(), 1000);
    }
}
