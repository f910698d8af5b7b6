//! getBotAnalytics records, counted from the bot's own store.
//!
//! One record per UTC calendar day that meets the requested range `[startDate, endDate)`
//! (end exclusive, as the docs page says); each record counts its whole day:
//! - `newUsers`: users created that day;
//! - `returningUsers`: users created before that day who wrote a message that day;
//! - `sessions`: conversations with at least one message that day;
//! - `userMessages` (and the deprecated `messages`, same count): incoming messages;
//!   `botMessages`: outgoing messages;
//! - `events`, `eventTypes`: events created that day, in all and by type;
//!   `customEvents`: those whose type the bot declares in its `events`;
//! - `llm`: zeros, the reference server calls no model.
//!
//! Deleted records no longer count: the figures are what the store holds now.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::server::ids::Timestamp;
use crate::server::store::BotData;

/// Most records one request may ask for.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub start_date_time_utc: String,
    pub end_date_time_utc: String,
    pub returning_users: u64,
    pub new_users: u64,
    pub sessions: u64,
    pub messages: u64,
    pub user_messages: u64,
    pub bot_messages: u64,
    pub events: u64,
    pub event_types: BTreeMap<String, u64>,
    pub custom_events: BTreeMap<String, u64>,
    pub llm: Value,
}

fn zero_llm() -> Value {
    let stats = json!({ "mean": 0, "sd": 0, "min": 0, "max": 0 });
    json!({
        "calls": 0,
        "errors": 0,
        "inputTokens": 0,
        "outputTokens": 0,
        "latency": stats,
        "tokensPerSecond": stats,
        "cost": { "sum": 0, "mean": 0, "sd": 0, "min": 0, "max": 0 },
    })
}

fn midnight(day: NaiveDate) -> Timestamp {
    Timestamp(DateTime::<Utc>::from_naive_utc_and_offset(
        day.and_time(NaiveTime::MIN),
        Utc,
    ))
}

/// The days `[start, end)` meets, first to last; empty when `end <= start`.
pub fn days(start: Timestamp, end: Timestamp) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut day = start.0.date_naive();
    while midnight(day) < end && end > start {
        out.push(day);
        day += Duration::days(1);
    }
    out
}

/// The records of `days` (consecutive, as `days()` gives them).
pub fn records(data: &BotData, declared_events: &BTreeSet<&str>, days: &[NaiveDate]) -> Vec<Record> {
    let Some(first) = days.first().copied() else {
        return Vec::new();
    };
    let index = |t: Timestamp| -> Option<usize> {
        let offset = (t.0.date_naive() - first).num_days();
        usize::try_from(offset).ok().filter(|i| *i < days.len())
    };
    let mut out: Vec<Record> = days
        .iter()
        .map(|day| Record {
            start_date_time_utc: midnight(*day).to_string(),
            end_date_time_utc: midnight(*day + Duration::days(1)).to_string(),
            llm: zero_llm(),
            ..Record::default()
        })
        .collect();
    let mut writers: Vec<HashSet<&str>> = vec![HashSet::new(); days.len()];
    let mut sessions: Vec<HashSet<&str>> = vec![HashSet::new(); days.len()];
    for user in data.users.values() {
        if let Some(i) = index(user.created_at) {
            out[i].new_users += 1;
        }
    }
    for m in data.messages.values() {
        let Some(i) = index(m.created_at) else { continue };
        sessions[i].insert(&m.conversation_id);
        if m.direction == "incoming" {
            out[i].user_messages += 1;
            writers[i].insert(&m.user_id);
        } else {
            out[i].bot_messages += 1;
        }
    }
    for e in data.events.values() {
        let Some(i) = index(e.created_at) else { continue };
        out[i].events += 1;
        *out[i].event_types.entry(e.kind.clone()).or_default() += 1;
        if declared_events.contains(e.kind.as_str()) {
            *out[i].custom_events.entry(e.kind.clone()).or_default() += 1;
        }
    }
    for (i, record) in out.iter_mut().enumerate() {
        let day_start = midnight(days[i]);
        record.messages = record.user_messages;
        record.sessions = sessions[i].len() as u64;
        record.returning_users = writers[i]
            .iter()
            .filter(|u| data.users.get(u).is_some_and(|u| u.created_at < day_start))
            .count() as u64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn days_meet_the_half_open_range() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            days(at("2025-01-01T10:00:00Z"), at("2025-01-01T11:00:00Z")),
            [d("2025-01-01")]
        );
        assert_eq!(
            days(at("2025-01-01T00:00:00Z"), at("2025-01-03T00:00:00Z")),
            [d("2025-01-01"), d("2025-01-02")]
        );
        assert!(days(at("2025-01-02T00:00:00Z"), at("2025-01-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn empty_days_have_every_field() {
        let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let r = records(&BotData::default(), &BTreeSet::new(), &[day]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].start_date_time_utc, "2025-01-01T00:00:00.000Z");
        assert_eq!(r[0].end_date_time_utc, "2025-01-02T00:00:00.000Z");
        assert_eq!(r[0].llm["cost"]["sum"], 0);
    }
}
