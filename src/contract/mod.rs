//! The contract: the JSON Schemas of `schemas/`, loaded once, registered by `$id` so that
//! relative `$ref`s resolve offline, and compiled into validators on first use.

mod lint;
mod openapi;
mod registry;
mod violation;

pub use self::openapi::{API_VERSION, component_name, openapi, resolve_ref};
pub use self::registry::{SCHEMA_BASE, SchemaError, SchemaSet};
pub use self::violation::{Violation, violations};
