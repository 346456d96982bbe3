//! Sign-in against the real OpenID Connect provider, refusals, sessions and sign-out.

use crate::common;

use common::*;
use reqwest::{header, StatusCode};
use serde_json::Value;

fn set_cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(String::from)
}

#[tokio::test]
async fn admin_signs_in_and_comes_back_to_the_page_asked_for() {
    let app = spawn_app().await;
    let hop = app.sign_in("admin", "/apis").await;
    assert_eq!(hop.url.path(), "/apis");
    let (status, html) = body(hop.response).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ada Admin"), "the header names the person");
    assert!(
        html.contains(r#"data-testid="user-roles" class="user-roles">admin"#),
        "{html}"
    );

    let (name, username, roles): (String, String, Vec<String>) = sqlx::query_as(
        "SELECT display_name, preferred_username, roles FROM users WHERE tid = $1::uuid AND oid = $2::uuid",
    )
    .bind(TENANT)
    .bind("0a1b2c3d-0000-4000-8000-000000000001")
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), username.as_str()),
        ("Ada Admin", "ada.admin@contoso.test")
    );
    assert_eq!(roles, vec!["admin"]);

    let events = app.audit_actions().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "auth.sign_in");
    assert_eq!(events[0].1["roles"], serde_json::json!(["admin"]));
}

#[tokio::test]
async fn roles_come_from_groups_and_from_app_roles() {
    let mut app = spawn_app().await;
    for (hint, expected) in [
        ("reviewer", vec!["reviewer"]),
        ("auditor", vec!["auditor"]),
        ("admin-reviewer", vec!["admin", "reviewer"]),
        ("norole", vec![]),
    ] {
        let hop = app.sign_in(hint, "/").await;
        let _ = hop.response.text().await;
        let roles: Vec<String> =
            sqlx::query_scalar("SELECT roles FROM users ORDER BY last_sign_in_at DESC LIMIT 1")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(roles, expected, "{hint}");
        // A new browser: the provider would otherwise remember who signed in there.
        app.client = browser();
    }
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = spawn_app().await;
    let login = app.get("/auth/login?login_hint=admin").await;
    let before =
        set_cookie_value(&login, "gatehouse_session").expect("a session for the pending sign-in");
    assert!(
        before.contains("HttpOnly") && before.contains("SameSite=Lax"),
        "{before}"
    );
    assert!(!before.contains("Secure"), "no Secure flag on plain http");
    let location = login.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let callback = app
        .follow_until(&location, |u| u.path() == "/auth/callback")
        .await;
    let response = app.client.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = set_cookie_value(&response, "gatehouse_session").expect("a new session id");
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&before), id(&after));
}

/// Signs in with a spoilt token (or as someone refused) and checks the refusal end to end.
async fn assert_refused(login_hint: &str, reason: &str, status: StatusCode) {
    let app = spawn_app().await;
    let hop = app.sign_in(login_hint, "/").await;
    assert_eq!(
        hop.url.path(),
        "/auth/callback",
        "{login_hint}: stays on the callback"
    );
    let (got_status, html) = body(hop.response).await;
    assert_eq!(got_status, status, "{login_hint}");
    assert!(html.contains("Sign-in refused"), "{login_hint}: {html}");
    assert!(
        html.contains(&format!(r#"data-reason="{reason}""#)),
        "{login_hint}: {html}"
    );

    let events = app.audit_actions().await;
    assert_eq!(events.len(), 1, "{login_hint}: {events:?}");
    assert_eq!(events[0].0, "auth.sign_in_refused");
    assert_eq!(events[0].1["reason"], Value::from(reason));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0, "{login_hint}: nobody was saved");

    let home = app.get("/").await;
    assert_eq!(
        home.status(),
        StatusCode::SEE_OTHER,
        "{login_hint}: still signed out"
    );
}

#[tokio::test]
async fn a_person_from_another_tenant_is_refused() {
    assert_refused("outsider", "tenant_not_allowed", StatusCode::FORBIDDEN).await;
    // "Try again" asks the provider to offer another account, not the refused one again.
    let app = spawn_app().await;
    let (_, html) = body(app.sign_in("outsider", "/").await.response).await;
    assert!(
        html.contains(r#"href="/auth/login?prompt=select_account""#),
        "{html}"
    );
    let hop = app
        .client
        .get(app.url("/auth/login?prompt=select_account"))
        .send()
        .await
        .unwrap();
    let to = hop.headers()[header::LOCATION].to_str().unwrap();
    assert!(to.contains("prompt=select_account"), "{to}");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    assert_refused(
        "admin~wrong_audience",
        "wrong_audience",
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    assert_refused("admin~expired", "token_expired", StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    assert_refused("admin~bad_nonce", "bad_nonce", StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    assert_refused("admin~tampered", "bad_signature", StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    assert_refused("admin~wrong_issuer", "wrong_issuer", StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused() {
    let app = spawn_app().await;
    let callback = app
        .follow_until(&app.url("/auth/login?login_hint=admin"), |u| {
            u.path() == "/auth/callback"
        })
        .await;
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            (
                k.to_string(),
                if k == "state" {
                    "forged-state".into()
                } else {
                    v.to_string()
                },
            )
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let (status, html) = body(app.client.get(forged).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(r#"data-reason="state_mismatch""#), "{html}");
    // The pending sign-in is spent: replaying the genuine callback does not sign in either.
    let (status, html) = body(app.client.get(callback).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(r#"data-reason="no_pending_login""#), "{html}");
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_callback_without_a_sign_in_in_progress_is_refused() {
    let app = spawn_app().await;
    let (status, html) = body(app.get("/auth/callback?code=abc&state=def").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(r#"data-reason="no_pending_login""#));
}

#[tokio::test]
async fn pages_send_strangers_to_sign_in_and_keep_where_they_were_going() {
    let app = spawn_app().await;
    let response = app.get("/history?actor=ada").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/auth/login?next=%2Fhistory%3Factor%3Dada"
    );
    // Health checks and assets stay public.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_next_parameter_cannot_send_people_elsewhere() {
    let app = spawn_app().await;
    let hop = app.sign_in("admin", "https://evil.example/").await;
    assert_eq!(hop.url.as_str(), app.url("/"));
}

#[tokio::test]
async fn sign_out_ends_the_session_and_uses_the_providers_end_session() {
    let app = spawn_app().await;
    let _ = app.sign_in("auditor", "/").await.response.text().await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);

    let response = app.post_form("/auth/logout").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{}/session/end?", provider().issuer)),
        "{location}"
    );
    assert!(location.contains("id_token_hint=") && location.contains("post_logout_redirect_uri="));

    assert_eq!(
        app.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(actions, vec!["auth.sign_in", "auth.sign_out"]);
}

#[tokio::test]
async fn a_cross_origin_post_is_refused() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    for origin in [Some("http://evil.example"), None] {
        let mut request = app.client.post(app.url("/auth/logout"));
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{origin:?}"
        );
    }
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app_with(|s| s.session_max = std::time::Duration::from_secs(5)).await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(5600)).await;
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(actions, vec!["auth.sign_in", "auth.session_expired"]);
}

#[tokio::test]
async fn a_session_ends_after_being_idle() {
    let app = spawn_app_with(|s| s.session_idle = std::time::Duration::from_secs(3)).await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::OK,
        "activity keeps it alive"
    );
    tokio::time::sleep(std::time::Duration::from_millis(4000)).await;
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    for path in ["/", "/auth/signed-out", "/healthz"] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
    }
    // Pages are never cached; the site's files are revalidated on every use (their names do
    // not change across deploys).
    assert_eq!(
        app.get("/").await.headers()[header::CACHE_CONTROL],
        "no-store"
    );
    assert_eq!(
        app.get("/pkg/gatehouse.wasm").await.headers()[header::CACHE_CONTROL],
        "no-cache"
    );
    // Leptos pages allow exactly their own inline scripts, by nonce.
    let page = app.get("/").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    assert!(page
        .text()
        .await
        .unwrap()
        .contains(&format!(r#"nonce="{nonce}""#)));
}

#[tokio::test]
async fn idle_expiry_slides_with_every_request() {
    let idle = std::time::Duration::from_secs(3);
    let app = spawn_app_with(move |s| s.session_idle = idle).await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    // Requests 1.5 s apart carry the session past 3 s after sign-in (and past 3 s after the
    // first request): only an expiry that moves on with each request allows that.
    for step in 1..=4 {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(
            app.get("/").await.status(),
            StatusCode::OK,
            "request {step} at {} ms",
            step * 1500
        );
    }
    // Then idle for longer than the timeout: the session is over.
    tokio::time::sleep(std::time::Duration::from_millis(3600)).await;
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_tab_or_newline_in_next_does_not_leave_the_site() {
    let mut app = spawn_app().await;
    for next in ["/\t/evil.example", "/\r\n/evil.example", "/\\evil.example"] {
        app.client = browser();
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let hop = app
            .follow(&app.url(&format!("/auth/login?login_hint=admin&next={encoded}")))
            .await;
        assert_eq!(hop.response.status(), StatusCode::OK, "next = {next:?}");
        assert_eq!(hop.url.as_str(), app.url("/"), "next = {next:?}");
    }
}

#[tokio::test]
async fn a_callback_matching_no_sign_in_writes_nothing_to_the_audit_chain() {
    let app = spawn_app().await;
    let before = count(&app.pool, "SELECT count(*) FROM audit_events").await;
    let long = "x".repeat(50_000);
    for _ in 0..5 {
        let url =
            format!("/auth/callback?state=forged&error=access_denied&error_description={long}");
        let (status, html) = body(app.get(&url).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(!html.contains("xxxxx"), "the caller's text is not echoed");
    }
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM audit_events").await,
        before,
        "unmatched callbacks are logged, not chained"
    );
    // From one address, the flood is cut short.
    let mut limited = false;
    for _ in 0..30 {
        if app.get("/auth/callback?state=forged").await.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "a client sending many unmatched callbacks is answered 429"
    );
}

#[tokio::test]
async fn an_admin_ends_every_session_of_a_person() {
    let app = spawn_app().await;
    let mut ada_laptop = spawn_client(&app);
    let ada_phone = spawn_client(&app);
    let _ = ada_laptop.sign_in("admin", "/").await.response.text().await;
    let _ = ada_phone.sign_in("admin", "/").await.response.text().await;
    let _ = app
        .sign_in("admin-reviewer", "/")
        .await
        .response
        .text()
        .await;
    let ada_oid = "0a1b2c3d-0000-4000-8000-000000000001";
    let form = format!("tid={TENANT}&oid={ada_oid}");
    // Only an admin may: Ada's reviewer colleague without admin is refused.
    let end = |client: &TestApp| {
        client
            .client
            .post(client.url("/api/people/end-sessions"))
            .header(header::ORIGIN, &client.base_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
    };
    let rita = spawn_client(&app);
    let _ = rita.sign_in("reviewer", "/").await.response.text().await;
    assert_eq!(end(&rita).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(ada_laptop.get("/").await.status(), StatusCode::OK);

    let (status, text) = body(end(&app).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("Every session of Ada Admin"), "{text}");
    // Both of Ada's sessions are over at their next request; Sam's goes on.
    assert_eq!(ada_laptop.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(ada_phone.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    let actions: Vec<(String, Value)> = app.audit_actions().await;
    assert!(actions
        .iter()
        .any(|(a, d)| a == "auth.sessions_ended"
            && d["person"] == "Ada Admin <ada.admin@contoso.test>"));
    assert_eq!(
        actions
            .iter()
            .filter(|(a, d)| a == "auth.session_expired" && d["reason"] == "ended by an admin")
            .count(),
        2
    );
    // Signing in again works.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ada_laptop.client = browser();
    let _ = ada_laptop.sign_in("admin", "/").await.response.text().await;
    assert_eq!(ada_laptop.get("/").await.status(), StatusCode::OK);
}

/// Two servers on one database, as replicas: each keeps in memory the sessions it read lately
/// and when a person's sessions were last ended; a session signed out or ended through one is
/// refused by the other at its next request (both are told at once).
#[tokio::test]
async fn a_session_ended_through_one_replica_ends_on_the_other() {
    use reqwest::cookie::CookieStore;
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;

    // Sam signs in on B; his session's cookie, sent to A, is let in (and A keeps the session).
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let sam = TestApp {
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        ..spawn_client(&b)
    };
    let _ = sam
        .sign_in("admin-reviewer", "/")
        .await
        .response
        .text()
        .await;
    let cookie = jar
        .cookies(&url::Url::parse(&b.base_url).unwrap())
        .expect("a session cookie");
    let replayed_on_a = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(a.url("/"))
            .header(header::COOKIE, cookie.clone())
            .send()
    };
    for _ in 0..3 {
        assert_eq!(replayed_on_a().await.unwrap().status(), StatusCode::OK);
    }
    // He signs out on B: his cookie is refused on A too.
    assert_eq!(
        sam.post_form("/auth/logout").await.status(),
        StatusCode::SEE_OTHER
    );
    let took = until_signed_out("a session signed out on B, on A", || async {
        replayed_on_a().await.unwrap().status()
    })
    .await;
    eprintln!("the session signed out on B was refused on A {took:?} later");

    let ada = spawn_client(&a);
    let _ = ada.sign_in("admin", "/").await.response.text().await;
    // A has read (and keeps) that Ada's sessions were never ended.
    for _ in 0..3 {
        assert_eq!(ada.get("/").await.status(), StatusCode::OK);
    }
    let sam = signed_in(&b, "admin-reviewer").await;
    let ended = sam
        .client
        .post(sam.url("/api/people/end-sessions"))
        .header(header::ORIGIN, &sam.base_url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "tid={TENANT}&oid=0a1b2c3d-0000-4000-8000-000000000001"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    let took = until_signed_out("Ada's sessions ended on B, on A", || async {
        ada.get("/").await.status()
    })
    .await;
    eprintln!("Ada's session ended on A {took:?} after B ended it");
    // Sam's own session, on either, goes on.
    assert_eq!(sam.get("/").await.status(), StatusCode::OK);
}

/// Asks until the answer sends the person to sign in (303), for 5 s at most: a notification
/// crosses from the database to the other replica in moments, not at the end of what it keeps
/// (30 s). How long it took.
async fn until_signed_out<F, Fut>(what: &str, mut ask: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let since = std::time::Instant::now();
    loop {
        let status = ask().await;
        if status == StatusCode::SEE_OTHER {
            return since.elapsed();
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            since.elapsed() < std::time::Duration::from_secs(5),
            "{what}: still let in {:?} later",
            since.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
