//! The cases of one operation in one phase, made from its request schema, its parameters
//! (`api::params`) and the run's world. Deterministic: the same seed gives the same cases.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::api::{Location, OPERATIONS, Operation, params};
use crate::contract::SchemaSet;

use super::case::{Body, Case, Intent, Phase, Rule, Scope};
use super::generate::{Schemas, Spot, boundaries, judge, positive, rule_of, spots, violations_of};
use super::world::World;

/// The random source of one operation and phase under `seed`.
#[must_use]
pub fn rng_for(seed: u64, op: &Operation, phase: Phase) -> StdRng {
    let index = OPERATIONS.iter().position(|o| o.id == op.id).unwrap_or(0) as u64;
    StdRng::seed_from_u64(seed ^ (index << 32) ^ ((phase as u64) << 48) ^ 0x9E37_79B9_7F4A_7C15)
}

fn request_rel(op: &Operation, set: &SchemaSet) -> Option<String> {
    let rel = format!("requests/{}.json", op.id);
    set.contains(&rel).then_some(rel)
}

/// A valid body for `op` (schema first, then the world's ids and declarations), checked
/// against the schema; `None` when the operation takes no body.
fn valid_body(set: &SchemaSet, op: &Operation, world: &World, rng: &mut StdRng) -> Option<Value> {
    let rel = request_rel(op, set)?;
    let s = Schemas { set };
    let schema = set.document(&rel)?;
    for _ in 0..8 {
        let mut body = positive(&s, &rel, schema, rng, 0);
        world.overlay(op, &mut body, rng);
        if judge(set, &rel, &body).is_ok() {
            return Some(body);
        }
    }
    None
}

/// A valid query for `op`.
fn valid_query(op: &Operation, world: &World, rng: &mut StdRng) -> Vec<(String, Value)> {
    let s = Schemas {
        set: SchemaSet::embedded(),
    };
    let mut generated = Vec::new();
    for p in params(op).into_iter().filter(|p| p.location == Location::Query) {
        if p.required || rng.random_bool(0.5) {
            let value = positive(&s, "", &p.schema, rng, 1);
            generated.push((p.name.clone(), value));
        }
    }
    let mut query = world.query(op, rng, generated);
    // The required ones are always there, even when the world dropped a generated value.
    for p in params(op)
        .into_iter()
        .filter(|p| p.required && p.location == Location::Query)
    {
        if !query.iter().any(|(n, _)| *n == p.name) {
            query.extend(world.query(op, rng, vec![(p.name.clone(), json!(""))]));
        }
    }
    query
}

fn base(op: &Operation, phase: Phase, world: &World, rng: &mut StdRng, label: String) -> Case {
    Case {
        operation: op.id.to_string(),
        phase,
        intent: Intent::Valid,
        path_params: world.path_params(op, rng),
        query: valid_query(op, world, rng),
        body: valid_body(SchemaSet::embedded(), op, world, rng).map_or(Body::None, |value| Body::Json { value }),
        token: true,
        scope: Scope::Own,
        label,
        undeclared: false,
    }
}

/// The positive cases of `op`: valid bodies and queries, plus the same request without a
/// token and, for reads by id, from another bot's scope.
#[must_use]
pub fn positive_cases(op: &Operation, world: &World, seed: u64, max: usize) -> Vec<Case> {
    let mut rng = rng_for(seed, op, Phase::Positive);
    let mut out: Vec<Case> = (0..max)
        .map(|i| base(op, Phase::Positive, world, &mut rng, format!("positive #{i}")))
        .collect();
    if let Some(first) = out.first().cloned() {
        out.push(Case {
            intent: Intent::NoToken,
            token: false,
            label: "without a token".into(),
            ..first.clone()
        });
        let reads_own = op.method == "GET"
            && op.path.ends_with("{id}")
            && first.path_params.iter().all(|(_, v)| v != super::world::UNKNOWN_ID);
        if reads_own {
            out.push(Case {
                intent: Intent::OtherScope,
                scope: Scope::Other,
                label: "from another bot's scope".into(),
                ..first
            });
        }
    }
    out
}

/// The negative cases of `op`: one broken rule each, on a valid request.
#[must_use]
pub fn negative_cases(op: &Operation, world: &World, seed: u64, max: usize) -> Vec<Case> {
    let set = SchemaSet::embedded();
    let mut rng = rng_for(seed, op, Phase::Negative);
    let valid = base(op, Phase::Negative, world, &mut rng, String::new());
    let mut out = Vec::new();
    let invalid = |rule: Rule, at: &str| Intent::Invalid { rule, at: at.into() };
    if let (Some(rel), Some(body)) = (request_rel(op, set), valid.body_value().cloned()) {
        let s = Schemas { set };
        let mut found: Vec<Spot> = Vec::new();
        spots(
            &s,
            &rel,
            set.document(&rel).unwrap_or(&Value::Null),
            &body,
            "",
            &mut found,
            false,
        );
        let mut candidates: Vec<Case> = Vec::new();
        for spot in &found {
            for (rule, bad) in violations_of(spot, &body) {
                // The schema is the oracle: a mutation that is still valid is no negative case.
                if let Err(v) = judge(set, &rel, &bad) {
                    let _ = rule_of(&v);
                    candidates.push(Case {
                        intent: invalid(rule, &spot.pointer),
                        body: Body::Json { value: bad },
                        label: format!("{} at {}", rule.name(), display(&spot.pointer)),
                        ..valid.clone()
                    });
                }
            }
        }
        candidates.shuffle(&mut rng);
        out.push(Case {
            intent: invalid(Rule::MalformedJson, ""),
            body: Body::Raw {
                text: "{\"tags\": {".into(),
                content_type: "application/json".into(),
            },
            label: "malformed JSON".into(),
            ..valid.clone()
        });
        out.push(Case {
            intent: invalid(Rule::WrongContentType, ""),
            body: Body::Raw {
                text: body.to_string(),
                content_type: "text/plain".into(),
            },
            label: "JSON sent as text/plain".into(),
            ..valid.clone()
        });
        out.extend(candidates);
    }
    // Query parameters: outside an enum, not an integer or boolean, a required one missing.
    // `shouldMergePlugins` is documented as unused: a server may ignore any value of it.
    for p in params(op)
        .into_iter()
        .filter(|p| p.location == Location::Query && p.name != "shouldMergePlugins")
    {
        let ty = p.schema.get("type").and_then(Value::as_str).unwrap_or("");
        let bad = if p.schema.get("enum").is_some() {
            Some((Rule::BadQuery, json!("zz-not-in-enum")))
        } else if ty == "integer" || ty == "boolean" {
            Some((Rule::BadQuery, json!("not-a-value")))
        } else {
            None
        };
        if let Some((rule, value)) = bad {
            let mut query: Vec<(String, Value)> = valid.query.iter().filter(|(n, _)| *n != p.name).cloned().collect();
            query.push((p.name.clone(), value));
            out.push(Case {
                intent: invalid(rule, &format!("query {}", p.name)),
                query,
                label: format!("query {}={}", p.name, "invalid"),
                ..valid.clone()
            });
        }
        if p.required {
            out.push(Case {
                intent: invalid(Rule::MissingQuery, &format!("query {}", p.name)),
                query: valid.query.iter().filter(|(n, _)| *n != p.name).cloned().collect(),
                label: format!("query {} missing", p.name),
                ..valid.clone()
            });
        }
    }
    out.truncate(max.max(2));
    out
}

/// The coverage cases of `op`: boundary values, one spot at a time, each judged by the
/// schema (valid ones must be accepted, invalid ones refused).
#[must_use]
pub fn coverage_cases(op: &Operation, world: &World, seed: u64, max: usize) -> Vec<Case> {
    let set = SchemaSet::embedded();
    let mut rng = rng_for(seed, op, Phase::Coverage);
    let valid = base(op, Phase::Coverage, world, &mut rng, String::new());
    let mut out = Vec::new();
    if let (Some(rel), Some(body)) = (request_rel(op, set), valid.body_value().cloned()) {
        let s = Schemas { set };
        let mut found: Vec<Spot> = Vec::new();
        spots(
            &s,
            &rel,
            set.document(&rel).unwrap_or(&Value::Null),
            &body,
            "",
            &mut found,
            false,
        );
        for spot in found.iter().filter(|s| !s.pointer.is_empty()) {
            // Ids and names the world put in must stay: the boundary goes elsewhere.
            if is_world_field(op, &spot.pointer) {
                continue;
            }
            for (label, value) in boundaries(spot) {
                let mut bad = body.clone();
                if !super::generate::set_at(&mut bad, &spot.pointer, value) {
                    continue;
                }
                let intent = match judge(set, &rel, &bad) {
                    Ok(()) => Intent::Valid,
                    Err(v) => Intent::Invalid {
                        rule: rule_of(&v),
                        at: spot.pointer.clone(),
                    },
                };
                let undeclared = world.undeclared_tags(op, &bad);
                out.push(Case {
                    intent,
                    body: Body::Json { value: bad },
                    label: format!("{} = {label}", display(&spot.pointer)),
                    undeclared,
                    ..valid.clone()
                });
            }
        }
    }
    // Path ids nobody has: Unicode, astral planes, NUL, very long.
    let path = crate::api::path_params(op.path);
    if let Some(last) = path.last().filter(|n| !matches!(**n, "type" | "name")) {
        for (label, value) in [
            ("astral", "𝄞😀".to_string()),
            ("nul", "a\u{0}b".to_string()),
            ("long", "x".repeat(2000)),
            ("dots", "..".to_string()),
        ] {
            let mut params = valid.path_params.clone();
            if let Some(slot) = params.iter_mut().find(|(n, _)| n == last) {
                slot.1 = value;
            }
            out.push(Case {
                path_params: params,
                label: format!("path {last} {label}"),
                ..valid.clone()
            });
        }
    }
    // Query values the docs leave open: a made-up page token, empty dates.
    for p in params(op).into_iter().filter(|p| p.location == Location::Query) {
        let value = match p.name.as_str() {
            "nextToken" => json!("not-a-token-𝄞"),
            "afterDate" | "beforeDate" => json!(""),
            "limit" => json!(0),
            _ => continue,
        };
        let mut query = valid.query.clone();
        query.retain(|(n, _)| *n != p.name);
        query.push((p.name.clone(), value.clone()));
        out.push(Case {
            query,
            label: format!("query {}={}", p.name, value),
            ..valid.clone()
        });
    }
    out.shuffle(&mut rng);
    out.truncate(max);
    out
}

/// Fields the world fills with ids or names with rules of their own.
fn is_world_field(op: &Operation, pointer: &str) -> bool {
    let top = pointer.trim_start_matches('/').split('/').next().unwrap_or("");
    if matches!(top, "userId" | "conversationId" | "messageId") {
        return true;
    }
    match op.area {
        crate::api::Area::Tables | crate::api::Area::TableRows => {
            matches!(
                top,
                "name" | "schema" | "rows" | "filter" | "select" | "orderBy" | "tableName" | "newName" | "ids"
            )
        }
        crate::api::Area::Files => matches!(top, "key" | "size"),
        crate::api::Area::Actions => top == "type",
        crate::api::Area::Events => top == "type",
        _ => false,
    }
}

fn display(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::find_operation;

    fn world() -> World {
        let mut w = World {
            user: "user_0000000000000000000000001".into(),
            conversation: "conv_0000000000000000000000001".into(),
            ..World::default()
        };
        w.declare(crate::target::definition::suite_definition());
        w
    }

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        let w = world();
        let op = find_operation("createUser").unwrap();
        let a = positive_cases(op, &w, 1, 10);
        let b = positive_cases(op, &w, 1, 10);
        assert_eq!(a, b);
        assert_ne!(a, positive_cases(op, &w, 2, 10));
        let neg = negative_cases(op, &w, 1, 50);
        assert!(neg.iter().all(|c| matches!(c.intent, Intent::Invalid { .. })));
        assert!(neg.iter().any(|c| c.label.starts_with("too-long")));
    }

    #[test]
    fn valid_bodies_use_declared_tag_keys_only() {
        let w = world();
        for op in OPERATIONS.iter().filter(|o| World::tag_kind(o).is_some()) {
            for case in positive_cases(op, &w, 9, 20) {
                if let Some(tags) = case.body_value().and_then(|b| b.get("tags")).and_then(Value::as_object) {
                    let declared = match World::tag_kind(op) {
                        Some("user") => &w.user_tags,
                        Some("conversation") => &w.conversation_tags,
                        _ => &w.message_tags,
                    };
                    assert!(tags.keys().all(|k| declared.contains(k)), "{}: {tags:?}", op.id);
                }
            }
        }
    }
}
