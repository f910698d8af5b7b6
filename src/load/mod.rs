//! `bpharness load`: the scenario steps as load, in a closed model (virtual users on
//! goose) or an open one (a fixed arrival rate), with the runner's checks on every answer,
//! per-operation counts and µs HDR histograms of our own, a time series, rate-limit
//! analysis, thresholds, reports, and the exact merge of segments run apart. Everything
//! goose-specific stays in this folder.

mod charts;
mod client;
mod closed;
mod engine;
mod metrics;
mod open;
mod output;
mod parse;
mod profile;
mod report;
mod run;
mod stats;
mod threshold;

pub use self::metrics::BUCKETS_S;
pub use self::output::{progress_line, write_html, write_json, write_load_files, write_summary};
pub use self::parse::{Segment, parse_duration, parse_rate, parse_segment};
pub use self::profile::{MixEntry, Profile, Workload, load_builtin_profile, load_profile};
pub use self::report::{
    Honesty, LOAD_FORMAT_VERSION, Latency, LoadReport, OpReport, RateLimitReport, Recovery, SecondReport,
    decode_histogram, encode_histogram, merge,
};
pub use self::run::{
    DEFAULT_DURATION, LoadError, LoadPlan, MAX_DURATION, Model, Progress, Snapshot, TailPlan, run_load,
};
pub use self::threshold::{Threshold, ThresholdResult, evaluate, parse_threshold};
