//! Recording under load: each lane (a virtual user, or a session of the open model) counts
//! its own answers per operation into its own µs HDR histograms, with no lock on the hot
//! path; seconds of the time series go to one shared table as each second closes. Lanes
//! are merged with `Histogram::add` at the end.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hdrhistogram::Histogram;

/// Latencies up to an hour are kept apart; longer ones count as an hour.
const HIGHEST_US: u64 = 3_600_000_000;

/// A histogram of latencies in microseconds, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid histogram bounds")
}

/// The cheaper histogram of one second of the time series, 2 significant digits.
pub fn series_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 2).expect("valid histogram bounds")
}

/// What one request came to.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `None`: no answer (transport error).
    pub status: Option<u16>,
    /// The expected status and every check passed.
    pub success: bool,
    pub rate_limited: bool,
    /// Why it failed: the API error type, or `transport:<kind>`, or `contract`.
    pub error: Option<String>,
    /// Failed checks other than the status: (check id, message).
    pub contract: Vec<(String, String)>,
    pub latency_us: u64,
}

/// The four outcomes an answer is counted under, each answer under exactly one: the
/// stacks of load.html and the `outcome` label of `bpharness_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ok = 0,
    RateLimited = 1,
    Failed = 2,
    ContractFailure = 3,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Ok, Kind::RateLimited, Kind::Failed, Kind::ContractFailure];

    pub fn of(outcome: &Outcome) -> Kind {
        if outcome.success {
            Kind::Ok
        } else if outcome.rate_limited {
            Kind::RateLimited
        } else if !outcome.contract.is_empty() {
            Kind::ContractFailure
        } else {
            Kind::Failed
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Ok => "ok",
            Kind::RateLimited => "rate_limited",
            Kind::Failed => "failed",
            Kind::ContractFailure => "contract_failure",
        }
    }
}

/// Counts of one operation.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Answers by `Kind`.
    pub kinds: [u64; 4],
    pub requests: u64,
    pub successes: u64,
    pub failures: u64,
    pub rate_limited: u64,
    pub contract_failures: u64,
    /// Failed answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Failures by error type.
    pub errors: BTreeMap<String, u64>,
    /// Contract failures by check, with the first message seen.
    pub contract: BTreeMap<String, (u64, String)>,
    pub latency: Histogram<u64>,
}

impl Default for OpStats {
    fn default() -> Self {
        OpStats {
            kinds: [0; 4],
            requests: 0,
            successes: 0,
            failures: 0,
            rate_limited: 0,
            contract_failures: 0,
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            contract: BTreeMap::new(),
            latency: latency_histogram(),
        }
    }
}

impl OpStats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.requests += 1;
        self.kinds[Kind::of(outcome) as usize] += 1;
        self.latency.saturating_record(outcome.latency_us.max(1));
        if outcome.rate_limited {
            self.rate_limited += 1;
        }
        if outcome.success {
            self.successes += 1;
            return;
        }
        self.failures += 1;
        if let Some(status) = outcome.status {
            *self.statuses.entry(status).or_default() += 1;
        }
        if let Some(error) = &outcome.error {
            *self.errors.entry(error.clone()).or_default() += 1;
        }
        if !outcome.contract.is_empty() {
            self.contract_failures += 1;
            for (check, message) in &outcome.contract {
                self.contract
                    .entry(check.clone())
                    .or_insert_with(|| (0, message.clone()))
                    .0 += 1;
            }
        }
    }

    pub fn merge(&mut self, other: &OpStats) {
        for (mine, theirs) in self.kinds.iter_mut().zip(other.kinds) {
            *mine += theirs;
        }
        self.requests += other.requests;
        self.successes += other.successes;
        self.failures += other.failures;
        self.rate_limited += other.rate_limited;
        self.contract_failures += other.contract_failures;
        for (k, v) in &other.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        for (k, (n, example)) in &other.contract {
            self.contract.entry(k.clone()).or_insert_with(|| (0, example.clone())).0 += n;
        }
        self.latency
            .add(&other.latency)
            .expect("histograms of the same bounds add up");
    }
}

/// One second of the time series.
#[derive(Debug, Clone)]
pub struct SecondStats {
    pub requests: u64,
    pub successes: u64,
    pub failures: u64,
    pub rate_limited: u64,
    /// Failures that broke the contract (not 429s).
    pub contract_failures: u64,
    pub latency: Histogram<u64>,
}

impl Default for SecondStats {
    fn default() -> Self {
        SecondStats {
            requests: 0,
            successes: 0,
            failures: 0,
            rate_limited: 0,
            contract_failures: 0,
            latency: series_histogram(),
        }
    }
}

impl SecondStats {
    fn record(&mut self, outcome: &Outcome) {
        self.requests += 1;
        if outcome.success {
            self.successes += 1;
        } else {
            self.failures += 1;
        }
        if outcome.rate_limited {
            self.rate_limited += 1;
        }
        if Kind::of(outcome) == Kind::ContractFailure {
            self.contract_failures += 1;
        }
        self.latency.saturating_record(outcome.latency_us.max(1));
    }

    pub fn merge(&mut self, other: &SecondStats) {
        self.requests += other.requests;
        self.successes += other.successes;
        self.failures += other.failures;
        self.rate_limited += other.rate_limited;
        self.contract_failures += other.contract_failures;
        self.latency
            .add(&other.latency)
            .expect("histograms of the same bounds add up");
    }
}

/// The time series of a run: one entry per second since the start.
#[derive(Debug, Default)]
pub struct Series {
    seconds: Mutex<Vec<SecondStats>>,
}

impl Series {
    fn absorb(&self, second: usize, stats: &SecondStats) {
        let mut seconds = self.seconds.lock().expect("series poisoned");
        if seconds.len() <= second {
            seconds.resize_with(second + 1, SecondStats::default);
        }
        seconds[second].merge(stats);
    }

    pub fn take(&self) -> Vec<SecondStats> {
        std::mem::take(&mut *self.seconds.lock().expect("series poisoned"))
    }
}

/// The recorder of one lane.
#[derive(Debug)]
pub struct Recorder {
    pub ops: Vec<OpStats>,
    second: usize,
    current: SecondStats,
}

impl Recorder {
    pub fn new(operations: usize) -> Recorder {
        Recorder {
            ops: (0..operations).map(|_| OpStats::default()).collect(),
            second: 0,
            current: SecondStats::default(),
        }
    }

    /// Counts `outcome` for operation `op`, in second `second` of the run.
    pub fn record(&mut self, op: usize, second: usize, outcome: &Outcome, series: &Series) {
        self.ops[op].record(outcome);
        if second != self.second {
            self.flush(series);
            self.second = second;
        }
        self.current.record(outcome);
    }

    /// Hands the second under way to the shared series.
    pub fn flush(&mut self, series: &Series) {
        if self.current.requests > 0 {
            series.absorb(self.second, &self.current);
            self.current = SecondStats::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(success: bool, status: u16, latency_us: u64) -> Outcome {
        Outcome {
            status: Some(status),
            success,
            rate_limited: status == 429,
            error: (!success).then(|| "RateLimited".to_string()),
            contract: Vec::new(),
            latency_us,
        }
    }

    #[test]
    fn lanes_merge_into_exact_sums() {
        let series = Series::default();
        let mut a = Recorder::new(1);
        let mut b = Recorder::new(1);
        a.record(0, 0, &outcome(true, 200, 100), &series);
        a.record(0, 1, &outcome(false, 429, 200), &series);
        b.record(0, 1, &outcome(true, 200, 300), &series);
        a.flush(&series);
        b.flush(&series);
        let mut total = OpStats::default();
        total.merge(&a.ops[0]);
        total.merge(&b.ops[0]);
        assert_eq!(
            (total.requests, total.successes, total.failures, total.rate_limited),
            (3, 2, 1, 1)
        );
        assert_eq!(total.latency.len(), 3);
        assert_eq!(total.statuses[&429], 1);
        let seconds = series.take();
        assert_eq!(seconds.len(), 2);
        assert_eq!(
            (seconds[0].requests, seconds[1].requests, seconds[1].rate_limited),
            (1, 2, 1)
        );
    }
}
