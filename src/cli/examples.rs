//! The examples each command's `--help` ends with: two or three command lines a newcomer
//! can paste, the most common first.

pub const BPHARNESS: &str = "\
Examples:
  bpharness run
  bpharness run --target https://api.botpress.cloud --workspace-id $BP_WORKSPACE_ID
  bpharness load --users 8 --duration 30s --threshold 'p99<250ms'";

pub const RUN: &str = "\
Examples:
  bpharness run
  bpharness run --target $BP_API_URL --workspace-id $BP_WORKSPACE_ID --report-dir reports
  bpharness run my-scenarios/ --tag users --fail-fast";

pub const CAPTURE: &str = "\
Examples:
  bpharness capture --out exchanges.har
  bpharness capture --out live.har --target $BP_API_URL --workspace-id $BP_WORKSPACE_ID";

pub const SCHEMAS: &str = "\
Examples:
  bpharness schemas infer exchanges.har --out inferred/
  bpharness schemas diff schemas/ inferred/ --format markdown";

pub const SCHEMAS_INFER: &str = "\
Examples:
  bpharness schemas infer exchanges.har --out inferred/
  bpharness schemas infer a.har b.har --out inferred/";

pub const SCHEMAS_DIFF: &str = "\
Examples:
  bpharness schemas diff schemas/ inferred/
  bpharness schemas diff schemas/ inferred/ --format json > drift.json";

pub const DRIFT: &str = "\
Examples:
  bpharness drift
  bpharness drift --target $BP_API_URL --workspace-id $BP_WORKSPACE_ID --report-dir reports";

pub const LOAD: &str = "\
Examples:
  bpharness load --users 4 --duration 10s
  bpharness load --rate 500/s --ramp 5s --duration 1m --profile rate-limit-probe
  bpharness load --target $BP_API_URL --users 200 --duration 5m --segment 0/4 --report-dir out/0";

pub const REPORT: &str = "\
Examples:
  bpharness report merge out/*/load.json --out merged/
  bpharness report merge seg0/load.json seg1/load.json --out merged/";

pub const REPORT_MERGE: &str = REPORT;

pub const SCENARIOS: &str = "\
Examples:
  bpharness scenarios export my-suite/
  bpharness scenarios export my-suite/ --force";

pub const SCENARIOS_EXPORT: &str = SCENARIOS;

pub const SELFTEST: &str = "\
Examples:
  bpharness selftest
  bpharness selftest --fault user-missing-created-at --report-dir selftest-reports";

pub const SERVE: &str = "\
Examples:
  bpharness serve
  bpharness serve --listen 0.0.0.0:8080 --token dev-token --rate-limit 100/s
  bpharness serve --list-faults";

pub const FUZZ: &str = "\
Examples:
  bpharness fuzz
  bpharness fuzz --seed 7 --max-examples 50 --phases negative,coverage
  bpharness fuzz --target $BP_API_URL --workspace-id $BP_WORKSPACE_ID --time-budget 60s";

pub const SCHEMAS_OPENAPI: &str = "\
Examples:
  bpharness schemas openapi --out openapi.json
  bpharness schemas openapi > openapi.json";
