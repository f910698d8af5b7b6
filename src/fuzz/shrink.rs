//! Shrinking and the corpus. A failing case is reduced, greedily, to a smaller request that
//! still fails the same check: keys dropped from the body, long strings halved, optional
//! query parameters dropped, each candidate kept only if it still means the same thing
//! (a valid case stays valid by the schema, an invalid one stays invalid). Failures are
//! saved as JSON under the corpus directory and replayed first on the next run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::SchemaSet;

use super::case::{Body, Case, Intent};
use super::generate::{judge, remove_at, set_at};

/// At most this many requests go into shrinking one failure.
pub const SHRINK_BUDGET: usize = 60;

/// Smaller versions of `case` that keep its meaning, smallest steps first.
#[must_use]
pub fn candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    if let Body::Json { value } = &case.body {
        let mut pointers = Vec::new();
        collect(value, "", &mut pointers);
        // Whole subtrees first: dropping a big key removes the most at once.
        for pointer in &pointers {
            let mut smaller = value.clone();
            if remove_at(&mut smaller, pointer) {
                out.push(with_body(case, smaller));
            }
        }
        for pointer in &pointers {
            if let Some(Value::String(s)) = value.pointer(pointer)
                && s.chars().count() > 8
            {
                let half: String = s.chars().take(s.chars().count() / 2).collect();
                let mut smaller = value.clone();
                if set_at(&mut smaller, pointer, Value::String(half)) {
                    out.push(with_body(case, smaller));
                }
            }
        }
    }
    for (i, _) in case.query.iter().enumerate() {
        let mut smaller = case.clone();
        smaller.query.remove(i);
        out.push(smaller);
    }
    let rel = format!("requests/{}.json", case.operation);
    let set = SchemaSet::embedded();
    out.into_iter()
        .filter(|c| match (&case.intent, c.body_value()) {
            (Intent::Valid, Some(body)) => judge(set, &rel, body).is_ok(),
            (Intent::Invalid { .. }, Some(body)) if set.contains(&rel) => judge(set, &rel, body).is_err(),
            _ => true,
        })
        .filter(|c| {
            // A required query parameter stays.
            c.query.len() == case.query.len()
                || crate::api::params(case.op())
                    .iter()
                    .filter(|p| p.required)
                    .all(|p| c.query.iter().any(|(n, _)| *n == p.name) || !case.query.iter().any(|(n, _)| *n == p.name))
        })
        .collect()
}

fn with_body(case: &Case, value: Value) -> Case {
    Case {
        body: Body::Json { value },
        ..case.clone()
    }
}

/// Pointers of every value inside objects of `value`, parents before children.
fn collect(value: &Value, pointer: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            let child = format!("{pointer}/{}", super::generate::escape(k));
            out.push(child.clone());
            collect(v, &child, out);
        }
    }
}

/// A failure as the corpus keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub case: Case,
    /// The check that failed, and its message.
    pub check: String,
    pub message: String,
    /// How to send it again by hand (the token read from `$BP_TOKEN`).
    pub curl: String,
}

/// Saves `failure` under `dir`, named by operation and content (the same failure twice is
/// one file). Returns the path.
pub fn save(dir: &Path, failure: &Saved) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(failure).map_err(std::io::Error::other)?;
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = dir.join(format!("{}-{hash:016x}.json", failure.case.operation));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Every saved failure under `dir` (none when it does not exist); unreadable files are
/// named in the second list.
#[must_use]
pub fn load(dir: &Path) -> (Vec<(PathBuf, Saved)>, Vec<String>) {
    let mut found = Vec::new();
    let mut bad = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (found, bad);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Saved>(&t).map_err(|e| e.to_string()))
        {
            Ok(saved) => found.push((path, saved)),
            Err(e) => bad.push(format!("{}: {e}", path.display())),
        }
    }
    (found, bad)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fuzz::case::{Phase, Rule, Scope};

    fn case(body: Value, intent: Intent) -> Case {
        Case {
            operation: "createUser".into(),
            phase: Phase::Negative,
            intent,
            path_params: Vec::new(),
            query: Vec::new(),
            body: Body::Json { value: body },
            token: true,
            scope: Scope::Own,
            label: "t".into(),
            undeclared: false,
        }
    }

    #[test]
    fn candidates_keep_the_meaning_of_the_case() {
        let bad = case(
            json!({"tags": {"a": "b"}, "name": "x".repeat(201), "pictureUrl": "p"}),
            Intent::Invalid {
                rule: Rule::TooLong,
                at: "/name".into(),
            },
        );
        let found = candidates(&bad);
        // Dropping pictureUrl keeps it invalid; dropping tags too (missing required).
        assert!(
            found
                .iter()
                .any(|c| c.body_value().unwrap().get("pictureUrl").is_none())
        );
        // Halving the long name makes it valid: not a candidate of an invalid case.
        assert!(found.iter().all(|c| {
            let name = c.body_value().unwrap().get("name").and_then(Value::as_str);
            name.is_none_or(|n| n.len() > 200) || c.body_value().unwrap().get("tags").is_none()
        }));
        let good = case(json!({"tags": {"a": "b"}, "name": "abcdefghijkl"}), Intent::Valid);
        let found = candidates(&good);
        assert!(found.iter().all(|c| c.body_value().unwrap().get("tags").is_some()));
    }

    #[test]
    fn the_corpus_round_trips() {
        let dir = std::env::temp_dir().join(format!("bpharness-corpus-{}", std::process::id()));
        let saved = Saved {
            case: case(json!({"tags": {}}), Intent::Valid),
            check: "no-5xx".into(),
            message: "server error 500".into(),
            curl: "curl".into(),
        };
        let path = save(&dir, &saved).unwrap();
        let (found, bad) = load(&dir);
        assert!(bad.is_empty());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, path);
        assert_eq!(found[0].1.case, saved.case);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
