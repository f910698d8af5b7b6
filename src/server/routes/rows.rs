//! Table rows: get one, find, create, update, upsert, delete.
//!
//! Writes succeed row by row: the rows that pass are written and the others come back in
//! `errors` (with `warnings` for values that were dropped). Only when no row at all could be
//! written does the request fail, with the error of the first bad row
//! (`InvalidDataFormat`, `LimitExceeded`, `ResourceNotFound` or `AlreadyExists`) and every
//! row's reason in the message.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ErrorType;
use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::error::{ApiError, ApiResult};
use crate::server::query::QueryParams;
use crate::server::tables::{
    Batch, Problem, Query, QueryError, Table, create_rows, find, matching, update_rows, upsert_rows,
};

use super::reply::{self, PathIds};
use super::tables::table_not_found;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindRows {
    limit: Option<usize>,
    offset: Option<usize>,
    filter: Option<Value>,
    group: Option<Value>,
    search: Option<String>,
    select: Option<Vec<String>>,
    order_by: Option<String>,
    order_direction: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteRows {
    rows: Vec<Value>,
    // `waitComputed` is accepted (the request schema allows it) and has no effect: there
    // is no compute engine, so there is never anything to wait for.
    key_column: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteRows {
    ids: Option<Vec<f64>>,
    filter: Option<Value>,
    delete_all_rows: Option<bool>,
}

fn invalid_query(e: QueryError) -> ApiError {
    ApiError::invalid_query(e.to_string())
}

/// The whole request fails when no row was written.
fn refused(batch: &Batch) -> ApiResult<()> {
    let Some(first) = batch.refusal() else { return Ok(()) };
    let ty = match first.problem {
        Problem::DataFormat => ErrorType::InvalidDataFormat,
        Problem::TooLarge => ErrorType::LimitExceeded,
        Problem::NotFound => ErrorType::ResourceNotFound,
        Problem::Duplicate => ErrorType::AlreadyExists,
    };
    Err(ApiError::new(
        ty,
        format!("no row was written: {}", batch.errors().join("; ")),
    ))
}

fn rows_of(table: &Table, ids: &[u64]) -> Vec<Value> {
    ids.iter()
        .filter_map(|id| table.rows.get(id))
        .map(|r| r.to_json(&table.schema, None, None))
        .collect()
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds, q: QueryParams) -> ApiResult<Response> {
    let key = ids.get(0);
    let raw = q
        .get("id")
        .ok_or_else(|| ApiError::invalid_query("id is required: the row id, as ?id=<integer>"))?;
    let id: u64 = raw
        .parse()
        .map_err(|_| ApiError::invalid_query(format!("id must be a whole number, got {raw:?}")))?;
    let data = bot.data.read().expect("bot data poisoned");
    let table = data.tables.get(key).ok_or_else(|| table_not_found(key))?;
    let row = table
        .rows
        .get(&id)
        .ok_or_else(|| ApiError::not_found("row", &format!("{id} of table {}", table.name)))?;
    Ok(reply::one(
        axum::http::StatusCode::OK,
        "row",
        &row.to_json(&table.schema, None, None),
    ))
}

pub async fn find_rows(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: FindRows = body.parse("findTableRows")?;
    let key = ids.get(0);
    let query = Query {
        limit: body.limit.unwrap_or(100),
        offset: body.offset.unwrap_or(0),
        filter: body.filter,
        group: body.group,
        search: body.search,
        select: body.select,
        order_by: body.order_by,
        descending: body.order_direction.as_deref() == Some("desc"),
    };
    let data = bot.data.read().expect("bot data poisoned");
    let table = data.tables.get(key).ok_or_else(|| table_not_found(key))?;
    let page = find(table, &query).map_err(invalid_query)?;
    let mut out = json!({
        "rows": page.rows,
        "hasMore": page.has_more,
        "offset": query.offset,
        "limit": query.limit,
    });
    if !page.warnings.is_empty() {
        out["warnings"] = json!(page.warnings);
    }
    Ok(reply::ok(&out))
}

pub async fn create(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: WriteRows = body.parse("createTableRows")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let table = data.tables.get_mut(key).ok_or_else(|| table_not_found(key))?;
    let batch = create_rows(table, &body.rows);
    refused(&batch)?;
    Ok(reply::ok(&json!({
        "rows": rows_of(table, &batch.inserted),
        "warnings": batch.warnings,
        "errors": batch.errors(),
    })))
}

pub async fn update(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: WriteRows = body.parse("updateTableRows")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let table = data.tables.get_mut(key).ok_or_else(|| table_not_found(key))?;
    let batch = update_rows(table, &body.rows);
    refused(&batch)?;
    Ok(reply::ok(&json!({
        "rows": rows_of(table, &batch.updated),
        "warnings": batch.warnings,
        "errors": batch.errors(),
    })))
}

pub async fn upsert(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: WriteRows = body.parse("upsertTableRows")?;
    let key = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    let table = data.tables.get_mut(key).ok_or_else(|| table_not_found(key))?;
    // The body's keyColumn, else the table's, else the row id.
    let column = body
        .key_column
        .clone()
        .or_else(|| table.key_column.clone())
        .unwrap_or_else(|| "id".into());
    if column != "id" && table.schema.column(&column).is_none() {
        return Err(ApiError::new(
            ErrorType::ReferenceNotFound,
            format!("keyColumn {column:?} is not a column of table {:?}", table.name),
        ));
    }
    let batch = upsert_rows(table, &body.rows, &column);
    refused(&batch)?;
    Ok(reply::ok(&json!({
        "inserted": rows_of(table, &batch.inserted),
        "updated": rows_of(table, &batch.updated),
        "warnings": batch.warnings,
        "errors": batch.errors(),
    })))
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: DeleteRows = body.parse("deleteTableRows")?;
    let key = ids.get(0);
    let all = body.delete_all_rows == Some(true);
    let selectors = [body.ids.is_some(), body.filter.is_some(), all];
    if selectors.iter().filter(|s| **s).count() != 1 {
        return Err(ApiError::invalid_payload(
            "give exactly one of ids, filter or deleteAllRows: true",
        ));
    }
    let mut data = bot.data.write().expect("bot data poisoned");
    let table = data.tables.get_mut(key).ok_or_else(|| table_not_found(key))?;
    let doomed: Vec<u64> = if all {
        table.rows.keys().copied().collect()
    } else if let Some(ids) = &body.ids {
        ids.iter()
            .filter(|id| id.fract() == 0.0 && **id >= 0.0)
            .map(|id| *id as u64)
            .collect()
    } else {
        matching(table, body.filter.as_ref())
            .map_err(invalid_query)?
            .iter()
            .map(|r| r.id)
            .collect()
    };
    let deleted = doomed.iter().filter(|id| table.rows.remove(id).is_some()).count();
    Ok(reply::ok(&json!({ "deletedRows": deleted })))
}
