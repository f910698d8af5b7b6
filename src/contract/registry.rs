//! `SchemaSet`: every schema file of one schema root, embedded in the binary or read from a
//! directory given on the command line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use include_dir::{Dir, include_dir};
use jsonschema::{Registry, Resource, Validator};
use serde_json::Value;

use super::lint;
use crate::scenario::ScenarioError;

/// Every schema's `$id` is this base plus its path inside `schemas/`. The `.invalid` name
/// never resolves, so nothing is ever fetched: every reference is served from the set.
pub const SCHEMA_BASE: &str = "https://bpharness.invalid/schemas/";

static EMBEDDED_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/schemas");

/// A schema file could not be read, parsed or compiled.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("read schema {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// A file that is not JSON, not a JSON Schema, or refers to nothing: with its position.
    #[error("{0}")]
    File(Box<ScenarioError>),
    #[error("schema {name} does not exist (looked for {path})")]
    Missing { name: String, path: String },
    #[error("schema {path} does not compile: {message}")]
    Compile { path: String, message: String },
}

impl SchemaError {
    /// The message for a terminal: a located file diagnostic as it is, anything else after
    /// `error: `.
    #[must_use]
    pub fn render(&self) -> String {
        match self {
            SchemaError::File(diagnostic) => diagnostic.to_string(),
            other => format!("error: {other}"),
        }
    }
}

/// The schemas of one root, with a cache of compiled validators.
pub struct SchemaSet {
    origin: String,
    documents: BTreeMap<String, Value>,
    registry: Registry<'static>,
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("origin", &self.origin)
            .field("documents", &self.documents.len())
            .finish()
    }
}

impl SchemaSet {
    /// The schemas built into the binary (the repository's `schemas/` at build time).
    pub fn embedded() -> &'static SchemaSet {
        static SET: OnceLock<SchemaSet> = OnceLock::new();
        SET.get_or_init(|| {
            let mut documents = BTreeMap::new();
            collect_embedded(&EMBEDDED_DIR, &mut documents);
            SchemaSet::from_documents("the built-in schemas".into(), documents)
                .expect("embedded schemas are valid JSON")
        })
    }

    /// Every `*.json` file below `root`, each checked first (JSON, a valid JSON Schema, every
    /// `$ref` resolving), then compiled, so a broken file is named before anything runs.
    pub fn load_dir(root: &Path) -> Result<SchemaSet, SchemaError> {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| SchemaError::Read {
                path: dir.clone(),
                source,
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|source| SchemaError::Read {
                        path: dir.clone(),
                        source,
                    })?
                    .path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Read {
                        path: path.clone(),
                        source,
                    })?;
                    let file = lint::parse(&path, text).map_err(|e| SchemaError::File(Box::new(e)))?;
                    let rel = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    files.insert(rel, file);
                }
            }
        }
        lint::check_refs(&files).map_err(|e| SchemaError::File(Box::new(e)))?;
        let documents = files.into_iter().map(|(rel, file)| (rel, file.value)).collect();
        let set = SchemaSet::from_documents(root.display().to_string(), documents)?;
        for rel in set.documents.keys() {
            set.validator(rel)?;
        }
        Ok(set)
    }

    fn from_documents(origin: String, documents: BTreeMap<String, Value>) -> Result<SchemaSet, SchemaError> {
        let resources = documents
            .iter()
            .map(|(rel, doc)| (format!("{SCHEMA_BASE}{rel}"), Resource::from_contents(doc.clone())));
        let registry = Registry::new()
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| SchemaError::Compile {
                path: origin.clone(),
                message: e.to_string(),
            })?;
        Ok(SchemaSet {
            origin,
            documents,
            registry,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// Where the set came from, for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether `rel` (a path inside the root, e.g. `responses/getUser.json`) exists.
    pub fn contains(&self, rel: &str) -> bool {
        self.documents.contains_key(rel)
    }

    /// The raw document at `rel`.
    pub fn document(&self, rel: &str) -> Option<&Value> {
        self.documents.get(rel)
    }

    /// Paths of every document, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }

    /// The compiled validator of `rel`, compiled once and shared.
    pub fn validator(&self, rel: &str) -> Result<Arc<Validator>, SchemaError> {
        if let Some(v) = self.compiled.lock().expect("validator cache poisoned").get(rel) {
            return Ok(v.clone());
        }
        let document = self.documents.get(rel).ok_or_else(|| SchemaError::Missing {
            name: rel.to_string(),
            path: format!("{}/{rel}", self.origin),
        })?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_base_uri(format!("{SCHEMA_BASE}{rel}"))
            .with_registry(&self.registry)
            .build(document)
            .map_err(|e| SchemaError::Compile {
                path: rel.to_string(),
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        self.compiled
            .lock()
            .expect("validator cache poisoned")
            .insert(rel.to_string(), validator.clone());
        Ok(validator)
    }
}

fn collect_embedded(dir: &Dir<'static>, out: &mut BTreeMap<String, Value>) {
    for file in dir.files() {
        if file.path().extension().is_some_and(|e| e == "json") {
            let rel = file.path().to_string_lossy().replace('\\', "/");
            let value = serde_json::from_slice(file.contents())
                .unwrap_or_else(|e| panic!("embedded schema {rel} is not valid JSON: {e}"));
            out.insert(rel, value);
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}
