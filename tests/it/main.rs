//! The integration tests: one binary, one module per concern.

// The binary: exit codes, reports, secrets.
mod cli;
// Shared helpers: start the reference server on an ephemeral port, call it.
mod util;
// The reference server's runtime API: operations, errors, paging, isolation, concurrency.
mod server_runtime;
// The reference server's tables API: operations, errors, filters, group, search, isolation.
mod server_tables;
// The reference server's bot admin API: operations, errors, isolation, status, activity.
mod server_bots;
// What one client can hold of the server: header read timeout, in-flight bound.
mod server_limits;
// Bot definitions followed, events processed, the identity header, the "other server".
mod server_portable;
// The namespace rule, generated from the catalogue: no caller sees or touches another bot's data.
mod isolation;
// Ctrl-C on the binary mid-run: the run ends, its record and reports are kept.
mod interrupts;
// A deliberately misbehaving server on raw TCP.
mod double;
// Each check fails, with its reason, on a response that breaks it.
mod checks;
// The reference server's files API: uploads, status, content URLs, search, limits.
mod server_files;
// The runner against the embedded server: the scenarios in scenarios/ pass.
mod runner_suite;
// The suite on a conformant server that is not the reference one, and on a remote serve.
mod portable;
// `bpharness fuzz`: green on the faithful server, seeded, a served fault caught with its curl line.
mod fuzz;
// selftest: every fault of the reference server is caught by the suite; README's table.
mod selftest;
// Capture, schema inference and drift.
mod drift;
// `bpharness load`: tiny runs, counts, the report schema, rate limits, thresholds, merges.
mod load;
