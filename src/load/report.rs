//! `LoadReport`: the one serializable result of a load run (`load.json`, described by
//! `schemas/load-report.schema.json`), built from the merged recorders, and the exact
//! merge of several reports (`bpharness report merge`): counts summed, HDR histograms
//! added, the time series aligned by second.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use serde::{Deserialize, Serialize};

use super::parse::Segment;
use super::stats::{OpStats, SecondStats};
use super::threshold::ThresholdResult;

/// Version of `load.json`.
pub const LOAD_FORMAT_VERSION: u32 = 1;

/// Base64 of the V2 serialization of `h`.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory does not fail");
    STANDARD.encode(bytes)
}

/// The histogram `encode_histogram` wrote.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not deserialize: {e:?}"))
}

/// Latency figures of one operation, in microseconds, with the histogram they come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    /// Base64 of the HDR histogram's V2 serialization (microseconds, 3 significant digits).
    pub histogram: String,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Option<Latency> {
        (!h.is_empty()).then(|| Latency {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
            histogram: encode_histogram(h),
        })
    }

    /// The latency at quantile `q` (0–1), from the histogram.
    pub fn value_at(&self, q: f64) -> u64 {
        decode_histogram(&self.histogram)
            .map(|h| h.value_at_quantile(q))
            .unwrap_or(self.max)
    }
}

/// Contract failures of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractCount {
    pub count: u64,
    /// The first failure's message.
    pub example: String,
}

/// The figures of one operation, or of the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpReport {
    /// operationId, the step name for a request outside the catalogue, or `all`.
    pub operation: String,
    pub requests: u64,
    pub successes: u64,
    pub failures: u64,
    /// 429 answers (also counted in failures).
    pub rate_limited: u64,
    /// Answers that broke their contract (content type, JSON, schema, error body,
    /// assertions, a 429 without Retry-After), also counted in failures.
    pub contract_failures: u64,
    /// Failed answers by HTTP status.
    pub statuses: BTreeMap<String, u64>,
    /// Failures by error type: the API error type, `transport:<kind>` or `contract`.
    pub errors: BTreeMap<String, u64>,
    /// Contract failures by check id.
    pub contract: BTreeMap<String, ContractCount>,
    /// Requests per second over the run.
    pub throughput: f64,
    pub latency: Option<Latency>,
}

impl OpReport {
    pub fn of(operation: &str, stats: &OpStats, duration_s: f64) -> OpReport {
        OpReport {
            operation: operation.to_string(),
            requests: stats.requests,
            successes: stats.successes,
            failures: stats.failures,
            rate_limited: stats.rate_limited,
            contract_failures: stats.contract_failures,
            statuses: stats.statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            errors: stats.errors.clone(),
            contract: stats
                .contract
                .iter()
                .map(|(k, (count, example))| {
                    (
                        k.clone(),
                        ContractCount {
                            count: *count,
                            example: example.clone(),
                        },
                    )
                })
                .collect(),
            throughput: throughput(stats.requests, duration_s),
            latency: Latency::of(&stats.latency),
        }
    }
}

fn throughput(requests: u64, duration_s: f64) -> f64 {
    if duration_s > 0.0 {
        (requests as f64 / duration_s * 10.0).round() / 10.0
    } else {
        0.0
    }
}

/// One second of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondReport {
    /// Seconds since the load started.
    pub second: u64,
    /// Answers that came back in this second: the throughput.
    pub requests: u64,
    pub successes: u64,
    pub failures: u64,
    pub rate_limited: u64,
    /// Failures that broke the contract, 429s not included (absent from older reports).
    #[serde(default)]
    pub contract_failures: u64,
    /// p50 latency of the answers of this second, µs (absent from older reports).
    #[serde(default)]
    pub p50: Option<u64>,
    /// p99 latency of the answers of this second, µs.
    pub p99: Option<u64>,
    /// Base64 V2 HDR histogram of this second (2 significant digits), for exact merges.
    pub histogram: String,
}

impl SecondReport {
    pub fn of(second: u64, s: &SecondStats) -> SecondReport {
        SecondReport {
            second,
            requests: s.requests,
            successes: s.successes,
            failures: s.failures,
            rate_limited: s.rate_limited,
            contract_failures: s.contract_failures,
            p50: (!s.latency.is_empty()).then(|| s.latency.value_at_quantile(0.5)),
            p99: (!s.latency.is_empty()).then(|| s.latency.value_at_quantile(0.99)),
            histogram: encode_histogram(&s.latency),
        }
    }
}

/// The re-send of a rate-limited request after the delay its `Retry-After` named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Honesty {
    /// Requests sent to get a 429 again once the load was over.
    pub provoked_after: u64,
    /// The `Retry-After` of that 429, in seconds; `None` when it had none.
    pub retry_after_s: Option<u64>,
    /// Status of the request sent after waiting that long.
    pub status_after_wait: Option<u16>,
    pub honest: bool,
}

/// How fast the server served again once the rate dropped (the profile's tail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    pub tail_rate: f64,
    pub tail_requests: u64,
    pub tail_rate_limited: u64,
    /// From the start of the tail to the first answer after which no 429 came.
    pub recovered_after_ms: Option<f64>,
}

/// Rate-limit analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitReport {
    pub responses_429: u64,
    /// 429 answers as a percent of all requests.
    pub share: f64,
    /// The first second with a 429, and the answers per second then: where 429s begin.
    pub onset_second: Option<u64>,
    pub onset_rate: Option<f64>,
    pub with_retry_after: u64,
    pub without_retry_after: u64,
    /// Whether every 429 had a Retry-After (`None`: no 429).
    pub all_have_retry_after: Option<bool>,
    pub honesty: Option<Honesty>,
    pub recovery: Option<Recovery>,
    /// What the analysis found wrong, one sentence each.
    pub flags: Vec<String>,
}

impl RateLimitReport {
    /// Fills the figures that follow from the counts and the series, and the flags.
    pub fn derive(&mut self, requests: u64, series: &[SecondReport]) {
        self.share = if requests == 0 {
            0.0
        } else {
            (self.responses_429 as f64 * 100.0 / requests as f64 * 1000.0).round() / 1000.0
        };
        let onset = series.iter().find(|s| s.rate_limited > 0);
        self.onset_second = onset.map(|s| s.second);
        self.onset_rate = onset.map(|s| s.requests as f64);
        self.all_have_retry_after = (self.responses_429 > 0).then_some(self.without_retry_after == 0);
        self.flags.clear();
        if self.without_retry_after > 0 {
            self.flags.push(format!(
                "{} of {} 429 answers had no Retry-After header",
                self.without_retry_after, self.responses_429
            ));
        }
        if let Some(h) = &self.honesty
            && !h.honest
        {
            self.flags.push(match (h.retry_after_s, h.status_after_wait) {
                (None, _) => "the 429 provoked after the load had no Retry-After to honour".to_string(),
                (Some(s), Some(status)) => {
                    format!("a request sent {s} s after a 429, as Retry-After said, got {status}")
                }
                (Some(s), None) => format!("a request sent {s} s after a 429, as Retry-After said, got no answer"),
            });
        }
        if let Some(r) = &self.recovery
            && r.tail_requests > 0
            && r.recovered_after_ms.is_none()
        {
            self.flags.push(format!(
                "the server still answered 429 at the end of the {}/s tail",
                r.tail_rate
            ));
        }
    }
}

/// Setup under load: once per virtual user (or session) and scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupReport {
    pub runs: u64,
    pub failed: u64,
    /// The first few failures, `scenario / step: message`.
    pub errors: Vec<String>,
}

/// The workload model that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// `closed` or `open`.
    pub kind: String,
    pub users: Option<u64>,
    pub rate: Option<f64>,
    pub ramp_s: f64,
    pub duration_s: f64,
    pub requests_bound: Option<u64>,
    pub respect_retry_after: bool,
}

/// Everything a load run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub format_version: u32,
    pub tool: String,
    pub target: String,
    pub embedded: bool,
    pub profile: String,
    pub model: ModelReport,
    /// The segments this report covers: one for a run, several for a merge.
    pub segments: Vec<Segment>,
    /// The embedded server's rate limit, when it was the target.
    pub server_rate_limit: Option<String>,
    pub faults: Vec<String>,
    pub started_at: String,
    /// Seconds the load ran (the tail and the honesty probe not included).
    pub duration_s: f64,
    /// `duration`, `requests`, `interrupted` or `finished`.
    pub ended_by: String,
    pub overall: OpReport,
    pub operations: Vec<OpReport>,
    pub series: Vec<SecondReport>,
    pub rate_limit: RateLimitReport,
    pub setup: SetupReport,
    pub thresholds: Vec<ThresholdResult>,
    /// `passed` when every threshold held.
    pub outcome: String,
}

impl LoadReport {
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }
}

fn add_maps(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn add_latency(a: &Option<Latency>, b: &Option<Latency>) -> Result<Option<Latency>, String> {
    match (a, b) {
        (None, None) => Ok(None),
        (Some(x), None) | (None, Some(x)) => Ok(Some(x.clone())),
        (Some(x), Some(y)) => {
            let mut h = decode_histogram(&x.histogram)?;
            h.add(decode_histogram(&y.histogram)?)
                .map_err(|e| format!("histograms do not add: {e:?}"))?;
            Ok(Latency::of(&h))
        }
    }
}

fn merge_op(into: &mut OpReport, from: &OpReport) -> Result<(), String> {
    into.requests += from.requests;
    into.successes += from.successes;
    into.failures += from.failures;
    into.rate_limited += from.rate_limited;
    into.contract_failures += from.contract_failures;
    add_maps(&mut into.statuses, &from.statuses);
    add_maps(&mut into.errors, &from.errors);
    for (k, c) in &from.contract {
        into.contract
            .entry(k.clone())
            .or_insert_with(|| ContractCount {
                count: 0,
                example: c.example.clone(),
            })
            .count += c.count;
    }
    into.latency = add_latency(&into.latency, &from.latency)?;
    Ok(())
}

/// Combines the reports of segments of one load (or of several runs) exactly.
pub fn merge(reports: &[LoadReport]) -> Result<LoadReport, String> {
    let (first, rest) = reports.split_first().ok_or("nothing to merge")?;
    let mut out = first.clone();
    for r in rest {
        if r.format_version != out.format_version {
            return Err(format!(
                "format versions differ: {} and {}",
                out.format_version, r.format_version
            ));
        }
        out.segments.extend(r.segments.iter().copied());
        out.duration_s = out.duration_s.max(r.duration_s);
        if out.started_at > r.started_at {
            out.started_at = r.started_at.clone();
        }
        if out.ended_by != r.ended_by {
            out.ended_by = "mixed".into();
        }
        out.model.users = match (out.model.users, r.model.users) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        out.model.rate = match (out.model.rate, r.model.rate) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        out.model.requests_bound = match (out.model.requests_bound, r.model.requests_bound) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        merge_op(&mut out.overall, &r.overall)?;
        for op in &r.operations {
            match out.operations.iter_mut().find(|o| o.operation == op.operation) {
                Some(existing) => merge_op(existing, op)?,
                None => out.operations.push(op.clone()),
            }
        }
        for s in &r.series {
            match out.series.iter_mut().find(|x| x.second == s.second) {
                Some(x) => {
                    x.requests += s.requests;
                    x.successes += s.successes;
                    x.failures += s.failures;
                    x.rate_limited += s.rate_limited;
                    x.contract_failures += s.contract_failures;
                    let mut h = decode_histogram(&x.histogram)?;
                    h.add(decode_histogram(&s.histogram)?)
                        .map_err(|e| format!("histograms do not add: {e:?}"))?;
                    x.p50 = (!h.is_empty()).then(|| h.value_at_quantile(0.5));
                    x.p99 = (!h.is_empty()).then(|| h.value_at_quantile(0.99));
                    x.histogram = encode_histogram(&h);
                }
                None => out.series.push(s.clone()),
            }
        }
        out.series.sort_by_key(|s| s.second);
        let (a, b) = (&mut out.rate_limit, &r.rate_limit);
        a.responses_429 += b.responses_429;
        a.with_retry_after += b.with_retry_after;
        a.without_retry_after += b.without_retry_after;
        a.honesty = match (a.honesty.take(), &b.honesty) {
            (Some(x), Some(y)) => Some(if x.honest { y.clone() } else { x }),
            (x, y) => x.or_else(|| y.clone()),
        };
        a.recovery = match (a.recovery.take(), &b.recovery) {
            (Some(x), Some(y)) => Some(Recovery {
                tail_rate: x.tail_rate + y.tail_rate,
                tail_requests: x.tail_requests + y.tail_requests,
                tail_rate_limited: x.tail_rate_limited + y.tail_rate_limited,
                recovered_after_ms: match (x.recovered_after_ms, y.recovered_after_ms) {
                    (Some(p), Some(q)) => Some(p.max(q)),
                    _ => None,
                },
            }),
            (x, y) => x.or_else(|| y.clone()),
        };
        out.setup.runs += r.setup.runs;
        out.setup.failed += r.setup.failed;
        out.setup.errors.extend(r.setup.errors.iter().cloned());
        out.setup.errors.truncate(10);
        for f in &r.faults {
            if !out.faults.contains(f) {
                out.faults.push(f.clone());
            }
        }
    }
    let duration = out.duration_s;
    out.overall.throughput = throughput(out.overall.requests, duration);
    for op in &mut out.operations {
        op.throughput = throughput(op.requests, duration);
    }
    out.segments.sort_by_key(|s| s.index);
    let requests = out.overall.requests;
    out.rate_limit.derive(requests, &out.series);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_base64() {
        let mut h = super::super::stats::latency_histogram();
        for v in [10, 200, 3000, 40000] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.max(), h.max());
        assert!(decode_histogram("not base64!").is_err());
    }
}
