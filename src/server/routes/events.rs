//! Events: create (optionally scheduled), get, list.
//!
//! An event is `pending` (or `scheduled` until its time, then `pending`) and is done
//! `ServerConfig::event_delay` after it became pending: `processed` when the bot declares
//! its type, `ignored` when it does not (`bots::definition`). `failureReason` stays null:
//! the reference server runs no handler that could fail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::bots::event_declared;
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::index::Narrow;
use crate::server::paging::Direction;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotData, Event};

use super::listing::respond_walk;
use super::reply::{self, PathIds};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schedule {
    date_time: Option<String>,
    delay: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateEvent {
    #[serde(rename = "type")]
    kind: String,
    payload: Value,
    schedule: Option<Schedule>,
    conversation_id: Option<String>,
    user_id: Option<String>,
    workflow_id: Option<String>,
    message_id: Option<String>,
}

const LISTED_STATUSES: [&str; 5] = ["pending", "ignored", "processed", "failed", "scheduled"];

pub async fn create(State(state): State<AppState>, BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CreateEvent = body.parse("createEvent")?;
    let now = Timestamp::now();
    let due = match &body.schedule {
        None => None,
        Some(Schedule {
            date_time: Some(at), ..
        }) => Some(Timestamp::parse(at).ok_or_else(|| {
            ApiError::invalid_payload(format!("body.schedule.dateTime: {at:?} is not an ISO 8601 date"))
        })?),
        Some(Schedule { delay: Some(ms), .. }) => {
            // A float cast saturates; the sum can still pass the last representable date.
            let delay = chrono::Duration::try_milliseconds(ms.max(0.0) as i64);
            let due = delay.and_then(|delay| now.0.checked_add_signed(delay)).ok_or_else(|| {
                ApiError::invalid_payload(format!("body.schedule.delay: {ms} ms is too far in the future"))
            })?;
            Some(Timestamp(due))
        }
        Some(_) => Some(Timestamp(
            now.0 + chrono::Duration::from_std(state.config().default_schedule_delay).unwrap_or_default(),
        )),
    };
    let outcome = if event_declared(&bot, &body.kind) {
        "processed"
    } else {
        "ignored"
    };
    let done_at = state.event_done(due.unwrap_or(now));
    let mut data = bot.data.write().expect("bot data poisoned");
    if let Some(id) = &body.conversation_id
        && !data.conversations.contains_key(id)
    {
        return Err(ApiError::reference_not_found("conversation", "conversationId", id));
    }
    if let Some(id) = &body.user_id
        && !data.users.contains_key(id)
    {
        return Err(ApiError::reference_not_found("user", "userId", id));
    }
    if let Some(id) = &body.message_id
        && !data.messages.contains_key(id)
    {
        return Err(ApiError::reference_not_found("message", "messageId", id));
    }
    let event = Event {
        id: new_id("evt"),
        created_at: now,
        kind: body.kind,
        payload: body.payload,
        conversation_id: body.conversation_id,
        user_id: body.user_id,
        message_id: body.message_id,
        status: if due.is_some() { "scheduled" } else { "pending" }.into(),
        failure_reason: None,
        workflow_id: body.workflow_id,
        due,
        done_at,
        outcome,
        seq: state.store().next_seq(),
    };
    data.unsettled.insert(event.id.clone());
    for gone in data.events.insert(event.clone(), state.config().max_records) {
        data.unsettled.remove(&gone.id);
    }
    Ok(reply::one(StatusCode::CREATED, "event", &event))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    let now = Timestamp::now();
    data.events
        .update(ids.get(0), |event| {
            event.settle(now);
            reply::one(StatusCode::OK, "event", event)
        })
        .ok_or_else(|| ApiError::not_found("event", ids.get(0)))
}

pub async fn list(State(state): State<AppState>, BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let status = q.choice("status", &LISTED_STATUSES)?;
    let filters = [
        ("conversationId", q.get("conversationId")),
        ("userId", q.get("userId")),
        ("messageId", q.get("messageId")),
        ("workflowId", q.get("workflowId")),
        ("type", q.get("type")),
    ];
    let now = Timestamp::now();
    let mut data = bot.data.write().expect("bot data poisoned");
    settle_all(&mut data, now);
    let data = &*data;
    let mut narrow = Narrow::default();
    for (field, wanted) in &filters {
        if let Some(v) = wanted {
            narrow.fields.push((field, v));
        }
    }
    respond_walk(&state, &bot.id, "listEvents", &q, "events", |after| {
        Box::new(
            data.events
                .scan(&narrow, Direction::Desc, after)
                .filter(move |e| status.is_none_or(|s| e.status == s))
                .filter(move |e| {
                    filters.iter().all(|(field, wanted)| {
                        let Some(wanted) = wanted else { return true };
                        let actual = match *field {
                            "conversationId" => e.conversation_id.as_deref(),
                            "userId" => e.user_id.as_deref(),
                            "messageId" => e.message_id.as_deref(),
                            "workflowId" => e.workflow_id.as_deref(),
                            _ => Some(e.kind.as_str()),
                        };
                        actual == Some(*wanted)
                    })
                })
                .map(|e| ((e.created_at.millis(), e.seq), e)),
        )
    })
}

/// Moves on every event not yet in a final status; those that reach one leave the set.
fn settle_all(data: &mut BotData, now: Timestamp) {
    let ids: Vec<String> = data.unsettled.iter().cloned().collect();
    for id in ids {
        let settled = data.events.update(&id, |e| {
            e.settle(now);
            !matches!(e.status.as_str(), "scheduled" | "pending")
        });
        if settled != Some(false) {
            data.unsettled.remove(&id);
        }
    }
}
