//! Rate limits honoured: a request answered 429 waits what the server asked (`Retry-After`,
//! seconds or an HTTP date) and is sent again; without `Retry-After` it backs off
//! exponentially a few times. Every wait of a run comes out of one budget
//! (`--max-retry-wait`); only an exhausted budget turns a 429 into a failure.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::http::Received;

/// Backoffs for a 429 without `Retry-After`: 0.5 s, 1 s, 2 s, 4 s, then give up.
const BACKOFF: [Duration; 4] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// The longest single wait honoured; a server asking for more is answered with a failure
/// sooner rather than a run that sleeps for an hour.
const LONGEST_WAIT: Duration = Duration::from_secs(120);

/// What the run waited for rate limits, and how much it may still wait.
#[derive(Debug)]
pub struct RetryBudget {
    max: Duration,
    state: Mutex<Waited>,
}

/// Waits so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Waited {
    /// 429 answers that were waited out and sent again.
    pub retries: u64,
    pub total: Duration,
    /// 429 answers given up on (budget spent or too many tries).
    pub exhausted: u64,
}

/// What to do about one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not rate limited: keep it.
    Keep,
    /// Wait this long, then send again.
    Retry(Duration),
    /// Rate limited and no more waiting: fail with this reason.
    GiveUp(String),
}

impl RetryBudget {
    #[must_use]
    pub fn new(max: Duration) -> Self {
        RetryBudget {
            max,
            state: Mutex::new(Waited::default()),
        }
    }

    #[must_use]
    pub fn waited(&self) -> Waited {
        *self.state.lock().expect("retry budget poisoned")
    }

    /// Decides about `got`, the answer to the `attempt`-th send (0-based) of one request,
    /// and books the wait when there is one.
    pub fn decide(&self, got: &Received, attempt: usize) -> Verdict {
        if got.status != 429 {
            return Verdict::Keep;
        }
        let asked = got.header("retry-after").map(str::trim).filter(|v| !v.is_empty());
        let wait = match asked {
            Some(value) => match retry_after(value, SystemTime::now()) {
                Some(wait) if wait <= LONGEST_WAIT => wait,
                Some(wait) => {
                    return self.give_up(format!(
                        "rate limited: Retry-After asks for {} s, more than the {} s honoured",
                        wait.as_secs(),
                        LONGEST_WAIT.as_secs()
                    ));
                }
                None => return self.give_up(format!("rate limited with an unreadable Retry-After {value:?}")),
            },
            None => match BACKOFF.get(attempt) {
                Some(wait) => *wait,
                None => {
                    return self.give_up(format!(
                        "rate limited {} times in a row without Retry-After",
                        BACKOFF.len() + 1
                    ));
                }
            },
        };
        let mut state = self.state.lock().expect("retry budget poisoned");
        if state.total + wait > self.max {
            state.exhausted += 1;
            return Verdict::GiveUp(format!(
                "rate limited, and the run's budget for waiting (--max-retry-wait {} s) is spent: {} s waited over {} retries",
                self.max.as_secs(),
                state.total.as_secs(),
                state.retries
            ));
        }
        state.retries += 1;
        state.total += wait;
        Verdict::Retry(wait)
    }

    fn give_up(&self, reason: String) -> Verdict {
        self.state.lock().expect("retry budget poisoned").exhausted += 1;
        Verdict::GiveUp(reason)
    }
}

/// A `Retry-After` value as a wait from `now`: delta seconds, or an HTTP date (a date in
/// the past is no wait).
#[must_use]
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};
    use rstest::rstest;

    use super::*;

    fn answer(status: u16, retry: Option<&str>) -> Received {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry {
            headers.insert("retry-after", HeaderValue::from_str(v).unwrap());
        }
        Received {
            status,
            headers,
            body: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    #[rstest]
    #[case("3", Some(3))]
    #[case("0", Some(0))]
    #[case("Thu, 01 Jan 1970 00:00:10 GMT", Some(7))]
    #[case("Thu, 01 Jan 1970 00:00:01 GMT", Some(0))]
    #[case("soon", None)]
    fn retry_after_reads_seconds_and_dates(#[case] value: &str, #[case] seconds: Option<u64>) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(3);
        assert_eq!(retry_after(value, now), seconds.map(Duration::from_secs));
    }

    #[test]
    fn waits_come_out_of_one_budget() {
        let budget = RetryBudget::new(Duration::from_secs(3));
        assert_eq!(budget.decide(&answer(200, None), 0), Verdict::Keep);
        assert_eq!(
            budget.decide(&answer(429, Some("2")), 0),
            Verdict::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            budget.decide(&answer(429, Some("1")), 1),
            Verdict::Retry(Duration::from_secs(1))
        );
        assert!(
            matches!(budget.decide(&answer(429, Some("1")), 2), Verdict::GiveUp(r) if r.contains("--max-retry-wait"))
        );
        let waited = budget.waited();
        assert_eq!(
            (waited.retries, waited.total, waited.exhausted),
            (2, Duration::from_secs(3), 1)
        );
    }

    #[test]
    fn without_retry_after_it_backs_off_then_gives_up() {
        let budget = RetryBudget::new(Duration::from_secs(60));
        let waits: Vec<Verdict> = (0..5).map(|i| budget.decide(&answer(429, None), i)).collect();
        assert_eq!(waits[0], Verdict::Retry(Duration::from_millis(500)));
        assert_eq!(waits[3], Verdict::Retry(Duration::from_secs(4)));
        assert!(matches!(&waits[4], Verdict::GiveUp(r) if r.contains("without Retry-After")));
    }
}
