//! `callAction` and the reference server's built-in actions.
//!
//! A real bot runs its own code; the reference server has a small, documented set instead:
//! - `echo`: the output is the input; cacheable, so a second call with the same input
//!   answers `meta.cached: true`.
//! - `sum`: input `{numbers: number[]}`, output `{sum}`; any other input is
//!   `InvalidDataFormat`.
//! - `fail`: always fails as bot code would, with `Runtime` (400) and the input's
//!   `message` if it has one.
//!
//! Any other type is `ResourceNotFound`: the bot declares no such action.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::ErrorType;
use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::error::{ApiError, ApiResult};

use super::reply;

#[derive(Deserialize)]
struct CallAction {
    #[serde(rename = "type")]
    kind: String,
    input: Map<String, Value>,
}

/// The names of the built-in actions.
pub const BUILT_IN_ACTIONS: [&str; 3] = ["echo", "sum", "fail"];

fn run(kind: &str, input: &Map<String, Value>) -> ApiResult<Value> {
    match kind {
        "echo" => Ok(Value::Object(input.clone())),
        "sum" => {
            let numbers = input
                .get("numbers")
                .and_then(Value::as_array)
                .filter(|_| input.len() == 1)
                .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorType::InvalidDataFormat,
                        "input of sum must be {\"numbers\": number[]}",
                    )
                })?;
            // A fold from +0.0: `Iterator::sum` of nothing is -0.0.
            Ok(json!({ "sum": numbers.iter().fold(0.0, |acc, n| acc + n) }))
        }
        "fail" => {
            let message = input
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the action failed");
            Err(ApiError::new(
                ErrorType::Runtime,
                format!("action fail threw: {message}"),
            ))
        }
        other => Err(ApiError::new(
            ErrorType::ResourceNotFound,
            format!(
                "action {other:?} is not declared by this bot (built-in: {})",
                BUILT_IN_ACTIONS.join(", ")
            ),
        )),
    }
}

/// JSON text with object keys sorted: the same input sent with its keys in another order
/// is the same cache entry.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&map[*k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

pub async fn call(BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CallAction = body.parse("callAction")?;
    let cache_key = (body.kind.clone(), canonical(&Value::Object(body.input.clone())));
    if body.kind == "echo"
        && let Some(output) = bot.data.read().expect("bot data poisoned").action_cache.get(&cache_key)
    {
        return Ok(reply::ok(&json!({ "output": output, "meta": { "cached": true } })));
    }
    let output = run(&body.kind, &body.input)?;
    if body.kind == "echo" {
        bot.data
            .write()
            .expect("bot data poisoned")
            .action_cache
            .insert(cache_key, output.clone());
    }
    Ok(reply::ok(&json!({ "output": output, "meta": { "cached": false } })))
}
