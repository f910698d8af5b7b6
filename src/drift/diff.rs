//! Comparing a documented schema (the contract) with another one (inferred from traffic,
//! or a newer contract), and classifying each difference as breaking for clients or not.
//!
//! Breaking: what the server sends can now violate the contract a client was written for:
//! a type outside the documented ones, a required field missing, null where not allowed, an
//! enum value the contract lacks, a format lost. Not breaking: new fields, optional fields
//! never seen, fewer enum values, narrower types.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::resolve::{Documents, resolve};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    FieldAdded,
    FieldRemoved,
    TypeChanged,
    RequiredChanged,
    NullabilityChanged,
    EnumValueAdded,
    EnumValueRemoved,
    FormatChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// The schema file (operation or error type) the change is in.
    pub schema: String,
    /// Where, as a JSON path into the response (`$.user.createdAt`).
    pub path: String,
    pub kind: ChangeKind,
    pub breaking: bool,
    pub detail: String,
}

fn types(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match schema.get("type") {
        Some(Value::String(t)) => {
            out.insert(t.clone());
        }
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {
            if let Some(Value::Array(values)) = schema.get("enum").or(schema.get("const").map(|_| &Value::Null)) {
                for v in values {
                    out.insert(
                        match v {
                            Value::Null => "null",
                            Value::Bool(_) => "boolean",
                            Value::Number(_) => "number",
                            Value::String(_) => "string",
                            Value::Array(_) => "array",
                            Value::Object(_) => "object",
                        }
                        .into(),
                    );
                }
            }
        }
    }
    out
}

/// Whether every type of `observed` is allowed by `documented` (integer fits number).
fn allowed(documented: &BTreeSet<String>, t: &str) -> bool {
    documented.is_empty() || documented.contains(t) || (t == "integer" && documented.contains("number"))
}

fn strings(schema: &Value, key: &str) -> BTreeSet<String> {
    schema
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

struct Walker<'a> {
    docs: &'a Documents,
    schema: String,
    out: Vec<Change>,
}

impl Walker<'_> {
    fn push(&mut self, path: &str, kind: ChangeKind, breaking: bool, detail: String) {
        self.out.push(Change {
            schema: self.schema.clone(),
            path: path.to_string(),
            kind,
            breaking,
            detail,
        });
    }

    fn compare(&mut self, base: &str, documented: &Value, observed: &Value, path: &str) {
        let (base, doc) = resolve(self.docs, base, documented);
        let (doc_types, seen_types) = (types(&doc), types(observed));
        let doc_nullable = doc_types.contains("null")
            || doc
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.contains(&Value::Null));
        if seen_types.contains("null") && !doc_nullable && !doc_types.is_empty() {
            self.push(
                path,
                ChangeKind::NullabilityChanged,
                true,
                "null seen where the contract does not allow it".into(),
            );
        }
        let foreign: Vec<&String> = seen_types
            .iter()
            .filter(|t| *t != "null" && !allowed(&doc_types, t))
            .collect();
        if !foreign.is_empty() {
            let doc_list: Vec<&str> = doc_types.iter().map(String::as_str).collect();
            let seen: Vec<&str> = foreign.iter().map(|s| s.as_str()).collect();
            self.push(
                path,
                ChangeKind::TypeChanged,
                true,
                format!("{} where the contract says {}", seen.join("|"), doc_list.join("|")),
            );
            return;
        }
        if let (Some(f), true) = (doc.get("format").and_then(Value::as_str), seen_types.contains("string")) {
            match observed.get("format").and_then(Value::as_str) {
                Some(g) if g == f => {}
                Some(g) => self.push(
                    path,
                    ChangeKind::FormatChanged,
                    true,
                    format!("format {g} where the contract says {f}"),
                ),
                None => self.push(
                    path,
                    ChangeKind::FormatChanged,
                    true,
                    format!("values that are not {f}"),
                ),
            }
        } else if let (None, Some(g)) = (doc.get("format"), observed.get("format").and_then(Value::as_str)) {
            let _ = g; // A format the contract does not promise is no promise broken.
        }
        let doc_enum = strings(&doc, "enum");
        let seen_enum = strings(observed, "enum");
        if !doc_enum.is_empty() && !seen_enum.is_empty() {
            let added: Vec<&String> = seen_enum.difference(&doc_enum).collect();
            if !added.is_empty() {
                self.push(
                    path,
                    ChangeKind::EnumValueAdded,
                    true,
                    format!("values outside the contract: {added:?}"),
                );
            }
            let missing: Vec<&String> = doc_enum.difference(&seen_enum).collect();
            if !missing.is_empty() && observed.get("enum").is_some() {
                self.push(
                    path,
                    ChangeKind::EnumValueRemoved,
                    false,
                    format!("contract values never seen: {missing:?}"),
                );
            }
        }
        if let (Some(d), Some(o)) = (doc.get("items"), observed.get("items")) {
            self.compare(&base, d, o, &format!("{path}[*]"));
        }
        self.compare_objects(&base, &doc, observed, path);
    }

    fn compare_objects(&mut self, base: &str, doc: &Value, observed: &Value, path: &str) {
        let empty = serde_json::Map::new();
        let doc_props = doc.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let seen_props = observed.get("properties").and_then(Value::as_object);
        let doc_required = strings(doc, "required");
        let seen_required = strings(observed, "required");
        let doc_extra = doc.get("additionalProperties");
        if let Some(seen_props) = seen_props {
            for (name, d) in doc_props {
                let p = format!("{path}.{name}");
                match seen_props.get(name) {
                    None if doc_required.contains(name) => self.push(
                        &p,
                        ChangeKind::FieldRemoved,
                        true,
                        "required by the contract, never sent".into(),
                    ),
                    None => self.push(
                        &p,
                        ChangeKind::FieldRemoved,
                        false,
                        "optional, never seen in the samples".into(),
                    ),
                    Some(o) => {
                        if doc_required.contains(name) && !seen_required.contains(name) {
                            self.push(
                                &p,
                                ChangeKind::RequiredChanged,
                                true,
                                "required by the contract, sometimes missing".into(),
                            );
                        } else if !doc_required.contains(name) && seen_required.contains(name) {
                            self.push(
                                &p,
                                ChangeKind::RequiredChanged,
                                false,
                                "optional in the contract, always sent".into(),
                            );
                        }
                        self.compare(base, d, o, &p);
                    }
                }
            }
            for (name, o) in seen_props {
                if doc_props.contains_key(name) {
                    continue;
                }
                let p = format!("{path}.{name}");
                match doc_extra {
                    Some(Value::Object(_)) => self.compare(base, doc_extra.expect("matched"), o, &p),
                    // The contract leaves the object open: any extra field is allowed.
                    Some(Value::Bool(true)) => {}
                    Some(Value::Bool(false)) => {
                        self.push(&p, ChangeKind::FieldAdded, false, "not in the contract".into())
                    }
                    _ if !doc_props.is_empty() => {
                        self.push(&p, ChangeKind::FieldAdded, false, "not in the contract".into())
                    }
                    _ => {}
                }
            }
        }
        if let (Some(seen_map @ Value::Object(_)), Some(d @ Value::Object(_))) =
            (observed.get("additionalProperties"), doc_extra)
        {
            self.compare(base, d, seen_map, &format!("{path}.*"));
        }
    }
}

/// Every difference between the contract `documented` (in `docs`, at `base`) and `observed`.
pub fn diff_schema(docs: &Documents, base: &str, documented: &Value, observed: &Value, name: &str) -> Vec<Change> {
    let mut w = Walker {
        docs,
        schema: name.to_string(),
        out: Vec::new(),
    };
    w.compare(base, documented, observed, "$");
    w.out.sort();
    w.out.dedup();
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["user"],
            "properties": { "user": {
                "type": "object", "additionalProperties": false, "required": ["id", "createdAt", "tags"],
                "properties": {
                    "id": { "type": "string" },
                    "createdAt": { "type": "string", "format": "date-time" },
                    "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                    "name": { "type": "string" },
                    "direction": { "type": "string", "enum": ["incoming", "outgoing"] }
                }
            }}
        })
    }

    fn observed(user: Value) -> Value {
        json!({ "type": "object", "required": ["user"], "properties": { "user": user } })
    }

    fn kinds(changes: &[Change]) -> Vec<(String, ChangeKind, bool)> {
        changes.iter().map(|c| (c.path.clone(), c.kind, c.breaking)).collect()
    }

    fn run(user: Value) -> Vec<(String, ChangeKind, bool)> {
        kinds(&diff_schema(
            &Documents::new(),
            "responses/x.json",
            &doc(),
            &observed(user),
            "x",
        ))
    }

    fn base_user() -> Value {
        json!({ "type": "object", "required": ["createdAt", "id", "tags"], "properties": {
            "id": { "type": "string" },
            "createdAt": { "type": "string", "format": "date-time" },
            "tags": { "type": "object", "properties": {}, "required": [] },
            "name": { "type": "string" }
        }})
    }

    #[test]
    fn a_faithful_sample_has_no_breaking_change() {
        let changes = run(base_user());
        assert!(changes.iter().all(|(_, _, breaking)| !breaking), "{changes:?}");
    }

    #[test]
    fn a_required_field_never_sent_is_breaking() {
        let mut u = base_user();
        u["properties"].as_object_mut().unwrap().remove("createdAt");
        u["required"] = json!(["id", "tags"]);
        assert!(run(u).contains(&("$.user.createdAt".into(), ChangeKind::FieldRemoved, true)));
    }

    #[test]
    fn a_wrong_type_is_breaking() {
        let mut u = base_user();
        u["properties"]["id"] = json!({ "type": "integer" });
        assert!(run(u).contains(&("$.user.id".into(), ChangeKind::TypeChanged, true)));
    }

    #[test]
    fn a_lost_format_is_breaking() {
        let mut u = base_user();
        u["properties"]["createdAt"] = json!({ "type": "string" });
        assert!(run(u).contains(&("$.user.createdAt".into(), ChangeKind::FormatChanged, true)));
    }

    #[test]
    fn sometimes_missing_nulls_and_new_enum_values_are_breaking() {
        let mut u = base_user();
        u["required"] = json!(["createdAt", "tags"]);
        u["properties"]["name"] = json!({ "type": ["null", "string"] });
        u["properties"]["direction"] = json!({ "type": "string", "enum": ["incoming", "sideways"] });
        let c = run(u);
        assert!(
            c.contains(&("$.user.id".into(), ChangeKind::RequiredChanged, true)),
            "{c:?}"
        );
        assert!(
            c.contains(&("$.user.name".into(), ChangeKind::NullabilityChanged, true)),
            "{c:?}"
        );
        assert!(
            c.contains(&("$.user.direction".into(), ChangeKind::EnumValueAdded, true)),
            "{c:?}"
        );
        assert!(
            c.contains(&("$.user.direction".into(), ChangeKind::EnumValueRemoved, false)),
            "{c:?}"
        );
    }

    #[test]
    fn new_fields_and_unseen_optional_fields_are_not_breaking() {
        let mut u = base_user();
        u["properties"]["extra"] = json!({ "type": "string" });
        u["properties"].as_object_mut().unwrap().remove("name");
        let c = run(u);
        assert!(
            c.contains(&("$.user.extra".into(), ChangeKind::FieldAdded, false)),
            "{c:?}"
        );
        assert!(
            c.contains(&("$.user.name".into(), ChangeKind::FieldRemoved, false)),
            "{c:?}"
        );
    }

    #[test]
    fn refs_and_all_of_are_followed() {
        let mut docs = Documents::new();
        docs.insert("resources/user.json".into(), doc()["properties"]["user"].clone());
        let documented = json!({ "type": "object", "properties": { "user": { "$ref": "../resources/user.json" } }, "required": ["user"] });
        let mut u = base_user();
        u["properties"]["id"] = json!({ "type": "boolean" });
        let c = kinds(&diff_schema(&docs, "responses/x.json", &documented, &observed(u), "x"));
        assert!(
            c.contains(&("$.user.id".into(), ChangeKind::TypeChanged, true)),
            "{c:?}"
        );
    }
}
