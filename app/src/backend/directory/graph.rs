//! Microsoft Graph (Entra ID): client-credentials token, group listings that follow
//! `@odata.nextLink` exactly as returned, incremental sync through `/groups/delta`, transitive
//! members, a person's groups for token overage, and patience when throttled (429/503/504:
//! `Retry-After`, else exponential back-off).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;
use url::Url;

use super::{
    DirectoryError, GroupChange, GroupRecord, GroupSink, ListingEnd, Member, MEMBER_LIMIT,
};
use crate::backend::config::Secret;

const GROUP_FIELDS: &str = "id,displayName,description,mail,securityEnabled";

#[derive(Clone, Debug)]
pub struct GraphSettings {
    /// e.g. https://graph.microsoft.com/v1.0
    pub api_url: Url,
    /// e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// Attempts per request when throttled, and the longest wait Gatehouse accepts.
    pub max_attempts: u32,
    pub max_wait: Duration,
}

pub struct GraphDirectory {
    settings: GraphSettings,
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

fn provider(message: impl Into<String>) -> DirectoryError {
    DirectoryError::Provider(message.into())
}

/// The `{"error": {"code", "message"}}` body Graph answers errors with, as one line.
fn graph_error(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error {
        Some(e) => format!(
            "{}: {}",
            e.get("code").and_then(Value::as_str).unwrap_or("unknown"),
            e.get("message").and_then(Value::as_str).unwrap_or("")
        ),
        None => body.chars().take(200).collect(),
    }
}

fn error_code(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    Some(v.get("error")?.get("code")?.as_str()?.to_string())
}

/// A field that a delta page may leave out: absent → `None`; present → `Some(value or null)`.
fn optional_text(item: &Value, key: &str) -> Option<Option<String>> {
    item.get(key).map(|v| v.as_str().map(String::from))
}

fn group_change(item: &Value) -> Option<GroupChange> {
    let id = item.get("id")?.as_str()?.to_string();
    if item.get("@removed").is_some() {
        return Some(GroupChange::Removed(id));
    }
    Some(GroupChange::Upsert(GroupRecord {
        id,
        display_name: item
            .get("displayName")
            .and_then(Value::as_str)
            .map(String::from),
        description: optional_text(item, "description"),
        mail: optional_text(item, "mail"),
        security_enabled: item.get("securityEnabled").and_then(Value::as_bool),
    }))
}

/// The wait before retrying a throttled request: `Retry-After` seconds when given, else
/// 1 s, 2 s, 4 s, … ; never longer than `max`.
pub fn retry_wait(retry_after: Option<&str>, attempt: u32, max: Duration) -> Duration {
    let wait = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(6)));
    wait.min(max)
}

enum Body {
    Get,
    Post(Value),
}

/// A non-success answer that callers may want to handle (410 on a stale delta link, result
/// size errors).
struct Refusal {
    status: reqwest::StatusCode,
    body: String,
}

impl GraphDirectory {
    pub fn new(settings: GraphSettings) -> Result<GraphDirectory, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(GraphDirectory {
            settings,
            http,
            token: Mutex::new(None),
        })
    }

    fn url(&self, path_and_query: &str) -> Result<Url, DirectoryError> {
        let base = self.settings.api_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}")).map_err(|e| provider(e.to_string()))
    }

    /// Links from Graph are followed as returned, but never to another host: the token goes
    /// with them.
    fn same_origin(&self, link: &str) -> Result<Url, DirectoryError> {
        let url = Url::parse(link).map_err(|e| provider(format!("bad link from Graph: {e}")))?;
        if url.origin() != self.settings.api_url.origin() {
            return Err(provider(format!(
                "Graph returned a link to another host ({}); not followed",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    async fn access_token(&self, renew: bool) -> Result<String, DirectoryError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if !renew && Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let response = self
            .http
            .post(self.settings.token_url.clone())
            .form(&[
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", self.settings.client_secret.expose()),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .map_err(|e| provider(format!("cannot reach the Entra ID token endpoint: {e}")))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let token = body.get("access_token").and_then(Value::as_str);
        let Some(token) = token.filter(|_| status.is_success()) else {
            let reason = body
                .get("error_description")
                .or_else(|| body.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("no access_token in the answer");
            return Err(provider(format!(
                "Entra ID refused Gatehouse's Graph credentials ({status}): {reason}"
            )));
        };
        let lifetime = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        // Renew a minute early so a token never expires mid-request.
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60));
        *cached = Some((token.to_string(), until));
        Ok(token.to_string())
    }

    /// One Graph request with throttling retries and one token renewal on 401.
    async fn request(
        &self,
        url: &Url,
        body: &Body,
    ) -> Result<Result<Value, Refusal>, DirectoryError> {
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            let token = self.access_token(false).await?;
            let builder = match body {
                Body::Get => self.http.get(url.clone()),
                Body::Post(json) => self.http.post(url.clone()).json(json),
            };
            let response = builder
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| provider(format!("cannot reach Microsoft Graph: {e}")))?;
            let status = response.status();
            if status.is_success() {
                let value = response
                    .json::<Value>()
                    .await
                    .map_err(|e| provider(format!("Graph sent a page that is not JSON: {e}")))?;
                return Ok(Ok(value));
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            let text = response.text().await.unwrap_or_default();
            let throttled = matches!(status.as_u16(), 429 | 503 | 504);
            if throttled && attempt + 1 < self.settings.max_attempts {
                let wait = retry_wait(retry_after.as_deref(), attempt, self.settings.max_wait);
                tracing::warn!(%status, ?wait, path = url.path(), "Graph is throttling; waiting");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            if status == reqwest::StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                self.access_token(true).await?;
                continue;
            }
            return Ok(Err(Refusal { status, body: text }));
        }
    }

    /// A request whose refusal is an error worded for people.
    async fn fetch(&self, url: &Url, body: Body) -> Result<Value, DirectoryError> {
        self.request(url, &body).await?.map_err(|r| {
            provider(format!(
                "Microsoft Graph answered {} to {} {}: {}",
                r.status.as_u16(),
                if matches!(body, Body::Get) {
                    "GET"
                } else {
                    "POST"
                },
                url.path(),
                graph_error(&r.body)
            ))
        })
    }

    fn next_link(&self, page: &Value) -> Result<Option<Url>, DirectoryError> {
        page.get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(|l| self.same_origin(l))
            .transpose()
    }

    fn items(page: &Value) -> &[Value] {
        page.get("value")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub async fn list_groups<S: GroupSink>(
        &self,
        delta_link: Option<&str>,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        if let Some(link) = delta_link {
            match self.delta_round(self.same_origin(link)?, sink).await? {
                Some(end) => return Ok(end),
                None => tracing::info!("Graph asked for a full resync; listing all groups"),
            }
        }
        self.full_listing(sink).await
    }

    /// Follows a delta link; `None` when Graph says the link expired (a full listing is due).
    async fn delta_round<S: GroupSink>(
        &self,
        mut url: Url,
        sink: &mut S,
    ) -> Result<Option<ListingEnd>, DirectoryError> {
        loop {
            let page = match self.request(&url, &Body::Get).await? {
                Ok(page) => page,
                Err(r) if r.status == reqwest::StatusCode::GONE => return Ok(None),
                Err(r) => {
                    return Err(provider(format!(
                        "Microsoft Graph answered {} to GET {}: {}",
                        r.status.as_u16(),
                        url.path(),
                        graph_error(&r.body)
                    )))
                }
            };
            sink.page(Self::items(&page).iter().filter_map(group_change).collect())
                .await?;
            if let Some(next) = self.next_link(&page)? {
                url = next;
                continue;
            }
            let delta = page.get("@odata.deltaLink").and_then(Value::as_str);
            return match delta {
                Some(link) => Ok(Some(ListingEnd {
                    full: false,
                    delta_link: Some(link.to_string()),
                })),
                None => Err(provider(
                    "Graph ended a delta round without an @odata.deltaLink",
                )),
            };
        }
    }

    /// Takes a delta link for "now" first, so changes made while listing are not missed, then
    /// lists every group.
    async fn full_listing<S: GroupSink>(&self, sink: &mut S) -> Result<ListingEnd, DirectoryError> {
        let latest = self.url(&format!(
            "/groups/delta?$select={GROUP_FIELDS}&$deltatoken=latest"
        ))?;
        let page = self.fetch(&latest, Body::Get).await?;
        let delta_link = page
            .get("@odata.deltaLink")
            .and_then(Value::as_str)
            .map(String::from);
        let mut url = Some(self.url(&format!("/groups?$select={GROUP_FIELDS}&$top=999"))?);
        while let Some(current) = url {
            let page = self.fetch(&current, Body::Get).await?;
            sink.page(Self::items(&page).iter().filter_map(group_change).collect())
                .await?;
            url = self.next_link(&page)?;
        }
        Ok(ListingEnd {
            full: true,
            delta_link,
        })
    }

    fn object_id(id: &str) -> Result<uuid::Uuid, DirectoryError> {
        uuid::Uuid::parse_str(id).map_err(|_| provider(format!("`{id}` is not a Graph object id")))
    }

    pub async fn transitive_members(&self, group_id: &str) -> Result<Vec<Member>, DirectoryError> {
        let id = Self::object_id(group_id)?;
        let mut url = Some(self.url(&format!(
            "/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id,displayName,userPrincipalName&$top=999"
        ))?);
        let mut members = Vec::new();
        while let Some(current) = url {
            let page = self.fetch(&current, Body::Get).await?;
            members.extend(Self::items(&page).iter().filter_map(|u| {
                Some(Member {
                    id: u.get("id")?.as_str()?.to_string(),
                    display_name: u
                        .get("displayName")
                        .and_then(Value::as_str)
                        .unwrap_or("(no name)")
                        .to_string(),
                    user_principal_name: u
                        .get("userPrincipalName")
                        .and_then(Value::as_str)
                        .map(String::from),
                })
            }));
            if members.len() >= MEMBER_LIMIT {
                break;
            }
            url = self.next_link(&page)?;
        }
        Ok(members)
    }

    /// A person's groups, transitively (for sign-in when the token's groups claim overflowed):
    /// `getMemberGroups`, and `transitiveMemberOf` when that result would be too large.
    pub async fn member_groups(&self, user_oid: &str) -> Result<Vec<String>, DirectoryError> {
        let oid = Self::object_id(user_oid)?;
        let url = self.url(&format!("/users/{oid}/getMemberGroups"))?;
        let body = Body::Post(json!({ "securityEnabledOnly": true }));
        match self.request(&url, &body).await? {
            Ok(page) => Ok(Self::items(&page)
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()),
            Err(r)
                if error_code(&r.body).as_deref() == Some("Directory_ResultSizeLimitExceeded") =>
            {
                self.transitive_member_of(oid).await
            }
            Err(r) => Err(provider(format!(
                "Microsoft Graph answered {} to POST {}: {}",
                r.status.as_u16(),
                url.path(),
                graph_error(&r.body)
            ))),
        }
    }

    async fn transitive_member_of(&self, oid: uuid::Uuid) -> Result<Vec<String>, DirectoryError> {
        let mut url = Some(self.url(&format!(
            "/users/{oid}/transitiveMemberOf/microsoft.graph.group?$select=id&$top=999"
        ))?);
        let mut ids = Vec::new();
        while let Some(current) = url {
            let page = self.fetch(&current, Body::Get).await?;
            ids.extend(
                Self::items(&page)
                    .iter()
                    .filter_map(|g| g.get("id")?.as_str().map(String::from)),
            );
            url = self.next_link(&page)?;
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_waits_what_graph_asks_else_doubles() {
        let max = Duration::from_secs(30);
        assert_eq!(retry_wait(Some("7"), 0, max), Duration::from_secs(7));
        assert_eq!(retry_wait(Some("600"), 0, max), max);
        assert_eq!(retry_wait(None, 0, max), Duration::from_secs(1));
        assert_eq!(retry_wait(None, 3, max), Duration::from_secs(8));
        assert_eq!(retry_wait(Some("soon"), 1, max), Duration::from_secs(2));
    }

    #[test]
    fn delta_items_keep_absent_fields_absent() {
        let renamed = json!({"id": "g1", "displayName": "New name"});
        let Some(GroupChange::Upsert(r)) = group_change(&renamed) else {
            panic!("not an upsert")
        };
        assert_eq!(r.display_name.as_deref(), Some("New name"));
        assert_eq!((r.description, r.mail), (None, None));
        let cleared = json!({"id": "g1", "mail": null});
        let Some(GroupChange::Upsert(r)) = group_change(&cleared) else {
            panic!("not an upsert")
        };
        assert_eq!(r.mail, Some(None));
        let removed = json!({"id": "g2", "@removed": {"reason": "deleted"}});
        assert_eq!(
            group_change(&removed),
            Some(GroupChange::Removed("g2".into()))
        );
    }

    #[test]
    fn graph_errors_read_as_one_line() {
        let body = r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges."}}"#;
        assert_eq!(
            graph_error(body),
            "Authorization_RequestDenied: Insufficient privileges."
        );
    }
}
