//! Identifiers and timestamps in the shapes the API uses.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::{Serialize, Serializer};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A resource id: `prefix_` and a 26-character ULID (time-ordered, then random), so every
/// chat id is 28 to 36 characters long as the schemas require.
pub fn new_id(prefix: &str) -> String {
    let millis = Utc::now().timestamp_millis().max(0) as u128;
    let random: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
    let mut value = (millis << 80) | random;
    let mut ulid = [0u8; 26];
    for slot in ulid.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    let mut id = String::with_capacity(prefix.len() + 27);
    id.push_str(prefix);
    id.push('_');
    id.push_str(std::str::from_utf8(&ulid).expect("crockford alphabet is ascii"));
    id
}

/// An error occurrence id: `err_` + UTC `YYYYMMDDHHMMSS` + `x` + 8 uppercase hex digits.
pub fn new_error_id() -> String {
    let stamp = Utc::now().format("%Y%m%d%H%M%S");
    let random: u32 = rand::rng().random();
    format!("err_{stamp}x{random:08X}")
}

/// A point in time, serialized as ISO 8601 UTC with milliseconds (`2025-01-01T12:00:00.000Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now())
    }

    /// Now, but strictly later than `previous`: an update always moves `updatedAt`, even
    /// within the millisecond of the write before it.
    pub fn after(previous: Timestamp) -> Self {
        let now = Utc::now();
        let floor = previous.0 + chrono::Duration::milliseconds(1);
        Timestamp(if now >= floor { now } else { floor })
    }

    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    pub fn parse(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Timestamp(t.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_length() {
        for prefix in ["user", "conv", "msg", "evt", "state", "bot"] {
            let id = new_id(prefix);
            assert!((28..=36).contains(&id.len()), "{id}");
            assert!(id.starts_with(&format!("{prefix}_")));
        }
    }

    #[test]
    fn error_ids_match_the_wire_pattern() {
        let re = regex::Regex::new(r"^err_[0-9]{14}x[0-9A-F]{8}$").unwrap();
        for _ in 0..100 {
            let id = new_error_id();
            assert!(re.is_match(&id), "{id}");
        }
    }

    #[test]
    fn after_is_strictly_later() {
        let t = Timestamp::now();
        let later = Timestamp(t.0 + chrono::Duration::seconds(5));
        assert!(Timestamp::after(later) > later);
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap().millis(), t.millis());
    }
}
