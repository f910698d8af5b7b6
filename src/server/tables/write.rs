//! Writing rows in batches: createTableRows, updateTableRows and upsertTableRows.
//!
//! Each row is judged alone. A row that breaks the schema, outgrows `factor × 4 KB`, names
//! an id that does not exist (update) or repeats the value of the table's `keyColumn` is
//! not written and comes back as one line of `errors` (`rows[2]: ...`); the others are
//! written. Keys a row may not set (system fields, columns the schema lacks) are dropped
//! with one line of `warnings` each, never silently. Whether a batch with no row written
//! is an error response is the handler's call (`Batch::refusal`).

use serde_json::{Map, Value};

use crate::server::ids::Timestamp;

use super::table::{Row, Table};
use super::value::RESERVED_NAMES;

/// Why a row was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Breaks the schema: `InvalidDataFormat`.
    DataFormat,
    /// Over the row size limit: `LimitExceeded`.
    TooLarge,
    /// Update of an id the table lacks: `ResourceNotFound`.
    NotFound,
    /// Repeats a `keyColumn` value: `AlreadyExists`.
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub problem: Problem,
    pub message: String,
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct Batch {
    pub inserted: Vec<u64>,
    pub updated: Vec<u64>,
    pub warnings: Vec<String>,
    pub failures: Vec<Failure>,
}

impl Batch {
    pub fn errors(&self) -> Vec<String> {
        self.failures.iter().map(|f| f.message.clone()).collect()
    }

    /// When nothing was written and something failed: the first failure, standing for the
    /// whole request.
    pub fn refusal(&self) -> Option<&Failure> {
        if self.inserted.is_empty() && self.updated.is_empty() {
            self.failures.first()
        } else {
            None
        }
    }
}

fn fail(batch: &mut Batch, problem: Problem, message: String) {
    batch.failures.push(Failure { problem, message });
}

/// The column values of `input`: system keys and unknown columns dropped, with a warning.
fn clean(table: &Table, i: usize, input: &Value, batch: &mut Batch, id_is_selector: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let Value::Object(map) = input else {
        return out;
    };
    for (key, value) in map {
        if key == "id" && id_is_selector {
            continue;
        }
        if RESERVED_NAMES.contains(&key.as_str()) {
            batch.warnings.push(format!(
                "rows[{i}]: {key} is set by the server; the value sent was ignored"
            ));
        } else if table.schema.column(key).is_none() {
            batch.warnings.push(format!(
                "rows[{i}]: {key:?} is not a column of table {:?}; the value was ignored",
                table.name
            ));
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Checks a row's values as they would be stored; `except` is the row being updated.
fn admit(table: &Table, i: usize, values: &Map<String, Value>, except: Option<u64>) -> Result<(), Failure> {
    table.schema.check_row(values).map_err(|m| Failure {
        problem: Problem::DataFormat,
        message: format!("rows[{i}]: {m}"),
    })?;
    let size = Row::size(values);
    if size > table.row_limit() {
        return Err(Failure {
            problem: Problem::TooLarge,
            message: format!(
                "rows[{i}]: the row takes {size} bytes, over the {} bytes of factor {}",
                table.row_limit(),
                table.factor
            ),
        });
    }
    if let Some(key) = &table.key_column
        && let Some(value) = values.get(key).filter(|v| !v.is_null())
        && let Some(other) = table.row_with(key, value, except)
    {
        return Err(Failure {
            problem: Problem::Duplicate,
            message: format!("rows[{i}]: key column {key:?} already holds {value} in row {other}"),
        });
    }
    Ok(())
}

fn insert(table: &mut Table, values: Map<String, Value>) -> u64 {
    let id = table.next_row;
    table.next_row += 1;
    let now = Timestamp::now();
    table.rows.insert(
        id,
        Row {
            id,
            created_at: now,
            updated_at: now,
            values,
        },
    );
    id
}

/// The row `id` with `changes` applied, if it exists.
fn merged(table: &Table, id: u64, changes: Map<String, Value>) -> Option<Map<String, Value>> {
    let mut values = table.rows.get(&id)?.values.clone();
    values.extend(changes);
    Some(values)
}

fn apply(table: &mut Table, id: u64, values: Map<String, Value>) {
    if let Some(row) = table.rows.get_mut(&id) {
        row.values = values;
        row.updated_at = Timestamp::after(row.updated_at);
    }
}

/// createTableRows.
pub fn create_rows(table: &mut Table, rows: &[Value]) -> Batch {
    let mut batch = Batch::default();
    for (i, input) in rows.iter().enumerate() {
        let values = clean(table, i, input, &mut batch, false);
        match admit(table, i, &values, None) {
            Ok(()) => batch.inserted.push(insert(table, values)),
            Err(f) => batch.failures.push(f),
        }
    }
    batch
}

fn row_id(input: &Value) -> Option<u64> {
    input.get("id").and_then(Value::as_u64)
}

/// updateTableRows: each row names its `id`; the columns it carries are set, the others kept.
pub fn update_rows(table: &mut Table, rows: &[Value]) -> Batch {
    let mut batch = Batch::default();
    for (i, input) in rows.iter().enumerate() {
        let changes = clean(table, i, input, &mut batch, true);
        let Some(id) = row_id(input).filter(|id| table.rows.contains_key(id)) else {
            let shown = input.get("id").map(Value::to_string).unwrap_or_default();
            fail(
                &mut batch,
                Problem::NotFound,
                format!("rows[{i}]: no row has id {shown} in table {:?}", table.name),
            );
            continue;
        };
        let values = merged(table, id, changes).expect("the row exists");
        match admit(table, i, &values, Some(id)) {
            Ok(()) => {
                apply(table, id, values);
                batch.updated.push(id);
            }
            Err(f) => batch.failures.push(f),
        }
    }
    batch
}

/// upsertTableRows: a row whose `key` value matches an existing row (the lowest id when
/// several do) updates it; any other row is inserted.
pub fn upsert_rows(table: &mut Table, rows: &[Value], key: &str) -> Batch {
    let mut batch = Batch::default();
    for (i, input) in rows.iter().enumerate() {
        let by_id = key == "id";
        let changes = clean(table, i, input, &mut batch, by_id);
        let target = if by_id {
            let id = row_id(input);
            match id {
                Some(id) if table.rows.contains_key(&id) => Some(id),
                _ => {
                    if let Some(sent) = input.get("id") {
                        batch.warnings.push(format!(
                            "rows[{i}]: no row has id {sent}; the row was inserted with a new id"
                        ));
                    }
                    None
                }
            }
        } else {
            changes
                .get(key)
                .filter(|v| !v.is_null())
                .and_then(|v| table.row_with(key, v, None))
        };
        match target {
            Some(id) => {
                let values = merged(table, id, changes).expect("the row exists");
                match admit(table, i, &values, Some(id)) {
                    Ok(()) => {
                        apply(table, id, values);
                        batch.updated.push(id);
                    }
                    Err(f) => batch.failures.push(f),
                }
            }
            None => match admit(table, i, &changes, None) {
                Ok(()) => batch.inserted.push(insert(table, changes)),
                Err(f) => batch.failures.push(f),
            },
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::server::store::Tags;
    use crate::server::tables::schema::TableSchema;

    fn table(key: Option<&str>) -> Table {
        let now = Timestamp::now();
        Table {
            id: "table_1".into(),
            name: "peopleTable".into(),
            factor: 1,
            frozen: false,
            key_column: key.map(str::to_string),
            schema: TableSchema::parse(&json!({
                "type": "object",
                "properties": { "email": { "type": "string" }, "age": { "type": "number" }, "bio": { "type": "string" } },
                "required": ["email"]
            }))
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
    fn good_rows_are_written_and_bad_ones_reported() {
        let mut t = table(None);
        let batch = create_rows(
            &mut t,
            &[
                json!({ "email": "a@x", "age": 1 }),
                json!({ "email": "b@x", "age": "old" }),
                json!({ "email": "c@x", "id": 99, "nope": 1 }),
                json!({ "email": "d@x", "bio": "x".repeat(5000) }),
            ],
        );
        assert_eq!(batch.inserted, [1, 2]);
        assert_eq!(batch.failures.len(), 2);
        assert_eq!(batch.failures[0].problem, Problem::DataFormat);
        assert!(batch.failures[0].message.starts_with("rows[1]: "));
        assert_eq!(batch.failures[1].problem, Problem::TooLarge);
        assert_eq!(batch.warnings.len(), 2, "{:?}", batch.warnings);
        assert!(batch.refusal().is_none());
        let all_bad = create_rows(&mut t, &[json!({ "age": 1 })]);
        assert_eq!(all_bad.refusal().unwrap().problem, Problem::DataFormat);
        assert_eq!(t.next_row, 3, "ids are never reused");
    }

    #[test]
    fn updates_merge_and_unknown_ids_fail() {
        let mut t = table(None);
        create_rows(&mut t, &[json!({ "email": "a@x", "age": 1 })]);
        let batch = update_rows(&mut t, &[json!({ "id": 1, "age": 2 }), json!({ "id": 5, "age": 3 })]);
        assert_eq!(batch.updated, [1]);
        assert_eq!(batch.failures[0].problem, Problem::NotFound);
        assert_eq!(
            t.rows[&1].values,
            *json!({ "email": "a@x", "age": 2 }).as_object().unwrap()
        );
        assert!(t.rows[&1].updated_at > t.rows[&1].created_at);
    }

    #[test]
    fn upsert_by_id_and_by_column_and_key_uniqueness() {
        let mut t = table(Some("email"));
        create_rows(&mut t, &[json!({ "email": "a@x" }), json!({ "email": "b@x" })]);
        let dup = create_rows(&mut t, &[json!({ "email": "a@x" })]);
        assert_eq!(dup.refusal().unwrap().problem, Problem::Duplicate);
        let batch = upsert_rows(
            &mut t,
            &[json!({ "email": "a@x", "age": 5 }), json!({ "email": "c@x", "age": 6 })],
            "email",
        );
        assert_eq!(
            (batch.updated.as_slice(), batch.inserted.as_slice()),
            (&[1][..], &[3][..])
        );
        let batch = upsert_rows(
            &mut t,
            &[json!({ "id": 2, "age": 7 }), json!({ "id": 40, "email": "d@x" })],
            "id",
        );
        assert_eq!(
            (batch.updated.as_slice(), batch.inserted.as_slice()),
            (&[2][..], &[4][..])
        );
        assert_eq!(batch.warnings.len(), 1, "the unknown id is said");
        assert_eq!(t.rows[&2].values["age"], 7);
    }
}
