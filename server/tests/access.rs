//! The allow/deny matrix: every page and server function, as every demo user.

use crate::common;

use common::*;
use reqwest::{header, StatusCode};

const PAGES: [&str; 8] = [
    "/",
    "/apis",
    "/groups",
    "/mappings",
    "/change-sets",
    "/reviews",
    "/history",
    "/sync",
];

/// Which pages each demo user may open (the rest answer 403).
fn allowed(user: &str) -> Vec<&'static str> {
    let readers = vec![
        "/",
        "/apis",
        "/groups",
        "/mappings",
        "/change-sets",
        "/history",
    ];
    match user {
        "admin" => [readers, vec!["/sync"]].concat(),
        "reviewer" => [readers, vec!["/reviews"]].concat(),
        "auditor" => readers,
        "admin-reviewer" => PAGES.to_vec(),
        _ => vec![],
    }
}

#[tokio::test]
async fn every_page_as_every_role() {
    for user in ["admin", "reviewer", "auditor", "admin-reviewer", "norole"] {
        let app = spawn_app().await;
        let _ = app.sign_in(user, "/").await.response.text().await;
        for page in PAGES {
            let (status, html) = body(app.get(page).await).await;
            let expected = if allowed(user).contains(&page) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{user} on {page}");
            if user == "norole" {
                assert!(
                    html.contains(r#"data-testid="no-access""#),
                    "{user} on {page}"
                );
            } else if expected == StatusCode::FORBIDDEN {
                assert!(
                    html.contains(r#"data-testid="forbidden""#),
                    "{user} on {page}"
                );
            }
            // The navigation lists exactly the allowed pages.
            for other in PAGES.iter().filter(|p| **p != "/") {
                let link = format!(r#"<a href="{other}""#);
                assert_eq!(
                    html.contains(&link),
                    allowed(user).contains(other),
                    "{user} on {page}: link to {other}"
                );
            }
        }
    }
}

#[tokio::test]
async fn server_functions_answer_only_with_the_callers_own_identity() {
    let app = spawn_app().await;
    let call = |app: &TestApp| {
        app.client
            .post(app.url("/api/me"))
            .header(header::ORIGIN, &app.base_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .send()
    };
    let (status, text) = body(call(&app).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "null", "nobody signed in");

    let _ = app.sign_in("reviewer", "/").await.response.text().await;
    let (status, text) = body(call(&app).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let me: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(me["display_name"], "Rita Reviewer");
    assert_eq!(me["roles"], serde_json::json!(["Reviewer"]));
}

#[tokio::test]
async fn unknown_pages_are_not_found_for_people_and_sign_in_for_strangers() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/no-such-page").await.status(),
        StatusCode::SEE_OTHER
    );
    let _ = app.sign_in("auditor", "/").await.response.text().await;
    let (status, html) = body(app.get("/no-such-page").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
}

#[tokio::test]
async fn a_missing_or_malformed_id_answers_404() {
    let app = spawn_app().await;
    let _ = app.sign_in("auditor", "/").await.response.text().await;
    for (page, says) in [
        ("/change-sets/abc", "`abc` is not a change set number."),
        ("/change-sets/999999", "There is no change set 999999."),
        ("/apis/nope", "No API with the id `nope` was synced."),
        ("/apis/nope/matrix", "No API with the id `nope` was synced."),
        ("/roles/nope", "No role named `nope` was synced."),
        (
            "/groups/file/nope",
            "No file group with the id `nope` was synced.",
        ),
    ] {
        let (status, html) = body(app.get(page).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
        assert!(html.contains(r#"data-testid="not-found""#), "{page}");
        assert!(
            html.contains(&says.replace('`', "&#x60;")) || html.contains(says),
            "{page}: {html}"
        );
    }
}

#[tokio::test]
async fn an_impossible_date_in_a_filter_is_refused_next_to_its_field() {
    let app = spawn_app().await;
    let _ = app.sign_in("auditor", "/").await.response.text().await;
    let (status, html) = body(app.get("/history?from=2026-02-31&actor=ada").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("is not a real date: February 2026 has 28 days"),
        "{html}"
    );
    // The filter form is still there, with what was typed.
    assert!(html.contains(r#"value="2026-02-31""#), "{html}");
    assert!(html.contains(r#"value="ada""#), "{html}");
    let (status, html) = body(app.get("/history/access?at=2026-02-30").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("February 2026 has 28 days"), "{html}");
}

/// In `none` mode Home and a change set holding a binding say that bindings are recorded only;
/// in `identity-center` mode the change set says who will use the role through Identity Center.
#[tokio::test]
async fn pages_say_how_bindings_are_enforced() {
    use app::domain::{
        desired::ChangeItem,
        enforcement::Enforcement,
        grant::{Binding, GroupRef},
        names::RoleArn,
    };
    use gatehouse::{audit::Actor, mappings::workflow};
    for mode in [Enforcement::None, Enforcement::IdentityCenter] {
        let app = spawn_app_with(|s| {
            s.aws.targets[0].account_id = "123456789012".into();
            s.aws.targets[0].enforcement = Some(mode);
        })
        .await;
        let author = Actor::person(
            uuid::Uuid::from_u128(1),
            uuid::Uuid::from_u128(99),
            "Someone Else",
            "someone@contoso.test",
        );
        let binding = ChangeItem::AddBinding(Binding {
            group: GroupRef::group("file", "orders"),
            role: RoleArn::parse("arn:aws:iam::123456789012:role/orders-readers").unwrap(),
        });
        let id = workflow::edit(&app.pool, &author, binding).await.unwrap();
        let _ = app.sign_in("admin", "/").await.response.text().await;
        let (_, home) = body(app.get("/").await).await;
        let (status, change_set) = body(app.get(&format!("/change-sets/{id}")).await).await;
        assert_eq!(status, StatusCode::OK);
        let notice =
            "Bindings are recorded only: who may assume a role is managed outside Gatehouse";
        let line = "Members of file group orders will be able to use orders-readers in account 123456789012";
        assert!(change_set.contains(line), "{mode:?}: {change_set}");
        match mode {
            Enforcement::None => {
                assert!(home.contains(notice), "{home}");
                assert!(change_set.contains(notice));
                assert!(change_set
                    .contains("(recorded only: who may assume it is managed outside Gatehouse)"));
            }
            _ => {
                assert!(!home.contains(notice) && !change_set.contains(notice));
                assert!(change_set.contains("through IAM Identity Center."));
            }
        }
    }
}

/// A browser revalidating a cached asset gets 304 Not Modified (Leptos's fallback answered a
/// revalidation with a rendered page instead).
#[tokio::test]
async fn assets_answer_revalidation_with_not_modified() {
    let site = std::env::temp_dir().join(format!("gh-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/gatehouse.js"), "export default 1;").unwrap();
    let root = site.to_str().unwrap().to_string();
    let app = spawn_app_with(move |s| s.site_root = root).await;
    let first = app.get("/pkg/gatehouse.js").await;
    assert_eq!(first.status(), StatusCode::OK);
    let modified = first.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();
    let again = app
        .client
        .get(app.url("/pkg/gatehouse.js"))
        .header(header::IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // A missing asset is a plain 404, not a page.
    assert_eq!(
        app.get("/pkg/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
    // A plain name is revalidated on every use; a content-hashed one is kept for good, and its
    // precompressed sibling is what a browser taking gzip gets.
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    let hashed = "gatehouse.Ab-_0123456789abcdefgh.js";
    let text = "export default 1; ".repeat(100);
    std::fs::write(site.join("pkg").join(hashed), &text).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    std::fs::write(
        site.join("pkg").join(format!("{hashed}.gz")),
        gz.finish().unwrap(),
    )
    .unwrap();
    let kept = app
        .client
        .get(app.url(&format!("/pkg/{hashed}")))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(
        kept.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(kept.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(kept.bytes().await.unwrap().len() < text.len() / 4);
    std::fs::remove_dir_all(&site).unwrap();
}

/// Dynamic answers (pages, JSON) are compressed for clients that take it, and only for them.
#[tokio::test]
async fn dynamic_answers_are_compressed_when_asked() {
    let app = spawn_app().await;
    let plain = app.get("/api/v1/openapi.json").await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let size = plain.bytes().await.unwrap().len();
    for encoding in ["gzip", "br"] {
        let packed = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(packed.status(), StatusCode::OK);
        assert_eq!(packed.headers()[header::CONTENT_ENCODING], encoding);
        let packed_size = packed.bytes().await.unwrap().len();
        assert!(
            packed_size * 3 < size,
            "{encoding}: {packed_size} of {size}"
        );
    }
}
