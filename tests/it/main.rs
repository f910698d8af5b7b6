//! The integration tests: one binary, one module per concern.

// The binary: exit codes, reports, secrets.
mod cli;
// Shared helpers: start the reference server on an ephemeral port, call it.
mod util;
// The reference server's runtime API: operations, errors, paging, isolation, concurrency.
mod server_runtime;
// What one client can hold of the server: header read timeout, in-flight bound.
mod server_limits;
// The namespace rule, generated from the catalogue: no caller sees or touches another bot's data.
mod isolation;
// Ctrl-C on the binary mid-run: the run ends, its record and reports are kept.
mod interrupts;
// A deliberately misbehaving server on raw TCP.
mod double;
// Each check fails, with its reason, on a response that breaks it.
mod checks;
// The runner against the embedded server: the scenarios in scenarios/ pass.
mod runner_suite;
