//! Checks a schema directory given with `--schemas` file by file, before any of it is used:
//! each file must be JSON without duplicate keys, a valid JSON Schema (its meta-schema), and
//! every `$ref` must point at a file of the directory and at a place inside it. A problem is
//! reported like a scenario error: `--> file:line:col`, the line, a caret and a hint.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::scenario::{KeyPath, Locations, PathSeg, ScenarioError, ScenarioErrorKind, SourceFile};

use super::SCHEMA_BASE;

/// One schema file: where it is, its text, its value and where each part of it sits.
pub struct SchemaFile {
    pub source: SourceFile,
    pub value: Value,
    locations: Locations,
}

impl SchemaFile {
    fn at(&self, kind: ScenarioErrorKind, path: &KeyPath, message: impl Into<String>) -> ScenarioError {
        let found = self.locations.nearest(path);
        ScenarioError::at(kind, &self.source, found.value, message)
    }
}

/// Parses one file: JSON, no key twice, a valid JSON Schema.
pub fn parse(path: &Path, text: String) -> Result<SchemaFile, ScenarioError> {
    let source = SourceFile::new(path, text);
    let value: Value = serde_json::from_str(&source.text).map_err(|e| {
        // serde_json ends its message with the position, which the diagnostic shows.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        ScenarioError::at_line_col(
            ScenarioErrorKind::Syntax,
            &source,
            e.line().max(1),
            e.column().max(1),
            1,
            format!("invalid JSON: {message}"),
        )
        .with_hint("a schema file is one JSON document: look for a missing comma, quote or bracket")
    })?;
    let locations = Locations::from_json(&source.text);
    let file = SchemaFile {
        source,
        value,
        locations,
    };
    if let Some((path, span)) = file.locations.duplicate_key() {
        let key = match path.0.last() {
            Some(PathSeg::Key(key)) => key.clone(),
            _ => String::new(),
        };
        return Err(ScenarioError::at(
            ScenarioErrorKind::Structure,
            &file.source,
            span,
            format!("duplicate key `{key}`"),
        )
        .with_hint("JSON readers keep only one of the two; remove or rename the other"));
    }
    if !file.value.is_object() && !file.value.is_boolean() {
        return Err(file
            .at(
                ScenarioErrorKind::Structure,
                &KeyPath::root(),
                "a schema is a JSON object (or true or false)",
            )
            .with_hint("wrap the schema in { ... }"));
    }
    if let Err(error) = jsonschema::meta::validate(&file.value) {
        let path = key_path(&file.value, &error.instance_path().to_string());
        let keyword = path.0.iter().rev().find_map(|seg| match seg {
            PathSeg::Key(key) => Some(key.as_str()),
            PathSeg::Index(_) => None,
        });
        // The value itself when it is short enough to read in one line.
        let detail = if error.instance().to_string().len() <= 40 {
            error.to_string()
        } else {
            error.masked().to_string()
        };
        let message = format!("not a valid JSON Schema: {detail}");
        let hint = match keyword {
            Some("type") => {
                "`type` takes one of \"null\", \"boolean\", \"object\", \"array\", \"number\", \"string\", \
                 \"integer\", or an array of them"
                    .to_owned()
            }
            Some("required") => "`required` takes an array of property names".to_owned(),
            Some("properties" | "$defs" | "patternProperties") => {
                format!("`{}` maps each name to a schema", keyword.unwrap_or_default())
            }
            Some(keyword) => format!("see what `{keyword}` accepts in JSON Schema 2020-12"),
            None => "see JSON Schema 2020-12 for the keywords a schema may hold".to_owned(),
        };
        return Err(file.at(ScenarioErrorKind::Structure, &path, message).with_hint(hint));
    }
    Ok(file)
}

/// A JSON pointer (`/properties/a/0`) as a key path, reading numbers as indexes where the
/// value there is an array.
fn key_path(value: &Value, pointer: &str) -> KeyPath {
    let mut path = KeyPath::root();
    let mut at = Some(value);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match at {
            Some(Value::Array(items)) => {
                let index = seg.parse().unwrap_or(usize::MAX);
                at = items.get(index);
                path = path.index(index);
            }
            _ => {
                at = at.and_then(|v| v.get(&seg));
                path = path.key(&seg);
            }
        }
    }
    path
}

/// Every `$ref` of a file, with where it sits.
fn refs(value: &Value, path: KeyPath, out: &mut Vec<(KeyPath, String)>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => out.push((path.key(key), target.clone())),
                    // Values of these keywords are data, not schemas.
                    ("const" | "enum" | "examples" | "default", _) => {}
                    _ => refs(child, path.key(key), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, path.index(i), out);
            }
        }
        _ => {}
    }
}

/// `a/b/../c.json` → `a/c.json`; `None` when it climbs out of the directory.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Checks that every `$ref` of every file resolves: the file it names is in the directory,
/// and the pointer after `#` leads somewhere in it. `files` are keyed by path relative to the
/// directory.
pub fn check_refs(files: &BTreeMap<String, SchemaFile>) -> Result<(), ScenarioError> {
    for (rel, file) in files {
        let mut found = Vec::new();
        refs(&file.value, KeyPath::root(), &mut found);
        for (path, target) in found {
            let (doc, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let doc = doc.strip_prefix(SCHEMA_BASE).unwrap_or(doc);
            if doc.contains("://") {
                // Another base (a meta-schema, say): not this directory's to check.
                continue;
            }
            let target_rel = if doc.is_empty() {
                Some(rel.clone())
            } else if let Some(absolute) = doc.strip_prefix('/') {
                normalize(Path::new(absolute))
            } else {
                normalize(&Path::new(rel).parent().unwrap_or(Path::new("")).join(doc))
            };
            let Some(target_file) = target_rel.as_ref().and_then(|t| files.get(t)) else {
                let here = Path::new(rel).parent().unwrap_or(Path::new(""));
                let candidates: Vec<String> = files.keys().map(|k| relative(here, k)).collect();
                let hint = crate::scenario::did_you_mean(doc, candidates.iter().map(String::as_str))
                    .unwrap_or_else(|| "the path is relative to this file's folder".to_owned());
                return Err(file
                    .at(
                        ScenarioErrorKind::Check,
                        &path,
                        format!("$ref {target:?} points at no schema file of the directory"),
                    )
                    .with_hint(hint));
            };
            if !fragment.is_empty() && target_file.value.pointer(fragment).is_none() {
                let defs: Vec<String> = target_file.value["$defs"]
                    .as_object()
                    .map(|d| d.keys().map(|k| format!("/$defs/{k}")).collect())
                    .unwrap_or_default();
                let hint =
                    crate::scenario::did_you_mean(fragment, defs.iter().map(String::as_str)).unwrap_or_else(|| {
                        if defs.is_empty() {
                            format!("{} has no $defs", target_rel.clone().unwrap_or_default())
                        } else {
                            format!("its $defs: {}", defs.join(", "))
                        }
                    });
                return Err(file
                    .at(
                        ScenarioErrorKind::Check,
                        &path,
                        format!("$ref {target:?}: no `{fragment}` in {}", target_rel.unwrap_or_default()),
                    )
                    .with_hint(hint));
            }
        }
    }
    Ok(())
}

/// `to` (relative to the directory root) as seen from the folder `from`.
fn relative(from: &Path, to: &str) -> String {
    let from: Vec<_> = from.components().collect();
    let to_path = PathBuf::from(to);
    let to_parts: Vec<_> = to_path.components().collect();
    let common = from.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_key_paths_with_indexes_where_arrays_are() {
        let value = serde_json::json!({ "anyOf": [{ "type": "x" }] });
        assert_eq!(key_path(&value, "/anyOf/0/type").to_string(), "anyOf[0].type");
        assert_eq!(key_path(&value, "").to_string(), "");
    }

    #[test]
    fn relative_paths_climb_out_of_the_folder() {
        assert_eq!(
            relative(Path::new("responses"), "resources/user.json"),
            "../resources/user.json"
        );
        assert_eq!(relative(Path::new("responses"), "responses/a.json"), "a.json");
        assert_eq!(
            normalize(Path::new("responses/../resources/user.json")).unwrap(),
            "resources/user.json"
        );
        assert_eq!(normalize(Path::new("../x.json")), None);
    }

    #[test]
    fn a_ref_is_located_at_its_value() {
        let text = r#"{ "$ref": "nope.json" }"#;
        let locations = Locations::from_json(text);
        let found = locations.get(&KeyPath::root().key("$ref")).unwrap();
        assert_eq!(&text[found.value.range()], "\"nope.json\"");
    }
}
