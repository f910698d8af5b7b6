//! A schema violation in words a user can act on.

use jsonschema::Validator;
use serde::Serialize;
use serde_json::Value;

/// One way an instance breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON Pointer into the instance (`/user/createdAt`), empty for the root.
    pub instance_path: String,
    /// JSON Pointer into the schema (`/properties/user/$ref/...`).
    pub schema_path: String,
    /// The keyword that failed (`required`, `type`, `additionalProperties`...).
    pub keyword: String,
    pub message: String,
}

impl Violation {
    /// An unknown extra field: a warning unless the run is strict.
    pub fn is_extra_field(&self) -> bool {
        self.keyword == "additionalProperties" || self.keyword == "unevaluatedProperties"
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.instance_path.is_empty() {
            "(root)"
        } else {
            &self.instance_path
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// Every violation of `instance` against `validator`, at most `limit` of them.
pub fn violations(validator: &Validator, instance: &Value, limit: usize) -> Vec<Violation> {
    validator
        .iter_errors(instance)
        .take(limit)
        .map(|e| {
            let schema_path = e.schema_path().to_string();
            let keyword = schema_path.rsplit('/').next().unwrap_or_default().to_string();
            Violation {
                instance_path: e.instance_path().to_string(),
                schema_path,
                keyword,
                message: e.to_string(),
            }
        })
        .collect()
}
