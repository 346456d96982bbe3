//! The Lambda authorizer with real access tokens from the local OpenID Connect provider and the
//! bundle a real push published to S3 on moto_server: each demo person's decisions follow the
//! approved mappings, a new push changes them once the bundle is re-read, and every bad token is
//! refused with its reason in the log line.

#[path = "authorizer/attach.rs"]
mod attach;
use crate::common;
#[path = "authorizer/http_api.rs"]
mod http_api;

use std::{sync::Arc, time::Duration};

use app::domain::{
    desired::ChangeItem,
    grant::{Binding, GroupRef},
    names::RoleArn,
};
use authorizer::{
    bundle::Bundle,
    handler::{now, Authorizer, Outcome},
    jwks::Jwks,
    source::{BundleSource, S3Source},
    token::TokenSettings,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::{
    approved, person, provider,
    pushing::{grant, push_settings, role_arn, setup, through, ACCOUNT},
    TENANT,
};
use gatehouse::push::Pusher;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const API: &str = "api://gatehouse-apis";
const ORDERS_TEAM: &str = "c3f2e8a0-5b6d-4e4c-9a3f-9d0e1f203142";
const FINANCE: &str = "d4a3f9b1-6c7e-4f5d-8b4a-0e1f20314253";
const BUCKET: &str = "gatehouse-authorizer";
const KEY: &str = "access-bundle.json.gz";

/// An access token for `resource`, got the way a CLI gets one: authorization code with PKCE,
/// signed in as the demo person `login_hint`.
async fn access_token(login_hint: &str, resource: &str) -> String {
    let issuer = &provider().issuer;
    let client = common::browser();
    let verifier = "a-verifier-of-enough-length-for-pkce-0123456789abcdef";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1/cli/callback";
    let mut url = url::Url::parse(&format!("{issuer}/auth")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "gatehouse-cli")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid")
        .append_pair("resource", resource)
        .append_pair("login_hint", login_hint)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    for _ in 0..10 {
        let response = client.get(url.clone()).send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_string();
        url = url.join(&location).unwrap();
        if url.as_str().starts_with(redirect) {
            break;
        }
    }
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("the provider answered with a code");
    let tokens: Value = client
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "gatehouse-cli"),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {tokens}"))
        .to_string()
}

fn token_settings() -> TokenSettings {
    TokenSettings {
        issuer: provider().issuer.replace(TENANT, "{tenantid}"),
        tenants: vec![TENANT.into()],
        audiences: vec![API.into()],
        algorithms: vec![jsonwebtoken::Algorithm::RS256],
        leeway: 60,
        use_app_roles: false,
    }
}

async fn authorizer(source: BundleSource) -> Authorizer {
    let jwks = Jwks::discover(&provider().issuer).await.unwrap();
    Authorizer {
        token: token_settings(),
        keys: Jwks::new(jwks, Duration::from_secs(1)),
        source,
        simple_http_response: true,
    }
}

fn method_arn(api_id: &str, verb: &str) -> String {
    format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/{verb}/orders")
}

/// A TOKEN authorizer event, as API Gateway sends it.
fn token_event(token: &str, api_id: &str, verb: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": method_arn(api_id, verb)})
}

fn effect(outcome: &Outcome) -> String {
    let response = outcome.response.as_ref().expect("an answer, not 401");
    response["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Effect"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("+")
}

fn bind(group: &str, role: &str) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: GroupRef::group("file", group),
        role: RoleArn::parse(&role_arn(role)).unwrap(),
    })
}

async fn s3(moto: &common::Moto) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.1)
        .load()
        .await;
    let conf = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn push(pusher: &Pusher, id: i64) -> Vec<String> {
    let plan = common::pushing::push_planned(pusher, id).await;
    plan.iter().map(|s| s.call.summary()).collect()
}

#[tokio::test]
async fn each_demo_persons_calls_follow_the_pushed_mappings_and_a_new_push_changes_them() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let s3 = s3(&moto).await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let mut settings = push_settings();
    settings.access_bundle = Some((BUCKET.into(), KEY.into()));
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;

    // The orders team may read orders; finance may create them.
    let first = approved(
        &pool,
        vec![
            bind(ORDERS_TEAM, "orders-readers"),
            grant("orders-readers", &api_id, "GET"),
            bind(FINANCE, "orders-writers"),
            grant("orders-writers", &api_id, "POST"),
        ],
    )
    .await;
    let steps = push(&pusher, first).await;
    let publish = steps.last().unwrap();
    assert!(
        publish.starts_with("publish access bundle version 1 (2 grants for 2 groups; sha256 "),
        "{steps:?}"
    );
    let (version, etag): (i64, Option<String>) =
        sqlx::query_as("SELECT version, etag FROM access_bundles")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(version, 1);
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), etag.as_deref());
    assert_eq!(head.metadata().unwrap()["gatehouse-version"], "1");
    // A second push of the same state writes nothing (the bundle included).
    let writes = proxy.writes().len();
    assert!(pusher.plan(first).await.unwrap().is_empty());
    assert_eq!(proxy.writes().len(), writes);

    let source = BundleSource::S3(S3Source::new(
        s3.clone(),
        BUCKET.into(),
        KEY.into(),
        Duration::ZERO,
        Duration::from_secs(300),
    ));
    let authz = authorizer(source).await;
    // admin: orders team (and the admin group, which is granted nothing here).
    // reviewer: finance. norole: orders team. auditor: no granted group.
    let expected = [
        ("admin", "GET", true),
        ("admin", "POST", false),
        ("reviewer", "GET", false),
        ("reviewer", "POST", true),
        ("norole", "GET", true),
        ("norole", "POST", false),
        ("auditor", "GET", false),
    ];
    let mut tokens = std::collections::HashMap::new();
    for (who, verb, allowed) in expected {
        if !tokens.contains_key(who) {
            tokens.insert(who, access_token(who, API).await);
        }
        let outcome = authz
            .handle(&token_event(&tokens[who], &api_id, verb), now())
            .await
            .unwrap();
        let log = &outcome.log;
        assert_eq!(
            log.decision == "allow",
            allowed,
            "{who} {verb}: {}",
            log.line()
        );
        assert_eq!(effect(&outcome), if allowed { "Allow" } else { "Deny" });
        assert_eq!(log.bundle_version, Some(1));
        assert!(
            log.username.as_deref().unwrap().ends_with("@contoso.test"),
            "{}",
            log.line()
        );
        if allowed {
            assert!(
                log.role.as_deref().unwrap().contains("orders-"),
                "{}",
                log.line()
            );
        } else {
            assert!(log.reason.contains("may not"), "{}", log.line());
        }
    }
    let refused = authz
        .handle(&token_event(&tokens["auditor"], &api_id, "GET"), now())
        .await
        .unwrap();
    assert!(
        refused.log.reason.contains(
            "arun.auditor@contoso.test may not: none of the caller's groups (1) is granted anything"
        ),
        "{}",
        refused.log.line()
    );
    let context = &refused.response.as_ref().unwrap()["context"];
    assert_eq!(context["username"], "arun.auditor@contoso.test");

    // Someone replaces the bundle by hand, Gatehouse's metadata copied: the drift check
    // reports it (its ETag is not the one Gatehouse's write got), and the next push writes it.
    let sha = head.metadata().unwrap()["gatehouse-content-sha256"].clone();
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(aws_sdk_s3::primitives::ByteStream::from(
            br#"{"format":"gatehouse-access-bundle/1","version":1,"generated_at":"","groups":[],"roles":[],"apis":[]}"#.to_vec(),
        ))
        .metadata("gatehouse-content-sha256", sha)
        .metadata("gatehouse-version", "1")
        .send()
        .await
        .unwrap();
    let (_, drift) = pusher.check_drift(&person(1, "Ada Admin")).await.unwrap();
    let item = drift
        .iter()
        .find(|i| i.subject == "the authorizer's access bundle")
        .unwrap_or_else(|| panic!("no bundle drift in {drift:?}"));
    assert_eq!(item.kind, "access bundle edited outside Gatehouse");
    assert!(
        item.fix.starts_with("publish access bundle version 2"),
        "{}",
        item.fix
    );

    // A second change set lets the orders team create orders too: once pushed, the
    // authorizer reads bundle version 2 and the admin's POST is allowed.
    let second = approved(&pool, vec![grant("orders-readers", &api_id, "POST")]).await;
    let steps = push(&pusher, second).await;
    assert!(steps.last().unwrap().contains("version 2"), "{steps:?}");
    let outcome = authz
        .handle(&token_event(&tokens["admin"], &api_id, "POST"), now())
        .await
        .unwrap();
    assert_eq!(outcome.log.decision, "allow", "{}", outcome.log.line());
    assert_eq!(outcome.log.bundle_version, Some(2));

    // An access request binds Arun himself (no group of his is granted anything) to the
    // writers: his token's own object id now lets him create orders, and only that.
    let arun = "0a1b2c3d-0000-4000-8000-000000000003";
    let request = approved(
        &pool,
        vec![ChangeItem::AddBinding(Binding {
            group: GroupRef::person("file", arun),
            role: RoleArn::parse(&role_arn("orders-writers")).unwrap(),
        })],
    )
    .await;
    let steps = push(&pusher, request).await;
    assert!(steps.last().unwrap().contains("version 3"), "{steps:?}");
    for (verb, allowed) in [("POST", true), ("GET", false)] {
        let outcome = authz
            .handle(&token_event(&tokens["auditor"], &api_id, verb), now())
            .await
            .unwrap();
        assert_eq!(
            outcome.log.decision == "allow",
            allowed,
            "{verb}: {}",
            outcome.log.line()
        );
        if allowed {
            assert_eq!(
                outcome.log.group.as_deref(),
                Some(arun),
                "{}",
                outcome.log.line()
            );
        }
    }

    // `gatehouse authorize` says the same, from the last published bundle, with the chain.
    let database_url = sqlx::ConnectOptions::to_url_lossy(&*pool.connect_options()).to_string();
    let cli = |token: &str, verb: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args([
                "authorize",
                "--token",
                token,
                "--api",
                &api_id,
                "--stage",
                "prod",
                verb,
                "/orders",
            ])
            .env("DATABASE_URL", &database_url)
            .env("GATEHOUSE_OIDC_ISSUER", &provider().issuer)
            .env("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse")
            .env("GATEHOUSE_OIDC_CLIENT_SECRET", "gatehouse-demo-secret")
            .env("GATEHOUSE_ALLOWED_TENANTS", TENANT)
            .env("GATEHOUSE_BASE_URL", "http://127.0.0.1:3000")
            .env("GATEHOUSE_API_AUDIENCES", API)
            .output()
            .unwrap()
    };
    let out = cli(&tokens["norole"], "POST");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("ALLOWED: POST /orders on stage prod"),
        "{text}"
    );
    assert!(
        text.contains("which is granted POST /orders on stage prod"),
        "{text}"
    );
    assert!(text.contains("decided on published version 3"), "{text}");
    let out = cli(&tokens["auditor"], "GET");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("REFUSED"));

    // S3 unreachable (the object gone): the last bundle serves within the bound, never past it.
    let strict = Arc::new(
        authorizer(BundleSource::S3(S3Source::new(
            s3.clone(),
            BUCKET.into(),
            KEY.into(),
            Duration::ZERO,
            Duration::from_secs(1),
        )))
        .await,
    );
    let event = token_event(&tokens["admin"], &api_id, "GET");
    assert_eq!(
        strict.handle(&event, now()).await.unwrap().log.decision,
        "allow"
    );
    s3.delete_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        strict.handle(&event, now()).await.unwrap().log.decision,
        "allow"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stale = strict.handle(&event, now()).await.unwrap();
    assert_eq!(stale.log.decision, "deny");
    assert!(
        stale.log.reason.contains("longer than the 1 s allowed"),
        "{}",
        stale.log.line()
    );
}

fn fixed_bundle(api_id: &str) -> BundleSource {
    let bundle: Bundle = serde_json::from_value(json!({
        "format": "gatehouse-access-bundle/1", "version": 4, "generated_at": "2026-12-03T00:00:00Z",
        "groups": [ORDERS_TEAM, common::ADMIN_GROUP], "nested": [],
        "roles": [{"arn": role_arn("orders-readers"), "groups": [0, 1]}],
        "apis": [{"api_id": api_id, "account": ACCOUNT, "region": "us-east-1",
                  "grants": [{"role": 0, "stage": "prod", "method": "GET", "path": "/orders"}]}]
    }))
    .unwrap();
    BundleSource::Fixed(Arc::new(bundle.compile().unwrap()))
}

/// Re-signs nothing: swaps the header (and drops the signature) of a real token.
fn with_header(token: &str, header: Value, signature: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    format!("{header}.{payload}.{signature}")
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason_in_the_log_line() {
    let api_id = "a1b2c3d4e5";
    let authz = authorizer(fixed_bundle(api_id)).await;
    let good = access_token("admin", API).await;
    let ok = authz
        .handle(&token_event(&good, api_id, "GET"), now())
        .await
        .unwrap();
    assert_eq!(ok.log.decision, "allow", "{}", ok.log.line());

    let exp: u64 = {
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(good.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        claims["exp"].as_u64().unwrap()
    };
    // An HS256 token signed with the issuer's public key (the classic key-confusion attack).
    let jwks: Value = reqwest::get(Jwks::discover(&provider().issuer).await.unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = jwks["keys"][0]["n"].as_str().unwrap().to_string();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some("demo-key-1".into());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        let mut claims = claims.clone();
        claims["groups"] = json!([ORDERS_TEAM, FINANCE]);
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    };
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "another tenant",
            access_token("outsider", API).await,
            now(),
            "is from tenant 9d8c7b6a-5f4e-4d3c-8b2a-190817161514, which is not allowed",
        ),
        (
            "a wrong audience",
            access_token("admin", "api://some-other-api").await,
            now(),
            "is for audience api://some-other-api, not this API",
        ),
        (
            "an expired token",
            good.clone(),
            exp + 61,
            "the token expired at",
        ),
        (
            "a bad signature",
            tampered,
            now(),
            "the token's signature is not valid",
        ),
        (
            "alg none",
            with_header(&good, json!({"alg": "none", "typ": "JWT"}), ""),
            now(),
            "algorithm none is not accepted",
        ),
        (
            "HS256 signed with the public key",
            hs256,
            now(),
            "algorithm HS256 is not accepted",
        ),
        (
            "an overage token",
            access_token("overage", API).await,
            now(),
            "groups overflowed",
        ),
        (
            "an unknown key",
            with_header(
                &good,
                json!({"alg": "RS256", "kid": "made-up"}),
                good.split('.').nth(2).unwrap(),
            ),
            now(),
            "signing key made-up is not one of the issuer's",
        ),
        ("garbage", "not-a-token".into(), now(), "not a JWT"),
    ];
    for (what, token, at, reason) in cases {
        let outcome = authz
            .handle(&token_event(&token, api_id, "GET"), at)
            .await
            .unwrap();
        let line = outcome.log.line();
        assert_eq!(outcome.log.decision, "deny", "{what}: {line}");
        assert!(line.contains(reason), "{what}: `{reason}` not in {line}");
        assert_eq!(effect(&outcome), "Deny", "{what}");
    }
    // Just inside the allowed skew, the same token still passes.
    let skew = authz
        .handle(&token_event(&good, api_id, "GET"), exp + 59)
        .await
        .unwrap();
    assert_eq!(skew.log.decision, "allow", "{}", skew.log.line());
    // No token at all: API Gateway's 401.
    let none = authz
        .handle(&json!({"type": "TOKEN", "authorizationToken": "", "methodArn": method_arn(api_id, "GET")}), now())
        .await
        .unwrap();
    assert_eq!(none.response, Err("Unauthorized"));

    // A REQUEST authorizer and an HTTP API (payload 2.0, simple response) decide alike.
    let request = json!({"type": "REQUEST", "methodArn": method_arn(api_id, "GET"),
        "resource": "/orders", "path": "/orders", "httpMethod": "GET",
        "headers": {"Authorization": format!("Bearer {good}")},
        "requestContext": {"apiId": api_id, "stage": "prod"}});
    let outcome = authz.handle(&request, now()).await.unwrap();
    assert_eq!(effect(&outcome), "Allow", "{}", outcome.log.line());
    let http = json!({"version": "2.0", "type": "REQUEST", "routeKey": "POST /orders",
        "rawPath": "/orders", "headers": {"authorization": format!("Bearer {good}")},
        "routeArn": method_arn(api_id, "POST"),
        "requestContext": {"apiId": api_id, "stage": "prod", "http": {"method": "POST"}}});
    let outcome = authz.handle(&http, now()).await.unwrap();
    let response = outcome.response.unwrap();
    assert_eq!(response["isAuthorized"], false);
    assert!(response["context"]["reason"]
        .as_str()
        .unwrap()
        .contains("no grant of the caller's groups covers POST /orders"));
}
