//! Reading a documented schema as a whole: `$ref`s followed (relative files and
//! `#/$defs/...` fragments), `allOf` parts merged.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Schema documents by path inside their root.
pub type Documents = BTreeMap<String, Value>;

fn join(base: &str, reference: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for seg in reference.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// `schema` (found in document `base`) with its `$ref` and `allOf` resolved one level deep;
/// returns the document the result lives in, so nested refs resolve from there.
pub fn resolve(docs: &Documents, base: &str, schema: &Value) -> (String, Value) {
    let mut base = base.to_string();
    let mut current = schema.clone();
    for _ in 0..32 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str).map(str::to_string) else {
            break;
        };
        let (file, fragment) = reference.split_once('#').unwrap_or((reference.as_str(), ""));
        let target = if file.is_empty() {
            base.clone()
        } else {
            join(&base, file)
        };
        let Some(doc) = docs.get(&target) else { break };
        let found = if fragment.is_empty() {
            Some(doc)
        } else {
            doc.pointer(fragment)
        };
        let Some(found) = found else { break };
        let mut next = found.clone();
        // Sibling keywords of `$ref` still apply.
        if let (Value::Object(siblings), Value::Object(n)) = (&current, &mut next) {
            for (k, v) in siblings {
                if k != "$ref" {
                    n.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        base = target;
        current = next;
    }
    if let Some(Value::Array(parts)) = current.get("allOf").cloned() {
        let mut merged: Map<String, Value> = match &current {
            Value::Object(m) => m
                .iter()
                .filter(|(k, _)| *k != "allOf")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => Map::new(),
        };
        for part in parts {
            let (_, part) = resolve(docs, &base, &part);
            let Value::Object(part) = part else { continue };
            for (k, v) in part {
                match (k.as_str(), merged.get_mut(&k)) {
                    ("properties", Some(Value::Object(existing))) => {
                        if let Value::Object(more) = v {
                            existing.extend(more);
                        }
                    }
                    ("required", Some(Value::Array(existing))) => {
                        if let Value::Array(more) = v {
                            for r in more {
                                if !existing.contains(&r) {
                                    existing.push(r);
                                }
                            }
                        }
                    }
                    (_, Some(_)) => {}
                    (_, None) => {
                        merged.insert(k, v);
                    }
                }
            }
        }
        current = Value::Object(merged);
    }
    (base, current)
}
