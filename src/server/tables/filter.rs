//! The `filter` of findTableRows and deleteTableRows: a Mongo-style query object, parsed
//! once into a `Filter` and then matched against rows.
//!
//! Top level: `{field: condition, ...}` (all must hold), plus `$and`, `$or`, `$nor` (arrays of
//! filters) and `$not` (one filter). A field is a column, a dot path into one
//! (`address.city`), or a system field (`id`, `createdAt`, `updatedAt`). A condition is a
//! plain value (equality) or an object of operators: `$eq $ne $gt $gte $lt $lte $in $nin
//! $exists $regex` (with `$options` among `imsx`) `$not $mod $size`. Missing and `null` are
//! the same (`$exists: false`, `$eq: null`, `$ne: x` all match them). On an array value,
//! `$eq $in $gt…` and `$regex` match when any element does, as in MongoDB.
//!
//! Anything else is an `InvalidQuery` whose message names the place:
//! `filter.$or[1].age.$gt: needs a number or a string`.

use std::cmp::Ordering;
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::value::{Fields, compare, equal, split_path};

/// A problem in a query (`filter`, `group`, `orderBy`, `select`), with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub at: String,
    pub message: String,
}

impl QueryError {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        QueryError {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A parsed filter.
#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Field { path: String, cond: Cond },
}

/// A condition on one field.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>),
    Eq(Value),
    Ne(Value),
    Cmp(Ordering, bool, Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exists(bool),
    Regex(Regex),
    Not(Box<Cond>),
    Mod(f64, f64),
    Size(usize),
}

impl Filter {
    /// Parses `value`, the filter object; `known` says whether a field name (the part before
    /// the first dot) is a column or system field of the table.
    pub fn parse(value: &Value, known: &dyn Fn(&str) -> bool) -> Result<Filter, QueryError> {
        parse_filter(value, "filter", known)
    }

    /// Whether the row matches.
    pub fn matches(&self, row: &dyn Fields) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches(row)),
            Filter::Or(any) => any.iter().any(|f| f.matches(row)),
            Filter::Not(f) => !f.matches(row),
            Filter::Field { path, cond } => cond.holds(row.field(path).as_deref()),
        }
    }
}

fn parse_filter(value: &Value, at: &str, known: &dyn Fn(&str) -> bool) -> Result<Filter, QueryError> {
    let Value::Object(map) = value else {
        return Err(QueryError::new(at, "must be an object"));
    };
    let mut all = Vec::new();
    for (key, v) in map {
        let here = format!("{at}.{key}");
        match key.as_str() {
            "$and" | "$or" | "$nor" => {
                let Value::Array(items) = v else {
                    return Err(QueryError::new(here, "must be an array of filters"));
                };
                if items.is_empty() {
                    return Err(QueryError::new(here, "must not be empty"));
                }
                let parts = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| parse_filter(item, &format!("{here}[{i}]"), known))
                    .collect::<Result<Vec<_>, _>>()?;
                all.push(match key.as_str() {
                    "$and" => Filter::And(parts),
                    "$or" => Filter::Or(parts),
                    _ => Filter::Not(Box::new(Filter::Or(parts))),
                });
            }
            "$not" => all.push(Filter::Not(Box::new(parse_filter(v, &here, known)?))),
            op if op.starts_with('$') => {
                return Err(QueryError::new(
                    here,
                    "unknown operator at this level (expected a field, $and, $or, $nor or $not)",
                ));
            }
            field => {
                let (head, _) = split_path(field);
                if head.is_empty() || !known(head) {
                    return Err(QueryError::new(here, format!("unknown column {head:?}")));
                }
                all.push(Filter::Field {
                    path: field.to_string(),
                    cond: parse_cond(v, &here)?,
                });
            }
        }
    }
    Ok(match all.len() {
        1 => all.pop().expect("one element"),
        _ => Filter::And(all),
    })
}

fn is_operator_object(value: &Value) -> bool {
    matches!(value, Value::Object(map) if map.keys().any(|k| k.starts_with('$')))
}

fn scalar_operand(v: &Value, at: &str) -> Result<Value, QueryError> {
    match v {
        Value::Number(_) | Value::String(_) | Value::Bool(_) => Ok(v.clone()),
        _ => Err(QueryError::new(at, "needs a number, a string or a boolean")),
    }
}

fn list_operand(v: &Value, at: &str) -> Result<Vec<Value>, QueryError> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        _ => Err(QueryError::new(at, "needs an array")),
    }
}

fn parse_cond(value: &Value, at: &str) -> Result<Cond, QueryError> {
    if !is_operator_object(value) {
        return Ok(Cond::Eq(value.clone()));
    }
    let Value::Object(map) = value else {
        unreachable!("is_operator_object checked the kind")
    };
    let options = match map.get("$options") {
        None => None,
        Some(Value::String(s)) if s.chars().all(|c| "imsx".contains(c)) => Some(s.as_str()),
        Some(_) => {
            return Err(QueryError::new(
                format!("{at}.$options"),
                "must be a string of the flags i, m, s, x",
            ));
        }
    };
    if options.is_some() && !map.contains_key("$regex") {
        return Err(QueryError::new(format!("{at}.$options"), "is only valid with $regex"));
    }
    let mut conds = Vec::new();
    for (op, v) in map {
        let here = format!("{at}.{op}");
        let cond = match op.as_str() {
            "$eq" => Cond::Eq(v.clone()),
            "$ne" => Cond::Ne(v.clone()),
            "$gt" => Cond::Cmp(Ordering::Greater, false, scalar_operand(v, &here)?),
            "$gte" => Cond::Cmp(Ordering::Greater, true, scalar_operand(v, &here)?),
            "$lt" => Cond::Cmp(Ordering::Less, false, scalar_operand(v, &here)?),
            "$lte" => Cond::Cmp(Ordering::Less, true, scalar_operand(v, &here)?),
            "$in" => Cond::In(list_operand(v, &here)?),
            "$nin" => Cond::Nin(list_operand(v, &here)?),
            "$exists" => match v {
                Value::Bool(b) => Cond::Exists(*b),
                _ => return Err(QueryError::new(here, "needs true or false")),
            },
            "$regex" => {
                let Value::String(pattern) = v else {
                    return Err(QueryError::new(here, "needs a string"));
                };
                let flags = options.unwrap_or("");
                let re = RegexBuilder::new(pattern)
                    .case_insensitive(flags.contains('i'))
                    .multi_line(flags.contains('m'))
                    .dot_matches_new_line(flags.contains('s'))
                    .ignore_whitespace(flags.contains('x'))
                    .build()
                    .map_err(|e| QueryError::new(&here, format!("invalid regular expression: {e}")))?;
                Cond::Regex(re)
            }
            "$options" => continue,
            "$not" => {
                if !is_operator_object(v) {
                    return Err(QueryError::new(here, "needs an object of operators"));
                }
                Cond::Not(Box::new(parse_cond(v, &here)?))
            }
            "$mod" => match v.as_array().map(Vec::as_slice) {
                Some([d, r]) if d.as_f64().is_some_and(|d| d != 0.0) && r.as_f64().is_some() => {
                    Cond::Mod(d.as_f64().unwrap_or(1.0).trunc(), r.as_f64().unwrap_or(0.0).trunc())
                }
                _ => return Err(QueryError::new(here, "needs [divisor, remainder], divisor not 0")),
            },
            "$size" => match v.as_u64() {
                Some(n) => Cond::Size(n as usize),
                None => return Err(QueryError::new(here, "needs a whole number ≥ 0")),
            },
            other if other.starts_with('$') => return Err(QueryError::new(here, "unknown operator")),
            _ => {
                return Err(QueryError::new(
                    here,
                    "an object of operators cannot also hold plain keys",
                ));
            }
        };
        conds.push(cond);
    }
    Ok(match conds.len() {
        1 => conds.pop().expect("one element"),
        _ => Cond::All(conds),
    })
}

/// `value`, or each element when it is an array and the operand is not (MongoDB's rule).
fn any_element(value: &Value, operand_is_array: bool, test: &dyn Fn(&Value) -> bool) -> bool {
    if test(value) {
        return true;
    }
    match value {
        Value::Array(items) if !operand_is_array => items.iter().any(test),
        _ => false,
    }
}

fn eq_holds(value: Option<&Value>, operand: &Value) -> bool {
    match (value, operand) {
        (None, Value::Null) => true,
        (None, _) | (Some(_), Value::Null) => false,
        (Some(v), w) => any_element(v, w.is_array(), &|x| equal(x, w)),
    }
}

impl Cond {
    /// Whether the condition holds for a field's value (`None`: missing or null).
    pub fn holds(&self, value: Option<&Value>) -> bool {
        match self {
            Cond::All(all) => all.iter().all(|c| c.holds(value)),
            Cond::Eq(w) => eq_holds(value, w),
            Cond::Ne(w) => !eq_holds(value, w),
            Cond::Cmp(side, inclusive, w) => value.is_some_and(|v| {
                any_element(v, false, &|x| {
                    compare(x, w).is_some_and(|o| o == *side || (*inclusive && o == Ordering::Equal))
                })
            }),
            Cond::In(list) => list.iter().any(|w| eq_holds(value, w)),
            Cond::Nin(list) => !list.iter().any(|w| eq_holds(value, w)),
            Cond::Exists(want) => value.is_some() == *want,
            Cond::Regex(re) => {
                value.is_some_and(|v| any_element(v, false, &|x| x.as_str().is_some_and(|s| re.is_match(s))))
            }
            Cond::Not(c) => !c.holds(value),
            Cond::Mod(d, r) => value.and_then(Value::as_f64).is_some_and(|n| n.trunc() % d == *r),
            Cond::Size(n) => value.and_then(Value::as_array).is_some_and(|a| a.len() == *n),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn rows() -> Vec<Map<String, Value>> {
        [
            json!({ "id": 1, "name": "Ada", "age": 36, "city": "London", "tags": ["a", "b"] }),
            json!({ "id": 2, "name": "Grace", "age": 45, "city": "New York", "tags": ["b"] }),
            json!({ "id": 3, "name": "alan", "age": 41, "city": null }),
            json!({ "id": 4, "name": "Edsger", "age": 72, "city": "Austin", "tags": [] }),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect()
    }

    fn known(col: &str) -> bool {
        ["id", "name", "age", "city", "tags"].contains(&col)
    }

    fn ids(filter: Value) -> Vec<u64> {
        let f = Filter::parse(&filter, &known).unwrap_or_else(|e| panic!("{e}"));
        rows()
            .iter()
            .filter(|r| f.matches(*r))
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    }

    fn error(filter: Value) -> String {
        Filter::parse(&filter, &known).unwrap_err().to_string()
    }

    #[test]
    fn each_operator() {
        assert_eq!(ids(json!({})), [1, 2, 3, 4]);
        assert_eq!(ids(json!({ "name": "Ada" })), [1]);
        assert_eq!(ids(json!({ "age": { "$eq": 45 } })), [2]);
        assert_eq!(ids(json!({ "age": { "$ne": 45 } })), [1, 3, 4]);
        assert_eq!(ids(json!({ "age": { "$gt": 41 } })), [2, 4]);
        assert_eq!(ids(json!({ "age": { "$gte": 41 } })), [2, 3, 4]);
        assert_eq!(ids(json!({ "age": { "$lt": 41 } })), [1]);
        assert_eq!(ids(json!({ "age": { "$lte": 41 } })), [1, 3]);
        assert_eq!(ids(json!({ "age": { "$gt": 40, "$lt": 50 } })), [2, 3]);
        assert_eq!(ids(json!({ "name": { "$in": ["Ada", "Edsger", "x"] } })), [1, 4]);
        assert_eq!(ids(json!({ "name": { "$nin": ["Ada", "Edsger"] } })), [2, 3]);
        assert_eq!(ids(json!({ "city": { "$exists": true } })), [1, 2, 4]);
        assert_eq!(ids(json!({ "city": { "$exists": false } })), [3]);
        assert_eq!(ids(json!({ "name": { "$regex": "^a" } })), [3]);
        assert_eq!(ids(json!({ "name": { "$regex": "^a", "$options": "i" } })), [1, 3]);
        assert_eq!(ids(json!({ "age": { "$not": { "$gt": 41 } } })), [1, 3]);
        assert_eq!(ids(json!({ "age": { "$mod": [2, 1] } })), [2, 3]);
        assert_eq!(ids(json!({ "tags": { "$size": 1 } })), [2]);
    }

    #[test]
    fn logic_and_missing_values() {
        assert_eq!(ids(json!({ "$or": [{ "age": 36 }, { "age": 72 }] })), [1, 4]);
        assert_eq!(
            ids(json!({ "$and": [{ "age": { "$gt": 40 } }, { "city": { "$ne": null } }] })),
            [2, 4]
        );
        assert_eq!(ids(json!({ "$nor": [{ "age": 36 }, { "age": 72 }] })), [2, 3]);
        assert_eq!(ids(json!({ "$not": { "name": "Ada" } })), [2, 3, 4]);
        assert_eq!(ids(json!({ "city": null })), [3]);
        assert_eq!(
            ids(json!({ "city": { "$ne": "London" } })),
            [2, 3, 4],
            "missing counts as not equal"
        );
        assert_eq!(
            ids(json!({ "city": { "$gt": "A" } })),
            [1, 2, 4],
            "missing never compares"
        );
    }

    #[test]
    fn arrays_match_on_any_element() {
        assert_eq!(ids(json!({ "tags": "b" })), [1, 2]);
        assert_eq!(ids(json!({ "tags": ["b"] })), [2]);
        assert_eq!(ids(json!({ "tags": { "$in": ["a"] } })), [1]);
    }

    #[test]
    fn malformed_filters_name_the_place() {
        assert_eq!(error(json!({ "nope": 1 })), "filter.nope: unknown column \"nope\"");
        assert_eq!(
            error(json!({ "age": { "$foo": 1 } })),
            "filter.age.$foo: unknown operator"
        );
        assert!(error(json!({ "$or": [{ "age": { "$gt": {} } }] })).starts_with("filter.$or[0].age.$gt: "));
        assert!(error(json!({ "$or": {} })).starts_with("filter.$or: must be an array"));
        assert!(error(json!({ "$or": [] })).contains("must not be empty"));
        assert!(error(json!({ "age": { "$in": 3 } })).contains("needs an array"));
        assert!(error(json!({ "age": { "$exists": "yes" } })).contains("true or false"));
        assert!(error(json!({ "name": { "$regex": "(" } })).contains("invalid regular expression"));
        assert!(error(json!({ "name": { "$options": "i" } })).contains("only valid with $regex"));
        assert!(error(json!({ "age": { "$gt": 1, "x": 2 } })).contains("plain keys"));
        assert!(error(json!({ "$where": "1" })).contains("unknown operator"));
        assert!(error(json!([1])).contains("must be an object"));
    }
}
