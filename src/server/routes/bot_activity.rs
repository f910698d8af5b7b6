//! What happened to a bot (admin API): getBotLogs, getBotAnalytics, listBotIssues,
//! deleteBotIssue, listBotIssueEvents. The data comes from the journal and the
//! bot's store, never from canned examples.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use crate::server::auth::WorkspaceCtx;
use crate::server::bots::{IssueEvent, LogLine, MAX_DAYS, days, records};
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::Timestamp;
use crate::server::paging::{Binding, Direction};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::BotData;

use super::bots::bot_in;
use super::listing::respond;
use super::reply::{self, PathIds};

/// getBotLogs pages with a top-level `nextToken` and no `meta`.
#[derive(Serialize)]
struct LogsPage {
    logs: Vec<LogLine>,
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn logs(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
    q: QueryParams,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let start = q
        .timestamp("timeStart")?
        .ok_or_else(|| ApiError::invalid_query("timeStart is required"))?;
    let end = q.timestamp("timeEnd")?;
    let level = q.get("level");
    let same = |wanted: Option<&str>, actual: &Option<String>| wanted.is_none_or(|w| actual.as_deref() == Some(w));
    let items = bot
        .activity
        .lock()
        .expect("bot activity poisoned")
        .logs
        .iter()
        .filter(|l| l.timestamp >= start && end.is_none_or(|e| l.timestamp <= e))
        .filter(|l| level.is_none_or(|v| l.level.eq_ignore_ascii_case(v)))
        .filter(|l| same(q.get("userId"), &l.user_id))
        .filter(|l| same(q.get("conversationId"), &l.conversation_id))
        .filter(|l| same(q.get("workflowId"), &l.workflow_id))
        .filter(|l| {
            q.get("messageContains")
                .is_none_or(|m| l.message.to_string().contains(m))
        })
        .map(|l| ((l.timestamp.millis(), l.seq), l.clone()))
        .collect();
    let fingerprint = q.fingerprint();
    let binding = Binding {
        bot: &bot.id,
        operation: "getBotLogs",
        fingerprint: &fingerprint,
    };
    let (logs, next_token) = state
        .pager()
        .page(&binding, q.get("nextToken"), Direction::Desc, items)?;
    Ok(reply::ok(&LogsPage { logs, next_token }))
}

/// An analytics bound: an ISO 8601 date-time, or a plain date (midnight UTC).
fn bound(q: &QueryParams, key: &str) -> ApiResult<Timestamp> {
    let text = q
        .get(key)
        .ok_or_else(|| ApiError::invalid_query(format!("{key} is required")))?;
    Timestamp::parse(text)
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| Timestamp(d.and_time(chrono::NaiveTime::MIN).and_utc()))
        })
        .ok_or_else(|| ApiError::invalid_query(format!("{key} must be an ISO 8601 date, got {text:?}")))
}

#[derive(Serialize)]
struct Analytics {
    records: Vec<crate::server::bots::AnalyticsRecord>,
}

pub async fn analytics(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
    q: QueryParams,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let (start, end) = (bound(&q, "startDate")?, bound(&q, "endDate")?);
    if end <= start {
        return Err(ApiError::invalid_query("endDate must be after startDate"));
    }
    let days = days(start, end);
    if days.len() as i64 > MAX_DAYS {
        return Err(ApiError::invalid_query(format!(
            "at most {MAX_DAYS} days per request, asked for {}",
            days.len()
        )));
    }
    let declared: BTreeSet<String> = bot
        .record
        .read()
        .expect("bot record poisoned")
        .events
        .keys()
        .cloned()
        .collect();
    let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
    let records = if state.variant().records_activity() {
        let data = bot.data.read().expect("bot data poisoned");
        records(&data, &declared, &days)
    } else {
        // The other server counts what bot code reports, and no bot code runs: all zero.
        records(&BotData::default(), &declared, &days)
    };
    Ok(reply::ok(&Analytics { records }))
}

pub async fn list_issues(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
    q: QueryParams,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let items = bot
        .activity
        .lock()
        .expect("bot activity poisoned")
        .issues
        .iter()
        .map(|i| ((i.created_at.millis(), i.seq), i.clone()))
        .collect();
    respond(&state, &bot.id, "listBotIssues", &q, Direction::Desc, "issues", items)
}

pub async fn delete_issue(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let issue = ids.get(1);
    if !bot.activity.lock().expect("bot activity poisoned").remove_issue(issue) {
        return Err(ApiError::not_found("issue", issue));
    }
    Ok(reply::empty())
}

#[derive(Serialize)]
struct IssueEvents {
    #[serde(rename = "issueEvents")]
    issue_events: Vec<IssueEvent>,
}

/// Every event of the issue, newest first, in one answer.
pub async fn list_issue_events(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let activity = bot.activity.lock().expect("bot activity poisoned");
    let issue = activity
        .issue(ids.get(1))
        .ok_or_else(|| ApiError::not_found("issue", ids.get(1)))?;
    let mut issue_events = issue.events.clone();
    drop(activity);
    issue_events.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.seq)));
    Ok(reply::ok(&IssueEvents { issue_events }))
}
