//! A structural JSON diff: each difference with its JSON Pointer, for failure reports.

use serde_json::Value;

use crate::report::DiffEntry;

/// Differences between `expected` and `actual`, at most `limit`, paths under `base`.
pub fn json_diff(base: &str, expected: &Value, actual: &Value, limit: usize) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    walk(base, expected, actual, &mut out, limit);
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(path: &str, expected: &Value, actual: &Value, out: &mut Vec<DiffEntry>, limit: usize) {
    if out.len() >= limit || expected == actual {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}/{}", escape(k));
                match a.get(k) {
                    Some(av) => walk(&p, ev, av, out, limit),
                    None => out.push(DiffEntry {
                        path: p,
                        expected: Some(ev.clone()),
                        actual: None,
                        message: "missing".into(),
                    }),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) && out.len() < limit {
                    out.push(DiffEntry {
                        path: format!("{path}/{}", escape(k)),
                        expected: None,
                        actual: Some(av.clone()),
                        message: "unexpected".into(),
                    });
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(&format!("{path}/{i}"), ev, av, out, limit);
            }
        }
        _ => out.push(DiffEntry {
            path: if path.is_empty() { "/".into() } else { path.into() },
            expected: Some(expected.clone()),
            actual: Some(actual.clone()),
            message: "differs".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_difference_by_pointer() {
        let d = json_diff(
            "",
            &json!({ "a": 1, "b": { "c": [1, 2] }, "gone": 0 }),
            &json!({ "a": 2, "b": { "c": [1, 3] }, "new": 1 }),
            10,
        );
        let paths: Vec<_> = d.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
        assert_eq!(
            paths,
            [
                ("/a", "differs"),
                ("/b/c/1", "differs"),
                ("/gone", "missing"),
                ("/new", "unexpected")
            ]
        );
    }
}
