//! Reports: the run's result model, the live event stream, and one writer per format.

mod event;
mod model;

pub use self::event::{Reporter, RunEvent};
pub use self::model::*;
