//! Values from the contract's JSON Schemas: valid ones (positive), ones that break one rule
//! each (negative), and boundary values (coverage). The schemas are the oracle: every
//! generated body is validated against its request schema, so a "valid" body is valid and a
//! negative one really breaks the rule it names (or is dropped).

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Number, Value, json};

use crate::contract::{SchemaSet, Violation, violations};

use super::case::Rule;

/// How deep a generated value nests, at most (free-form objects and schemas).
const MAX_DEPTH: usize = 4;

/// Strings a positive value may use besides plain letters: the API takes Unicode.
const UNICODE: [&str; 6] = ["é", "日本", "𝄞", "😀", "Ω≈ç", "ا"];

/// Boundary strings the coverage phase tries in string fields.
pub const BOUNDARY_STRINGS: [&str; 7] = ["", " ", "\u{0}", "a\u{0}b", "𝄞😀\u{10FFFF}", "\u{202E}rtl", "%00%ff"];

/// Boundary numbers the coverage phase tries in number fields (2^53 + 1 cannot be a double).
pub const BOUNDARY_NUMBERS: [&str; 8] = [
    "0",
    "-1",
    "9007199254740993",
    "-9007199254740993",
    "1e308",
    "-1e308",
    "0.1",
    "18446744073709551615",
];

/// Reads the schemas with their `$ref`s followed.
pub struct Schemas<'a> {
    pub set: &'a SchemaSet,
}

impl<'a> Schemas<'a> {
    /// `schema` (found in file `rel`) with its `$ref` followed, and the file it lives in.
    pub fn resolve(&self, rel: &str, schema: &'a Value) -> (String, &'a Value) {
        let mut rel = rel.to_string();
        let mut schema = schema;
        for _ in 0..16 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let (file, fragment) = crate::contract::resolve_ref(&rel, reference);
            let Some(doc) = self.set.document(&file) else { break };
            let Some(target) = doc.pointer(&fragment) else { break };
            rel = file;
            schema = target;
        }
        (rel, schema)
    }
}

/// The types a schema allows (`type` as a string or a list; none when absent).
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn bound(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn ubound(schema: &Value, key: &str) -> Option<usize> {
    schema.get(key).and_then(Value::as_u64).map(|n| n as usize)
}

/// A string of exactly `len` characters.
#[must_use]
pub fn string_of(len: usize, rng: &mut StdRng, unicode: bool) -> String {
    let mut out = String::new();
    for _ in 0..len {
        if unicode && rng.random_bool(0.15) {
            let s = UNICODE.choose(rng).copied().unwrap_or("é");
            out.push(s.chars().next().unwrap_or('é'));
        } else {
            out.push(rng.random_range(b'a'..=b'z') as char);
        }
    }
    out
}

/// A valid value for `schema`.
pub fn positive(s: &Schemas, rel: &str, schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
    let (rel, schema) = s.resolve(rel, schema);
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values.choose(rng).cloned().unwrap_or(Value::Null);
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get(key)
            && let Some(branch) = branches.choose(rng)
        {
            return positive(s, &rel, branch, rng, depth);
        }
    }
    let ts = types(schema);
    let non_null: Vec<&str> = ts.iter().copied().filter(|t| *t != "null").collect();
    let ty = if non_null.is_empty() {
        ts.first().copied().unwrap_or(if schema.get("properties").is_some() {
            "object"
        } else {
            "string"
        })
    } else if ts.contains(&"null") && rng.random_bool(0.1) {
        "null"
    } else {
        non_null.choose(rng).copied().unwrap_or("string")
    };
    match ty {
        "null" => Value::Null,
        "boolean" => Value::Bool(rng.random_bool(0.5)),
        "integer" => {
            let lo = bound(schema, "minimum").unwrap_or(0.0).ceil() as i64;
            let hi = bound(schema, "maximum").map_or(lo + 1000, |m| m.floor() as i64);
            json!(rng.random_range(lo..=hi.max(lo)))
        }
        "number" => {
            let lo = bound(schema, "minimum").unwrap_or(0.0);
            let hi = bound(schema, "maximum").unwrap_or(lo + 1000.0).max(lo);
            if rng.random_bool(0.5) {
                json!(rng.random_range(lo.ceil() as i64..=hi.floor().max(lo.ceil()) as i64))
            } else {
                Number::from_f64(rng.random_range(lo..=hi)).map_or(json!(lo), Value::Number)
            }
        }
        "string" => {
            if schema.get("format").and_then(Value::as_str) == Some("date-time") {
                let secs = rng.random_range(0..86_400 * 30);
                let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
                return json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            }
            let min = ubound(schema, "minLength").unwrap_or(0);
            let max = ubound(schema, "maxLength").unwrap_or(min + 16).max(min);
            let len = rng.random_range(min..=max.min(min + 16));
            json!(string_of(len.max(min), rng, true))
        }
        "array" => {
            let min = ubound(schema, "minItems").unwrap_or(0);
            let max = ubound(schema, "maxItems").unwrap_or(min + 3).max(min);
            let n = if depth >= MAX_DEPTH {
                min
            } else {
                rng.random_range(min..=max.min(min + 3))
            };
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array((0..n).map(|_| positive(s, &rel, &items, rng, depth + 1)).collect())
        }
        _ => object(s, &rel, schema, rng, depth),
    }
}

fn object(s: &Schemas, rel: &str, schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
    let mut out = Map::new();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, sub) in props {
            let is_required = required.contains(&name.as_str());
            // Deprecated fields are left out unless required: valid, but not worth sending.
            let optional_wanted =
                depth < MAX_DEPTH && rng.random_bool(0.5) && sub.get("deprecated") != Some(&Value::Bool(true));
            if is_required || optional_wanted {
                out.insert(name.clone(), positive(s, rel, sub, rng, depth + 1));
            }
        }
    }
    let max_props = ubound(schema, "maxProperties").unwrap_or(usize::MAX);
    match schema.get("additionalProperties") {
        Some(Value::Object(sub)) if depth < MAX_DEPTH => {
            let sub = Value::Object(sub.clone());
            for _ in 0..rng.random_range(0..=2usize).min(max_props) {
                let key = string_of(rng.random_range(1..=8), rng, false);
                out.insert(key, positive(s, rel, &sub, rng, depth + 1));
            }
        }
        None if schema.get("properties").is_none() && max_props > 0 && depth < MAX_DEPTH => {
            // A free-form object (payload, metadata): a few values of any kind.
            for _ in 0..rng.random_range(0..=3usize) {
                let key = string_of(rng.random_range(1..=8), rng, true);
                out.insert(key, free_value(rng, depth + 1));
            }
        }
        _ => {}
    }
    Value::Object(out)
}

/// Any JSON value, for free-form objects.
pub fn free_value(rng: &mut StdRng, depth: usize) -> Value {
    match rng.random_range(0..if depth >= MAX_DEPTH { 4 } else { 6 }) {
        0 => json!(rng.random_range(-1000..1000)),
        1 => json!(string_of(rng.random_range(0..10), rng, true)),
        2 => json!(rng.random_bool(0.5)),
        3 => Value::Null,
        4 => Value::Array(
            (0..rng.random_range(0..3))
                .map(|_| free_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..3) {
                map.insert(
                    string_of(rng.random_range(1..6), rng, false),
                    free_value(rng, depth + 1),
                );
            }
            Value::Object(map)
        }
    }
}

/// A place in a body where a rule can be broken, with the schema that governs it.
#[derive(Debug, Clone)]
pub struct Spot {
    /// JSON Pointer into the body ("" for the body itself).
    pub pointer: String,
    pub schema: Value,
    /// Required by its parent object (so removing it breaks `required`).
    pub required: bool,
}

/// Every spot of `body` the schema describes: the body, each property present (nested
/// objects followed), each array's first item.
pub fn spots(s: &Schemas, rel: &str, schema: &Value, body: &Value, pointer: &str, out: &mut Vec<Spot>, required: bool) {
    let (rel, schema) = s.resolve(rel, schema);
    out.push(Spot {
        pointer: pointer.to_string(),
        schema: schema.clone(),
        required,
    });
    if out.len() > 200 {
        return;
    }
    match body {
        Value::Object(map) => {
            let req: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, value) in map {
                let sub = schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let child = format!("{pointer}/{}", escape(name));
                    spots(s, &rel, sub, value, &child, out, req.contains(&name.as_str()));
                }
            }
        }
        Value::Array(items) => {
            if let (Some(first), Some(sub)) = (items.first(), schema.get("items")) {
                spots(s, &rel, sub, first, &format!("{pointer}/0"), out, false);
            }
        }
        _ => {}
    }
}

/// Escapes a key for a JSON Pointer.
#[must_use]
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Sets the value at `pointer` (which must exist, or be a new key of an existing object).
pub fn set_at(body: &mut Value, pointer: &str, value: Value) -> bool {
    if pointer.is_empty() {
        *body = value;
        return true;
    }
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let last = last.replace("~1", "/").replace("~0", "~");
    match body.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = value;
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Removes the value at `pointer` from its object.
pub fn remove_at(body: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match body.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).is_some(),
        _ => false,
    }
}

/// A value of another type than any `schema` allows.
fn wrong_type(schema: &Value) -> Value {
    let ts = types(schema);
    for candidate in [
        json!(12345),
        json!("not-a-number"),
        json!([1]),
        json!({"x": 1}),
        json!(true),
    ] {
        let name = match &candidate {
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            _ => "boolean",
        };
        let allowed = ts.contains(&name) || (name == "number" && ts.contains(&"integer"));
        if !allowed && !ts.is_empty() {
            return candidate;
        }
    }
    json!(null)
}

/// One body per rule a spot can break, each labelled with the rule and the spot.
pub fn violations_of(spot: &Spot, body: &Value) -> Vec<(Rule, Value)> {
    let schema = &spot.schema;
    let mut out = Vec::new();
    let mut with = |rule: Rule, value: Value| {
        let mut b = body.clone();
        if set_at(&mut b, &spot.pointer, value) {
            out.push((rule, b));
        }
    };
    if !types(schema).is_empty() {
        with(Rule::WrongType, wrong_type(schema));
    }
    if schema.get("enum").is_some() {
        with(Rule::OutsideEnum, json!("zz-not-in-enum"));
    }
    if let Some(max) = ubound(schema, "maxLength") {
        with(Rule::TooLong, json!("x".repeat(max + 1)));
    }
    if let Some(min) = ubound(schema, "minLength").filter(|m| *m > 0) {
        with(Rule::TooShort, json!("x".repeat(min - 1)));
    }
    if let Some(max) = bound(schema, "maximum") {
        with(Rule::TooLarge, json!(max + 1.0));
    }
    if let Some(min) = bound(schema, "minimum") {
        with(Rule::TooSmall, json!(min - 1.0));
    }
    if let Some(max) = ubound(schema, "maxItems") {
        let item = body
            .pointer(&format!("{}/0", spot.pointer))
            .cloned()
            .unwrap_or(json!("x"));
        with(Rule::TooManyItems, Value::Array(vec![item; max + 1]));
    }
    if spot.required && !spot.pointer.is_empty() {
        let mut b = body.clone();
        if remove_at(&mut b, &spot.pointer) {
            out.push((Rule::MissingRequired, b));
        }
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false))
        && body.pointer(&spot.pointer).is_some_and(Value::is_object)
    {
        let mut b = body.clone();
        if set_at(&mut b, &format!("{}/fuzzUnknownField", spot.pointer), json!(1)) {
            out.push((Rule::UnknownProperty, b));
        }
    }
    out
}

/// The rule a violation breaks, by its keyword.
#[must_use]
pub fn rule_of(violation: &Violation) -> Rule {
    match violation.keyword.as_str() {
        "maxLength" => Rule::TooLong,
        "minLength" => Rule::TooShort,
        "maximum" | "exclusiveMaximum" => Rule::TooLarge,
        "minimum" | "exclusiveMinimum" => Rule::TooSmall,
        "enum" | "const" => Rule::OutsideEnum,
        "required" => Rule::MissingRequired,
        "additionalProperties" | "unevaluatedProperties" | "maxProperties" => Rule::UnknownProperty,
        "maxItems" => Rule::TooManyItems,
        _ => Rule::WrongType,
    }
}

/// Whether `body` is valid for `rel`, and if not, the first violation.
pub fn judge(set: &SchemaSet, rel: &str, body: &Value) -> Result<(), Violation> {
    let validator = set.validator(rel).map_err(|e| Violation {
        instance_path: String::new(),
        schema_path: String::new(),
        keyword: "schema".into(),
        message: e.to_string(),
    })?;
    if validator.is_valid(body) {
        return Ok(());
    }
    Err(violations(&validator, body, 1).into_iter().next().unwrap_or(Violation {
        instance_path: String::new(),
        schema_path: String::new(),
        keyword: "type".into(),
        message: "invalid".into(),
    }))
}

/// Boundary values for a spot: (label, value).
pub fn boundaries(spot: &Spot) -> Vec<(String, Value)> {
    let schema = &spot.schema;
    let ts = types(schema);
    let mut out: Vec<(String, Value)> = Vec::new();
    if ts.contains(&"string") && schema.get("enum").is_none() && schema.get("format").is_none() {
        for s in BOUNDARY_STRINGS {
            out.push((format!("{s:?}"), json!(s)));
        }
        if let Some(max) = ubound(schema, "maxLength") {
            out.push((format!("longest ({max})"), json!("é".repeat(max))));
            out.push((
                format!("one past the longest ({})", max + 1),
                json!("a".repeat(max + 1)),
            ));
        } else {
            out.push(("long (10000)".into(), json!("𝄞".repeat(10_000))));
        }
    }
    if ts.contains(&"number") || ts.contains(&"integer") {
        for n in BOUNDARY_NUMBERS {
            if let Ok(v) = serde_json::from_str::<Value>(n) {
                out.push((n.to_string(), v));
            }
        }
        for key in ["minimum", "maximum"] {
            if let Some(b) = schema.get(key) {
                out.push((format!("{key} {b}"), b.clone()));
            }
        }
    }
    if ts.contains(&"object") && schema.get("properties").is_none() && schema.get("additionalProperties").is_none() {
        // Deep nesting well within any body limit, and a number a double cannot hold.
        let mut deep = json!({"n": 9007199254740993u64});
        for _ in 0..48 {
            deep = json!({ "d": deep });
        }
        out.push(("nested 48 deep".into(), deep));
        out.push((
            "2^53 + 1 inside".into(),
            json!({"big": 9007199254740993u64, "neg": -9007199254740993i64}),
        ));
        out.push((
            "unicode keys".into(),
            json!({"𝄞": "😀", "\u{0}": "nul", "": "empty key"}),
        ));
    }
    if ts.contains(&"object") && schema.get("additionalProperties").is_some_and(Value::is_object) {
        // Maps (tags): keys outside ASCII, an empty key, no key at all.
        out.push(("non-ASCII key".into(), json!({"ключ𝄞": "v"})));
        out.push(("empty key".into(), json!({"": "v"})));
        out.push(("empty map".into(), json!({})));
    }
    if ts.contains(&"array") {
        out.push(("empty array".into(), json!([])));
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn s() -> Schemas<'static> {
        Schemas {
            set: SchemaSet::embedded(),
        }
    }

    #[test]
    fn positive_bodies_are_valid_for_every_request_schema() {
        let s = s();
        let mut rng = StdRng::seed_from_u64(7);
        for rel in s.set.paths().filter(|p| p.starts_with("requests/")).collect::<Vec<_>>() {
            let schema = s.set.document(rel).unwrap();
            for _ in 0..30 {
                let body = positive(&s, rel, schema, &mut rng, 0);
                assert!(judge(s.set, rel, &body).is_ok(), "{rel}: {body}");
            }
        }
    }

    #[test]
    fn each_violation_breaks_its_rule() {
        let s = s();
        let mut rng = StdRng::seed_from_u64(3);
        let rel = "requests/createUser.json";
        let schema = s.set.document(rel).unwrap();
        let body = json!({"tags": {"a": "b"}, "name": "x"});
        let mut found = Vec::new();
        spots(&s, rel, schema, &body, "", &mut found, false);
        let mut rules = std::collections::BTreeSet::new();
        for spot in &found {
            for (rule, bad) in violations_of(spot, &body) {
                let v = judge(s.set, rel, &bad).unwrap_err();
                rules.insert((rule, rule_of(&v)));
            }
        }
        assert!(rules.contains(&(Rule::TooLong, Rule::TooLong)), "{rules:?}");
        assert!(rules.contains(&(Rule::MissingRequired, Rule::MissingRequired)));
        assert!(rules.contains(&(Rule::UnknownProperty, Rule::UnknownProperty)));
        let _ = positive(&s, rel, schema, &mut rng, 0);
    }
}
