//! Reports shared by the writers' tests: a rich one with every optional field present
//! (failures, warnings, a poll trace, leaks, coverage) and a minimal one.

use std::collections::BTreeSet;

use serde_json::json;

use super::model::*;

fn exchange(method: &str, url: &str, status: u16, body: &str) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: method.into(),
            url: url.into(),
            headers: vec![
                ("authorization".into(), "Bearer ***".into()),
                ("x-bot-id".into(), "bot_1".into()),
            ],
            body: Some(r#"{"name":"<script>alert(1)</script>"}"#.into()),
        },
        response: Some(RecordedResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            truncated: true,
            elapsed_ms: 12.5,
        }),
        error: Some("connection reset after headers".into()),
        curl: format!("curl -X {method} '{url}' -H 'authorization: Bearer ***'"),
    }
}

fn check(id: &str, outcome: CheckOutcome, message: &str) -> CheckResult {
    CheckResult {
        check: id.into(),
        outcome,
        message: message.into(),
        diff: Vec::new(),
    }
}

fn step(name: &str, outcome: Outcome) -> StepResult {
    StepResult {
        name: name.into(),
        section: Section::Steps,
        kind: StepKind::Request,
        line: 7,
        column: 5,
        operation: Some("createUser".into()),
        outcome,
        duration_ms: 40.0,
        checks: vec![check("status", CheckOutcome::Pass, "status 201")],
        exchanges: Vec::new(),
        requests: 1,
        trace: Vec::new(),
        skip: None,
    }
}

/// A run with one failing, one passing and one skipped scenario.
pub(crate) fn rich() -> RunReport {
    let mut failed = step("create user", Outcome::Failed);
    failed.checks = vec![
        CheckResult {
            check: "status".into(),
            outcome: CheckOutcome::Fail,
            message: "expected status 201, got 400".into(),
            diff: vec![DiffEntry {
                path: "status".into(),
                expected: Some(json!(201)),
                actual: Some(json!(400)),
                message: "status differs".into(),
            }],
        },
        CheckResult {
            check: "schema".into(),
            outcome: CheckOutcome::Fail,
            message: "body does not match responses/createUser.json".into(),
            diff: vec![
                DiffEntry {
                    path: "/user/id".into(),
                    expected: Some(json!("string")),
                    actual: Some(json!(42)),
                    message: "42 is not of type \"string\"".into(),
                },
                DiffEntry {
                    path: "/user/name".into(),
                    expected: None,
                    actual: None,
                    message: "required property missing".into(),
                },
            ],
        },
        check("unknown-field", CheckOutcome::Warn, "extra field /user/nickname"),
    ];
    failed.exchanges = vec![
        exchange("POST", "http://127.0.0.1:3000/v1/chat/users", 500, "{}"),
        exchange(
            "POST",
            "http://127.0.0.1:3000/v1/chat/users?a=1&b=<2>",
            400,
            r#"{"message":"<script>alert('x')</script>"}"#,
        ),
    ];
    failed.requests = 2;

    let mut poll = step("wait for reply", Outcome::Passed);
    poll.kind = StepKind::Poll;
    poll.operation = None;
    poll.trace = vec!["pending".into(), "done".into()];
    let mut get = exchange("GET", "http://127.0.0.1:3000/v1/chat/messages/m_1", 200, "{}");
    get.request.body = None;
    get.error = None;
    poll.exchanges = vec![get];
    poll.requests = 3;

    let mut teardown = step("delete user", Outcome::Skipped);
    teardown.section = Section::Teardown;
    teardown.kind = StepKind::Cleanup;
    teardown.line = 0;
    teardown.column = 0;
    teardown.checks = Vec::new();
    teardown.requests = 0;

    let mut paginate = step("list users", Outcome::Passed);
    paginate.section = Section::Setup;
    paginate.kind = StepKind::Paginate;

    let users = ScenarioResult {
        name: "users <script>alert(1)</script>".into(),
        file: "scenarios/smoke/users.yaml".into(),
        tags: vec!["smoke".into(), "users".into()],
        outcome: Outcome::Failed,
        duration_ms: 120.0,
        steps: vec![paginate, failed, teardown],
    };
    let conversations = ScenarioResult {
        name: "conversations".into(),
        file: "scenarios/smoke/conversations.yaml".into(),
        tags: Vec::new(),
        outcome: Outcome::Passed,
        duration_ms: 80.0,
        steps: vec![poll],
    };
    let skipped = ScenarioResult {
        name: "files".into(),
        file: "scenarios/contract/files.yaml".into(),
        tags: vec!["contract".into()],
        outcome: Outcome::Skipped,
        duration_ms: 0.0,
        steps: vec![
            StepResult {
                checks: Vec::new(),
                requests: 0,
                skip: Some(Skip {
                    kind: SkipKind::Requirement,
                    reason: "requires reference-storage: not the reference server (grant with --capability)".into(),
                }),
                ..step("storage errors are JSON", Outcome::Skipped)
            },
            StepResult {
                checks: Vec::new(),
                requests: 0,
                skip: Some(Skip {
                    kind: SkipKind::Blocked,
                    reason: "blocked: needs file_id from \"storage errors are JSON\"".into(),
                }),
                ..step("read the file", Outcome::Skipped)
            },
        ],
    };

    RunReport {
        format_version: FORMAT_VERSION,
        tool: "bpharness 0.1.0".into(),
        target: "http://127.0.0.1:3000".into(),
        embedded: true,
        capabilities: vec!["ranking".into(), "workspace".into()],
        missing_capabilities: [(
            "reference-storage".to_string(),
            "not the reference server (grant with --capability)".to_string(),
        )]
        .into(),
        strict: false,
        faults: vec!["latency=50ms".into()],
        started_at: "2025-01-02T03:04:05Z".into(),
        duration_ms: 1234.0,
        outcome: Outcome::Failed,
        summary: Summary {
            scenarios: 3,
            scenarios_passed: 1,
            scenarios_failed: 1,
            scenarios_skipped: 1,
            steps: 6,
            steps_failed: 1,
            steps_skipped: 1,
            steps_blocked: 1,
            skipped_by_reason: [
                ("requires reference-storage".to_string(), 1),
                ("blocked by an earlier step".to_string(), 1),
            ]
            .into(),
            rate_limit_retries: 2,
            rate_limit_wait_ms: 2000.0,
            checks: 5,
            checks_failed: 2,
            warnings: 1,
            requests: 6,
            operations_covered: 1,
            operations_total: 60,
        },
        scenarios: vec![users, conversations, skipped],
        coverage: vec![
            CoverageRow {
                operation: "createUser".into(),
                area: "chat".into(),
                method: "POST".into(),
                path: "/v1/chat/users".into(),
                requests: 3,
                statuses: BTreeSet::from([201, 400, 500]),
                error_types: BTreeSet::from(["InvalidPayload".to_string()]),
            },
            CoverageRow {
                operation: "getUser".into(),
                area: "chat".into(),
                method: "GET".into(),
                path: "/v1/chat/users/{id}".into(),
                requests: 0,
                statuses: BTreeSet::new(),
                error_types: BTreeSet::new(),
            },
            CoverageRow {
                operation: "listUsers".into(),
                area: "chat".into(),
                method: "GET".into(),
                path: "/v1/chat/users".into(),
                requests: 0,
                statuses: BTreeSet::new(),
                error_types: BTreeSet::new(),
            },
        ],
        leaks: vec![Leak {
            scenario: "users".into(),
            method: "DELETE".into(),
            path: "/v1/chat/users/user_1".into(),
            reason: "status 500".into(),
        }],
    }
}

/// A run of nothing: every optional field absent, every list empty.
pub(crate) fn minimal() -> RunReport {
    RunReport {
        format_version: FORMAT_VERSION,
        tool: "bpharness 0.1.0".into(),
        target: "http://127.0.0.1:3000".into(),
        embedded: false,
        capabilities: Vec::new(),
        missing_capabilities: Default::default(),
        strict: true,
        faults: Vec::new(),
        started_at: "2025-01-02T03:04:05+01:00".into(),
        duration_ms: 0.0,
        outcome: Outcome::Passed,
        summary: Summary {
            operations_total: 60,
            ..Summary::default()
        },
        scenarios: Vec::new(),
        coverage: Vec::new(),
        leaks: Vec::new(),
    }
}
