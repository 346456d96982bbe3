//! Microsoft Graph (Entra ID): client-credentials token; groups with their members and people
//! through `/groups/delta` and `/users/delta` (a first round lists everything, later rounds
//! bring changes, `members@delta` included), following `@odata.nextLink` exactly as returned;
//! a full resync by itself when Graph says the delta link is no longer valid; transitive
//! members (the directory's own answer); a person's groups for token overage; and patience
//! when throttled (429/503/504: `Retry-After`, else exponential back-off).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;
use url::Url;

pub mod app_roles;
mod wire;

use super::{DirectoryError, DirectorySink, ListingEnd, ListingStart, Member};
use crate::backend::config::Secret;
use wire::{error_code, graph_error, resync_reason, Collection};

/// At most this many people are read for one "directory's own answer".
const MEMBER_LIMIT: usize = 20_000;

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

fn provider(message: impl AsRef<str>) -> DirectoryError {
    DirectoryError::provider(message)
}

/// How a delta round ended.
struct Round {
    full: bool,
    delta_link: String,
    resynced: Option<String>,
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
    Patch(Value),
    Delete,
}

impl Body {
    fn method(&self) -> &'static str {
        match self {
            Body::Get => "GET",
            Body::Post(_) => "POST",
            Body::Patch(_) => "PATCH",
            Body::Delete => "DELETE",
        }
    }
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
            // Entra's descriptions run over several lines (trace id, correlation id, time).
            return Err(provider(format!(
                "Entra ID refused Gatehouse's Graph credentials ({status}) at POST {}: {reason}",
                self.settings.token_url.path()
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

    /// One Graph request with throttling retries and one token renewal on 401; counted and
    /// timed, and logged (debug) in the span of the sync or push that made it.
    async fn request(
        &self,
        url: &Url,
        body: &Body,
    ) -> Result<Result<Value, Refusal>, DirectoryError> {
        let began = std::time::Instant::now();
        let result = self.request_with_retries(url, body).await;
        let outcome = match &result {
            Ok(Ok(_)) => "ok",
            Ok(Err(_)) => "refused",
            Err(_) => "error",
        };
        let took = began.elapsed();
        crate::backend::signals::directory_call("graph", body.method(), outcome, took);
        tracing::debug!(
            directory = "graph",
            method = body.method(),
            path = url.path(),
            outcome,
            ms = took.as_millis() as u64,
            "directory call"
        );
        result
    }

    async fn request_with_retries(
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
                Body::Patch(json) => self.http.patch(url.clone()).json(json),
                Body::Delete => self.http.delete(url.clone()),
            };
            let response = builder
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| provider(format!("cannot reach Microsoft Graph: {e}")))?;
            let status = response.status();
            if status == reqwest::StatusCode::NO_CONTENT {
                return Ok(Ok(Value::Null)); // a PATCH or DELETE done
            }
            if status.is_success() {
                let method = body.method();
                let value = response.json::<Value>().await.map_err(|e| {
                    provider(format!(
                        "Graph answered {method} {} with a page that is not JSON: {e}",
                        url.path()
                    ))
                })?;
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
                crate::backend::signals::directory_throttle("graph");
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
                body.method(),
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

    /// People first, then groups with their members: each from its stored delta link, or in
    /// full when there is none or Graph says it is no longer valid.
    pub async fn list<S: DirectorySink>(
        &self,
        start: &ListingStart,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        let people = self
            .collection(Collection::People, start.people_delta_link.as_deref(), sink)
            .await?;
        let groups = self
            .collection(Collection::Groups, start.delta_link.as_deref(), sink)
            .await?;
        Ok(ListingEnd {
            full: groups.full,
            people_full: people.full,
            delta_link: Some(groups.delta_link),
            people_delta_link: Some(people.delta_link),
            resynced: groups.resynced.or(people.resynced),
        })
    }

    async fn collection<S: DirectorySink>(
        &self,
        collection: Collection,
        link: Option<&str>,
        sink: &mut S,
    ) -> Result<Round, DirectoryError> {
        if let Some(link) = link {
            match self
                .delta_round(collection, self.same_origin(link)?, sink)
                .await?
            {
                Ok(delta_link) => {
                    return Ok(Round {
                        full: false,
                        delta_link,
                        resynced: None,
                    })
                }
                Err(reason) => {
                    tracing::warn!(%reason, "Graph asked for a full resync; listing everything");
                    let url = self.url(&collection.first_round())?;
                    let delta_link =
                        self.delta_round(collection, url, sink)
                            .await?
                            .map_err(|reason| {
                                provider(format!("a full listing was refused too: {reason}"))
                            })?;
                    return Ok(Round {
                        full: true,
                        delta_link,
                        resynced: Some(reason),
                    });
                }
            }
        }
        let url = self.url(&collection.first_round())?;
        let delta_link = self
            .delta_round(collection, url, sink)
            .await?
            .map_err(provider)?;
        Ok(Round {
            full: true,
            delta_link,
            resynced: None,
        })
    }

    /// Follows a delta round's pages to its `@odata.deltaLink`; `Err(reason)` when Graph says
    /// the link is no longer valid (a full listing is due). Pages already taken stay in the
    /// sync's transaction: a full listing after them only repeats what they said.
    async fn delta_round<S: DirectorySink>(
        &self,
        collection: Collection,
        mut url: Url,
        sink: &mut S,
    ) -> Result<Result<String, String>, DirectoryError> {
        loop {
            let page = match self.request(&url, &Body::Get).await? {
                Ok(page) => page,
                Err(r) => {
                    if let Some(reason) = resync_reason(r.status.as_u16(), &r.body) {
                        return Ok(Err(reason));
                    }
                    return Err(provider(format!(
                        "Microsoft Graph answered {} to GET {}: {}",
                        r.status.as_u16(),
                        url.path(),
                        graph_error(&r.body)
                    )));
                }
            };
            sink.page(collection.page(Self::items(&page))).await?;
            if let Some(next) = self.next_link(&page)? {
                url = next;
                continue;
            }
            return match page.get("@odata.deltaLink").and_then(Value::as_str) {
                Some(link) => Ok(Ok(link.to_string())),
                None => Err(provider(format!(
                    "Graph ended a delta round of GET {} without an @odata.deltaLink",
                    url.path()
                ))),
            };
        }
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
}
