//! The contract as one OpenAPI 3.1 document: the operation catalogue (method, path,
//! success status, scoping header, parameters), the request and response schemas of
//! `schemas/`, the error body as the default answer, and bearer auth. Other tools (mock
//! servers, client generators, other fuzzers) read this; `bpharness schemas openapi`
//! writes it.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so the files go in as they are, except that
//! each becomes a component (`requests.createUser`, `resources.common`, `error`) and every
//! `$ref` is rewritten to point inside the document: a tool then needs no `$id`-based
//! resolution (which many lack), and the `$id`s are dropped so they cannot rebase the refs.

use serde_json::{Map, Value, json};

use crate::api::{ERROR_TYPES, Location, OPERATIONS, Operation, Scope, params};

use super::registry::{SCHEMA_BASE, SchemaSet};

/// The version of the API the schemas were written from (ENDPOINTS.md).
pub const API_VERSION: &str = "1.70.2";

/// Whether a schema file is part of the API (not one of bpharness's own formats).
fn is_api_schema(rel: &str) -> bool {
    rel == "error.json"
        || rel.starts_with("resources/")
        || rel.starts_with("requests/")
        || rel.starts_with("responses/")
}

/// The component name of a schema file: `requests/createUser.json` → `requests.createUser`.
#[must_use]
pub fn component_name(rel: &str) -> String {
    rel.trim_end_matches(".json").replace('/', ".")
}

/// Resolves `reference` written in file `rel` to (file, fragment): `../resources/common.json#/$defs/id` in `requests/x.json` is `(resources/common.json, /$defs/id)`.
pub fn resolve_ref(rel: &str, reference: &str) -> (String, String) {
    let (file, fragment) = match reference.split_once('#') {
        Some((f, frag)) => (f, frag.to_string()),
        None => (reference, String::new()),
    };
    if file.is_empty() {
        return (rel.to_string(), fragment);
    }
    if let Some(abs) = file.strip_prefix(SCHEMA_BASE) {
        return (abs.to_string(), fragment);
    }
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    for seg in file.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    (parts.join("/"), fragment)
}

/// Rewrites every `$ref` of `value` (found in file `rel`) to a pointer into the document,
/// and drops `$id` / `$schema`.
fn rewrite(rel: &str, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("$id");
            map.remove("$schema");
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                let (file, fragment) = resolve_ref(rel, reference);
                *reference = format!("#/components/schemas/{}{fragment}", component_name(&file));
            }
            for v in map.values_mut() {
                rewrite(rel, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(rel, v)),
        _ => {}
    }
}

fn schema_ref(rel: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", component_name(rel)) })
}

fn operation_object(schemas: &SchemaSet, op: &Operation) -> Value {
    let mut parameters: Vec<Value> = params(op)
        .into_iter()
        .map(|p| {
            let mut param = json!({
                "name": p.name,
                "in": match p.location { Location::Path => "path", Location::Query => "query" },
                "required": p.required,
                "schema": p.schema,
            });
            if p.schema.get("type") == Some(&json!("object")) {
                // The official client sends `tags.k=v`; the bracket form is the closest
                // OpenAPI style, and servers must accept both (CLIENT-WIRE.md).
                param["style"] = json!("deepObject");
                param["explode"] = json!(true);
            }
            param
        })
        .collect();
    let (header, what) = match op.scope {
        Scope::Bot => ("x-bot-id", "The bot the request acts for."),
        Scope::Workspace => ("x-workspace-id", "The workspace the request acts in."),
    };
    parameters.push(json!({
        "name": header, "in": "header", "required": true, "description": what,
        "schema": {"type": "string", "minLength": 1},
    }));
    let mut object = json!({
        "operationId": op.id,
        "tags": [format!("{:?}", op.area)],
        "parameters": parameters,
        "responses": {
            op.success_status.to_string(): {
                "description": "Success.",
                "content": {"application/json": {"schema": schema_ref(&format!("responses/{}.json", op.id))}},
            },
            "default": {
                "description": "An error of the catalogue (ERRORS.md); `code` equals the HTTP status.",
                "content": {"application/json": {"schema": schema_ref("error.json")}},
            },
        },
    });
    let request = format!("requests/{}.json", op.id);
    if let Some(doc) = schemas.document(&request) {
        let required = doc
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty());
        object["requestBody"] = json!({
            "required": required,
            "content": {"application/json": {"schema": schema_ref(&request)}},
        });
    }
    object
}

/// The whole document.
#[must_use]
pub fn openapi(schemas: &SchemaSet) -> Value {
    let mut components = Map::new();
    for rel in schemas.paths().filter(|r| is_api_schema(r)) {
        let mut doc = schemas.document(rel).cloned().unwrap_or(Value::Null);
        rewrite(rel, &mut doc);
        components.insert(component_name(rel), doc);
    }
    let mut paths: Map<String, Value> = Map::new();
    for op in &OPERATIONS {
        let item = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        item[op.method.to_ascii_lowercase()] = operation_object(schemas, op);
    }
    let types: Vec<String> = ERROR_TYPES
        .iter()
        .map(|t| format!("`{}` {}", t.name(), t.status()))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Botpress Cloud API (the 60 operations bpharness checks)",
            "version": API_VERSION,
            "description": format!(
                "Written by bpharness from its contract: the operation catalogue and the JSON Schemas of schemas/. Error types: {}.",
                types.join(", ")
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "http://127.0.0.1:8080", "description": "bpharness serve (change to your server)"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        openapi(SchemaSet::embedded())
    }

    /// Every `$ref` of the document.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn refs_resolve_relative_to_their_file() {
        assert_eq!(
            resolve_ref("requests/createUser.json", "../resources/common.json#/$defs/id"),
            ("resources/common.json".into(), "/$defs/id".into())
        );
        assert_eq!(
            resolve_ref("resources/user.json", "common.json#/$defs/tags"),
            ("resources/common.json".into(), "/$defs/tags".into())
        );
        assert_eq!(
            resolve_ref("requests/createBot.json", "#/$defs/x"),
            ("requests/createBot.json".into(), "/$defs/x".into())
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_every_operation() {
        let doc = doc();
        // Round trip through text: what `schemas openapi` writes parses back the same.
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let mut seen = 0;
        for op in &OPERATIONS {
            let object = &doc["paths"][op.path][op.method.to_ascii_lowercase()];
            assert_eq!(object["operationId"], op.id, "{} {}", op.method, op.path);
            let success = &object["responses"][op.success_status.to_string()];
            assert!(
                success["content"]["application/json"]["schema"].is_object(),
                "{}",
                op.id
            );
            assert!(object["responses"]["default"].is_object());
            // Every `{param}` of the path is declared as a required path parameter.
            for name in crate::api::path_params(op.path) {
                let declared = object["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true);
                assert!(declared, "{}: {name}", op.id);
            }
            seen += 1;
        }
        assert_eq!(seen, 60);
        let ids: std::collections::HashSet<_> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|o| o["operationId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 60);
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }

    #[test]
    fn every_ref_resolves_inside_the_document() {
        let doc = doc();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for r in &found {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external ref {r}"));
            // Component names hold dots, never slashes, so the pointer splits cleanly.
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        let text = doc.to_string();
        assert!(!text.contains("bpharness.invalid"), "a $id or absolute ref is left");
    }

    /// The exported schemas say what `schemas/` says: the same bodies pass and fail.
    #[test]
    fn exported_schemas_validate_like_the_contract() {
        let doc = doc();
        let check = |component: &str, body: &Value| -> bool {
            // The document itself as the root, so `#/components/...` refs resolve.
            let mut root = doc.clone();
            root["$ref"] = json!(format!("#/components/schemas/{component}"));
            root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap()
                .is_valid(body)
        };
        let schemas = SchemaSet::embedded();
        let cases = [
            ("requests/createUser.json", json!({"tags": {"a": "b"}, "name": "x"})),
            ("requests/createUser.json", json!({"tags": {"a": "b"}, "nope": 1})),
            (
                "requests/createMessage.json",
                json!({"payload": {}, "userId": "u", "conversationId": "c", "type": "text", "tags": {}}),
            ),
            (
                "requests/createBot.json",
                json!({"states": {"s": {"type": "user", "schema": {}}}}),
            ),
            (
                "error.json",
                json!({"id": "x", "code": 404, "type": "ResourceNotFound", "message": "m"}),
            ),
            (
                "error.json",
                json!({"id": "x", "code": 400, "type": "ResourceNotFound", "message": "m"}),
            ),
        ];
        for (rel, body) in cases {
            let want = schemas.validator(rel).unwrap().is_valid(&body);
            assert_eq!(check(&component_name(rel), &body), want, "{rel} {body}");
        }
    }
}
