//! Bots made for one run. Against a target given a token and a workspace but no bot id,
//! the run creates its own bots with createBot (one for `bot_id`, and one for
//! `other_bot_id` when that is not given either), waits until they are `active`, runs the
//! scenarios with them and deletes them at the end, so a run never writes into a bot
//! somebody else uses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::report::Leak;

use super::http::{Http, Outgoing, encode_component};

/// How long a new bot may take to deploy before the run goes on without waiting.
const DEPLOY_WAIT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where and as whom the bots are made.
pub struct Admin<'a> {
    pub http: &'a Http,
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

    async fn create(&self, name: &str, run_id: &str) -> Result<String, String> {
        let body = json!({ "name": name, "tags": { "bpharness": run_id } });
        let got = self
            .http
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
            if let Ok(got) = self.http.send(&self.request("GET", &path, None)).await
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
    pub async fn create_bots(&self, run_id: &str, count: usize) -> Result<Provisioned, String> {
        let mut ids = Vec::new();
        for n in 1..=count {
            match self.create(&format!("bpharness-{run_id}-{n}"), run_id).await {
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
            let reason = match self.http.send(&self.request("DELETE", &path, Some(json!({})))).await {
                Ok(got) if (200..300).contains(&got.status) || got.status == 404 => continue,
                Ok(got) => format!("status {}", got.status),
                Err(e) => e.to_string(),
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
}

/// The bots a run made.
pub struct Provisioned {
    pub ids: Vec<String>,
    /// Those not yet `active` when the wait ran out.
    pub inactive: Vec<String>,
}
