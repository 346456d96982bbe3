//! The whole allow/deny matrix, generated: every page the app's route list holds, every server
//! function the server has registered and every plain route, called as each identity, checked
//! against `app::access` (the table the README's is generated from). A server function with no
//! entry in the table fails this test.

use crate::common;

use app::{
    access::{page_rule, Endpoint, ROUTES, SERVER_FUNCTIONS},
    error::AppError,
    roles::{Page, Role},
};
use common::*;
use reqwest::{header, StatusCode};

/// (login hint, roles): `None` is nobody signed in.
const IDENTITIES: [(&str, Option<&[Role]>); 6] = [
    ("anonymous", None),
    ("norole", Some(&[])),
    ("admin", Some(&[Role::Admin])),
    ("reviewer", Some(&[Role::Reviewer])),
    ("auditor", Some(&[Role::Auditor])),
    ("admin-reviewer", Some(&[Role::Admin, Role::Reviewer])),
];

#[test]
fn every_registered_server_function_is_in_the_table_and_nothing_else() {
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    registered.sort();
    let mut listed: Vec<String> = SERVER_FUNCTIONS
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        registered, listed,
        "add the new server function to app::access"
    );
}

#[test]
fn the_readme_table_is_generated_from_the_access_table() {
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    let (start, end) = ("<!-- access-table:start -->\n", "<!-- access-table:end -->");
    let a = readme
        .find(start)
        .expect("README has the access table markers")
        + start.len();
    let b = readme.find(end).unwrap();
    let table = app::access::markdown_table();
    if readme[a..b] != table && std::env::var("GATEHOUSE_UPDATE_README").is_ok() {
        std::fs::write(
            readme_path,
            format!("{}{table}{}", &readme[..a], &readme[b..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        readme[a..b],
        table,
        "the README's access table is stale: GATEHOUSE_UPDATE_README=1 cargo test -p server --test integration access_matrix"
    );
}

fn decoded(text: &str) -> Option<AppError> {
    serde_json::from_str::<AppError>(text).ok()
}

async fn call(app: &TestApp, e: &Endpoint) -> (StatusCode, String) {
    let request = match e.method {
        "POST" if e.path.starts_with("/api/") && !e.path.starts_with("/api/audit") => app
            .client
            .post(app.url(e.path))
            .header(header::ORIGIN, &app.base_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(e.sample),
        "POST" => app
            .client
            .post(app.url(e.sample))
            .header(header::ORIGIN, &app.base_url),
        _ => app.client.get(app.url(e.sample)),
    };
    body(request.send().await.unwrap()).await
}

#[tokio::test]
async fn every_endpoint_as_every_identity() {
    let app = spawn_app().await;
    // The app's own route list, with every parameter filled in with something that does not exist.
    let pages: Vec<String> = gatehouse::route_list()
        .iter()
        .map(|r| {
            r.path()
                .split('/')
                .map(|s| {
                    if s.starts_with('{') || s.starts_with(':') {
                        "999999"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert!(pages.len() >= Page::ALL.len(), "{pages:?}");
    let mut checked = 0;
    for (who, roles) in IDENTITIES {
        let mut as_who = spawn_client(&app);
        if roles.is_some() {
            let _ = as_who.sign_in(who, "/").await.response.text().await;
        }
        for path in &pages {
            let page = Page::for_path(path).unwrap_or_else(|| panic!("{path} belongs to no page"));
            let status = as_who.get(path).await.status();
            let allowed = page_rule(page).allows(roles);
            match roles {
                None => assert_eq!(status, StatusCode::SEE_OTHER, "{who} GET {path}"),
                Some(_) if allowed => assert!(
                    status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                    "{who} GET {path}: {status}"
                ),
                Some(_) => assert_eq!(status, StatusCode::FORBIDDEN, "{who} GET {path}"),
            }
            checked += 1;
        }
        for e in SERVER_FUNCTIONS.iter().chain(ROUTES) {
            // Signing out would end this identity's session half-way through the walk.
            if e.path == "/auth/logout" {
                continue;
            }
            let (status, text) = call(&as_who, e).await;
            let error = decoded(&text);
            let case = format!("{who} {} {}: {status} {text:.200}", e.method, e.path);
            if e.rule.allows(roles) {
                assert!(
                    !matches!(error, Some(AppError::SignIn | AppError::Forbidden))
                        && !matches!(error, Some(AppError::Request(_)))
                        && status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::INTERNAL_SERVER_ERROR,
                    "allowed, yet {case}"
                );
                assert_ne!(status, StatusCode::FORBIDDEN, "allowed, yet {case}");
            } else if e.path.starts_with("/api/audit") || e.path.starts_with("/api/reports") {
                let expected = if roles.is_none() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, expected, "denied, yet {case}");
            } else {
                let expected = if roles.is_none() {
                    AppError::SignIn
                } else {
                    AppError::Forbidden
                };
                assert_eq!(error, Some(expected), "denied, yet {case}");
            }
            checked += 1;
        }
        as_who.client = browser();
    }
    eprintln!(
        "access matrix: {} pages + {} server functions + {} routes, × {} identities = {checked} calls",
        pages.len(),
        SERVER_FUNCTIONS.len(),
        ROUTES.len() - 1,
        IDENTITIES.len()
    );
}
