//! A Microsoft Graph stand-in that speaks Graph's wire format over HTTP (wiremock): the
//! client-credentials token endpoint, `/groups` pages with `@odata.nextLink` and `$skiptoken`,
//! `/groups/delta` and `/users/delta` (a first round lists everything, groups with
//! `members@delta`; later rounds with `$deltatoken` bring what was added, renamed, removed,
//! joined or left; an unknown token answers 410, or 400 `syncStateNotFound` once tokens
//! expired), transitive members, `getMemberGroups` (with `Directory_ResultSizeLimitExceeded`)
//! and `transitiveMemberOf`, throttling (429 + Retry-After) and error pages.
#![allow(dead_code)]

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex},
};

use serde_json::{json, Value};
use wiremock::{matchers::any, Mock, MockServer, Request, Respond, ResponseTemplate};

pub const FAKE_TENANT: &str = "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f";
pub const FAKE_CLIENT_ID: &str = "gatehouse-graph";
pub const FAKE_CLIENT_SECRET: &str = "graph-secret";

#[derive(Clone, Debug)]
pub struct FakeGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub mail: Option<String>,
    pub members: Vec<String>,
    pub nested: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum ChangeKind {
    Added,
    Renamed,
    Removed,
    /// A member (person or group id) joined or left the group.
    Joined(String),
    Left(String),
    PersonAdded,
    PersonRemoved,
}

impl ChangeKind {
    fn is_person(&self) -> bool {
        matches!(self, ChangeKind::PersonAdded | ChangeKind::PersonRemoved)
    }
}

#[derive(Default)]
pub struct Tenant {
    /// Ordered by id, as Graph's pages are stable.
    groups: BTreeMap<String, FakeGroup>,
    /// Generated groups (for the benchmark): `generated_id(n)` ids, built when a page is served,
    /// each with `generated_members` of the generated people.
    generated: usize,
    generated_people: usize,
    generated_members: usize,
    /// Unknown delta tokens answer 400 syncStateNotFound (an expired link) instead of 410.
    expired_as_400: bool,
    users: BTreeMap<String, String>,
    version: u64,
    changes: Vec<(u64, String, ChangeKind)>,
    /// Delta tokens Graph has issued, and the version each stands for.
    delta_tokens: HashMap<String, u64>,
    skip_tokens: HashMap<String, (String, usize)>,
    pub page_size: usize,
    faults: VecDeque<ResponseTemplate>,
    /// Users whose getMemberGroups answer would be too large.
    too_many_groups: HashSet<String>,
    pub requests: Vec<String>,
    tokens_issued: usize,
    /// Enterprise applications' service principals: app roles and their assignments.
    pub service_principals: BTreeMap<String, super::graph_apps::ServicePrincipal>,
}

#[derive(Clone)]
pub struct GraphFake {
    pub server: Arc<MockServer>,
    pub tenant: Arc<Mutex<Tenant>>,
}

pub(super) fn odata_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-11-28T12:00:00", "request-id": "9f0c1d2e-0000-4000-8000-000000000000"}
        }
    }))
}

pub fn generated_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

pub fn generated_person_id(n: usize) -> String {
    format!("10000000-0000-4000-8000-{n:012}")
}

/// The people of generated group `group`: spread over all generated people.
pub fn generated_members(group: usize, per_group: usize, people: usize) -> Vec<usize> {
    (0..per_group)
        .map(|k| (group * 7 + k * 10_007) % people.max(1))
        .collect()
}

fn member_ref(id: &str, kind: &str, removed: bool) -> Value {
    let mut v = json!({"@odata.type": format!("#microsoft.graph.{kind}"), "id": id});
    if removed {
        v["@removed"] = json!({"reason": "deleted"});
    }
    v
}

fn group_json(g: &FakeGroup) -> Value {
    json!({
        "id": g.id,
        "displayName": g.display_name,
        "description": g.description,
        "mail": g.mail,
        "securityEnabled": true,
    })
}

/// A group as the first delta round lists it: with all its members.
fn group_with_members(g: &FakeGroup) -> Value {
    let mut v = group_json(g);
    let people = g.members.iter().map(|m| member_ref(m, "user", false));
    let groups = g.nested.iter().map(|n| member_ref(n, "group", false));
    v["members@delta"] = Value::Array(people.chain(groups).collect());
    v
}

impl Tenant {
    pub(super) fn group_name(&self, id: &str) -> Option<String> {
        self.groups.get(id).map(|g| g.display_name.clone())
    }

    fn group_count(&self) -> usize {
        self.groups.len() + self.generated
    }

    /// The n-th group in listing order: named ones first, then generated ones.
    fn group_at(&self, n: usize, with_members: bool) -> Value {
        if let Some(g) = self.groups.values().nth(n) {
            return if with_members {
                group_with_members(g)
            } else {
                group_json(g)
            };
        }
        let i = n - self.groups.len();
        let mut v = json!({
            "id": generated_id(i),
            "displayName": format!("Generated group {i:06}"),
            "description": format!("Group number {i} of a large tenant"),
            "mail": format!("generated-{i}@contoso.test"),
            "securityEnabled": !i.is_multiple_of(3),
        });
        if with_members {
            let members = generated_members(i, self.generated_members, self.generated_people);
            v["members@delta"] = members
                .into_iter()
                .map(|p| member_ref(&generated_person_id(p), "user", false))
                .collect();
        }
        v
    }

    fn person_count(&self) -> usize {
        self.users.len() + self.generated_people
    }

    fn person_at(&self, n: usize) -> Value {
        let (id, name) = match self.users.iter().nth(n) {
            Some((id, name)) => (id.clone(), name.clone()),
            None => {
                let i = n - self.users.len();
                (generated_person_id(i), format!("Generated person {i:06}"))
            }
        };
        let upn = format!("{}@contoso.test", name.to_lowercase().replace(' ', "."));
        json!({"id": id, "displayName": name, "userPrincipalName": upn})
    }

    /// Net change per group since `since`, in order of first change: removed groups as
    /// `@removed`, new ones whole with their members, renamed ones with the new name, and
    /// membership changes as `members@delta`.
    fn group_changes_since(&self, since: u64) -> Vec<Value> {
        let mut order = Vec::new();
        let mut net: HashMap<&str, Vec<&ChangeKind>> = HashMap::new();
        for (v, id, kind) in &self.changes {
            if *v > since && !kind.is_person() {
                if !net.contains_key(id.as_str()) {
                    order.push(id.as_str());
                }
                net.entry(id.as_str()).or_default().push(kind);
            }
        }
        order
            .into_iter()
            .map(|id| {
                let kinds = &net[id];
                match (kinds.last(), self.groups.get(id)) {
                    (Some(ChangeKind::Removed), _) | (_, None) => {
                        json!({"id": id, "@removed": {"reason": "changed"}})
                    }
                    (_, Some(g)) if kinds.contains(&&ChangeKind::Added) => group_with_members(g),
                    (_, Some(g)) => {
                        // Updated instances carry their id and the properties that changed.
                        let mut v = json!({"id": id});
                        if kinds.contains(&&ChangeKind::Renamed) {
                            v["displayName"] = json!(g.display_name);
                        }
                        let members: Vec<Value> = kinds
                            .iter()
                            .filter_map(|k| match k {
                                ChangeKind::Joined(m) | ChangeKind::Left(m) => {
                                    let kind = if self.groups.contains_key(m) {
                                        "group"
                                    } else {
                                        "user"
                                    };
                                    Some(member_ref(m, kind, matches!(k, ChangeKind::Left(_))))
                                }
                                _ => None,
                            })
                            .collect();
                        if !members.is_empty() {
                            v["members@delta"] = Value::Array(members);
                        }
                        v
                    }
                }
            })
            .collect()
    }

    fn person_changes_since(&self, since: u64) -> Vec<Value> {
        let mut last: BTreeMap<&str, &ChangeKind> = BTreeMap::new();
        for (v, id, kind) in &self.changes {
            if *v > since && kind.is_person() {
                last.insert(id.as_str(), kind);
            }
        }
        last.into_iter()
            .map(|(id, kind)| match (kind, self.users.get(id)) {
                (ChangeKind::PersonAdded, Some(name)) => json!({
                    "id": id, "displayName": name,
                    "userPrincipalName": format!("{}@contoso.test", name.to_lowercase().replace(' ', ".")),
                }),
                _ => json!({"id": id, "@removed": {"reason": "changed"}}),
            })
            .collect()
    }

    fn record(&mut self, id: &str, kind: ChangeKind) {
        self.version += 1;
        self.changes.push((self.version, id.to_string(), kind));
    }

    fn transitive_users(&self, group_id: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut queue = vec![group_id.to_string()];
        let mut users = BTreeMap::new();
        while let Some(id) = queue.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some(g) = self.groups.get(&id) {
                for m in &g.members {
                    users.insert(m.clone(), ());
                }
                queue.extend(g.nested.iter().cloned());
            }
        }
        users.into_keys().collect()
    }

    fn groups_of_user(&self, user: &str) -> Vec<String> {
        self.groups
            .keys()
            .filter(|g| self.transitive_users(g).iter().any(|u| u == user))
            .cloned()
            .collect()
    }
}

pub(super) struct Responder {
    base: String,
    tenant: Arc<Mutex<Tenant>>,
}

impl Responder {
    pub(super) fn page(
        &self,
        t: &mut Tenant,
        items: Vec<Value>,
        path: &str,
        offset: usize,
        more: bool,
        context: &str,
    ) -> Value {
        let mut body = json!({
            "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#{context}"),
            "value": items,
        });
        if more {
            let token = format!("RFNwdAIAAQAAAB{:08X}{:04X}", offset, t.skip_tokens.len());
            t.skip_tokens
                .insert(token.clone(), (path.to_string(), offset));
            body["@odata.nextLink"] = json!(format!(
                "{}{path}?$select=id,displayName,description,mail,securityEnabled&$top=999&$skiptoken={token}",
                self.base
            ));
        }
        body
    }

    fn delta_link(&self, t: &mut Tenant, path: &str) -> String {
        let token = format!("v{}-{}", t.version, t.delta_tokens.len());
        t.delta_tokens.insert(token.clone(), t.version);
        format!("{}{path}?$deltatoken={token}", self.base)
    }

    fn graph(&self, t: &mut Tenant, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let size = t.page_size.min(
            query
                .get("$top")
                .and_then(|v| v.parse().ok())
                .unwrap_or(100)
                .min(999),
        );
        let offset = match query.get("$skiptoken") {
            None => 0,
            Some(token) => match t.skip_tokens.get(token) {
                Some((p, offset)) if *p == path => *offset,
                _ => return odata_error(400, "Request_BadRequest", "Invalid skip token."),
            },
        };
        if path == "/v1.0/groups" {
            let end = (offset + size).min(t.group_count());
            let items = (offset..end).map(|n| t.group_at(n, false)).collect();
            let more = end < t.group_count();
            return ResponseTemplate::new(200)
                .set_body_json(self.page(t, items, &path, end, more, "groups"));
        }
        if path == "/v1.0/groups/delta" || path == "/v1.0/users/delta" {
            let people = path == "/v1.0/users/delta";
            let token = query.get("$deltatoken").cloned();
            let items: Vec<Value> = match &token {
                None => {
                    // The first round: everything there is (pages built as they are served).
                    let count = if people {
                        t.person_count()
                    } else {
                        t.group_count()
                    };
                    let end = (offset + size).min(count);
                    let items = (offset..end)
                        .map(|n| {
                            if people {
                                t.person_at(n)
                            } else {
                                t.group_at(n, true)
                            }
                        })
                        .collect();
                    let mut body = self.page(t, items, &path, end, end < count, "groups");
                    if end >= count {
                        body["@odata.deltaLink"] = json!(self.delta_link(t, &path));
                    }
                    return ResponseTemplate::new(200).set_body_json(body);
                }
                Some(token) if token == "latest" => {
                    let link = self.delta_link(t, &path);
                    return ResponseTemplate::new(200).set_body_json(json!({
                        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
                        "value": [],
                        "@odata.deltaLink": link,
                    }));
                }
                Some(token) => {
                    let Some(since) = t.delta_tokens.get(token).copied() else {
                        if t.expired_as_400 {
                            return odata_error(
                                400,
                                "syncStateNotFound",
                                "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
                            );
                        }
                        return odata_error(
                            410,
                            "SyncStateNotFound",
                            "The sync state is no longer valid; resync required.",
                        );
                    };
                    if people {
                        t.person_changes_since(since)
                    } else {
                        t.group_changes_since(since)
                    }
                }
            };
            let token = token.unwrap_or_default();
            let end = (offset + size).min(items.len());
            let page_items = items[offset..end].to_vec();
            let mut body = self.page(t, page_items, &path, end, end < items.len(), "groups");
            if let Some(next) = body
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(String::from)
            {
                // Delta next links keep the delta token's place.
                body["@odata.nextLink"] = json!(format!("{next}&$deltatoken={token}"));
            } else {
                body["@odata.deltaLink"] = json!(self.delta_link(t, &path));
            }
            return ResponseTemplate::new(200).set_body_json(body);
        }
        let parts: Vec<&str> = path.trim_start_matches("/v1.0/").split('/').collect();
        if parts.first() == Some(&"servicePrincipals") {
            return self.service_principal(t, req, &parts, offset, size);
        }
        match parts.as_slice() {
            ["groups", id, "transitiveMembers", "microsoft.graph.user"] => {
                if !t.groups.contains_key(*id) {
                    return odata_error(
                        404,
                        "Request_ResourceNotFound",
                        &format!("Resource '{id}' does not exist."),
                    );
                }
                let users = t.transitive_users(id);
                let end = (offset + size).min(users.len());
                let items = users[offset..end]
                    .iter()
                    .map(|u| json!({"id": u, "displayName": t.users[u], "userPrincipalName": format!("{}@contoso.test", t.users[u].to_lowercase().replace(' ', "."))}))
                    .collect();
                let more = end < users.len();
                ResponseTemplate::new(200)
                    .set_body_json(self.page(t, items, &path, end, more, "users"))
            }
            ["users", oid, "getMemberGroups"] if req.method.as_str() == "POST" => {
                if t.too_many_groups.contains(*oid) {
                    return odata_error(
                        400,
                        "Directory_ResultSizeLimitExceeded",
                        "The results would exceed the maximum size limit of 11000.",
                    );
                }
                ResponseTemplate::new(200).set_body_json(json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
                    "value": t.groups_of_user(oid),
                }))
            }
            ["users", oid, "transitiveMemberOf", "microsoft.graph.group"] => {
                let groups = t.groups_of_user(oid);
                let end = (offset + size).min(groups.len());
                let items = groups[offset..end]
                    .iter()
                    .map(|g| json!({"id": g}))
                    .collect();
                let more = end < groups.len();
                ResponseTemplate::new(200)
                    .set_body_json(self.page(t, items, &path, end, more, "groups"))
            }
            _ => odata_error(
                400,
                "BadRequest",
                &format!("Resource not found for the segment '{path}'."),
            ),
        }
    }
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut t = self.tenant.lock().unwrap();
        t.requests.push(format!("{} {}", req.method, req.url));
        let path = req.url.path();
        if path == format!("/{FAKE_TENANT}/oauth2/v2.0/token") {
            let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect();
            let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
                && form.get("client_id").map(String::as_str) == Some(FAKE_CLIENT_ID)
                && form.get("client_secret").map(String::as_str) == Some(FAKE_CLIENT_SECRET)
                && form.get("scope").map(String::as_str)
                    == Some("https://graph.microsoft.com/.default");
            if !ok {
                return ResponseTemplate::new(401).set_body_json(json!({
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                }));
            }
            t.tokens_issued += 1;
            return ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": format!("fake-graph-token-{}", t.tokens_issued),
            }));
        }
        let authorized = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer fake-graph-token-"));
        if !authorized {
            return odata_error(401, "InvalidAuthenticationToken", "Access token is empty.");
        }
        if let Some(fault) = t.faults.pop_front() {
            return fault;
        }
        self.graph(&mut t, req)
    }
}

impl GraphFake {
    pub async fn start() -> GraphFake {
        let server = MockServer::start().await;
        let tenant = Arc::new(Mutex::new(Tenant {
            page_size: 999,
            ..Default::default()
        }));
        Mock::given(any())
            .respond_with(Responder {
                base: server.uri(),
                tenant: tenant.clone(),
            })
            .mount(&server)
            .await;
        GraphFake {
            server: Arc::new(server),
            tenant,
        }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn settings(&self) -> gatehouse::directory::graph::GraphSettings {
        gatehouse::directory::graph::GraphSettings {
            api_url: format!("{}/v1.0", self.uri()).parse().unwrap(),
            token_url: format!("{}/{FAKE_TENANT}/oauth2/v2.0/token", self.uri())
                .parse()
                .unwrap(),
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: gatehouse::config::Secret::new(FAKE_CLIENT_SECRET.into()),
            max_attempts: 4,
            max_wait: std::time::Duration::from_secs(2),
        }
    }

    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Tenant) -> T) -> T {
        f(&mut self.tenant.lock().unwrap())
    }

    pub fn set_page_size(&self, size: usize) {
        self.with(|t| t.page_size = size);
    }

    pub fn generate_groups(&self, n: usize) {
        self.with(|t| t.generated = n);
    }

    /// `groups` generated groups of `members` each, over `people` generated people.
    pub fn generate_tenant(&self, groups: usize, people: usize, members: usize) {
        self.with(|t| {
            t.generated = groups;
            t.generated_people = people;
            t.generated_members = members;
        });
    }

    pub fn add_user(&self, id: &str, name: &str) {
        self.with(|t| {
            t.users.insert(id.into(), name.into());
            t.record(id, ChangeKind::PersonAdded);
        });
    }

    pub fn remove_user(&self, id: &str) {
        self.with(|t| {
            t.users.remove(id);
            for g in t.groups.values_mut() {
                g.members.retain(|m| m != id);
            }
            t.record(id, ChangeKind::PersonRemoved);
        });
    }

    /// A person or a group joins a group.
    pub fn add_member(&self, group: &str, member: &str) {
        self.with(|t| {
            let nested = t.groups.contains_key(member);
            let g = t.groups.get_mut(group).expect("known group");
            if nested {
                g.nested.push(member.into());
            } else {
                g.members.push(member.into());
            }
            t.record(group, ChangeKind::Joined(member.into()));
        });
    }

    /// A person or a group leaves a group.
    pub fn remove_member(&self, group: &str, member: &str) {
        self.with(|t| {
            let g = t.groups.get_mut(group).expect("known group");
            g.members.retain(|m| m != member);
            g.nested.retain(|m| m != member);
            t.record(group, ChangeKind::Left(member.into()));
        });
    }

    pub fn add_group(&self, group: FakeGroup) {
        self.with(|t| {
            let id = group.id.clone();
            t.groups.insert(id.clone(), group);
            t.record(&id, ChangeKind::Added);
        });
    }

    pub fn rename_group(&self, id: &str, name: &str) {
        self.with(|t| {
            t.groups.get_mut(id).expect("known group").display_name = name.into();
            t.record(id, ChangeKind::Renamed);
        });
    }

    pub fn remove_group(&self, id: &str) {
        self.with(|t| {
            t.groups.remove(id);
            t.record(id, ChangeKind::Removed);
        });
    }

    /// The next `n` Graph calls are throttled (429), with `Retry-After` when given.
    pub fn throttle_next(&self, n: usize, retry_after: Option<u64>) {
        self.with(|t| {
            for _ in 0..n {
                let mut r = odata_error(429, "TooManyRequests", "Too many requests; retry later.");
                if let Some(s) = retry_after {
                    r = r.insert_header("Retry-After", s.to_string().as_str());
                }
                t.faults.push_back(r);
            }
        });
    }

    pub fn fail_next(&self, status: u16, code: &str, message: &str) {
        self.with(|t| t.faults.push_back(odata_error(status, code, message)));
    }

    /// Graph forgot every delta token: they answer 410 Gone.
    pub fn forget_delta_tokens(&self) {
        self.with(|t| t.delta_tokens.clear());
    }

    /// Every delta token expired (past its seven days): they answer 400 syncStateNotFound.
    pub fn expire_delta_tokens(&self) {
        self.with(|t| {
            t.delta_tokens.clear();
            t.expired_as_400 = true;
        });
    }

    pub fn too_many_groups_for(&self, user: &str) {
        self.with(|t| t.too_many_groups.insert(user.into()));
    }

    pub fn requests(&self) -> Vec<String> {
        self.with(|t| t.requests.clone())
    }
}
