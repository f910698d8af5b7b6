//! The `group` of findTableRows: `{column: aggregation | [aggregations]}` with the
//! aggregations `key avg max min sum count`.
//!
//! The `key` columns split the matching rows into groups (all rows form one group when no
//! column is a key). Each group becomes one result row whose fields are the column name
//! followed by the capitalised aggregation, as the Botpress ADK documents them:
//! `{status: "key", total: ["sum", "avg"], id: "count"}` gives
//! `{statusKey, totalSum, totalAvg, idCount}`. Aggregations skip missing values (SQL
//! semantics): `count` counts the values present (so `id` counts the rows), `sum` of nothing
//! is 0, `avg`/`max`/`min` of nothing are null. `avg` and `sum` need a number column (or
//! `id`). Groups come ordered by their key values (missing last), in `orderDirection`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::filter::QueryError;
use super::value::{Fields, sort_order};

/// One aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Key,
    Avg,
    Max,
    Min,
    Sum,
    Count,
}

impl Agg {
    fn parse(name: &str) -> Option<Agg> {
        Some(match name {
            "key" => Agg::Key,
            "avg" => Agg::Avg,
            "max" => Agg::Max,
            "min" => Agg::Min,
            "sum" => Agg::Sum,
            "count" => Agg::Count,
            _ => return None,
        })
    }

    fn suffix(self) -> &'static str {
        match self {
            Agg::Key => "Key",
            Agg::Avg => "Avg",
            Agg::Max => "Max",
            Agg::Min => "Min",
            Agg::Sum => "Sum",
            Agg::Count => "Count",
        }
    }
}

/// A parsed `group`.
#[derive(Debug, Clone)]
pub struct Group {
    items: Vec<(String, Vec<Agg>)>,
}

/// A JSON number, whole when it is one, so `60` reads back as `60` and not `60.0`.
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

impl Group {
    /// Parses `value`; `kind` gives the type of a column or system field (`number`,
    /// `string`…), `None` for names the table does not have.
    pub fn parse(value: &Value, kind: &dyn Fn(&str) -> Option<String>) -> Result<Group, QueryError> {
        let Value::Object(map) = value else {
            return Err(QueryError::new("group", "must be an object of column: aggregation"));
        };
        if map.is_empty() {
            return Err(QueryError::new("group", "must name at least one column"));
        }
        let mut items = Vec::new();
        for (column, spec) in map {
            let at = format!("group.{column}");
            let Some(ty) = kind(column) else {
                return Err(QueryError::new(at, format!("unknown column {column:?}")));
            };
            let names: Vec<&Value> = match spec {
                Value::Array(list) if !list.is_empty() => list.iter().collect(),
                Value::String(_) => vec![spec],
                _ => return Err(QueryError::new(at, "needs an aggregation or a non-empty array of them")),
            };
            let mut aggs = Vec::new();
            for name in names {
                let agg = name.as_str().and_then(Agg::parse).ok_or_else(|| {
                    QueryError::new(
                        &at,
                        format!("unknown aggregation {name}; use key, avg, max, min, sum or count"),
                    )
                })?;
                if matches!(agg, Agg::Avg | Agg::Sum) && ty != "number" {
                    return Err(QueryError::new(
                        &at,
                        format!(
                            "{} needs a number column; {column} is a {ty}",
                            agg.suffix().to_lowercase()
                        ),
                    ));
                }
                if !aggs.contains(&agg) {
                    aggs.push(agg);
                }
            }
            items.push((column.clone(), aggs));
        }
        Ok(Group { items })
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(|(_, aggs)| aggs.contains(&Agg::Key))
            .map(|(c, _)| c.as_str())
    }

    /// The group rows of `rows`, ordered by key (descending when asked).
    pub fn apply(&self, rows: &[&dyn Fields], descending: bool) -> Vec<Map<String, Value>> {
        let keys: Vec<&str> = self.keys().collect();
        let mut groups: Vec<(Vec<Option<Value>>, Vec<usize>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let key: Vec<Option<Value>> = keys.iter().map(|k| row.field(k).map(|v| v.into_owned())).collect();
            let text = serde_json::to_string(&key).unwrap_or_default();
            let slot = *index.entry(text).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push(i);
        }
        if groups.is_empty() && keys.is_empty() {
            groups.push((Vec::new(), Vec::new()));
        }
        groups.sort_by(|(a, _), (b, _)| {
            let ord = a
                .iter()
                .zip(b)
                .map(|(x, y)| sort_order(x.as_ref(), y.as_ref()))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            if descending { ord.reverse() } else { ord }
        });
        groups
            .into_iter()
            .map(|(key, members)| {
                let mut out = Map::new();
                for (column, aggs) in &self.items {
                    let values: Vec<Value> = members
                        .iter()
                        .filter_map(|&i| rows[i].field(column).map(|v| v.into_owned()))
                        .collect();
                    for agg in aggs {
                        let name = format!("{column}{}", agg.suffix());
                        let value = match agg {
                            Agg::Key => {
                                let at = keys.iter().position(|k| k == column).expect("key columns are keys");
                                key[at].clone().unwrap_or(Value::Null)
                            }
                            Agg::Count => Value::from(values.len()),
                            Agg::Sum => number(values.iter().filter_map(Value::as_f64).sum()),
                            Agg::Avg => {
                                let nums: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
                                if nums.is_empty() {
                                    Value::Null
                                } else {
                                    number(nums.iter().sum::<f64>() / nums.len() as f64)
                                }
                            }
                            Agg::Max => values
                                .iter()
                                .max_by(|a, b| sort_order(Some(a), Some(b)))
                                .cloned()
                                .unwrap_or(Value::Null),
                            Agg::Min => values
                                .iter()
                                .min_by(|a, b| sort_order(Some(a), Some(b)))
                                .cloned()
                                .unwrap_or(Value::Null),
                        };
                        out.insert(name, value);
                    }
                }
                out
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind(c: &str) -> Option<String> {
        match c {
            "id" | "total" => Some("number".into()),
            "status" | "name" => Some("string".into()),
            _ => None,
        }
    }

    fn run(group: Value, descending: bool) -> Vec<Value> {
        let rows: Vec<Map<String, Value>> = [
            json!({ "id": 1, "status": "open", "total": 10, "name": "b" }),
            json!({ "id": 2, "status": "closed", "total": 5 }),
            json!({ "id": 3, "status": "open", "total": 20, "name": "a" }),
            json!({ "id": 4, "total": 7 }),
            json!({ "id": 5, "status": "open", "name": "c" }),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let refs: Vec<&dyn Fields> = rows.iter().map(|r| r as &dyn Fields).collect();
        let g = Group::parse(&group, &kind).unwrap_or_else(|e| panic!("{e}"));
        g.apply(&refs, descending).into_iter().map(Value::Object).collect()
    }

    #[test]
    fn groups_by_key_with_every_aggregation() {
        let out = run(
            json!({ "status": "key", "total": ["sum", "avg", "max", "min", "count"], "id": "count" }),
            false,
        );
        assert_eq!(
            out,
            [
                json!({ "statusKey": "closed", "totalSum": 5, "totalAvg": 5, "totalMax": 5, "totalMin": 5, "totalCount": 1, "idCount": 1 }),
                json!({ "statusKey": "open", "totalSum": 30, "totalAvg": 15, "totalMax": 20, "totalMin": 10, "totalCount": 2, "idCount": 3 }),
                json!({ "statusKey": null, "totalSum": 7, "totalAvg": 7, "totalMax": 7, "totalMin": 7, "totalCount": 1, "idCount": 1 }),
            ]
        );
        let desc = run(json!({ "status": "key" }), true);
        assert_eq!(desc[0]["statusKey"], json!(null));
        assert_eq!(desc[2]["statusKey"], json!("closed"));
    }

    #[test]
    fn no_key_is_one_group_and_strings_have_max_min() {
        let out = run(json!({ "name": ["max", "min", "count"], "total": "avg" }), false);
        assert_eq!(
            out,
            [json!({ "nameMax": "c", "nameMin": "a", "nameCount": 3, "totalAvg": 10.5 })]
        );
    }

    #[test]
    fn bad_groups_are_query_errors() {
        let err = |g: Value| Group::parse(&g, &kind).unwrap_err().to_string();
        assert!(err(json!({ "nope": "key" })).contains("unknown column"));
        assert!(err(json!({ "status": "median" })).contains("unknown aggregation"));
        assert!(err(json!({ "status": "avg" })).contains("avg needs a number column"));
        assert!(err(json!({ "status": [] })).contains("non-empty array"));
        assert!(err(json!({})).contains("at least one column"));
        assert!(err(json!([])).contains("must be an object"));
    }
}
