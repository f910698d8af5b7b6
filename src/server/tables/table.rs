//! Tables and rows as stored, and as they are answered.
//!
//! A table holds its rows by numeric id; ids start at 1 in each table and only grow (a
//! deleted id is never reused). A row stores the values of its columns only; the system
//! fields (`id`, `createdAt`, `updatedAt`) and `computed` are added when it is answered.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::server::ids::Timestamp;
use crate::server::store::Tags;

use super::schema::TableSchema;
use super::value::{Fields, SYSTEM_FIELDS, descend, split_path};

/// Bytes of row storage per unit of `factor` (the docs: factor × 4 KB).
pub const BYTES_PER_FACTOR: usize = 4096;

/// One row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub values: Map<String, Value>,
}

impl Fields for Row {
    fn field(&self, path: &str) -> Option<Cow<'_, Value>> {
        let (head, rest) = split_path(path);
        match head {
            "id" if rest.is_empty() => Some(Cow::Owned(json!(self.id))),
            "createdAt" if rest.is_empty() => Some(Cow::Owned(json!(self.created_at.to_string()))),
            "updatedAt" if rest.is_empty() => Some(Cow::Owned(json!(self.updated_at.to_string()))),
            _ => descend(self.values.get(head)?, rest).map(Cow::Borrowed),
        }
    }
}

fn insert_path(out: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            out.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let slot = out.entry(head.to_string()).or_insert_with(|| json!({}));
            if !slot.is_object() {
                *slot = json!({});
            }
            if let Value::Object(inner) = slot {
                insert_path(inner, rest, value);
            }
        }
    }
}

impl Row {
    /// The row as answered: system fields, `computed`, then the columns in schema order
    /// (only `select`ed ones when given), and `similarity` after a search.
    pub fn to_json(&self, schema: &TableSchema, select: Option<&[String]>, similarity: Option<f64>) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("createdAt".into(), json!(self.created_at.to_string()));
        out.insert("updatedAt".into(), json!(self.updated_at.to_string()));
        out.insert("computed".into(), json!({}));
        match select {
            None => {
                for column in &schema.columns {
                    if let Some(v) = self.values.get(&column.name) {
                        out.insert(column.name.clone(), v.clone());
                    }
                }
            }
            Some(paths) => {
                for path in paths {
                    let (head, _) = split_path(path);
                    if SYSTEM_FIELDS.contains(&head) {
                        continue;
                    }
                    if let Some(v) = self.field(path) {
                        insert_path(&mut out, path, v.into_owned());
                    }
                }
            }
        }
        if let Some(s) = similarity {
            out.insert("similarity".into(), json!(s));
        }
        Value::Object(out)
    }

    /// Bytes the row's values take (compact JSON): what the `factor` limit measures.
    pub fn size(values: &Map<String, Value>) -> usize {
        serde_json::to_vec(values).map_or(0, |b| b.len())
    }
}

/// One table.
#[derive(Debug, Clone)]
pub struct Table {
    pub id: String,
    pub name: String,
    pub factor: u32,
    pub frozen: bool,
    pub key_column: Option<String>,
    pub schema: TableSchema,
    pub tags: Tags,
    pub is_compute_enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub seq: u64,
    pub rows: BTreeMap<u64, Row>,
    /// The id the next row gets.
    pub next_row: u64,
}

impl Table {
    /// The table as answered.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("name".into(), json!(self.name));
        out.insert("factor".into(), json!(self.factor));
        out.insert("frozen".into(), json!(self.frozen));
        if let Some(key) = &self.key_column {
            out.insert("keyColumn".into(), json!(key));
        }
        out.insert("schema".into(), self.schema.to_json());
        out.insert("tags".into(), json!(self.tags));
        out.insert("isComputeEnabled".into(), json!(self.is_compute_enabled));
        out.insert("createdAt".into(), json!(self.created_at.to_string()));
        out.insert("updatedAt".into(), json!(self.updated_at.to_string()));
        Value::Object(out)
    }

    /// The largest a row may be, in bytes.
    pub fn row_limit(&self) -> usize {
        self.factor as usize * BYTES_PER_FACTOR
    }

    /// `{table, rows, stale, indexing}` of getTable. Nothing is ever stale or waiting for
    /// indexing: there is no compute engine, and search reads rows as they are.
    pub fn with_counters(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("table".into(), self.to_json());
        out.insert("rows".into(), json!(self.rows.len()));
        out.insert("stale".into(), json!(0));
        out.insert("indexing".into(), json!(0));
        out
    }

    /// The first row (lowest id) whose `column` equals `value`, other than `except`.
    pub fn row_with(&self, column: &str, value: &Value, except: Option<u64>) -> Option<u64> {
        self.rows
            .values()
            .filter(|r| Some(r.id) != except)
            .find(|r| r.field(column).is_some_and(|v| super::value::equal(&v, value)))
            .map(|r| r.id)
    }
}

/// A bot's tables, by id; looked up by id or by name.
#[derive(Debug, Default)]
pub struct Tables {
    by_id: HashMap<String, Table>,
}

impl Tables {
    fn id_of(&self, key: &str) -> Option<String> {
        if self.by_id.contains_key(key) {
            return Some(key.to_string());
        }
        self.by_id.values().find(|t| t.name == key).map(|t| t.id.clone())
    }

    /// The table with this id, else with this name.
    pub fn get(&self, key: &str) -> Option<&Table> {
        self.by_id.get(&self.id_of(key)?)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Table> {
        let id = self.id_of(key)?;
        self.by_id.get_mut(&id)
    }

    /// The table with this id only.
    pub fn by_id(&self, id: &str) -> Option<&Table> {
        self.by_id.get(id)
    }

    pub fn name_taken(&self, name: &str) -> bool {
        self.by_id.values().any(|t| t.name == name)
    }

    pub fn insert(&mut self, table: Table) {
        self.by_id.insert(table.id.clone(), table);
    }

    pub fn remove(&mut self, key: &str) -> Option<Table> {
        let id = self.id_of(key)?;
        self.by_id.remove(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Table> {
        self.by_id.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let now = Timestamp::now();
        Table {
            id: "table_1".into(),
            name: "peopleTable".into(),
            factor: 1,
            frozen: false,
            key_column: None,
            schema: TableSchema::parse(&json!({ "name": { "type": "string" }, "address": { "type": "object" } }))
                .unwrap(),
            tags: Tags::new(),
            is_compute_enabled: false,
            created_at: now,
            updated_at: now,
            seq: 1,
            rows: BTreeMap::new(),
            next_row: 1,
        }
    }

    #[test]
    fn rows_answer_system_fields_first_and_select_keeps_them() {
        let t = table();
        let now = Timestamp::now();
        let row = Row {
            id: 7,
            created_at: now,
            updated_at: now,
            values: json!({ "address": { "city": "Paris", "zip": "75" }, "name": "Ada" })
                .as_object()
                .unwrap()
                .clone(),
        };
        let full = row.to_json(&t.schema, None, None);
        let keys: Vec<&String> = full.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "createdAt", "updatedAt", "computed", "name", "address"]);
        let some = row.to_json(
            &t.schema,
            Some(&["address.city".to_string(), "id".to_string()]),
            Some(0.5),
        );
        assert_eq!(some["address"], json!({ "city": "Paris" }));
        assert!(some.get("name").is_none());
        assert_eq!(some["id"], 7);
        assert_eq!(some["similarity"], 0.5);
        assert_eq!(row.field("id").as_deref(), Some(&json!(7)));
    }

    #[test]
    fn tables_are_found_by_id_or_name() {
        let mut tables = Tables::default();
        tables.insert(table());
        assert_eq!(tables.get("peopleTable").unwrap().id, "table_1");
        assert_eq!(tables.get("table_1").unwrap().name, "peopleTable");
        assert!(tables.by_id("peopleTable").is_none());
        assert!(tables.name_taken("peopleTable"));
        assert!(tables.remove("peopleTable").is_some());
        assert!(tables.get("table_1").is_none());
    }
}
