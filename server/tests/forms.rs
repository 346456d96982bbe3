//! Every form is a plain HTML post (pages are rendered on the server; the browser hydrates only
//! islands): it is answered with a redirect back to its page, carrying its outcome in the
//! address (`__path`, `__err`), whether it went through or not, and only the newest one.

use crate::common;
use app::error::AppError;
use app::form::FormOutcome;
use common::*;
use leptos::server_fn::error::ServerFnUrlError;
use reqwest::{header, StatusCode, Url};

const END_SESSIONS: &str = "/api/people/end-sessions";
const ADA: &str = "0a1b2c3d-0000-4000-8000-000000000001";

/// The outcomes a redirect's address carries, for the server function `path`.
fn carried(location: &Url) -> Vec<(String, FormOutcome)> {
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let paths = pairs
        .iter()
        .filter(|(k, _)| k == "__path")
        .map(|(_, v)| v.clone());
    let errs = pairs
        .iter()
        .filter(|(k, _)| k == "__err")
        .map(|(_, v)| v.clone());
    paths
        .zip(errs)
        .map(|(path, err)| {
            let error = ServerFnUrlError::<AppError>::decode_err(&err);
            (path, FormOutcome::of(&Err(error)))
        })
        .collect()
}

async fn post_as_a_page(client: &TestApp, page: &str, form: &str) -> (StatusCode, Url) {
    post_to_as_a_page(client, END_SESSIONS, page, form).await
}

async fn post_to_as_a_page(
    client: &TestApp,
    function: &str,
    page: &str,
    form: &str,
) -> (StatusCode, Url) {
    let response = client
        .client
        .post(client.url(function))
        .header(header::ORIGIN, &client.base_url)
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::REFERER, page)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        Url::parse(&location).unwrap_or_else(|_| panic!("Location {location:?}")),
    )
}

#[tokio::test]
async fn a_form_post_comes_back_to_its_page_with_its_newest_outcome() {
    let app = spawn_app().await;
    // Ada has a session to end; the admin-reviewer ends it.
    let _ada = signed_in(&app, "admin").await;
    let app = signed_in(&app, "admin-reviewer").await;
    // The page already shows an older outcome (of another form) in its address.
    let page = app.url("/sync?q=a%20b&__path=%2Fapi%2Fold&__err=T0xE");

    // Went through: back to the page, the message carried, the older outcome gone.
    let (status, back) = post_as_a_page(&app, &page, &format!("tid={TENANT}&oid={ADA}")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(back.path(), "/sync");
    assert!(
        back.query_pairs().any(|(k, v)| k == "q" && v == "a b"),
        "{back}"
    );
    let outcomes = carried(&back);
    assert_eq!(outcomes.len(), 1, "{back}");
    assert_eq!(outcomes[0].0, END_SESSIONS);
    assert!(outcomes[0].1.went_through());
    assert!(
        outcomes[0]
            .1
            .summary()
            .starts_with("Every session of Ada Admin"),
        "{:?}",
        outcomes[0].1
    );

    // Did not go through, posted from the page as it came back: only the refusal is carried.
    let (status, again) =
        post_as_a_page(&app, back.as_str(), &format!("tid={TENANT}&oid=nope")).await;
    assert_eq!(status, StatusCode::FOUND);
    let outcomes = carried(&again);
    assert_eq!(outcomes.len(), 1, "{again}");
    assert!(!outcomes[0].1.went_through());
    assert!(
        outcomes[0]
            .1
            .summary()
            .contains("not a person's tenant and object id"),
        "{:?}",
        outcomes[0].1
    );

    // The page reads it back: the Sync page says what was done beside the form.
    let (status, html) = body(app.get(&back[url::Position::BeforePath..]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-testid="sessions-ended""#), "{html}");
    assert!(html.contains("Every session of Ada Admin"), "{html}");
}

#[tokio::test]
async fn a_sync_started_from_the_sync_page_says_so_beside_its_button() {
    let app = signed_in(&spawn_app().await, "admin").await;
    let page = app.url("/sync");
    let (status, back) =
        post_to_as_a_page(&app, "/api/catalog/sync-form", &page, "catalog=roles&mode=").await;
    assert_eq!(status, StatusCode::FOUND);
    let outcomes = carried(&back);
    assert_eq!(outcomes.len(), 1, "{back}");
    let started = &outcomes[0].1;
    assert!(started.went_through(), "{started:?}");
    assert!(
        started.summary().contains("of the IAM roles started")
            || started.summary().contains("already running"),
        "{started:?}"
    );
    // The catalog comes back with it: the page says it in the IAM roles card.
    assert_eq!(started.typed("catalog").as_deref(), Some("roles"));
    let (_, html) = body(app.get(&back[url::Position::BeforePath..]).await).await;
    let card = html
        .split(r#"data-catalog="roles""#)
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or_default();
    assert!(
        card.contains("of the IAM roles started") || card.contains("already running"),
        "{card}"
    );

    // A catalog that does not exist: refused, beside the field, and nothing started.
    let runs = count(&app.pool, "SELECT count(*) FROM sync_runs").await;
    let (_, refused) =
        post_to_as_a_page(&app, "/api/catalog/sync-form", &page, "catalog=nope&mode=").await;
    let outcomes = carried(&refused);
    assert_eq!(outcomes.len(), 1, "{refused}");
    assert_eq!(
        outcomes[0].1.error_for("catalog").as_deref(),
        Some("There is no catalog called `nope`.")
    );
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM sync_runs").await,
        runs
    );
}
