//! Rate limiting: one token bucket per bearer token, checked by the front door for every
//! route, after the bearer token (so only known tokens spend from a bucket). A request that finds its
//! bucket empty is answered 429 `RateLimited` with a `Retry-After` that is honest: after
//! that many whole seconds (rounded up) the bucket holds a token again, so a request sent
//! then succeeds unless another client of the same token spent it first.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::header;

use crate::api::ErrorType;

use super::error::ApiError;

/// A sustained rate with a burst on top: `R[/s][,burst=B]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size: requests that may come at once after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    /// `per_second` with a burst of one second's worth (at least 1).
    pub fn new(per_second: f64) -> RateLimit {
        RateLimit {
            per_second,
            burst: per_second.ceil().max(1.0) as u32,
        }
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s,burst={}", self.per_second, self.burst)
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// `100`, `100/s`, `2.5/s,burst=10`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split(',');
        let rate = parts.next().unwrap_or("").trim();
        let number = rate.strip_suffix("/s").unwrap_or(rate).trim();
        let per_second: f64 = number
            .parse()
            .map_err(|_| format!("invalid rate {rate:?}: expected a number of requests per second, such as 100/s"))?;
        if !per_second.is_finite() || per_second <= 0.0 {
            return Err(format!("invalid rate {rate:?}: must be more than 0"));
        }
        let mut limit = RateLimit::new(per_second);
        for part in parts {
            let part = part.trim();
            let Some(value) = part.strip_prefix("burst=") else {
                return Err(format!("unknown rate-limit setting {part:?}: expected burst=N"));
            };
            limit.burst = value
                .trim()
                .parse()
                .ok()
                .filter(|b| *b > 0)
                .ok_or_else(|| format!("invalid burst {value:?}: expected a whole number above 0"))?;
        }
        Ok(limit)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one server.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Arc<Limiter> {
        Arc::new(Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Spends a token of `key` at `now`; `Err(seconds)` when there is none, with the whole
    /// seconds until there is one.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let burst = f64::from(self.limit.burst);
        let mut buckets = self.buckets.lock().expect("rate-limit buckets poisoned");
        let bucket = buckets
            .entry(key.to_string())
            .or_insert(Bucket { tokens: burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.limit.per_second;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

impl Limiter {
    /// Spends a token of the request's bearer token; or, when it has none left, the 429 to
    /// answer.
    pub fn admit(&self, req: &Request) -> Result<(), ApiError> {
        let key = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.take(key, Instant::now()).map_err(|seconds| {
            let mut error = ApiError::new(
                ErrorType::RateLimited,
                format!("rate limit of {} reached; retry in {seconds} s", self.limit),
            );
            error.retry_after = Some(seconds);
            error
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn parses_rates_and_bursts() {
        assert_eq!(
            "100".parse::<RateLimit>().unwrap(),
            RateLimit {
                per_second: 100.0,
                burst: 100
            }
        );
        assert_eq!(
            "2.5/s,burst=10".parse::<RateLimit>().unwrap(),
            RateLimit {
                per_second: 2.5,
                burst: 10
            }
        );
        assert_eq!("0.5/s".parse::<RateLimit>().unwrap().burst, 1);
        for bad in ["", "x/s", "0", "-1/s", "10/s,burst=0", "10/s,size=3"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_bucket_names_an_honest_wait() {
        let limiter = Limiter::new(RateLimit {
            per_second: 2.0,
            burst: 2,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.take("a", t0), Ok(()));
        assert_eq!(limiter.take("a", t0), Ok(()));
        // Empty: one token takes 0.5 s, rounded up to 1 s.
        assert_eq!(limiter.take("a", t0), Err(1));
        // Another token has its own bucket.
        assert_eq!(limiter.take("b", t0), Ok(()));
        // After the wait it named, the request goes through.
        assert_eq!(limiter.take("a", t0 + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn slow_rates_round_the_wait_up() {
        let limiter = Limiter::new(RateLimit {
            per_second: 0.25,
            burst: 1,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.take("a", t0), Ok(()));
        assert_eq!(limiter.take("a", t0 + Duration::from_millis(100)), Err(4));
        assert_eq!(limiter.take("a", t0 + Duration::from_millis(4100)), Ok(()));
    }
}
