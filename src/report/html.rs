//! The HTML report: one self-contained file (inline CSS from `html/style.css`, no script,
//! nothing fetched). The header gives target, outcome and counts; failures come first with
//! everything needed to understand them (location, checks, diff, request, response, curl);
//! then every scenario, collapsed; then leaks and coverage. Every value taken from the
//! report is HTML-escaped.

use std::fmt;
use std::io::{self, Write};

use serde_json::Value;

use super::model::{CheckOutcome, CheckResult, Exchange, Outcome, RunReport, ScenarioResult, StepResult};
use super::text::{location, plural, step_label};

const STYLE: &str = include_str!("html/style.css");

/// Writes `report` as a single self-contained HTML page.
pub fn write_html(w: &mut impl Write, report: &RunReport) -> io::Result<()> {
    let w: &mut dyn Write = w;
    writeln!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        w,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(w, "<title>bpharness report: {}</title>", Esc(&report.target))?;
    writeln!(w, "<style>\n{STYLE}</style>\n</head>\n<body>")?;
    header(w, report)?;
    writeln!(w, "<main>")?;
    failures(w, report)?;
    leaks(w, report)?;
    scenarios(w, report)?;
    coverage(w, report)?;
    writeln!(w, "</main>")?;
    writeln!(
        w,
        "<footer>{}, report format {}</footer>\n</body>\n</html>",
        Esc(&report.tool),
        report.format_version
    )
}

/// Displays a string with `& < > " '` escaped, for text and attribute values alike.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

fn outcome_class(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Passed => ("passed", "PASS"),
        Outcome::Failed => ("failed", "FAIL"),
        Outcome::Skipped => ("skipped", "SKIP"),
    }
}

fn badge(outcome: Outcome) -> String {
    let (class, text) = outcome_class(outcome);
    format!("<span class=\"badge {class}\">{text}</span>")
}

fn header(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    let s = &report.summary;
    let (class, _) = outcome_class(report.outcome);
    writeln!(w, "<header>\n<h1>bpharness report</h1>")?;
    writeln!(w, "<p class=\"outcome\">{} run {class}</p>", badge(report.outcome))?;
    writeln!(w, "<dl class=\"meta\">")?;
    let mut target = Esc(&report.target).to_string();
    if report.embedded {
        target.push_str(" (embedded reference server)");
    }
    let rows = [
        ("target", target),
        ("started", Esc(&report.started_at).to_string()),
        ("duration", format!("{:.0} ms", report.duration_ms)),
        ("strict", report.strict.to_string()),
    ];
    for (name, value) in rows {
        writeln!(w, "<dt>{name}</dt><dd>{value}</dd>")?;
    }
    if !report.faults.is_empty() {
        let faults: Vec<String> = report.faults.iter().map(|f| Esc(f).to_string()).collect();
        writeln!(w, "<dt>faults</dt><dd>{}</dd>", faults.join(", "))?;
    }
    let capabilities: Vec<String> = report.capabilities.iter().map(|c| Esc(c).to_string()).collect();
    let capabilities = if capabilities.is_empty() {
        "none beyond the docs".to_string()
    } else {
        capabilities.join(", ")
    };
    writeln!(w, "<dt>capabilities</dt><dd>{capabilities}</dd>")?;
    for (name, why) in &report.missing_capabilities {
        writeln!(w, "<dt>lacks {}</dt><dd>{}</dd>", Esc(name), Esc(why))?;
    }
    writeln!(w, "</dl>\n<ul class=\"counts\">")?;
    let counts = [
        format!("<li>{} passed</li>", s.scenarios_passed),
        format!("<li>{} failed</li>", s.scenarios_failed),
        format!("<li>{} skipped</li>", s.scenarios_skipped),
        format!(
            "<li>{} steps ({} failed, {} skipped, {} blocked)</li>",
            s.steps, s.steps_failed, s.steps_skipped, s.steps_blocked
        ),
        format!("<li>{} checks ({} failed)</li>", s.checks, s.checks_failed),
        format!("<li>{}</li>", plural(s.warnings, "warning")),
        format!("<li>{}</li>", plural(s.requests, "request")),
        format!(
            "<li>covered {} of {} operations</li>",
            s.operations_covered, s.operations_total
        ),
    ];
    writeln!(w, "{}\n</ul>", counts.concat())?;
    if !s.skipped_by_reason.is_empty() {
        writeln!(
            w,
            "<h2>Skipped and blocked steps, by reason</h2>\n<table class=\"skips\">"
        )?;
        for (reason, n) in &s.skipped_by_reason {
            writeln!(w, "<tr><td>{n}</td><td>{}</td></tr>", Esc(reason))?;
        }
        writeln!(w, "</table>")?;
    }
    if s.rate_limit_retries > 0 {
        writeln!(
            w,
            "<p>Rate limited: {} waited out and sent again, {:.1} s of waiting.</p>",
            plural(s.rate_limit_retries, "answer"),
            s.rate_limit_wait_ms / 1000.0
        )?;
    }
    writeln!(w, "</header>")
}

fn failures(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    let failed: Vec<(&ScenarioResult, &StepResult)> = report
        .scenarios
        .iter()
        .flat_map(|sc| sc.steps.iter().map(move |st| (sc, st)))
        .filter(|(_, st)| st.outcome == Outcome::Failed)
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    writeln!(w, "<section id=\"failures\">\n<h2>Failures ({})</h2>", failed.len())?;
    for (scenario, step) in failed {
        writeln!(w, "<article class=\"failure\">")?;
        writeln!(
            w,
            "<h3>{} &rsaquo; {}</h3>\n<p class=\"loc\">{}</p>",
            Esc(&scenario.name),
            Esc(&step_label(step)),
            Esc(&location(&scenario.file, step))
        )?;
        step_body(w, step, true)?;
        writeln!(w, "</article>")?;
    }
    writeln!(w, "</section>")
}

fn leaks(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    if report.leaks.is_empty() {
        return Ok(());
    }
    writeln!(w, "<section id=\"leaks\">\n<h2>Leaks ({})</h2>", report.leaks.len())?;
    writeln!(
        w,
        "<table>\n<tr><th>scenario</th><th>method</th><th>path</th><th>reason</th></tr>"
    )?;
    for leak in &report.leaks {
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            Esc(&leak.scenario),
            Esc(&leak.method),
            Esc(&leak.path),
            Esc(&leak.reason)
        )?;
    }
    writeln!(w, "</table>\n</section>")
}

fn scenarios(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    writeln!(
        w,
        "<section id=\"scenarios\">\n<h2>Scenarios ({})</h2>",
        report.scenarios.len()
    )?;
    for scenario in &report.scenarios {
        writeln!(
            w,
            "<details class=\"scenario\"><summary>{} {} <span class=\"muted\">{} &middot; {:.0} ms</span></summary>",
            badge(scenario.outcome),
            Esc(&scenario.name),
            Esc(&scenario.file),
            scenario.duration_ms
        )?;
        writeln!(w, "<div class=\"body\">")?;
        if !scenario.tags.is_empty() {
            writeln!(w, "<p class=\"muted\">tags: {}</p>", Esc(&scenario.tags.join(", ")))?;
        }
        for step in &scenario.steps {
            let operation = step.operation.as_deref().map(|o| format!(" &middot; {}", Esc(o)));
            writeln!(
                w,
                "<details class=\"step\"><summary>{} {} <span class=\"muted\">{}{} &middot; {} requests &middot; {:.0} ms</span></summary>",
                badge(step.outcome),
                Esc(&step_label(step)),
                Esc(&location(&scenario.file, step)),
                operation.unwrap_or_default(),
                step.requests,
                step.duration_ms
            )?;
            writeln!(w, "<div class=\"body\">")?;
            step_body(w, step, false)?;
            writeln!(w, "</div></details>")?;
        }
        writeln!(w, "</div></details>")?;
    }
    writeln!(w, "</section>")
}

/// A step's checks (only the failed ones for the failures section), poll trace and exchanges.
fn step_body(w: &mut dyn Write, step: &StepResult, only_failed: bool) -> io::Result<()> {
    if let Some(skip) = &step.skip {
        writeln!(w, "<p class=\"skip\">{}</p>", Esc(&skip.reason))?;
    }
    let checks: Vec<&CheckResult> = step
        .checks
        .iter()
        .filter(|c| !only_failed || c.outcome == CheckOutcome::Fail)
        .collect();
    if !checks.is_empty() {
        writeln!(w, "<h4>Checks</h4>\n<ul class=\"checks\">")?;
        for check in &checks {
            let (class, text) = match check.outcome {
                CheckOutcome::Pass => ("pass", "PASS"),
                CheckOutcome::Fail => ("fail", "FAIL"),
                CheckOutcome::Warn => ("warn", "WARN"),
            };
            writeln!(
                w,
                "<li><span class=\"badge {class}\">{text}</span> <code>[{}]</code> {}</li>",
                Esc(&check.check),
                Esc(&check.message)
            )?;
        }
        writeln!(w, "</ul>")?;
    }
    let diffs: Vec<_> = checks.iter().flat_map(|c| c.diff.iter().map(move |d| (c, d))).collect();
    if !diffs.is_empty() {
        writeln!(
            w,
            "<h4>Diff</h4>\n<table class=\"diff\">\n<tr><th>check</th><th>at</th><th>expected</th><th>got</th><th>message</th></tr>"
        )?;
        for (check, entry) in diffs {
            writeln!(
                w,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                Esc(&check.check),
                Esc(&entry.path),
                Esc(&json_or_blank(entry.expected.as_ref())),
                Esc(&json_or_blank(entry.actual.as_ref())),
                Esc(&entry.message)
            )?;
        }
        writeln!(w, "</table>")?;
    }
    if !step.trace.is_empty() {
        writeln!(
            w,
            "<h4>Poll trace</h4>\n<p><code>{}</code></p>",
            Esc(&step.trace.join(" → "))
        )?;
    }
    for (i, exchange) in step.exchanges.iter().enumerate() {
        if step.exchanges.len() > 1 {
            writeln!(w, "<h4>Exchange {} of {}</h4>", i + 1, step.exchanges.len())?;
        }
        write_exchange(w, exchange)?;
    }
    Ok(())
}

fn write_exchange(w: &mut dyn Write, exchange: &Exchange) -> io::Result<()> {
    let request = &exchange.request;
    write!(
        w,
        "<h4>Request</h4>\n<pre>{} {}\n{}",
        Esc(&request.method),
        Esc(&request.url),
        Esc(&headers(&request.headers))
    )?;
    if let Some(body) = &request.body {
        write!(w, "\n{}", Esc(&pretty(body)))?;
    }
    writeln!(w, "</pre>")?;
    if let Some(response) = &exchange.response {
        writeln!(
            w,
            "<h4>Response</h4>\n<pre>{} &middot; {:.0} ms\n{}\n{}{}</pre>",
            response.status,
            response.elapsed_ms,
            Esc(&headers(&response.headers)),
            Esc(&pretty(&response.body)),
            if response.truncated { "\n… (truncated)" } else { "" }
        )?;
    }
    if let Some(error) = &exchange.error {
        writeln!(w, "<h4>Error</h4>\n<pre>{}</pre>", Esc(error))?;
    }
    writeln!(w, "<h4>curl</h4>\n<pre>{}</pre>", Esc(&exchange.curl))
}

/// A diff value as compact JSON; an empty cell when absent.
fn json_or_blank(value: Option<&Value>) -> String {
    value.map(Value::to_string).unwrap_or_default()
}

fn headers(headers: &[(String, String)]) -> String {
    headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

/// A JSON body indented for reading; anything else (or cut JSON) as it came.
fn pretty(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(value) if value.is_object() || value.is_array() => {
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_string())
        }
        _ => body.to_string(),
    }
}

fn coverage(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        w,
        "<section id=\"coverage\">\n<h2>Coverage</h2>\n<p>covered {} of {} operations</p>",
        s.operations_covered, s.operations_total
    )?;
    if report.coverage.is_empty() {
        return writeln!(w, "</section>");
    }
    writeln!(
        w,
        "<table>\n<tr><th>operation</th><th>area</th><th>method</th><th>path</th><th class=\"num\">requests</th><th>statuses</th><th>error types</th></tr>"
    )?;
    for row in &report.coverage {
        let statuses: Vec<String> = row.statuses.iter().map(u16::to_string).collect();
        let errors: Vec<&str> = row.error_types.iter().map(String::as_str).collect();
        writeln!(
            w,
            "<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            if row.requests == 0 { " class=\"uncovered\"" } else { "" },
            Esc(&row.operation),
            Esc(&row.area),
            Esc(&row.method),
            Esc(&row.path),
            row.requests,
            statuses.join(", "),
            Esc(&errors.join(", "))
        )?;
    }
    writeln!(w, "</table>\n</section>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn render(report: &RunReport) -> String {
        let mut out = Vec::new();
        write_html(&mut out, report).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every string in the report that may hold a URL, as the page shows it.
    fn data_urls(report: &RunReport) -> Vec<String> {
        let mut urls = vec![report.target.clone()];
        for exchange in report
            .scenarios
            .iter()
            .flat_map(|s| &s.steps)
            .flat_map(|s| &s.exchanges)
        {
            urls.push(exchange.request.url.clone());
            urls.push(exchange.curl.clone());
        }
        urls.iter().map(|u| Esc(u).to_string()).collect()
    }

    #[test]
    fn nothing_is_fetched_from_elsewhere() {
        let report = sample::rich();
        let mut html = render(&report);
        for url in data_urls(&report) {
            html = html.replace(&url, "");
        }
        assert!(!html.contains("http://") && !html.contains("https://"), "{html}");
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"));
        assert!(!html.contains("src="));
    }

    #[test]
    fn report_values_are_escaped() {
        let html = render(&sample::rich());
        assert!(!html.contains("<script"));
        assert!(html.contains("users &lt;script&gt;alert(1)&lt;/script&gt;"));
        // The response body, pretty-printed, then escaped.
        assert!(html.contains("&quot;message&quot;: &quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;"));
        assert!(html.contains("POST http://127.0.0.1:3000/v1/chat/users?a=1&amp;b=&lt;2&gt;"));
    }

    #[test]
    fn failures_come_first_with_everything_needed() {
        let html = render(&sample::rich());
        let failures = html.find("<section id=\"failures\">").unwrap();
        let scenarios = html.find("<section id=\"scenarios\">").unwrap();
        let coverage = html.find("<section id=\"coverage\">").unwrap();
        assert!(html.find("<header>").unwrap() < failures && failures < scenarios && scenarios < coverage);
        let section = &html[failures..scenarios];
        for needle in [
            "Failures (1)",
            "steps: create user",
            "scenarios/smoke/users.yaml:7:5",
            "[status]</code> expected status 201, got 400",
            "<td><code>/user/id</code></td><td><code>&quot;string&quot;</code></td><td><code>42</code></td>",
            "Exchange 2 of 2",
            "authorization: Bearer ***",
            "400 &middot; 12 ms",
            "content-type: application/json",
            "(truncated)",
            "connection reset after headers",
            "curl -X POST",
        ] {
            assert!(section.contains(needle), "missing {needle}");
        }
        // Only failed checks there; the warning shows in the scenario's own section.
        assert!(!section.contains("unknown-field"));
        assert!(html[scenarios..].contains("unknown-field"));
    }

    #[test]
    fn header_and_collapsed_sections() {
        let html = render(&sample::rich());
        assert!(html.contains("<title>bpharness report: http://127.0.0.1:3000</title>"));
        assert!(html.contains("<span class=\"badge failed\">FAIL</span> run failed"));
        assert!(html.contains("<li>1 passed</li><li>1 failed</li><li>1 skipped</li>"));
        assert_eq!(html.matches("<details class=\"scenario\">").count(), 3);
        assert!(!html.contains("<details open"));
        assert!(html.contains("pending → done"));
        assert!(html.contains("<li>1 warning</li><li>6 requests</li>"));
        assert!(html.contains(
            "<pre>GET http://127.0.0.1:3000/v1/chat/messages/m_1\nauthorization: Bearer ***\nx-bot-id: bot_1\n</pre>"
        ));
        assert!(html.contains("<td><code>/user/name</code></td><td><code></code></td><td><code></code></td>"));
        assert!(html.contains("<tr class=\"uncovered\"><td><code>getUser</code>"));
        assert!(html.contains("<td class=\"num\">3</td><td>201, 400, 500</td><td>InvalidPayload</td>"));
        assert!(html.contains("<h2>Leaks (1)</h2>"));
    }

    #[test]
    fn an_empty_run_still_makes_a_page() {
        let html = render(&sample::minimal());
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        assert!(!html.contains("id=\"failures\"") && !html.contains("id=\"leaks\""));
        assert!(html.contains("covered 0 of 60 operations"));
    }

    #[test]
    fn escaping_covers_every_special_character() {
        assert_eq!(Esc("a&b<c>d\"e'f").to_string(), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    }
}
