//! Schema inference: from captured traffic (HAR) to one JSON Schema per operation
//! (`responses/<operationId>.json`) and per error type (`errors/<Type>.json`).
//!
//! What a sample can tell: types, which fields were always present (required), nulls,
//! formats (date-time, uri, email), small closed string sets (enums), array items and nested
//! objects. What it cannot: a field never sent, a value never seen, the bounds of a string.

mod shape;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::api::match_operation;
use crate::capture::Har;

pub use self::shape::{Shape, sorted};

/// Inferred schemas by path inside a schema root (`responses/getUser.json`).
pub type Inferred = BTreeMap<String, Value>;

/// Infers schemas from every entry of `hars` that matched a documented operation.
pub fn infer(hars: &[Har]) -> Inferred {
    let mut shapes: BTreeMap<String, (Shape, String)> = BTreeMap::new();
    for har in hars {
        for entry in &har.log.entries {
            let status = entry.response.status;
            let Ok(body) = serde_json::from_str::<Value>(&entry.response.content.text) else {
                continue;
            };
            let path = entry.request.url.split('?').next().unwrap_or("");
            let path = path.find("/v1/").map_or(path, |i| &path[i..]);
            let (rel, title) = if (200..300).contains(&status) {
                let Some(op) = match_operation(&entry.request.method, path) else {
                    continue;
                };
                (
                    format!("responses/{}.json", op.id),
                    format!("{} response (inferred)", op.id),
                )
            } else if status >= 400 {
                let Some(ty) = body.get("type").and_then(Value::as_str) else {
                    continue;
                };
                let ty: String = ty.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                (format!("errors/{ty}.json"), format!("{ty} error body (inferred)"))
            } else {
                continue;
            };
            shapes
                .entry(rel)
                .or_insert_with(|| (Shape::default(), title))
                .0
                .observe(&body);
        }
    }
    shapes
        .into_iter()
        .map(|(rel, (shape, title))| {
            let mut schema = shape.to_schema();
            if let Value::Object(map) = &mut schema {
                map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
                map.insert("title".into(), json!(title));
                map.insert(
                    "description".into(),
                    json!(format!("Inferred from {} samples.", shape.samples)),
                );
            }
            (rel, sorted(schema))
        })
        .collect()
}

/// Writes each inferred schema under `dir`, pretty and with sorted keys.
pub fn write_dir(dir: &Path, inferred: &Inferred) -> std::io::Result<()> {
    for (rel, schema) in inferred {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = serde_json::to_string_pretty(schema).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)?;
    }
    Ok(())
}
