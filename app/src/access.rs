//! Who may call what: every server function and every plain route, with the roles that may call
//! it. The allow/deny test walks the server's own registries against this table (a server
//! function missing here fails it) and the README's table is generated from it.

use crate::roles::{Role, READERS};

/// Who is let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in person with one of these roles.
    Roles(&'static [Role]),
    /// Anyone signed in, with or without a Gatehouse role (asking for access).
    SignedIn,
}

impl Rule {
    pub fn allows(self, roles: Option<&[Role]>) -> bool {
        match self {
            Rule::Public => true,
            Rule::SignedIn => roles.is_some(),
            Rule::Roles(allowed) => roles.is_some_and(|r| r.iter().any(|r| allowed.contains(r))),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Rule::Public => "anyone".into(),
            Rule::SignedIn => "anyone signed in".into(),
            Rule::Roles(r) if r == READERS => "admin, reviewer, auditor".into(),
            Rule::Roles(r) => r.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// One endpoint: how it is called, who may, and a sample request the test sends (arguments that
/// parse but name nothing that exists, so an allowed call changes nothing).
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub rule: Rule,
    /// Form body (server functions) or the path with its parameters filled in (routes).
    pub sample: &'static str,
    pub what: &'static str,
}

const ADMIN: Rule = Rule::Roles(&[Role::Admin]);
const REVIEWER: Rule = Rule::Roles(&[Role::Reviewer]);
const READ: Rule = Rule::Roles(READERS);
const MANAGE_CAMPAIGNS: Rule = Rule::Roles(crate::campaigns::MANAGERS);

const fn f(path: &'static str, rule: Rule, sample: &'static str, what: &'static str) -> Endpoint {
    Endpoint {
        method: "POST",
        path,
        rule,
        sample,
        what,
    }
}

const HISTORY_FILTER: &str =
    "filter[from]=&filter[to]=&filter[actor]=&filter[action]=&filter[change_set]=&filter[mentions]=";

/// Every server function (`/api/…`, POST).
pub const SERVER_FUNCTIONS: &[Endpoint] = &[
    f("/api/me", Rule::Public, "", "who is signed in (null for nobody)"),
    f("/api/home", READ, "", "the home page's summary"),
    f("/api/catalog/apis", READ, "search=&sort=", "list APIs"),
    f("/api/catalog/api", READ, "api_id=nope", "one API"),
    f("/api/catalog/groups", READ, "search=&after=&before=", "list groups"),
    f("/api/catalog/group", READ, "source=file&id=nope&after=&before=", "one group"),
    f("/api/catalog/roles", READ, "search=", "list IAM roles"),
    f("/api/catalog/role", READ, "target=nope&name=nope", "one IAM role"),
    f("/api/catalog/sync-runs", ADMIN, "", "sync runs"),
    f("/api/catalog/directory-status", ADMIN, "", "the directory copy's state"),
    f("/api/catalog/sync", ADMIN, "catalog=nope&mode=", "start a sync"),
    f("/api/catalog/sync-form", ADMIN, "catalog=nope&mode=", "start a sync (the Sync page's forms)"),
    f("/api/mappings/list", READ, "search=", "list mappings"),
    f("/api/mappings/group", READ, "source=file&id=nope", "a group's mappings"),
    f("/api/mappings/api-paths", READ, "api_id=nope", "an API's resource paths"),
    f("/api/mappings/matrix", READ, "api_id=nope", "an API's access matrix"),
    f(
        "/api/mappings/bind",
        ADMIN,
        "source=file&group_id=nope&role_arn=nope&remove=",
        "bind a group to a role (draft)",
    ),
    f(
        "/api/mappings/grant",
        ADMIN,
        "role_arn=nope&target=&api_id=nope&stage=&method=GET&path=%2F&remove=",
        "grant a route to a role (draft)",
    ),
    f("/api/change-sets/list", READ, "state=", "list change sets"),
    f("/api/change-sets/get", READ, "id=999999", "one change set"),
    f("/api/change-sets/queue", REVIEWER, "", "the review queue"),
    f(
        "/api/change-sets/save",
        ADMIN,
        "id=999999&title=&justification=&ticket=&submit=",
        "save or submit a draft",
    ),
    f("/api/change-sets/withdraw", ADMIN, "id=999999", "withdraw a change set"),
    f("/api/change-sets/drop-item", ADMIN, "id=999999&index=0", "drop an item"),
    f("/api/change-sets/rebase", ADMIN, "id=999999", "rebase a stale change set"),
    f(
        "/api/change-sets/review",
        REVIEWER,
        "id=999999&decision=approve&comment=&content_hash=",
        "approve or reject",
    ),
    f("/api/push/view", READ, "id=999999", "a push's plan and progress"),
    f("/api/push/start", ADMIN, "id=999999", "push an approved change set"),
    f("/api/push/read-plan", ADMIN, "id=999999", "read AWS again for a change set's plan"),
    f("/api/push/roll-back", ADMIN, "id=999999", "roll back a pushed change set"),
    f("/api/drift/latest", READ, "", "the latest drift report"),
    f("/api/drift/check", ADMIN, "", "check for drift now"),
    f(
        "/api/drift/resolve",
        ADMIN,
        "report=999999&index=0&action=revert",
        "revert or adopt a drift",
    ),
    f("/api/history/page", READ, HISTORY_FILTER, "the audit history"),
    f(
        "/api/history/export",
        READ,
        "filter[from]=2999-01-01&filter[to]=2999-01-01&filter[actor]=&filter[action]=&filter[change_set]=&filter[mentions]=&format=nope",
        "start an export",
    ),
    f("/api/history/export-status", READ, "id=999999", "an export's progress"),
    f("/api/history/access", READ, "at=", "who could call what, at a time"),
    f("/api/try/choices", READ, "", "the people and APIs \"Try a call\" offers"),
    f(
        "/api/try/person",
        READ,
        "person=&route[api_id]=&route[stage]=&route[method]=&route[path]=",
        "would the authorizer let a person call a route, and why",
    ),
    f(
        "/api/try/token",
        READ,
        "token=x&route[api_id]=nope&route[stage]=prod&route[method]=GET&route[path]=/x",
        "would the authorizer let a token's bearer call a route, and why",
    ),
    f("/api/people/search", READ, "q=nobody-by-this-name", "find directory people by name or email"),
    f(
        "/api/people/access",
        READ,
        "source=file&oid=nobody&at=",
        "a person's groups, roles and routes, each with its chain",
    ),
    f(
        "/api/apis/callers",
        READ,
        "api_id=nope&route=GET%20/x&at=&page=",
        "who may call a method of an API, now or as of a date",
    ),
    f(
        "/api/people/explain",
        READ,
        "source=file&oid=nobody&route[api_id]=nope&route[stage]=prod&route[method]=GET&route[path]=/x",
        "can a person call a route, and the link that decides it",
    ),
    f("/api/people/list", ADMIN, "", "people who have signed in"),
    f(
        "/api/people/end-sessions",
        ADMIN,
        "tid=00000000-0000-4000-8000-000000000000&oid=00000000-0000-4000-8000-000000000000",
        "end every session of a person",
    ),
    f("/api/tokens/list", READ, "", "your API tokens (admins: and service tokens)"),
    f(
        "/api/tokens/create",
        READ,
        "name=&kind=person&days=0",
        "make an API token (its secret shown once)",
    ),
    f("/api/tokens/revoke", READ, "id=999999", "revoke an API token"),
    f("/api/notifications/list", ADMIN, "", "notification receivers and deliveries"),
    f(
        "/api/notifications/subscribe",
        ADMIN,
        "name=&kind=generic&url=",
        "subscribe a receiver (webhook, Slack, Teams)",
    ),
    f("/api/notifications/enable", ADMIN, "id=999999&enabled=false", "turn a receiver off or on"),
    f("/api/notifications/resend", ADMIN, "id=999999", "send a delivery again"),
    f(
        "/api/notifications/new-secret",
        ADMIN,
        "id=999999",
        "replace a receiver's signing secret (the old one signs beside it for a day)",
    ),
    f("/api/requests/options", Rule::SignedIn, "", "the roles one may request, and one's requests"),
    f(
        "/api/requests/create",
        Rule::SignedIn,
        "role_arn=nope&hours=&justification=",
        "request a role for oneself, for a bounded time",
    ),
    f(
        "/api/requests/create-routes",
        Rule::SignedIn,
        "hours=&justification=",
        "request a set of routes for oneself, for a bounded time",
    ),
    f("/api/requests/withdraw", Rule::SignedIn, "id=999999", "withdraw one's own waiting request"),
    f(
        "/api/requests/confirm",
        Rule::SignedIn,
        "id=999999",
        "confirm one's own waiting request after its role changed",
    ),
    f("/api/campaigns/list", READ, "", "review campaigns, and what waits on you"),
    f("/api/campaigns/get", READ, "id=999999", "one review campaign: its lines and progress"),
    f(
        "/api/campaigns/start",
        MANAGE_CAMPAIGNS,
        "name=&reviewers=owners&group=&due=&default_decision=keep",
        "start a review campaign",
    ),
    f(
        "/api/campaigns/decide",
        READ,
        "id=999999&line=1&decision=keep&comment=",
        "certify a campaign line keep or revoke (its reviewers only, checked per line)",
    ),
    f(
        "/api/campaigns/close",
        MANAGE_CAMPAIGNS,
        "id=999999",
        "close a campaign now: defaults applied, revokes to review",
    ),
    f("/api/api-owners/get", READ, "api_id=zzzzzzzzzz", "the owners of an API"),
    f(
        "/api/api-owners/set",
        ADMIN,
        "api_id=zzzzzzzzzz&scope=api&group=",
        "set or clear the owners (a directory group) of an API or of every API with a tag",
    ),
    f(
        "/api/api-owners/longest",
        ADMIN,
        "api_id=zzzzzzzzzz&amount=&unit=hours",
        "set or clear the longest access an API allows",
    ),
];

const fn r(path: &'static str, rule: Rule, sample: &'static str, what: &'static str) -> Endpoint {
    Endpoint {
        method: "GET",
        path,
        rule,
        sample,
        what,
    }
}

/// Every plain route beside the pages and the server functions.
pub const ROUTES: &[Endpoint] = &[
    r(
        "/auth/login",
        Rule::Public,
        "/auth/login",
        "start signing in",
    ),
    r(
        "/auth/callback",
        Rule::Public,
        "/auth/callback",
        "the provider's answer",
    ),
    Endpoint {
        method: "POST",
        path: "/auth/logout",
        rule: Rule::Public,
        sample: "/auth/logout",
        what: "sign out",
    },
    r(
        "/auth/signed-out",
        Rule::Public,
        "/auth/signed-out",
        "after sign-out",
    ),
    r("/healthz", Rule::Public, "/healthz", "the process is up"),
    r("/readyz", Rule::Public, "/readyz", "the database answers"),
    r(
        "/metrics",
        Rule::Public,
        "/metrics",
        "Prometheus metrics (on GATEHOUSE_METRICS_LISTEN instead, when set)",
    ),
    r(
        "/api/audit/exports/{id}/file",
        READ,
        "/api/audit/exports/999999/file",
        "download an export",
    ),
    r(
        "/api/audit/exports/{id}/manifest",
        READ,
        "/api/audit/exports/999999/manifest",
        "download its manifest",
    ),
    r(
        "/api/reports/access.csv",
        READ,
        "/api/reports/access.csv",
        "the access review as CSV",
    ),
    r(
        "/api/reports/person-access.csv",
        READ,
        "/api/reports/person-access.csv?source=file&oid=nobody&at=2026-01-01",
        "a person's access as of a date, as CSV",
    ),
    r(
        "/api/reports/person-access.jsonl",
        READ,
        "/api/reports/person-access.jsonl?source=file&oid=nobody&at=2026-01-01",
        "a person's access as of a date, as JSON Lines",
    ),
    r(
        "/api/reports/person-access.manifest.json",
        READ,
        "/api/reports/person-access.manifest.json?source=file&oid=nobody&at=2026-01-01",
        "the manifest of that export: rows, bytes, SHA-256",
    ),
];

/// Who may make a REST API request (`/api/v1`): tokens only, never the browser's cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRule {
    /// Anyone, with or without a token (the API's own description).
    Public,
    /// A token holding this scope.
    Scope(crate::domain::api_token::Scope),
    /// No token, whatever its scopes; the reason is the answer.
    Never(&'static str),
}

impl TokenRule {
    pub fn describe(self) -> String {
        match self {
            TokenRule::Public => "anyone".into(),
            TokenRule::Scope(s) => format!("token with `{}`", s.as_str()),
            TokenRule::Never(_) => "no token (a person, in the browser)".into(),
        }
    }
}

/// One REST API endpoint: method, path as the router writes it, who may, what it does.
#[derive(Clone, Copy, Debug)]
pub struct RestEndpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub rule: TokenRule,
    pub what: &'static str,
}

const fn v1(
    method: &'static str,
    path: &'static str,
    rule: TokenRule,
    what: &'static str,
) -> RestEndpoint {
    RestEndpoint {
        method,
        path,
        rule,
        what,
    }
}

/// Approvals are a person's decision, made where they see the diff.
pub const REVIEW_REFUSAL: &str = "approving or rejecting a change set is done by a reviewer signed in to Gatehouse, never with a token: separation of duties holds for machines too";

/// Every REST API endpoint. The API's middleware answers from this table: an endpoint missing
/// here is refused to everyone.
pub const REST: &[RestEndpoint] = {
    use crate::domain::api_token::Scope::{Draft, Push, Read};
    use TokenRule::{Never, Public, Scope};
    &[
        v1(
            "GET",
            "/api/v1/openapi.json",
            Public,
            "the OpenAPI 3.1 document",
        ),
        v1(
            "GET",
            "/api/v1/docs",
            Public,
            "the API's reference, rendered",
        ),
        v1(
            "GET",
            "/api/v1/me",
            Scope(Read),
            "who the token acts as, and its scopes",
        ),
        v1("GET", "/api/v1/apis", Scope(Read), "synced APIs"),
        v1(
            "GET",
            "/api/v1/change-sets",
            Scope(Read),
            "change sets, a page at a time",
        ),
        v1(
            "POST",
            "/api/v1/change-sets",
            Scope(Draft),
            "create a change set (Idempotency-Key)",
        ),
        v1(
            "GET",
            "/api/v1/change-sets/{id}",
            Scope(Read),
            "one change set: items, diff, state",
        ),
        v1(
            "POST",
            "/api/v1/change-sets/{id}/submit",
            Scope(Draft),
            "submit for review",
        ),
        v1(
            "POST",
            "/api/v1/change-sets/{id}/withdraw",
            Scope(Draft),
            "withdraw",
        ),
        v1(
            "POST",
            "/api/v1/change-sets/{id}/reviews",
            Never(REVIEW_REFUSAL),
            "approve or reject: refused",
        ),
        v1(
            "POST",
            "/api/v1/change-sets/{id}/push",
            Scope(Push),
            "push an approved change set",
        ),
        v1(
            "GET",
            "/api/v1/change-sets/{id}/push",
            Scope(Read),
            "its push: state and steps",
        ),
        v1(
            "GET",
            "/api/v1/drift",
            Scope(Read),
            "the latest drift report",
        ),
        v1(
            "POST",
            "/api/v1/drift/checks",
            Scope(Push),
            "check for drift now",
        ),
        v1(
            "GET",
            "/api/v1/explain",
            Scope(Read),
            "can a person call a route, and why",
        ),
        v1(
            "GET",
            "/api/v1/apis/{api_id}/routes",
            Scope(Read),
            "an API's stages and routes",
        ),
        v1("GET", "/api/v1/groups", Scope(Read), "directory groups"),
        v1("GET", "/api/v1/roles", Scope(Read), "IAM roles"),
        v1("GET", "/api/v1/people", Scope(Read), "directory people"),
        v1(
            "GET",
            "/api/v1/mappings",
            Scope(Read),
            "approved mappings: group, role, routes",
        ),
        v1(
            "POST",
            "/api/v1/change-sets/{id}/items",
            Scope(Draft),
            "add items to the token's draft",
        ),
        v1(
            "DELETE",
            "/api/v1/change-sets/{id}/items/{index}",
            Scope(Draft),
            "remove an item from the token's draft",
        ),
        v1(
            "GET",
            "/api/v1/change-sets/{id}/plan",
            Scope(Read),
            "the AWS calls a push would make now",
        ),
        v1(
            "GET",
            "/api/v1/history",
            Scope(Read),
            "the audit history, filtered, a page at a time",
        ),
        v1(
            "POST",
            "/api/v1/exports",
            Scope(Read),
            "export the history (CSV, JSON Lines)",
        ),
        v1(
            "GET",
            "/api/v1/exports/{id}",
            Scope(Read),
            "an export's progress",
        ),
        v1(
            "GET",
            "/api/v1/exports/{id}/file",
            Scope(Read),
            "an export's file (audited)",
        ),
        v1(
            "GET",
            "/api/v1/exports/{id}/manifest",
            Scope(Read),
            "an export's manifest",
        ),
    ]
};

/// The REST endpoint a request matched (`path` as the router's pattern).
pub fn rest_endpoint(method: &str, path: &str) -> Option<&'static RestEndpoint> {
    REST.iter().find(|e| e.method == method && e.path == path)
}

/// Who may open `page`.
pub fn page_rule(page: crate::roles::Page) -> Rule {
    if page.open_to_everyone() {
        Rule::SignedIn
    } else {
        Rule::Roles(page.allowed_roles())
    }
}

/// The README's table, from the same data (pages, then server functions, then routes).
pub fn markdown_table() -> String {
    use crate::roles::Page;
    let mut out = String::from("| Endpoint | Who may | What |\n|---|---|---|\n");
    for page in Page::ALL {
        out.push_str(&format!(
            "| page `GET {}` | {} | {} |\n",
            page.path(),
            page_rule(page).describe(),
            page.title()
        ));
    }
    for e in SERVER_FUNCTIONS.iter().chain(ROUTES) {
        out.push_str(&format!(
            "| `{} {}` | {} | {} |\n",
            e.method,
            e.path,
            e.rule.describe(),
            e.what
        ));
    }
    for e in REST {
        out.push_str(&format!(
            "| `{} {}` | {} | {} |\n",
            e.method,
            e.path,
            e.rule.describe(),
            e.what
        ));
    }
    out
}
