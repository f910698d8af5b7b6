//! Tables: list, get, get-or-create, create, duplicate, update, rename a column, delete.
//! A table is addressed by id or by name (`{table}`), except the source of duplicateTable,
//! which the spec names by id (`sourceTableId`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::ErrorType;
use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{Tags, merge_tags, tags_match};
use crate::server::tables::{
    MAX_COLUMNS, SchemaError, Table, TableSchema, Tables, check_column_name, check_table_name,
};

use super::reply::{self, PathIds, nullable};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewTable {
    name: Option<String>,
    factor: Option<f64>,
    frozen: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    key_column: Option<Option<String>>,
    schema: Value,
    tags: Option<Tags>,
    is_compute_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateTable {
    name: Option<String>,
    frozen: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    key_column: Option<Option<String>>,
    schema: Option<Value>,
    tags: Option<Tags>,
    is_compute_enabled: Option<bool>,
    factor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DuplicateTable {
    table_name: Option<String>,
    schema_only: Option<bool>,
    factor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenameColumn {
    name: String,
    new_name: String,
}

/// The error a refused schema or name answers.
pub fn schema_error(e: SchemaError) -> ApiError {
    match e {
        SchemaError::Malformed(m) => ApiError::new(ErrorType::InvalidJsonSchema, format!("schema: {m}")),
        SchemaError::Identifier(m) => ApiError::new(ErrorType::InvalidIdentifier, m),
        // A hard limit the docs call out ("20 columns per table cannot be increased"); the
        // body itself is well formed, so this is LimitExceeded rather than InvalidPayload.
        SchemaError::TooManyColumns(n) => ApiError::new(
            ErrorType::LimitExceeded,
            format!("schema has {n} columns; a table holds at most {MAX_COLUMNS}"),
        ),
    }
}

pub fn table_not_found(key: &str) -> ApiError {
    ApiError::not_found("table", key)
}

fn whole_factor(factor: f64) -> ApiResult<u32> {
    if factor.fract() == 0.0 {
        Ok(factor as u32)
    } else {
        Err(ApiError::invalid_payload(format!(
            "factor must be a whole number, got {factor}"
        )))
    }
}

fn name_is_free(tables: &Tables, name: &str) -> ApiResult<()> {
    if tables.name_taken(name) {
        Err(ApiError::new(
            ErrorType::AlreadyExists,
            format!("a table named {name:?} already exists"),
        ))
    } else {
        Ok(())
    }
}

fn frozen_refusal(table: &Table, what: &str) -> ApiError {
    ApiError::new(
        ErrorType::ResourceLockedConflict,
        format!(
            "table {:?} is frozen: its {what} cannot change (unfreeze it, or duplicate it)",
            table.name
        ),
    )
}

/// Checks that `key` names a column of `schema` and that no two rows share a value there.
fn check_key_column(key: &str, schema: &TableSchema, table: Option<&Table>) -> ApiResult<()> {
    if schema.column(key).is_none() {
        return Err(ApiError::new(
            ErrorType::ReferenceNotFound,
            format!("keyColumn {key:?} is not a column of the table"),
        ));
    }
    if let Some(table) = table {
        let mut seen: Vec<&Value> = Vec::new();
        for row in table.rows.values() {
            if let Some(v) = row.values.get(key).filter(|v| !v.is_null()) {
                if seen.contains(&v) {
                    return Err(ApiError::new(
                        ErrorType::AlreadyExists,
                        format!("keyColumn {key:?} cannot be a key: the value {v} is in more than one row"),
                    ));
                }
                seen.push(v);
            }
        }
    }
    Ok(())
}

fn build_table(state: &AppState, tables: &Tables, name: &str, body: NewTable) -> ApiResult<Table> {
    check_table_name(name).map_err(|m| ApiError::new(ErrorType::InvalidIdentifier, m))?;
    let schema = TableSchema::parse(&body.schema).map_err(schema_error)?;
    let key_column = body.key_column.flatten();
    if let Some(key) = &key_column {
        check_key_column(key, &schema, None)?;
    }
    name_is_free(tables, name)?;
    let mut tags = Tags::new();
    merge_tags(&mut tags, &body.tags.unwrap_or_default());
    let now = Timestamp::now();
    Ok(Table {
        id: new_id("table"),
        name: name.to_string(),
        factor: whole_factor(body.factor.unwrap_or(1.0))?,
        frozen: body.frozen.unwrap_or(false),
        key_column,
        schema,
        tags,
        is_compute_enabled: body.is_compute_enabled.unwrap_or(false),
        created_at: now,
        updated_at: now,
        seq: state.store().next_seq(),
        rows: BTreeMap::new(),
        next_row: 1,
    })
}

pub async fn list(BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let wanted = q.map("tags")?;
    let data = bot.data.read().expect("bot data poisoned");
    let mut tables: Vec<&Table> = data.tables.iter().filter(|t| tags_match(&t.tags, &wanted)).collect();
    tables.sort_by_key(|t| std::cmp::Reverse(t.seq));
    let tables: Vec<Value> = tables.iter().map(|t| t.to_json()).collect();
    Ok(reply::ok(&json!({ "tables": tables })))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let table = data.tables.get(ids.get(0)).ok_or_else(|| table_not_found(ids.get(0)))?;
    Ok(reply::ok(&table.with_counters()))
}

pub async fn create(State(state): State<AppState>, BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: NewTable = body.parse("createTable")?;
    let mut data = bot.data.write().expect("bot data poisoned");
    let name = body.name.clone().unwrap_or_default();
    let table = build_table(&state, &data.tables, &name, body)?;
    let out = json!({ "table": table.to_json() });
    data.tables.insert(table);
    Ok(reply::ok(&out))
}

pub async fn get_or_create(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    ids: PathIds,
    body: RawBody,
) -> ApiResult<Response> {
    let body: NewTable = body.parse("getOrCreateTable")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let (mut out, created) = match data.tables.get(key) {
        Some(table) => (table.with_counters(), false),
        None => {
            let table = build_table(&state, &data.tables, key, body)?;
            let out = table.with_counters();
            data.tables.insert(table);
            (out, true)
        }
    };
    out.insert("created".into(), json!(created));
    Ok(reply::ok(&out))
}

pub async fn update(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: UpdateTable = body.parse("updateTable")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let current = data.tables.get(key).ok_or_else(|| table_not_found(key))?;
    let renamed = body.name.as_ref().filter(|n| **n != current.name);
    if current.frozen && renamed.is_some() {
        return Err(frozen_refusal(current, "name"));
    }
    if current.frozen && body.schema.is_some() {
        return Err(frozen_refusal(current, "schema"));
    }
    if let Some(name) = renamed {
        check_table_name(name).map_err(|m| ApiError::new(ErrorType::InvalidIdentifier, m))?;
        name_is_free(&data.tables, name)?;
    }
    let factor = match body.factor {
        Some(f) => {
            let f = whole_factor(f)?;
            if f < current.factor {
                return Err(ApiError::invalid_payload(format!(
                    "factor can only grow: the table has factor {}, got {f}",
                    current.factor
                )));
            }
            f
        }
        None => current.factor,
    };
    // The new schema replaces the old one: dropped columns lose their values, and every
    // remaining value must fit its (possibly changed) column.
    let mut rows = current.rows.clone();
    let schema = match &body.schema {
        Some(value) => {
            let schema = TableSchema::parse(value).map_err(schema_error)?;
            for row in rows.values_mut() {
                row.values.retain(|k, _| schema.column(k).is_some());
                schema.check_row(&row.values).map_err(|m| {
                    ApiError::new(
                        ErrorType::InvalidDataFormat,
                        format!("row {} does not fit the new schema: {m}", row.id),
                    )
                })?;
            }
            schema
        }
        None => current.schema.clone(),
    };
    let key_column = match &body.key_column {
        Some(k) => k.clone(),
        None => current.key_column.clone(),
    };
    if let Some(k) = &key_column {
        let mut probe = current.clone();
        probe.rows = rows.clone();
        check_key_column(k, &schema, Some(&probe))?;
    }
    let table = data.tables.get_mut(key).expect("found above");
    if let Some(name) = &body.name {
        table.name = name.clone();
    }
    if let Some(frozen) = body.frozen {
        table.frozen = frozen;
    }
    if let Some(tags) = &body.tags {
        merge_tags(&mut table.tags, tags);
    }
    if let Some(enabled) = body.is_compute_enabled {
        table.is_compute_enabled = enabled;
    }
    table.factor = factor;
    table.schema = schema;
    table.rows = rows;
    table.key_column = key_column;
    table.updated_at = Timestamp::after(table.updated_at);
    // No compute engine runs, so no computed column is ever left waiting.
    Ok(reply::ok(&json!({ "table": table.to_json(), "staleColumns": [] })))
}

pub async fn rename_column(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: RenameColumn = body.parse("renameTableColumn")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let table = data.tables.get_mut(key).ok_or_else(|| table_not_found(key))?;
    if table.frozen {
        return Err(frozen_refusal(table, "columns"));
    }
    if table.schema.column(&body.name).is_none() {
        return Err(ApiError::new(
            ErrorType::ReferenceNotFound,
            format!("table {:?} has no column {:?}", table.name, body.name),
        ));
    }
    if body.name != body.new_name {
        check_column_name(&body.new_name).map_err(|m| ApiError::new(ErrorType::InvalidIdentifier, m))?;
        if table.schema.column(&body.new_name).is_some() {
            return Err(ApiError::new(
                ErrorType::AlreadyExists,
                format!("table {:?} already has a column {:?}", table.name, body.new_name),
            ));
        }
        table.schema.rename(&body.name, &body.new_name);
        for row in table.rows.values_mut() {
            if let Some(v) = row.values.remove(&body.name) {
                row.values.insert(body.new_name.clone(), v);
            }
        }
        if table.key_column.as_deref() == Some(body.name.as_str()) {
            table.key_column = Some(body.new_name.clone());
        }
        table.updated_at = Timestamp::after(table.updated_at);
    }
    Ok(reply::ok(&json!({ "table": table.to_json() })))
}

/// The name a copy gets when none is asked for: `<source>Copy`, then `Copy2`, `Copy3`...
fn copy_name(tables: &Tables, source: &str) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                format!("{source}Copy")
            } else {
                format!("{source}Copy{n}")
            }
        })
        .find(|name| !tables.name_taken(name))
        .expect("some name is free")
}

pub async fn duplicate(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    ids: PathIds,
    body: RawBody,
) -> ApiResult<Response> {
    let body: DuplicateTable = body.parse("duplicateTable")?;
    let source_id = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let source = data.tables.by_id(source_id).ok_or_else(|| table_not_found(source_id))?;
    let name = match &body.table_name {
        Some(name) => {
            check_table_name(name).map_err(|m| ApiError::new(ErrorType::InvalidIdentifier, m))?;
            name_is_free(&data.tables, name)?;
            name.clone()
        }
        None => copy_name(&data.tables, &source.name),
    };
    let factor = match body.factor {
        Some(f) => whole_factor(f)?,
        None => source.factor,
    };
    let schema_only = body.schema_only.unwrap_or(false);
    let now = Timestamp::now();
    let mut copy = Table {
        id: new_id("table"),
        name,
        factor,
        // The docs' way to change a frozen table is to duplicate it: the copy is not frozen.
        frozen: false,
        key_column: source.key_column.clone(),
        schema: source.schema.clone(),
        tags: source.tags.clone(),
        is_compute_enabled: source.is_compute_enabled,
        created_at: now,
        updated_at: now,
        seq: state.store().next_seq(),
        rows: BTreeMap::new(),
        next_row: 1,
    };
    if !schema_only {
        if let Some(row) = source
            .rows
            .values()
            .find(|r| crate::server::tables::Row::size(&r.values) > copy.row_limit())
        {
            return Err(ApiError::new(
                ErrorType::LimitExceeded,
                format!(
                    "row {} does not fit factor {factor} ({} bytes a row)",
                    row.id,
                    copy.row_limit()
                ),
            ));
        }
        copy.rows = source.rows.clone();
        copy.next_row = source.next_row;
    }
    let rows = copy.rows.len();
    let mut out = Map::new();
    out.insert("table".into(), copy.to_json());
    out.insert("rows".into(), json!(rows));
    data.tables.insert(copy);
    Ok(reply::ok(&out))
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    data.tables
        .remove(ids.get(0))
        .ok_or_else(|| table_not_found(ids.get(0)))?;
    Ok(reply::empty())
}
