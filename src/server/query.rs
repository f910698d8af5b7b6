//! Query strings as the official client and generic OpenAPI tools send them (CLIENT-WIRE.md):
//! object params in dot form (`tags.k=v`, split on the first dot), bracket form
//! (`tags[k]=v`) or JSON (`tags={"k":"v"}`); arrays as repeated keys.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::{ApiError, ApiResult};
use super::ids::Timestamp;

/// The decoded pairs of a query string, in order.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(raw: &str) -> Self {
        let pairs = form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        QueryParams { pairs }
    }

    /// Every decoded pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The single value of a scalar parameter (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of an array parameter (`k=a&k=b`, also `k[]=a`).
    pub fn list(&self, key: &str) -> Vec<String> {
        let bracket = format!("{key}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| k == key || *k == bracket)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An object parameter in any of the accepted forms; a malformed JSON form is an
    /// `InvalidQuery`.
    pub fn map(&self, key: &str) -> ApiResult<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (k, v) in &self.pairs {
            if k == key {
                let parsed: BTreeMap<String, serde_json::Value> = serde_json::from_str(v).map_err(|_| {
                    ApiError::invalid_query(format!("{key} must be an object (key=value pairs or JSON)"))
                })?;
                for (tk, tv) in parsed {
                    let text = match tv {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.insert(tk, text);
                }
            } else if let Some(rest) = k.strip_prefix(key) {
                if let Some(sub) = rest.strip_prefix('.') {
                    out.insert(sub.to_string(), v.clone());
                } else if let Some(sub) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                    out.insert(sub.to_string(), v.clone());
                }
            }
        }
        Ok(out)
    }

    /// A value that must be one of `allowed`.
    pub fn choice<'a>(&self, key: &str, allowed: &[&'a str]) -> ApiResult<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => allowed.iter().find(|a| **a == v).copied().map(Some).ok_or_else(|| {
                ApiError::invalid_query(format!("{key} must be one of {}, got {v:?}", allowed.join(", ")))
            }),
        }
    }

    pub fn timestamp(&self, key: &str) -> ApiResult<Option<Timestamp>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Timestamp::parse(v)
                .map(Some)
                .ok_or_else(|| ApiError::invalid_query(format!("{key} must be an ISO 8601 date, got {v:?}"))),
        }
    }

    /// Everything but `nextToken`, in a canonical order: what a page token is bound to.
    pub fn fingerprint(&self) -> String {
        let mut pairs: Vec<_> = self.pairs.iter().filter(|(k, _)| k != "nextToken").collect();
        pairs.sort();
        let mut out = String::new();
        for (k, v) in pairs {
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            out.push('&');
        }
        out
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams::parse(parts.uri.query().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_params_in_every_form() {
        let q = QueryParams::parse("tags.e2e=r%201&tags.telegram%3Aid=a%2Fb&tags.x.y=z");
        let tags = q.map("tags").unwrap();
        assert_eq!(tags["e2e"], "r 1");
        assert_eq!(tags["telegram:id"], "a/b");
        assert_eq!(tags["x.y"], "z");
        let q = QueryParams::parse("tags%5Ba%5D=1&tagsx=2");
        assert_eq!(q.map("tags").unwrap(), BTreeMap::from([("a".into(), "1".into())]));
        let q = QueryParams::parse("tags=%7B%22a%22%3A%221%22%7D");
        assert_eq!(q.map("tags").unwrap()["a"], "1");
        assert!(QueryParams::parse("tags=nope").map("tags").is_err());
    }

    #[test]
    fn arrays_are_repeated_keys() {
        let q = QueryParams::parse("participantIds=a&participantIds=b&participantIds%5B%5D=c");
        assert_eq!(q.list("participantIds"), ["a", "b", "c"]);
    }

    #[test]
    fn fingerprint_ignores_the_token_and_order() {
        let a = QueryParams::parse("b=2&a=1&nextToken=xyz");
        let b = QueryParams::parse("a=1&b=2");
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
}
