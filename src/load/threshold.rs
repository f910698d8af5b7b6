//! Thresholds: `p99<250ms`, `error_rate<1%`, `rate_limited<5%`, `contract_failures=0`,
//! overall or for one operation (`getUser:p99<10ms`). A run whose thresholds do not all
//! hold exits with `exit::THRESHOLD_BREACHED`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::report::{LoadReport, OpReport};

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency percentile (0–100), in microseconds.
    Percentile(f64),
    /// The largest latency, in microseconds.
    Max,
    /// Failed requests, as a percent of all.
    ErrorRate,
    /// 429 answers, as a percent of all requests.
    RateLimited,
    /// Responses that broke their contract (count).
    ContractFailures,
    /// Failed requests (count).
    Failures,
    /// Requests sent (count).
    Requests,
    /// Requests per second over the run.
    Throughput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Cmp {
    fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Cmp::Lt => actual < limit,
            Cmp::Le => actual <= limit,
            Cmp::Gt => actual > limit,
            Cmp::Ge => actual >= limit,
            Cmp::Eq => (actual - limit).abs() < 1e-9,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "=",
        }
    }
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// `None`: the whole run.
    pub operation: Option<String>,
    pub metric: Metric,
    pub cmp: Cmp,
    /// In the metric's unit: microseconds, percent, count or requests per second.
    pub limit: f64,
}

impl Threshold {
    /// Whether `other` is the same rule, however it is written (`p99<250ms`, `p99 < 0.25s`).
    pub fn same_rule(&self, other: &Threshold) -> bool {
        self.operation == other.operation
            && self.metric == other.metric
            && self.cmp == other.cmp
            && (self.limit - other.limit).abs() < 1e-9
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a threshold fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub threshold: String,
    /// The measured value, in the threshold's unit (µs for latencies, % for rates).
    pub actual: Option<f64>,
    pub passed: bool,
    pub message: String,
}

const METRICS: &str =
    "p50, p90, p99, p99.9 (any pNN), max, error_rate, rate_limited, contract_failures, failures, requests, throughput";

/// Parses `[operation:]metric<op>value`.
pub fn parse_threshold(text: &str) -> Result<Threshold, String> {
    let trimmed = text.trim();
    let position = trimmed
        .find(['<', '>', '='])
        .ok_or_else(|| format!("invalid threshold {text:?}: expected metric<value, such as p99<250ms"))?;
    let (left, right) = trimmed.split_at(position);
    let (cmp, value) = if let Some(v) = right.strip_prefix("<=") {
        (Cmp::Le, v)
    } else if let Some(v) = right.strip_prefix(">=") {
        (Cmp::Ge, v)
    } else if let Some(v) = right.strip_prefix("==") {
        (Cmp::Eq, v)
    } else if let Some(v) = right.strip_prefix('<') {
        (Cmp::Lt, v)
    } else if let Some(v) = right.strip_prefix('>') {
        (Cmp::Gt, v)
    } else {
        (Cmp::Eq, &right[1..])
    };
    let (operation, metric_name) = match left.rsplit_once(':') {
        Some((op, m)) if !op.trim().is_empty() => (Some(op.trim().to_string()), m.trim()),
        Some(_) => return Err(format!("invalid threshold {text:?}: the operation before ':' is empty")),
        None => (None, left.trim()),
    };
    let metric = match metric_name {
        "max" => Metric::Max,
        "error_rate" => Metric::ErrorRate,
        "rate_limited" => Metric::RateLimited,
        "contract_failures" => Metric::ContractFailures,
        "failures" => Metric::Failures,
        "requests" => Metric::Requests,
        "throughput" | "rps" => Metric::Throughput,
        p if p.starts_with('p') => {
            let q: f64 = p[1..]
                .parse()
                .map_err(|_| format!("invalid threshold {text:?}: unknown metric {p:?}; known: {METRICS}"))?;
            if !(q > 0.0 && q <= 100.0) {
                return Err(format!(
                    "invalid threshold {text:?}: a percentile is above 0 and at most 100"
                ));
            }
            Metric::Percentile(q)
        }
        "" => return Err(format!("invalid threshold {text:?}: no metric before {}", cmp.symbol())),
        other => {
            return Err(format!(
                "invalid threshold {text:?}: unknown metric {other:?}; known: {METRICS}"
            ));
        }
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("invalid threshold {text:?}: no value after {}", cmp.symbol()));
    }
    let number = |v: &str| -> Result<f64, String> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| format!("invalid threshold {text:?}: {v:?} is not a number of 0 or more"))
    };
    let limit = match metric {
        Metric::Percentile(_) | Metric::Max => {
            let (n, factor) = if let Some(n) = value.strip_suffix("us").or_else(|| value.strip_suffix("µs")) {
                (n, 1.0)
            } else if let Some(n) = value.strip_suffix("ms") {
                (n, 1_000.0)
            } else if let Some(n) = value.strip_suffix('s') {
                (n, 1_000_000.0)
            } else {
                return Err(format!(
                    "invalid threshold {text:?}: a latency needs a unit: us, ms or s (such as 250ms)"
                ));
            };
            number(n)? * factor
        }
        Metric::ErrorRate | Metric::RateLimited => {
            let n = value
                .strip_suffix('%')
                .ok_or_else(|| format!("invalid threshold {text:?}: a rate is a percentage, such as 1%"))?;
            let n = number(n)?;
            if n > 100.0 {
                return Err(format!("invalid threshold {text:?}: a percentage is at most 100%"));
            }
            n
        }
        Metric::ContractFailures | Metric::Failures | Metric::Requests => {
            let n = number(value)?;
            if n.fract() != 0.0 {
                return Err(format!("invalid threshold {text:?}: a count is a whole number"));
            }
            n
        }
        Metric::Throughput => number(value.strip_suffix("/s").unwrap_or(value))?,
    };
    Ok(Threshold {
        text: trimmed.to_string(),
        operation,
        metric,
        cmp,
        limit,
    })
}

fn measure(metric: Metric, op: &OpReport, duration_s: f64) -> Option<f64> {
    let rate = |n: u64| {
        if op.requests == 0 {
            None
        } else {
            Some(n as f64 * 100.0 / op.requests as f64)
        }
    };
    match metric {
        Metric::Percentile(q) => op.latency.as_ref().map(|h| h.value_at(q / 100.0) as f64),
        Metric::Max => op.latency.as_ref().map(|h| h.max as f64),
        Metric::ErrorRate => rate(op.failures),
        Metric::RateLimited => rate(op.rate_limited),
        Metric::ContractFailures => Some(op.contract_failures as f64),
        Metric::Failures => Some(op.failures as f64),
        Metric::Requests => Some(op.requests as f64),
        Metric::Throughput => (duration_s > 0.0).then(|| op.requests as f64 / duration_s),
    }
}

fn unit(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Percentile(_) | Metric::Max => format!("{:.3} ms", value / 1000.0),
        Metric::ErrorRate | Metric::RateLimited => format!("{value:.3}%"),
        Metric::Throughput => format!("{value:.1}/s"),
        _ => format!("{value}"),
    }
}

/// Judges `thresholds` on `report`.
pub fn evaluate(thresholds: &[Threshold], report: &LoadReport) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let op = match &t.operation {
                None => Some(&report.overall),
                Some(name) => report.operations.iter().find(|o| &o.operation == name),
            };
            let Some(op) = op else {
                return ThresholdResult {
                    threshold: t.text.clone(),
                    actual: None,
                    passed: false,
                    message: format!("no request of {} was sent", t.operation.as_deref().unwrap_or("the run")),
                };
            };
            match measure(t.metric, op, report.duration_s) {
                None => ThresholdResult {
                    threshold: t.text.clone(),
                    actual: None,
                    passed: false,
                    message: "nothing was measured".into(),
                },
                Some(actual) => {
                    let passed = t.cmp.holds(actual, t.limit);
                    ThresholdResult {
                        threshold: t.text.clone(),
                        actual: Some(actual),
                        passed,
                        message: format!(
                            "{} {} (limit {} {})",
                            if passed { "held:" } else { "breached:" },
                            unit(t.metric, actual),
                            t.cmp.symbol(),
                            unit(t.metric, t.limit)
                        ),
                    }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_written_twice_is_the_same_rule() {
        let a = parse_threshold("p99<250ms").unwrap();
        assert!(a.same_rule(&parse_threshold("p99<250ms").unwrap()));
        assert!(a.same_rule(&parse_threshold("p99<0.25s").unwrap()));
        assert!(!a.same_rule(&parse_threshold("p99<=250ms").unwrap()));
        assert!(!a.same_rule(&parse_threshold("getUser:p99<250ms").unwrap()));
    }

    #[test]
    fn parses_the_documented_forms() {
        let t = parse_threshold("p99<250ms").unwrap();
        assert_eq!(
            (t.operation.as_deref(), t.metric, t.cmp, t.limit),
            (None, Metric::Percentile(99.0), Cmp::Lt, 250_000.0)
        );
        let t = parse_threshold("error_rate<1%").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::ErrorRate, 1.0));
        let t = parse_threshold("rate_limited<5%").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::RateLimited, 5.0));
        let t = parse_threshold("contract_failures=0").unwrap();
        assert_eq!((t.metric, t.cmp, t.limit), (Metric::ContractFailures, Cmp::Eq, 0.0));
        let t = parse_threshold("getUser:p99<10ms").unwrap();
        assert_eq!((t.operation.as_deref(), t.limit), (Some("getUser"), 10_000.0));
        let t = parse_threshold("p99.9<=1s").unwrap();
        assert_eq!(
            (t.metric, t.cmp, t.limit),
            (Metric::Percentile(99.9), Cmp::Le, 1_000_000.0)
        );
        let t = parse_threshold("max < 500us").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::Max, 500.0));
        let t = parse_threshold("throughput>=100/s").unwrap();
        assert_eq!((t.metric, t.cmp, t.limit), (Metric::Throughput, Cmp::Ge, 100.0));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            ("p99", "expected metric<value"),
            ("p99<250", "needs a unit"),
            ("latency<1ms", "unknown metric \"latency\""),
            ("error_rate<1", "percentage"),
            ("error_rate<101%", "at most 100%"),
            ("contract_failures=0.5", "whole number"),
            ("p0<1ms", "above 0"),
            (":p99<1ms", "operation before ':' is empty"),
            ("<1ms", "no metric"),
            ("p99<", "no value"),
            ("p99<-1ms", "0 or more"),
        ];
        for (text, expected) in cases {
            let err = parse_threshold(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn comparisons_hold_or_not() {
        assert!(Cmp::Lt.holds(1.0, 2.0));
        assert!(!Cmp::Lt.holds(2.0, 2.0));
        assert!(Cmp::Le.holds(2.0, 2.0));
        assert!(Cmp::Eq.holds(0.0, 0.0));
        assert!(Cmp::Gt.holds(3.0, 2.0));
        assert!(Cmp::Ge.holds(2.0, 2.0));
    }
}
