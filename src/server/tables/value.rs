//! Values as the query engine sees them: field lookup by dot path (system fields included),
//! the equality and comparisons of filters, and the total order of `orderBy` and `group`.
//!
//! Rows behave like rows of a SQL table: a column never written and a column set to `null`
//! are the same thing, so lookups give `None` for both.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::server::ids::Timestamp;

/// The fields every row has besides its columns, usable in filters, `orderBy` and `group`.
pub const SYSTEM_FIELDS: [&str; 3] = ["id", "createdAt", "updatedAt"];

/// Keys a row object carries that are not columns: system fields and the computed-column
/// bookkeeping. A column may not take one of these names.
pub const RESERVED_NAMES: [&str; 6] = ["id", "createdAt", "updatedAt", "computed", "stale", "similarity"];

/// Something whose fields can be read by dot path.
pub trait Fields {
    /// The value at `path` (`address.city`, `tags.0`), `None` when missing or `null`.
    fn field(&self, path: &str) -> Option<Cow<'_, Value>>;
}

impl Fields for Map<String, Value> {
    fn field(&self, path: &str) -> Option<Cow<'_, Value>> {
        let (head, rest) = split_path(path);
        descend(self.get(head)?, rest).map(Cow::Borrowed)
    }
}

/// `a.b.c` → (`a`, `b.c`).
pub fn split_path(path: &str) -> (&str, &str) {
    path.split_once('.').unwrap_or((path, ""))
}

/// Follows `rest` (dot separated, may be empty) inside `value`; `null` counts as missing.
pub fn descend<'a>(value: &'a Value, rest: &str) -> Option<&'a Value> {
    let mut current = value;
    if !rest.is_empty() {
        for part in rest.split('.') {
            current = match current {
                Value::Object(map) => map.get(part)?,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    (!current.is_null()).then_some(current)
}

/// JSON equality where `1` equals `1.0`.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Two strings as instants when both are RFC 3339 date-times.
fn instants(a: &str, b: &str) -> Option<Ordering> {
    Some(Timestamp::parse(a)?.0.cmp(&Timestamp::parse(b)?.0))
}

/// The comparison of `$gt`, `$lt`…: numbers with numbers, strings with strings (as instants
/// when both are date-times, else by code point), booleans with booleans. Anything else is
/// not comparable and matches no comparison.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(instants(x, y).unwrap_or_else(|| x.cmp(y))),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Bool(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// The total order of sorting, ascending: missing values last (as PostgreSQL sorts NULLs),
/// then by kind (numbers, strings, booleans, arrays, objects), then by value.
pub fn sort_order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => compare(a, b).unwrap_or_else(|| match (a, b) {
            (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
                a.to_string().cmp(&b.to_string())
            }
            _ => rank(a).cmp(&rank(b)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lookup_by_dot_path_treats_null_as_missing() {
        let row = json!({ "a": { "b": [1, { "c": "x" }] }, "n": null });
        let row = row.as_object().unwrap();
        assert_eq!(row.field("a.b.1.c").as_deref(), Some(&json!("x")));
        assert_eq!(row.field("a.b.0").as_deref(), Some(&json!(1)));
        assert!(row.field("n").is_none());
        assert!(row.field("nope").is_none());
        assert!(row.field("a.b.9").is_none());
    }

    #[test]
    fn numbers_compare_by_value_and_dates_as_instants() {
        assert!(equal(&json!(1), &json!(1.0)));
        assert!(equal(&json!({ "a": [1] }), &json!({ "a": [1.0] })));
        assert_eq!(compare(&json!(2), &json!(10)), Some(Ordering::Less));
        assert_eq!(compare(&json!("2"), &json!("10")), Some(Ordering::Greater));
        assert_eq!(
            compare(&json!("2025-01-01T10:00:00+02:00"), &json!("2025-01-01T09:00:00.000Z")),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&json!(1), &json!("1")), None);
    }

    #[test]
    fn sorting_puts_missing_last_and_orders_kinds() {
        let (one, text) = (json!(1), json!("a"));
        assert_eq!(sort_order(None, Some(&one)), Ordering::Greater);
        assert_eq!(sort_order(Some(&one), Some(&text)), Ordering::Less);
        assert_eq!(sort_order(None, None), Ordering::Equal);
    }
}
