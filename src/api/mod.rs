//! What the Botpress Cloud API is, as data: the catalogue of the 60 operations in scope and
//! the catalogue of the 26 error types. The reference server, the runner (operation
//! inference, coverage, cleanup) and schema inference all read these tables, so the API's
//! shape is written down once.

mod catalogue;
mod errors;
mod params;

pub use self::catalogue::{Area, OPERATIONS, Operation, Paging, Scope, find_operation, match_operation};
pub use self::errors::{ERROR_TYPES, ErrorType};
pub use self::params::{Location, Param, STATE_TYPES, params, path_params};
