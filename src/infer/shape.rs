//! `Shape`: what all the samples seen at one place of a JSON document had in common, and
//! the JSON Schema that says so.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Closed string sets: at most this many distinct values...
const ENUM_MAX_VALUES: usize = 5;
/// ...seen in at least this many samples, each value at least twice on average.
const ENUM_MIN_SAMPLES: u64 = 4;
/// An object with more distinct keys than this across samples, most of them not always
/// present, is a map (tags, payloads).
const MAP_MIN_KEYS: usize = 12;
/// Distinct string values remembered per place.
const VALUES_KEPT: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub samples: u64,
    pub nulls: u64,
    pub bools: u64,
    pub integers: u64,
    pub floats: u64,
    pub strings: u64,
    pub arrays: u64,
    pub objects: u64,
    values: BTreeMap<String, u64>,
    values_overflow: bool,
    date_times: u64,
    uris: u64,
    emails: u64,
    items: Option<Box<Shape>>,
    properties: BTreeMap<String, Shape>,
}

fn is_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn is_uri(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(' ')
}

fn is_email(s: &str) -> bool {
    let Some((user, domain)) = s.split_once('@') else {
        return false;
    };
    !user.is_empty() && domain.contains('.') && !s.contains(' ') && !domain.starts_with('.')
}

impl Shape {
    pub fn observe(&mut self, value: &Value) {
        self.samples += 1;
        match value {
            Value::Null => self.nulls += 1,
            Value::Bool(_) => self.bools += 1,
            Value::Number(n) if n.is_i64() || n.is_u64() => self.integers += 1,
            Value::Number(_) => self.floats += 1,
            Value::String(s) => {
                self.strings += 1;
                if is_date_time(s) {
                    self.date_times += 1;
                }
                if is_uri(s) {
                    self.uris += 1;
                }
                if is_email(s) {
                    self.emails += 1;
                }
                if let Some(n) = self.values.get_mut(s) {
                    *n += 1;
                } else if self.values.len() < VALUES_KEPT {
                    self.values.insert(s.clone(), 1);
                } else {
                    self.values_overflow = true;
                }
            }
            Value::Array(items) => {
                self.arrays += 1;
                let shape = self.items.get_or_insert_with(Default::default);
                for item in items {
                    shape.observe(item);
                }
            }
            Value::Object(map) => {
                self.objects += 1;
                for (k, v) in map {
                    self.properties.entry(k.clone()).or_default().observe(v);
                }
            }
        }
    }

    fn types(&self) -> Vec<&'static str> {
        let mut t = Vec::new();
        if self.arrays > 0 {
            t.push("array");
        }
        if self.bools > 0 {
            t.push("boolean");
        }
        if self.floats > 0 {
            t.push("number");
        } else if self.integers > 0 {
            t.push("integer");
        }
        if self.nulls > 0 {
            t.push("null");
        }
        if self.objects > 0 {
            t.push("object");
        }
        if self.strings > 0 {
            t.push("string");
        }
        t
    }

    /// The JSON Schema of this place, keys sorted so that output is stable.
    pub fn to_schema(&self) -> Value {
        let mut schema = Map::new();
        let types = self.types();
        match types.as_slice() {
            [] => {}
            [one] => {
                schema.insert("type".into(), json!(one));
            }
            many => {
                schema.insert("type".into(), json!(many));
            }
        }
        if self.strings > 0 {
            let format = if self.date_times == self.strings {
                Some("date-time")
            } else if self.emails == self.strings {
                Some("email")
            } else if self.uris == self.strings {
                Some("uri")
            } else {
                None
            };
            if let Some(f) = format {
                schema.insert("format".into(), json!(f));
            } else if !self.values_overflow
                && self.values.len() <= ENUM_MAX_VALUES
                && self.strings >= ENUM_MIN_SAMPLES
                && self.strings >= 2 * self.values.len() as u64
            {
                let mut values: Vec<Value> = self.values.keys().map(|v| json!(v)).collect();
                if self.nulls > 0 {
                    values.push(Value::Null);
                }
                schema.insert("enum".into(), Value::Array(values));
            }
        }
        if let Some(items) = &self.items
            && items.samples > 0
        {
            schema.insert("items".into(), items.to_schema());
        }
        if self.objects > 0 {
            // Many keys, most of them in only some objects: a map (tags, payloads), not a
            // record whose fields are always there.
            let always = self.properties.values().filter(|p| p.samples == self.objects).count();
            let is_map = self.properties.len() > MAP_MIN_KEYS && always * 2 < self.properties.len();
            let mut props = Map::new();
            let mut required = Vec::new();
            let mut rest = Shape::default();
            for (k, p) in &self.properties {
                let always_there = p.samples == self.objects;
                if is_map && !always_there {
                    rest.merge(p);
                    continue;
                }
                props.insert(k.clone(), p.to_schema());
                if always_there {
                    required.push(json!(k));
                }
            }
            // A map keeps its always-present keys (a row's system fields) by name.
            if !is_map || !props.is_empty() {
                schema.insert("properties".into(), Value::Object(props));
                schema.insert("required".into(), Value::Array(required));
            }
            if is_map {
                schema.insert("additionalProperties".into(), rest.to_schema());
            }
        }
        sorted(Value::Object(schema))
    }

    /// Folds another shape's observations into this one (for maps).
    fn merge(&mut self, other: &Shape) {
        self.samples += other.samples;
        self.nulls += other.nulls;
        self.bools += other.bools;
        self.integers += other.integers;
        self.floats += other.floats;
        self.strings += other.strings;
        self.arrays += other.arrays;
        self.objects += other.objects;
        self.date_times += other.date_times;
        self.uris += other.uris;
        self.emails += other.emails;
        self.values_overflow |= other.values_overflow;
        for (v, n) in &other.values {
            if self.values.len() < VALUES_KEPT || self.values.contains_key(v) {
                *self.values.entry(v.clone()).or_default() += n;
            } else {
                self.values_overflow = true;
            }
        }
        if let Some(items) = &other.items {
            self.items.get_or_insert_with(Default::default).merge(items);
        }
        for (k, p) in &other.properties {
            self.properties.entry(k.clone()).or_default().merge(p);
        }
    }
}

/// `value` with every object's keys in sorted order.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(samples: &[Value]) -> Value {
        let mut shape = Shape::default();
        for s in samples {
            shape.observe(s);
        }
        shape.to_schema()
    }

    #[test]
    fn required_is_present_in_every_sample_and_nullable_is_seen() {
        let s = infer(&[
            json!({ "a": 1, "b": "x" }),
            json!({ "a": 2, "b": null }),
            json!({ "a": 3 }),
        ]);
        assert_eq!(s["required"], json!(["a"]));
        assert_eq!(s["properties"]["a"]["type"], "integer");
        assert_eq!(s["properties"]["b"]["type"], json!(["null", "string"]));
    }

    #[test]
    fn formats_and_enums_are_detected() {
        let s = infer(&[
            json!({ "at": "2025-01-01T00:00:00.000Z", "mail": "a@b.io", "url": "https://x.io/a", "dir": "in" }),
            json!({ "at": "2025-01-02T00:00:00Z", "mail": "c@d.io", "url": "http://y.io", "dir": "out" }),
            json!({ "at": "2025-01-03T00:00:00Z", "mail": "e@f.io", "url": "http://z.io", "dir": "in" }),
            json!({ "at": "2025-01-04T00:00:00Z", "mail": "g@h.io", "url": "http://w.io", "dir": "out" }),
        ]);
        assert_eq!(s["properties"]["at"]["format"], "date-time");
        assert_eq!(s["properties"]["mail"]["format"], "email");
        assert_eq!(s["properties"]["url"]["format"], "uri");
        assert_eq!(s["properties"]["dir"]["enum"], json!(["in", "out"]));
    }

    #[test]
    fn ids_are_not_enums_and_numbers_widen() {
        let s = infer(&[
            json!({ "id": "a", "n": 1 }),
            json!({ "id": "b", "n": 1.5 }),
            json!({ "id": "c", "n": 2 }),
            json!({ "id": "d", "n": 3 }),
        ]);
        assert!(s["properties"]["id"].get("enum").is_none());
        assert_eq!(s["properties"]["n"]["type"], "number");
    }

    #[test]
    fn arrays_merge_items_and_wide_objects_become_maps() {
        let s = infer(&[json!({ "xs": [{ "k": 1 }, { "k": 2, "o": true }] })]);
        assert_eq!(s["properties"]["xs"]["items"]["required"], json!(["k"]));
        let many: Vec<Value> = (0..20).map(|i| json!({ format!("key{i}"): "v" })).collect();
        let wide = json!(
            (0..20)
                .map(|i| (format!("field{i}"), json!(i)))
                .collect::<serde_json::Map<_, _>>()
        );
        let record = infer(&[wide.clone(), wide]);
        assert_eq!(
            record["required"].as_array().unwrap().len(),
            20,
            "a wide record stays a record"
        );
        let s = infer(&many);
        assert_eq!(s["additionalProperties"]["type"], "string");
        assert!(s.get("properties").is_none());
    }

    #[test]
    fn output_keys_are_sorted() {
        let s = infer(&[json!({ "b": 1, "a": 2 })]);
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap());
        assert!(text.find("\"properties\"").unwrap() < text.find("\"required\"").unwrap());
    }
}
