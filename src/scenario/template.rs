//! `{{name}}` templates over JSON values.
//!
//! A string that is exactly one placeholder becomes the variable's JSON value with its type,
//! so `"{{ids}}"` can stand for an array and `"{{row_id}}"` for a number. Placeholders inside
//! longer strings are replaced by the value's text: strings unquoted, anything else as compact
//! JSON. Whitespace inside the braces is allowed (`{{ name }}`) and `\{{` writes a literal `{{`.
//! Object keys are rendered as text too.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value;

/// Variables available to templates.
pub type Vars = BTreeMap<String, Value>;

/// Variables the runner always defines.
pub const BUILTIN_VARS: [&str; 9] = [
    "run_id",
    "bot_id",
    "workspace_id",
    "other_bot_id",
    "other_workspace_id",
    "other_workspace_bot_id",
    "token",
    "now",
    "scenario",
];

/// The variable holding the 0-based iteration inside a step with `repeat`.
pub const REPEAT_INDEX_VAR: &str = "i";

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A placeholder names a variable that is not defined.
    #[error("unknown variable `{name}`")]
    UnknownVariable {
        /// The variable name.
        name: String,
    },
    /// `{{` does not start a well-formed placeholder.
    #[error("malformed placeholder: {reason}")]
    Malformed {
        /// Byte range of the bad placeholder in the string.
        range: Range<usize>,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    /// Literal text, escapes resolved.
    Text(String),
    /// A placeholder: the variable name and the byte range of `{{ … }}`.
    Var(&'a str, Range<usize>),
}

/// Whether `name` can be used in a placeholder: `[A-Za-z_][A-Za-z0-9_]*`.
#[must_use]
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if rest.starts_with("\\{{") {
            literal.push_str("{{");
            i += 3;
        } else if let Some(inner) = rest.strip_prefix("{{") {
            let Some(close) = inner.find("}}") else {
                return Err(TemplateError::Malformed {
                    range: i..text.len(),
                    reason: "`{{` without a closing `}}`",
                });
            };
            let end = i + 2 + close + 2;
            let name = text[i + 2..end - 2].trim();
            if name.is_empty() {
                return Err(TemplateError::Malformed {
                    range: i..end,
                    reason: "empty placeholder",
                });
            }
            if !is_var_name(name) {
                return Err(TemplateError::Malformed {
                    range: i..end,
                    reason: "a variable name is letters, digits and `_`",
                });
            }
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Var(name, i..end));
            i = end;
        } else {
            literal.push(c);
            i += c.len_utf8();
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

/// Check that every `{{` in `text` starts a well-formed placeholder.
///
/// # Errors
///
/// [`TemplateError::Malformed`] with the byte range of the first bad placeholder.
pub fn validate(text: &str) -> Result<(), TemplateError> {
    parse(text).map(|_| ())
}

/// The well-formed placeholders of `text`: variable name and byte range of `{{ … }}`.
///
/// Parsing stops at the first malformed placeholder (see [`validate`]).
#[must_use]
pub fn placeholders(text: &str) -> Vec<(&str, Range<usize>)> {
    let mut found = Vec::new();
    let mut rest = 0;
    // Re-parse after a malformed placeholder is not attempted: report what precedes it.
    match parse(text) {
        Ok(pieces) => {
            for piece in pieces {
                if let Piece::Var(name, range) = piece {
                    found.push((name, range));
                }
            }
        }
        Err(TemplateError::Malformed { range, .. }) => {
            rest = range.start;
        }
        Err(TemplateError::UnknownVariable { .. }) => {}
    }
    if rest > 0 {
        found = placeholders(&text[..rest]);
    }
    found
}

fn lookup<'v>(vars: &'v Vars, name: &str) -> Result<&'v Value, TemplateError> {
    vars.get(name)
        .ok_or_else(|| TemplateError::UnknownVariable { name: name.to_owned() })
}

/// Text of a value inside a longer string: strings unquoted, other JSON compact.
#[must_use]
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Render a string to a JSON value: exactly one placeholder keeps the variable's type, anything
/// else becomes a string.
///
/// # Errors
///
/// An unknown variable or a malformed placeholder.
pub fn render_str(text: &str, vars: &Vars) -> Result<Value, TemplateError> {
    let pieces = parse(text)?;
    if let [Piece::Var(name, _)] = pieces.as_slice() {
        return lookup(vars, name).cloned();
    }
    render_pieces(&pieces, vars).map(Value::String)
}

/// Render a string to text; a single placeholder gives the value's text.
///
/// # Errors
///
/// An unknown variable or a malformed placeholder.
pub fn render_string(text: &str, vars: &Vars) -> Result<String, TemplateError> {
    render_pieces(&parse(text)?, vars)
}

fn render_pieces(pieces: &[Piece<'_>], vars: &Vars) -> Result<String, TemplateError> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Var(name, _) => out.push_str(&value_text(lookup(vars, name)?)),
        }
    }
    Ok(out)
}

/// Render every string (and object key) in a JSON tree.
///
/// # Errors
///
/// The first unknown variable or malformed placeholder.
pub fn render_value(value: &Value, vars: &Vars) -> Result<Value, TemplateError> {
    Ok(match value {
        Value::String(text) => render_str(text, vars)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (key, item) in map {
                out.insert(render_string(key, vars)?, render_value(item, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::*;

    fn vars() -> Vars {
        let mut vars = Vars::new();
        vars.insert("ids".into(), json!(["a", "b"]));
        vars.insert("row_id".into(), json!(42));
        vars.insert("name".into(), json!("ada"));
        vars.insert("obj".into(), json!({"k": 1}));
        vars
    }

    #[rstest]
    #[case("{{ids}}", json!(["a", "b"]))]
    #[case("{{row_id}}", json!(42))]
    #[case("{{ row_id }}", json!(42))]
    #[case("id-{{row_id}}", json!("id-42"))]
    #[case("{{name}}/{{row_id}}", json!("ada/42"))]
    #[case("x={{obj}}", json!("x={\"k\":1}"))]
    #[case("list {{ids}}", json!("list [\"a\",\"b\"]"))]
    #[case("plain", json!("plain"))]
    #[case("", json!(""))]
    #[case(r"\{{name}}", json!("{{name}}"))]
    #[case(r"a\{{b}} {{name}}", json!("a{{b}} ada"))]
    #[case("é{{name}}é", json!("éadaé"))]
    #[case("{ {name} }", json!("{ {name} }"))]
    fn renders_strings(#[case] text: &str, #[case] expected: Value) {
        assert_eq!(render_str(text, &vars()).unwrap(), expected);
    }

    #[rstest]
    fn renders_trees() {
        let value = json!({"ids": "{{ids}}", "{{name}}": ["{{row_id}}", 1, null], "n": "#{{row_id}}"});
        assert_eq!(
            render_value(&value, &vars()).unwrap(),
            json!({"ids": ["a", "b"], "ada": [42, 1, null], "n": "#42"})
        );
    }

    #[rstest]
    fn unknown_variables_are_named() {
        let err = render_str("x {{nope}}", &vars()).unwrap_err();
        assert_eq!(err, TemplateError::UnknownVariable { name: "nope".into() });
        assert_eq!(err.to_string(), "unknown variable `nope`");
    }

    #[rstest]
    #[case("{{", 0..2)]
    #[case("a {{ }}", 2..7)]
    #[case("{{a b}}", 0..7)]
    #[case("{{a-b}}", 0..7)]
    fn malformed_placeholders(#[case] text: &str, #[case] range: Range<usize>) {
        match validate(text) {
            Err(TemplateError::Malformed { range: got, .. }) => assert_eq!(got, range),
            other => panic!("{other:?}"),
        }
    }

    #[rstest]
    fn placeholders_with_ranges() {
        let text = "/v1/{{ bot }}/x/{{id}}?q=\\{{no}}";
        assert_eq!(placeholders(text), vec![("bot", 4..13), ("id", 16..22)]);
        assert_eq!(placeholders("{{a}} {{"), vec![("a", 0..5)]);
    }

    #[rstest]
    #[case("a", true)]
    #[case("_x9", true)]
    #[case("9x", false)]
    #[case("a.b", false)]
    #[case("", false)]
    fn variable_names(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(is_var_name(name), ok);
    }
}
