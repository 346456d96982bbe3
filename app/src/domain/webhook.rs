//! Notifications, with no IO: which audit events are announced and as what, what an admin types
//! to subscribe (checked per field), the messages each kind of receiver gets, and the back-off
//! between attempts.

use serde::{Deserialize, Serialize};

/// Announced events: (name, the audit action it comes from, what it means).
pub const EVENTS: &[(&str, &str, &str)] = &[
    (
        "submitted",
        "change_set.submitted",
        "a change set waits for review",
    ),
    (
        "approved",
        "change_set.approved",
        "a change set was approved",
    ),
    (
        "rejected",
        "change_set.rejected",
        "a change set was rejected",
    ),
    ("pushed", "push.succeeded", "a change set reached AWS"),
    ("push_failed", "push.failed", "a push failed"),
    (
        "drift_found",
        "drift.found",
        "AWS differs from what was approved",
    ),
    (
        "export_ready",
        "audit.exported",
        "a history export is ready",
    ),
    (
        "access_ending",
        "access.ending",
        "time-bound access ends within a day",
    ),
    (
        "access_expired",
        "access.expired",
        "time-bound access ended and was revoked",
    ),
    (
        "campaign_reminder",
        "campaign.reminder",
        "a review campaign is due soon with lines undecided",
    ),
    (
        "campaign_closed",
        "campaign.closed",
        "a review campaign closed; its revokes wait for review",
    ),
];

/// The event an audit action is announced as.
pub fn event_of(action: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|(_, a, _)| *a == action)
        .map(|(e, _, _)| *e)
}

/// The audit actions announced.
pub fn actions() -> Vec<&'static str> {
    EVENTS.iter().map(|(_, a, _)| *a).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiverKind {
    /// JSON signed with HMAC-SHA256 over `timestamp.body`.
    Generic,
    /// A Slack incoming webhook (`{"text": …}`).
    Slack,
    /// A Microsoft Teams workflow webhook (an Adaptive Card).
    Teams,
}

impl ReceiverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Generic => "generic",
            ReceiverKind::Slack => "slack",
            ReceiverKind::Teams => "teams",
        }
    }

    pub fn parse(text: &str) -> Option<ReceiverKind> {
        [
            ReceiverKind::Generic,
            ReceiverKind::Slack,
            ReceiverKind::Teams,
        ]
        .into_iter()
        .find(|k| k.as_str() == text.trim())
    }
}

/// A subscription as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRequest {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub events: Vec<String>,
    /// API ids, separated by commas or spaces (empty: every API).
    pub apis: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedSubscription {
    pub name: String,
    pub kind: ReceiverKind,
    pub url: String,
    pub events: Vec<String>,
    pub api_ids: Vec<String>,
}

impl SubscriptionRequest {
    /// Each wrong field with why. `allow_http`: plain http receivers (a local demo, tests).
    pub fn check(
        &self,
        allow_http: bool,
    ) -> Result<CheckedSubscription, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 80 {
            errors.push((
                "name",
                "Name it (at most 80 characters): where do messages go?".to_string(),
            ));
        }
        let kind = ReceiverKind::parse(&self.kind);
        if kind.is_none() {
            errors.push(("kind", "Choose generic JSON, Slack or Teams.".to_string()));
        }
        let url = self.url.trim().to_string();
        let scheme_ok = url.starts_with("https://") || (allow_http && url.starts_with("http://"));
        let host_ok = url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace));
        if !scheme_ok || !host_ok || url.len() > 2000 {
            errors.push((
                "url",
                if allow_http {
                    "An http:// or https:// address of the receiver.".to_string()
                } else {
                    "An https:// address of the receiver (plain http would expose the messages)."
                        .to_string()
                },
            ));
        }
        let mut events = Vec::new();
        for e in &self.events {
            match EVENTS.iter().find(|(n, _, _)| *n == e.trim()) {
                Some((n, _, _)) if !events.contains(&n.to_string()) => events.push(n.to_string()),
                Some(_) => {}
                None => errors.push(("events", format!("`{}` is not an event.", e.trim()))),
            }
        }
        if self.events.is_empty() {
            errors.push(("events", "Choose at least one event.".to_string()));
        }
        let api_ids: Vec<String> = self
            .apis
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(bad) = api_ids.iter().find(|a| {
            a.len() > 64
                || !a
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }) {
            errors.push(("apis", format!("`{bad}` is not an API id.")));
        }
        match (errors.is_empty(), kind) {
            (true, Some(kind)) => Ok(CheckedSubscription {
                name,
                kind,
                url,
                events,
                api_ids,
            }),
            _ => Err(errors),
        }
    }
}

/// The wait before attempt `attempts + 1`: `base` doubled per failed attempt, at most an hour.
pub fn retry_after(base: std::time::Duration, attempts: u32) -> std::time::Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    base.saturating_mul(factor)
        .min(std::time::Duration::from_secs(3600))
}

/// What a receiver of `kind` is sent for a delivery whose generic payload is `payload` (its
/// `summary` and `url` say it in a sentence and a link).
pub fn body_for(kind: ReceiverKind, payload: &serde_json::Value) -> serde_json::Value {
    let summary = payload["summary"].as_str().unwrap_or("Gatehouse event");
    let url = payload["url"].as_str().unwrap_or("");
    match kind {
        ReceiverKind::Generic => payload.clone(),
        ReceiverKind::Slack => serde_json::json!({
            "text": if url.is_empty() { summary.to_string() } else { format!("{summary} <{url}|Open in Gatehouse>") },
        }),
        ReceiverKind::Teams => serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": summary, "wrap": true}],
                    "actions": if url.is_empty() { serde_json::json!([]) } else {
                        serde_json::json!([{"type": "Action.OpenUrl", "title": "Open in Gatehouse", "url": url}])
                    },
                }
            }]
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request() -> SubscriptionRequest {
        SubscriptionRequest {
            name: "Reviewers channel".into(),
            kind: "slack".into(),
            url: "https://hooks.slack.com/services/T/B/X".into(),
            events: vec!["submitted".into(), "approved".into(), "submitted".into()],
            apis: "a1b2c3, d4e5f6".into(),
        }
    }

    #[test]
    fn a_good_subscription_is_checked_once() {
        let s = request().check(false).unwrap();
        assert_eq!(s.kind, ReceiverKind::Slack);
        assert_eq!(s.events, ["submitted", "approved"]);
        assert_eq!(s.api_ids, ["a1b2c3", "d4e5f6"]);
    }

    #[test]
    fn every_wrong_field_is_named() {
        let bad = SubscriptionRequest {
            name: String::new(),
            kind: "email".into(),
            url: "http://example.com/hook".into(),
            events: vec!["merged".into()],
            apis: "a b/c".into(),
        };
        let fields: Vec<&str> = bad
            .check(false)
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, ["name", "kind", "url", "events", "apis"]);
        // Plain http only where allowed; an address needs a host.
        let mut local = request();
        local.url = "http://127.0.0.1:9000/hook".into();
        assert!(local.check(true).is_ok());
        local.url = "https:///hook".into();
        assert!(local.check(true).is_err());
        let mut none = request();
        none.events.clear();
        assert!(none.check(false).is_err());
    }

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(retry_after(base, 1), Duration::from_secs(5));
        assert_eq!(retry_after(base, 2), Duration::from_secs(10));
        assert_eq!(retry_after(base, 4), Duration::from_secs(40));
        assert_eq!(retry_after(base, 30), Duration::from_secs(3600));
    }

    #[test]
    fn events_come_from_audit_actions() {
        assert_eq!(event_of("change_set.approved"), Some("approved"));
        assert_eq!(event_of("push.failed"), Some("push_failed"));
        assert_eq!(event_of("change_set.edited"), None);
        assert_eq!(actions().len(), EVENTS.len());
    }

    #[test]
    fn each_receiver_gets_its_own_format() {
        let payload = serde_json::json!({"event": "approved", "summary": "Change set 4 approved", "url": "https://gh/change-sets/4"});
        assert_eq!(body_for(ReceiverKind::Generic, &payload), payload);
        assert_eq!(
            body_for(ReceiverKind::Slack, &payload)["text"],
            "Change set 4 approved <https://gh/change-sets/4|Open in Gatehouse>"
        );
        let teams = body_for(ReceiverKind::Teams, &payload);
        let card = &teams["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["text"], "Change set 4 approved");
        assert_eq!(card["actions"][0]["url"], "https://gh/change-sets/4");
    }
}
