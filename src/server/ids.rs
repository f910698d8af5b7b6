//! Identifiers and timestamps in the shapes the API uses.

use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
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
        // Written on the stack: every answer carries timestamps, and chrono's formatter
        // allocates. Years of other widths and leap seconds (never made here) go to chrono.
        let t = self.0.naive_utc();
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let mut text = *b"0000-00-00T00:00:00.000Z";
        for (at, width, value) in [
            (0, 4, year as u32),
            (5, 2, t.month()),
            (8, 2, t.day()),
            (11, 2, t.hour()),
            (14, 2, t.minute()),
            (17, 2, t.second()),
            (20, 3, nanos / 1_000_000),
        ] {
            let mut value = value;
            for digit in text[at..at + width].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        f.write_str(std::str::from_utf8(&text).expect("digits and separators are ascii"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        for text in [
            "2025-01-01T00:00:00.000Z",
            "1999-12-31T23:59:59.999Z",
            "2026-07-04T09:05:03.040Z",
            "0001-02-03T04:05:06.007Z",
        ] {
            let t = Timestamp::parse(text).expect("valid");
            assert_eq!(t.to_string(), text);
            assert_eq!(t.to_string(), t.0.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let now = Timestamp::now();
        assert_eq!(now.to_string(), now.0.to_rfc3339_opts(SecondsFormat::Millis, true));
    }
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
