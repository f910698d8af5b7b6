//! findTableRows as a whole: filter, then search or group, then order, page and select.
//!
//! Order: `orderBy` (a column, a dot path into one, or `id`/`createdAt`/`updatedAt`;
//! default `id`) in `orderDirection` (default `asc`), missing values last, ties by id. With
//! `search`, rows come by similarity instead (best first, ties by id) and an `orderBy` sent
//! along is ignored with a warning. With `group`, the result rows are the groups (see
//! `group.rs`), each given `id` (its 1-based place among all groups) and `computed: {}` so
//! it is still a Row; `select` is ignored with a warning. Paging: `offset` rows skipped,
//! at most `limit` returned, `hasMore` when rows remain after them.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::filter::{Filter, QueryError};
use super::group::Group;
use super::search::{similarities, words};
use super::table::{Row, Table};
use super::value::{Fields, sort_order, split_path};

/// What findTableRows asks.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Value>,
    pub group: Option<Value>,
    pub search: Option<String>,
    pub select: Option<Vec<String>>,
    pub order_by: Option<String>,
    pub descending: bool,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<Value>,
    pub has_more: bool,
    pub warnings: Vec<String>,
}

fn known(table: &Table) -> impl Fn(&str) -> bool + '_ {
    |name| table.schema.field_type(name).is_some()
}

fn check_field(table: &Table, at: &str, path: &str) -> Result<(), QueryError> {
    let (head, _) = split_path(path);
    if table.schema.field_type(head).is_some() {
        Ok(())
    } else {
        Err(QueryError::new(at, format!("unknown column {head:?}")))
    }
}

/// The rows `filter` admits, in id order.
pub fn matching<'a>(table: &'a Table, filter: Option<&Value>) -> Result<Vec<&'a Row>, QueryError> {
    let filter = filter.map(|f| Filter::parse(f, &known(table))).transpose()?;
    Ok(table
        .rows
        .values()
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(*r)))
        .collect())
}

fn page<T>(items: Vec<T>, q: &Query) -> (Vec<T>, bool) {
    let total = items.len();
    let rows: Vec<T> = items.into_iter().skip(q.offset).take(q.limit).collect();
    (rows, q.offset.saturating_add(q.limit) < total)
}

/// Runs `q` on `table`.
pub fn find(table: &Table, q: &Query) -> Result<Page, QueryError> {
    let mut warnings = Vec::new();
    if let Some(order_by) = &q.order_by {
        check_field(table, "orderBy", order_by)?;
    }
    if let Some(select) = &q.select {
        for (i, path) in select.iter().enumerate() {
            check_field(table, &format!("select[{i}]"), path)?;
        }
    }
    let group = q
        .group
        .as_ref()
        .map(|g| Group::parse(g, &|name| table.schema.field_type(name)))
        .transpose()?;
    let mut rows = matching(table, q.filter.as_ref())?;

    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut scores: Option<Vec<f64>> = None;
    if let Some(text) = search {
        if words(text).is_empty() {
            warnings.push("search has no words (letters or digits) and was ignored".to_string());
        } else {
            let columns = table.schema.search_columns();
            let docs: Vec<HashSet<String>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .filter_map(|c| r.values.get(*c).and_then(Value::as_str))
                        .flat_map(words)
                        .collect()
                })
                .collect();
            let found = similarities(text, &docs);
            let mut scored: Vec<(&Row, f64)> = rows.into_iter().zip(found).filter(|(_, s)| *s > 0.0).collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
            rows = scored.iter().map(|(r, _)| *r).collect();
            scores = Some(scored.into_iter().map(|(_, s)| s).collect());
            if q.order_by.is_some() && group.is_none() {
                warnings.push("orderBy is ignored with search: rows come by similarity".to_string());
            }
        }
    }

    if let Some(group) = group {
        if q.select.is_some() {
            warnings.push("select is ignored with group".to_string());
        }
        let refs: Vec<&dyn Fields> = rows.iter().map(|r| *r as &dyn Fields).collect();
        let groups: Vec<Value> = group
            .apply(&refs, q.descending)
            .into_iter()
            .enumerate()
            .map(|(i, fields)| {
                let mut out = serde_json::Map::new();
                out.insert("id".into(), json!(i + 1));
                out.insert("computed".into(), json!({}));
                out.extend(fields);
                Value::Object(out)
            })
            .collect();
        let (rows, has_more) = page(groups, q);
        return Ok(Page {
            rows,
            has_more,
            warnings,
        });
    }

    let mut ordered: Vec<(&Row, Option<f64>)> = match scores {
        Some(scores) => rows.into_iter().zip(scores.into_iter().map(Some)).collect(),
        None => {
            let by = q.order_by.as_deref().unwrap_or("id");
            let mut rows = rows;
            rows.sort_by(|a, b| {
                let ord = sort_order(a.field(by).as_deref(), b.field(by).as_deref());
                let ord = if q.descending { ord.reverse() } else { ord };
                ord.then(a.id.cmp(&b.id))
            });
            rows.into_iter().map(|r| (r, None)).collect()
        }
    };
    let (chosen, has_more) = page(std::mem::take(&mut ordered), q);
    Ok(Page {
        rows: chosen
            .into_iter()
            .map(|(r, s)| r.to_json(&table.schema, q.select.as_deref(), s))
            .collect(),
        has_more,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::server::ids::Timestamp;
    use crate::server::store::Tags;
    use crate::server::tables::schema::TableSchema;
    use crate::server::tables::write::create_rows;

    fn table() -> Table {
        let now = Timestamp::now();
        let mut t = Table {
            id: "table_1".into(),
            name: "booksTable".into(),
            factor: 1,
            frozen: false,
            key_column: None,
            schema: TableSchema::parse(&json!({
                "title": { "type": "string" }, "genre": { "type": "string" }, "pages": { "type": "number" }
            }))
            .unwrap(),
            tags: Tags::new(),
            is_compute_enabled: false,
            created_at: now,
            updated_at: now,
            seq: 1,
            rows: BTreeMap::new(),
            next_row: 1,
        };
        create_rows(
            &mut t,
            &[
                json!({ "title": "The red fox", "genre": "tale", "pages": 30 }),
                json!({ "title": "Fox and hound", "genre": "novel", "pages": 300 }),
                json!({ "title": "Red planet", "genre": "novel", "pages": 250 }),
                json!({ "title": "Gardening", "pages": 120 }),
            ],
        );
        t
    }

    fn q() -> Query {
        Query {
            limit: 100,
            ..Query::default()
        }
    }

    fn ids(page: &Page) -> Vec<u64> {
        page.rows.iter().map(|r| r["id"].as_u64().unwrap()).collect()
    }

    #[test]
    fn order_and_pages() {
        let t = table();
        assert_eq!(ids(&find(&t, &q()).unwrap()), [1, 2, 3, 4]);
        let by_pages = Query {
            order_by: Some("pages".into()),
            descending: true,
            ..q()
        };
        assert_eq!(ids(&find(&t, &by_pages).unwrap()), [2, 3, 4, 1]);
        let by_genre = Query {
            order_by: Some("genre".into()),
            ..q()
        };
        assert_eq!(
            ids(&find(&t, &by_genre).unwrap()),
            [2, 3, 1, 4],
            "missing last, ties by id"
        );
        let second = find(
            &t,
            &Query {
                limit: 3,
                offset: 3,
                ..q()
            },
        )
        .unwrap();
        assert_eq!((ids(&second), second.has_more), (vec![4], false));
        let first = find(&t, &Query { limit: 3, ..q() }).unwrap();
        assert!(first.has_more);
    }

    #[test]
    fn search_scores_best_first() {
        let t = table();
        let page = find(
            &t,
            &Query {
                search: Some("red fox".into()),
                ..q()
            },
        )
        .unwrap();
        assert_eq!(ids(&page), [1, 2, 3]);
        assert_eq!(page.rows[0]["similarity"], 1.0);
        let blank = find(
            &t,
            &Query {
                search: Some("!!".into()),
                ..q()
            },
        )
        .unwrap();
        assert_eq!(blank.rows.len(), 4);
        assert_eq!(blank.warnings.len(), 1);
    }

    #[test]
    fn group_rows_are_rows() {
        let t = table();
        let page = find(
            &t,
            &Query {
                group: Some(json!({ "genre": "key", "pages": ["sum", "avg"] })),
                select: Some(vec!["title".into()]),
                ..q()
            },
        )
        .unwrap();
        assert_eq!(
            page.rows[0],
            json!({ "id": 1, "computed": {}, "genreKey": "novel", "pagesSum": 550, "pagesAvg": 275 })
        );
        assert_eq!(page.rows.len(), 3);
        assert_eq!(page.warnings, ["select is ignored with group"]);
    }

    #[test]
    fn select_and_bad_names() {
        let t = table();
        let page = find(
            &t,
            &Query {
                select: Some(vec!["title".into()]),
                ..q()
            },
        )
        .unwrap();
        assert!(page.rows[0].get("pages").is_none() && page.rows[0]["title"] == "The red fox");
        let err = |q: Query| find(&t, &q).unwrap_err().to_string();
        assert_eq!(
            err(Query {
                order_by: Some("nope".into()),
                ..q()
            }),
            "orderBy: unknown column \"nope\""
        );
        assert!(
            err(Query {
                select: Some(vec!["x.y".into()]),
                ..q()
            })
            .starts_with("select[0]")
        );
        assert!(
            err(Query {
                filter: Some(json!({ "pages": { "$gt": [] } })),
                ..q()
            })
            .starts_with("filter.pages.$gt")
        );
    }
}
