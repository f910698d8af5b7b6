//! The `tags` filter of `listFiles` and `searchFiles`: per tag, a string is an exact match,
//! an array matches any of its values, `{not: value or values}` excludes them (a file
//! without the tag is not excluded). Every tag named must match.
//!
//! Accepted forms: URL-encoded JSON (`tags={"a":"1","b":["x","y"],"c":{"not":"z"}}`, as
//! documented), the official client's dot form (`tags.a=1&tags.b=x&tags.b=y&tags.c.not=z`:
//! a repeated key is an array, a `.not` suffix an exclusion), and bracket form
//! (`tags[a]=1&tags[b][]=x&tags[c][not]=z`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::server::error::{ApiError, ApiResult};
use crate::server::query::QueryParams;
use crate::server::store::Tags;

/// What one tag must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagCondition {
    AnyOf(Vec<String>),
    NoneOf(Vec<String>),
}

impl TagCondition {
    fn admits(&self, value: Option<&String>) -> bool {
        match self {
            TagCondition::AnyOf(wanted) => value.is_some_and(|v| wanted.contains(v)),
            TagCondition::NoneOf(unwanted) => value.is_none_or(|v| !unwanted.contains(v)),
        }
    }
}

/// Every tag condition of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter(pub BTreeMap<String, TagCondition>);

fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_query(format!(
        "tags: {detail}; expected a JSON object of tag → string, string array or {{\"not\": ...}}"
    ))
}

fn strings(value: &Value, key: &str) -> ApiResult<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("{key:?} holds a non-string value")))
            })
            .collect(),
        _ => Err(invalid(format!("{key:?} must be a string or an array of strings"))),
    }
}

impl TagFilter {
    /// Reads parameter `key` in any accepted form; a malformed one is `InvalidQuery`.
    pub fn read(q: &QueryParams, key: &str) -> ApiResult<TagFilter> {
        let mut any: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut none: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in q.pairs() {
            if k == key {
                let parsed: serde_json::Map<String, Value> =
                    serde_json::from_str(v).map_err(|_| invalid("not a JSON object"))?;
                for (tag, cond) in parsed {
                    match &cond {
                        Value::Object(map) => {
                            let excluded = map
                                .get("not")
                                .filter(|_| map.len() == 1)
                                .ok_or_else(|| invalid(format!("{tag:?}: an object must be {{\"not\": ...}}")))?;
                            none.entry(tag.clone()).or_default().extend(strings(excluded, &tag)?);
                        }
                        other => any.entry(tag.clone()).or_default().extend(strings(other, &tag)?),
                    }
                }
            } else if let Some(rest) = k.strip_prefix(key) {
                if let Some(sub) = rest.strip_prefix('.') {
                    match sub.strip_suffix(".not") {
                        Some(tag) if !tag.is_empty() => none.entry(tag.into()).or_default().push(v.clone()),
                        _ => any.entry(sub.into()).or_default().push(v.clone()),
                    }
                } else if let Some(sub) = rest.strip_prefix('[') {
                    let sub = sub.strip_suffix("[]").unwrap_or(sub);
                    if let Some(tag) = sub.strip_suffix("][not]") {
                        none.entry(tag.into()).or_default().push(v.clone());
                    } else if let Some(tag) = sub.strip_suffix(']') {
                        any.entry(tag.into()).or_default().push(v.clone());
                    }
                }
            }
        }
        let mut filter = BTreeMap::new();
        for (tag, values) in any {
            filter.insert(tag, TagCondition::AnyOf(values));
        }
        for (tag, values) in none {
            if filter.contains_key(&tag) {
                return Err(invalid(format!("{tag:?} is both matched and excluded")));
            }
            filter.insert(tag, TagCondition::NoneOf(values));
        }
        Ok(TagFilter(filter))
    }

    pub fn admits(&self, tags: &Tags) -> bool {
        self.0.iter().all(|(tag, cond)| cond.admits(tags.get(tag)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn read(raw: &str) -> TagFilter {
        TagFilter::read(&QueryParams::parse(raw), "tags").unwrap()
    }

    #[test]
    fn the_three_forms_read_the_same() {
        let json = read(
            "tags=%7B%22a%22%3A%221%22%2C%22b%22%3A%5B%22x%22%2C%22y%22%5D%2C%22c%22%3A%7B%22not%22%3A%22z%22%7D%7D",
        );
        let dots = read("tags.a=1&tags.b=x&tags.b=y&tags.c.not=z");
        let brackets = read("tags%5Ba%5D=1&tags%5Bb%5D%5B%5D=x&tags%5Bb%5D%5B%5D=y&tags%5Bc%5D%5Bnot%5D=z");
        assert_eq!(json, dots);
        assert_eq!(json, brackets);
        assert_eq!(json.0["a"], TagCondition::AnyOf(vec!["1".into()]));
        assert_eq!(json.0["c"], TagCondition::NoneOf(vec!["z".into()]));
    }

    #[test]
    fn exact_any_and_not() {
        let f = read("tags.a=1&tags.b=x&tags.b=y&tags.c.not=z");
        assert!(f.admits(&tags(&[("a", "1"), ("b", "y")])));
        assert!(f.admits(&tags(&[("a", "1"), ("b", "x"), ("c", "w")])));
        assert!(!f.admits(&tags(&[("a", "1"), ("b", "x"), ("c", "z")])));
        assert!(!f.admits(&tags(&[("a", "2"), ("b", "x")])));
        assert!(!f.admits(&tags(&[("a", "1")])));
        assert!(read("").admits(&tags(&[])));
        let not_many = read("tags=%7B%22c%22%3A%7B%22not%22%3A%5B%22z%22%2C%22w%22%5D%7D%7D");
        assert!(!not_many.admits(&tags(&[("c", "w")])));
        assert!(not_many.admits(&tags(&[("c", "v")])));
        assert!(read("tags.x.y=z").admits(&tags(&[("x.y", "z")])));
    }

    #[test]
    fn malformed_filters_are_invalid_queries() {
        for raw in [
            "tags=nope",
            "tags=%5B%5D",
            "tags=%7B%22a%22%3A1%7D",
            "tags=%7B%22a%22%3A%7B%22nope%22%3A%22x%22%7D%7D",
            "tags.a=1&tags.a.not=1",
        ] {
            let err = TagFilter::read(&QueryParams::parse(raw), "tags").unwrap_err();
            assert_eq!(err.ty, crate::api::ErrorType::InvalidQuery, "{raw}");
        }
    }
}
