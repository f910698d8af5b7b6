//! Scenario files: the YAML/JSON format, loading with located diagnostics, semantic checks and
//! `{{var}}` templates.
//!
//! The runner reads [`LoadedScenario`]s from [`load_paths`] and reports failures back into the
//! file with [`LoadedScenario::error_at`] and [`LoadedScenario::step_location`].

mod check;
mod diag;
mod load;
mod locate;
mod model;
mod source;
pub mod template;

pub use check::{JSON_TYPES, RESPONSE_SCHEMA_DIR, check};
pub(crate) use diag::did_you_mean;
pub use diag::{ScenarioError, ScenarioErrorKind};
pub use load::{
    BOT_DEFINITION_FILE, EXTENSIONS, Format, LoadOptions, LoadedScenario, ResponseSchemas, load_builtin,
    load_builtin_file, load_file, load_file_with, load_paths, load_paths_with, parse_source, step_path,
};
pub use locate::{KeyPath, Located, Locations, PathSeg};
pub use model::{
    AssertOp, Assertion, Direction, Expect, ExpectError, Method, Order, PageStyle, Paginate, Poll, Request,
    SCENARIO_SCHEMA_ID, Scenario, Section, Step, StepAction, scenario_schema,
};
pub use source::{SourceFile, Span};
pub use template::{TemplateError, Vars};
