//! Bots made for one run. Against a target given a token and a workspace but no bot id,
//! the run creates its own bots with createBot (one for `bot_id`, and one for
//! `other_bot_id` when that is not given either), waits until they are `active`, runs the
//! scenarios with them and deletes them at the end, so a run never writes into a bot
//! somebody else uses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::report::Leak;
use crate::runner::{Http, Outgoing, Received, RetryBudget, Verdict, encode_component};

use super::resolve::bot_of;

/// How long a new bot may take to deploy before the run goes on without waiting.
const DEPLOY_WAIT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where and as whom the bots are made.
pub struct Admin<'a> {
    pub http: &'a Http,
    /// Rate limits are waited out here too, from the run's budget.
    pub retry: &'a RetryBudget,
    pub url: &'a str,
    pub token: &'a str,
    pub workspace: &'a str,
}

impl Admin<'_> {
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Outgoing {
        let mut headers = vec![
            ("authorization".to_string(), format!("Bearer {}", self.token)),
            ("x-workspace-id".to_string(), self.workspace.to_string()),
        ];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        Outgoing {
            method: method.into(),
            url: format!("{}{path}", self.url),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
        }
    }

    /// Sends `out`, waiting out 429s as every request of a run does.
    async fn send(&self, out: &Outgoing) -> Result<Received, String> {
        let mut attempt = 0;
        loop {
            let got = self.http.send(out).await.map_err(|e| e.to_string())?;
            match self.retry.decide(&got, attempt) {
                Verdict::Retry(wait) => tokio::time::sleep(wait).await,
                Verdict::Keep => return Ok(got),
                Verdict::GiveUp(reason) => return Err(reason),
            }
            attempt += 1;
        }
    }

    async fn create(&self, name: &str, run_id: &str, definition: &Value) -> Result<String, String> {
        let mut body = json!({ "name": name, "tags": { "bpharness": run_id } });
        if let (Value::Object(body), Value::Object(definition)) = (&mut body, definition) {
            body.extend(definition.clone());
        }
        let got = self
            .send(&self.request("POST", "/v1/admin/bots", Some(body)))
            .await
            .map_err(|e| format!("createBot failed: {e}"))?;
        let parsed: Option<Value> = serde_json::from_slice(&got.body).ok();
        let id = parsed
            .as_ref()
            .and_then(|b| b.pointer("/bot/id"))
            .and_then(Value::as_str)
            .filter(|_| (200..300).contains(&got.status));
        id.map(str::to_string).ok_or_else(|| {
            let text = String::from_utf8_lossy(&got.body);
            let excerpt: String = text.chars().take(300).collect();
            format!("createBot answered {}: {excerpt}", got.status)
        })
    }

    /// Whether the bot became `active` within the wait.
    async fn wait_active(&self, id: &str) -> bool {
        let deadline = Instant::now() + DEPLOY_WAIT;
        let path = format!("/v1/admin/bots/{}", encode_component(id));
        loop {
            if let Ok(got) = self.send(&self.request("GET", &path, None)).await
                && let Ok(body) = serde_json::from_slice::<Value>(&got.body)
                && body.pointer("/bot/status").and_then(Value::as_str) == Some("active")
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Creates `count` bots named after the run and waits for them to deploy. On failure,
    /// those already made are deleted again.
    pub async fn create_bots(&self, run_id: &str, count: usize, definition: &Value) -> Result<Provisioned, String> {
        let mut ids = Vec::new();
        for n in 1..=count {
            match self
                .create(&format!("bpharness-{run_id}-{n}"), run_id, definition)
                .await
            {
                Ok(id) => ids.push(id),
                Err(e) => {
                    self.delete_bots(&ids).await;
                    return Err(e);
                }
            }
        }
        let mut inactive = Vec::new();
        for id in &ids {
            if !self.wait_active(id).await {
                inactive.push(id.clone());
            }
        }
        Ok(Provisioned { ids, inactive })
    }

    /// Deletes `ids`; a bot already gone counts as deleted, anything else is a leak.
    pub async fn delete_bots(&self, ids: &[String]) -> Vec<Leak> {
        let mut leaks = Vec::new();
        for id in ids {
            let path = format!("/v1/admin/bots/{}", encode_component(id));
            let reason = match self.send(&self.request("DELETE", &path, Some(json!({})))).await {
                Ok(got) if (200..300).contains(&got.status) || got.status == 404 => continue,
                Ok(got) => format!("status {}", got.status),
                Err(e) => e,
            };
            leaks.push(Leak {
                scenario: "bots created for the run".into(),
                method: "DELETE".into(),
                path,
                reason,
            });
        }
        leaks
    }

    /// getBot's `bot` object.
    pub async fn get_bot(&self, id: &str) -> Result<Value, String> {
        let path = format!("/v1/admin/bots/{}", encode_component(id));
        let got = self.send(&self.request("GET", &path, None)).await?;
        match bot_of(&got.body) {
            Some(bot) if got.status == 200 => Ok(bot),
            _ => Err(format!("getBot answered {}", got.status)),
        }
    }

    /// updateBot with `body`.
    pub async fn update_bot(&self, id: &str, body: &Value) -> Result<(), String> {
        let path = format!("/v1/admin/bots/{}", encode_component(id));
        let got = self.send(&self.request("PUT", &path, Some(body.clone()))).await?;
        if (200..300).contains(&got.status) {
            Ok(())
        } else {
            let text = String::from_utf8_lossy(&got.body);
            Err(format!(
                "updateBot answered {}: {}",
                got.status,
                text.chars().take(300).collect::<String>()
            ))
        }
    }
}

/// The bots a run made.
pub struct Provisioned {
    pub ids: Vec<String>,
    /// Those not yet `active` when the wait ran out.
    pub inactive: Vec<String>,
}
