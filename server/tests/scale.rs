//! At a mid-sized company's size (5,000 groups, 50 APIs, 500 roles, 10,000 mappings): pages stay
//! small, no page stalls the others, more concurrent requests than the pool has connections all
//! get their page, and a page that fails says so with its status.

use crate::common;

use std::time::{Duration, Instant};

use common::{spawn_app_with, spawn_client, TestApp};
use gatehouse::seed_scale::{seed, Sizes};
use reqwest::StatusCode;

/// One of these tests at a time: the stall test measures latency, and the machine has 2 cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn company() -> Sizes {
    Sizes {
        events: 0,
        ..Sizes::at(1)
    }
}

async fn company_app(slots: usize) -> TestApp {
    let app = spawn_app_with(|s| s.max_concurrent_requests = slots).await;
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    seed(&owner, &company()).await.expect("seeded");
    owner.close().await;
    app
}

async fn admin(app: &TestApp) -> TestApp {
    let client = spawn_client(app);
    let _ = client.sign_in("admin", "/").await.response.text().await;
    client
}

/// The page at `path`, checked to be the page (200, its marker).
async fn page(client: &TestApp, path: &str, marker: &str) -> String {
    let response = client.get(path).await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {html:.300}");
    assert!(html.contains(marker), "{path} lacks {marker}");
    html
}

/// The text of the page at `path`, whatever its status.
async fn text(client: &TestApp, path: &str) -> String {
    client.get(path).await.text().await.unwrap()
}

/// The page's "next" link, as a path to request.
fn next_link(html: &str) -> String {
    html.split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&")
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_at_company_size_are_windows_not_dumps() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = company_app(16).await;
    let admin = admin(&app).await;
    for (path, marker) in [
        ("/apis/bench00007/matrix", "data-testid=\"matrix\""),
        ("/mappings", "data-testid=\"mapping-table\""),
        ("/apis/bench00007", "data-testid=\"callers\""),
        ("/groups/file/bench-group-00042", "bench-role-0042"),
        ("/roles", "bench-role-0001"),
        ("/change-sets", "Benchmark change set"),
        ("/", "Gatehouse"),
    ] {
        let size = page(&admin, path, marker).await.len();
        assert!(size < 200 * 1024, "{path}: {size} bytes of HTML");
    }
    // An API's page names a method's first callers in order and counts the others.
    let api = text(&admin, "/apis/bench00007").await;
    let lines: Vec<&str> = api
        .split("data-testid=\"callers\"")
        .skip(1)
        .filter_map(|s| s.split('>').nth(1)?.split('<').next())
        .collect();
    let line = lines
        .iter()
        .find(|l| l.contains("; and "))
        .unwrap_or_else(|| panic!("a method with more callers than shown: {lines:?}"));
    let (shown, more) = line
        .strip_prefix("callable by ")
        .and_then(|s| s.split_once("; and "))
        .unwrap_or_else(|| panic!("callers named and counted: {line}"));
    let shown: Vec<&str> = shown.split("; ").collect();
    assert_eq!(shown.len(), 10, "{line}");
    assert!(shown.iter().all(|c| c.contains(" via ")), "{line}");
    assert!(shown.windows(2).all(|w| w[0] < w[1]), "in order: {line}");
    let more: usize = more.split(' ').next().unwrap().parse().expect(line);
    assert!(more > 0, "{line}");
    // The matrix has rows only for groups that may call the API, a page of them.
    let html = admin
        .get("/apis/bench00007/matrix")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("of 200 groups that may call this API"),
        "{html:.2000}"
    );
    // Its pages walk forward: the next page starts after the last row of this one.
    let next = next_link(&html);
    let second = admin
        .get(&format!("/apis/bench00007/matrix{next}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        second.contains("rel=\"prev\""),
        "the second page links back"
    );
    // Mappings are paged too, and a search narrows them on the server.
    let found = admin
        .get("/mappings?q=Risk%20team%204218")
        .await
        .text()
        .await
        .unwrap();
    assert!(found.contains("1 of 1 mappings"), "{found:.3000}");
    // A mapping names its role's first routes; the role's page, linked, lists all ten.
    let row = found
        .split("data-testid=\"mapping-table\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .expect("the table");
    let routes_named = row.matches("<li>").count() - 1;
    assert_eq!(routes_named, 5, "{row:.3000}");
    let more = row
        .split("data-testid=\"more-routes\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1)?.split('<').next())
        .unwrap_or_else(|| panic!("a count of the routes not named: {row:.3000}"));
    assert_eq!(more, "and 5 more routes", "{row:.3000}");
    let role_href = row
        .split("href=\"/roles/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the role's page")
        .replace("&amp;", "&");
    let role = admin
        .get(&format!("/roles/{role_href}"))
        .await
        .text()
        .await
        .unwrap();
    let listed = role
        .split("data-testid=\"role-routes\"")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap_or_else(|| panic!("the role's routes: {role:.3000}"));
    assert_eq!(listed.matches("<li>").count(), 10, "{listed}");
    // The REST API answers a mapping whole: a client reads every route of it.
    let mut reader = spawn_client(&app);
    let secret = crate::rest_api::make_token(
        &mut reader,
        "admin",
        "name=scale&kind=service&service=scale-reader&scope_read=on&days=1",
    )
    .await;
    let (status, _, mappings) = crate::rest_api::Api::new(&reader, &secret)
        .get("/api/v1/mappings?search=Risk%20team%204218")
        .await;
    assert_eq!(status, StatusCode::OK, "{mappings}");
    let routes = mappings["items"][0]["routes"].as_array().expect("routes");
    assert_eq!(routes.len(), 10, "{mappings}");
    // The matrix filtered by a group's name names it (its name is now kept by the server).
    let before = admin
        .get("/apis/bench00007/matrix?q=Support%20team%2042")
        .await
        .text()
        .await
        .unwrap();
    assert!(before.contains(">Support team 42<"), "{before:.3000}");
    // Their order is the group's name, kept on each binding by the database: a group renamed
    // in the directory moves to its new place at once.
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    sqlx::query("UPDATE directory_groups SET display_name = 'AAAA renamed' WHERE object_id = 'bench-group-00042'")
        .execute(&owner)
        .await
        .unwrap();
    owner.close().await;
    let first = text(&admin, "/mappings?size=1").await;
    assert!(first.contains("AAAA renamed"), "{first:.3000}");
    // The groups list's count is kept too, and moves with the directory at once.
    let groups = text(&admin, "/groups").await;
    assert!(groups.contains(">5000 groups"), "{groups:.3000}");
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    sqlx::query(
        "INSERT INTO directory_groups (source, object_id, directory_ref, display_name)
         VALUES ('file', 'bench-group-new', 'bench-group-new', 'A new team')",
    )
    .execute(&owner)
    .await
    .unwrap();
    owner.close().await;
    let groups = text(&admin, "/groups").await;
    assert!(groups.contains(">5001 groups"), "{groups:.3000}");
    // Pages that keep group names between requests name it by its new name at once too.
    let after = admin
        .get("/apis/bench00007/matrix?q=AAAA")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        after.contains(">AAAA renamed<") && !after.contains("Support team 42<"),
        "{after:.3000}"
    );
    // A group's page offers a few roles to bind, and finds the others on the server.
    let group = admin
        .get("/groups/file/bench-group-00042")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        group.contains("The first 25 of 500 managed roles"),
        "{group:.3000}"
    );
    let found = admin
        .get("/groups/file/bench-group-00042?role=bench-role-0321")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        found.contains("1 managed role matching “bench-role-0321”."),
        "{found:.3000}"
    );
    assert!(found.contains("<option value=\"arn:aws:iam::123456789012:role/bench-role-0321\""));
    // Change sets: a page of 50 of the 100, newest first, and the next page after it.
    let list = text(&admin, "/change-sets").await;
    assert!(list.contains("50 of 100 change sets"), "{list:.3000}");
    let next = next_link(&list);
    let second = text(&admin, &next).await;
    assert!(second.contains("50 of 100 change sets") && second.contains("rel=\"prev\""));
    assert!(!second.contains("rel=\"next\""), "two pages in all");
    // APIs: sorted and paged on the server; the next page keeps the order and the page size.
    let apis = admin
        .get("/apis?sort=methods&size=20")
        .await
        .text()
        .await
        .unwrap();
    assert!(apis.contains("20 of 50 APIs"), "{apis:.3000}");
    let next = next_link(&apis);
    assert!(
        next.starts_with("/apis?sort=methods&size=20&after="),
        "{next}"
    );
    let second = text(&admin, &next).await;
    assert!(second.contains("20 of 50 APIs") && second.contains("rel=\"prev\""));
    // Roles: keyset pages read in the database; walking them forward lists each of the 500
    // once, in order, and the last page's previous link comes back to the page before it.
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/roles?size=200".to_string();
    let mut pages = Vec::new();
    loop {
        let html = text(&admin, &path).await;
        let names: Vec<String> = html
            .split("href=\"/roles/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_string)
            .collect();
        seen.extend(names);
        pages.push(html.clone());
        if !html.contains("rel=\"next\"") {
            break;
        }
        path = next_link(&html);
        assert!(path.starts_with("/roles?size=200&after="), "{path}");
    }
    assert_eq!(pages.len(), 3, "500 roles in pages of 200");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (500, 500), "each role once");
    assert_eq!(seen, sorted, "in the list's order");
    assert!(pages[2].contains("100 of 500 roles"), "{:.2000}", pages[2]);
    // A group's grant form hints the chosen API's paths only: every API has
    // `/orders/{id}/lines`; the page names it in the hints for one API (and in the group's
    // own routes), not for each of the 50.
    let hints = group.matches("/orders/{id}/lines").count();
    assert!((1..10).contains(&hints), "{hints} mentions of one path");
    // Who can call a method granted to 20 roles (200 groups): the count, counted here apart
    // from the page's own queries, then 50 people by name and a next page.
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT m.member_id) FROM directory_memberships m
         JOIN bindings b ON b.group_source = m.source AND b.group_id = m.group_id
         JOIN grants g ON g.role_arn = b.role_arn
         WHERE g.api_id = 'bench00007' AND g.grant_json->>'method' = 'Get'
           AND g.grant_json->>'path' = '/orders/{id}' AND m.member_kind = 'person'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    owner.close().await;
    assert!(expected > 1_000, "{expected} people: a real test of paging");
    let who = "/apis/bench00007/callers?route=GET%20%2Forders%2F%7Bid%7D";
    let html = page(&admin, who, "data-testid=\"caller-table\"").await;
    assert!(
        html.len() < 200 * 1024,
        "{who}: {} bytes of HTML",
        html.len()
    );
    assert!(
        html.contains(&format!("{expected} people may call it now")),
        "{expected}: {html:.3000}"
    );
    assert_eq!(html.matches("data-testid=\"caller-chain\"").count(), 50);
    assert!(
        html.contains("&amp;page=2") || html.contains("&page=2"),
        "a next page"
    );
    // The list is kept between pages, and known stale when the directory changes: a person who
    // joins a group that may call shows at once.
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    let group: String = sqlx::query_scalar(
        "SELECT b.group_id FROM bindings b JOIN grants g ON g.role_arn = b.role_arn
         WHERE g.api_id = 'bench00007' AND g.grant_json->>'method' = 'Get'
           AND g.grant_json->>'path' = '/orders/{id}' LIMIT 1",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO directory_people (source, object_id, display_name, user_principal_name, directory_ref)
         VALUES ('file', 'newcomer', 'Aaron Newcomer', 'aaron@contoso.test', 'newcomer')",
    )
    .execute(&owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO directory_memberships (source, group_id, member_id, member_kind)
         VALUES ('file', $1, 'newcomer', 'person')",
    )
    .bind(&group)
    .execute(&owner)
    .await
    .unwrap();
    owner.close().await;
    let html = text(&admin, who).await;
    assert!(
        html.contains(&format!("{} people may call it now", expected + 1))
            && html.contains("Aaron Newcomer"),
        "the newcomer is listed first: {html:.3000}"
    );
    // A person's page at this size: their five groups' roles and routes.
    let size = page(
        &admin,
        "/people/file/bench-person-4242",
        "data-testid=\"person-routes\"",
    )
    .await
    .len();
    assert!(size < 200 * 1024, "a person's page: {size} bytes of HTML");
}

/// A latency measurement: run alone (end2end/test.sh runs it after the suite), not beside the
/// suite's other tests, which on a 2-core machine take the cores it measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a latency measurement, run alone: cargo test -p server --test integration -- --ignored"]
async fn the_heaviest_page_in_a_loop_does_not_stall_health_checks() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = company_app(16).await;
    // The clients run on a runtime of their own, as callers and a monitoring probe would in
    // other processes: the server's two workers (this test's runtime) serve, and what /healthz
    // waits for is the server, not the load's own clients sharing its threads.
    let clients = spawn_client(&app);
    let measured = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(matrix_load_beside_health_checks(clients))
    });
    let (served, latencies) = tokio::task::spawn_blocking(move || measured.join().unwrap())
        .await
        .unwrap();
    let p99 = p99(latencies.clone());
    println!(
        "{served} matrix pages beside {} health checks: /healthz p99 {p99:?}",
        latencies.len()
    );
    assert!(served > 4, "the matrix was served ({served})");
    assert!(p99 < Duration::from_millis(50), "/healthz p99 {p99:?}");
}

/// Four clients ask matrix pages in a loop for 6 s while /healthz is asked every 10 ms: the
/// matrix pages served and each health check's latency.
async fn matrix_load_beside_health_checks(app: TestApp) -> (usize, Vec<Duration>) {
    let _ = app.sign_in("admin", "/").await.response.text().await;
    let stop = Instant::now() + Duration::from_secs(6);
    let mut load = Vec::new();
    for i in 0..4 {
        let (client, base) = (app.client.clone(), app.base_url.clone());
        load.push(tokio::spawn(async move {
            let mut served = 0;
            while Instant::now() < stop {
                let api = format!("{base}/apis/bench{:05}/matrix", (i * 13 + served) % 50);
                let r = client.get(&api).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let _ = r.bytes().await;
                served += 1;
            }
            served
        }));
    }
    let health = reqwest::Client::new();
    let mut latencies = Vec::new();
    tokio::time::sleep(Duration::from_millis(300)).await;
    while Instant::now() < stop {
        let t = Instant::now();
        let r = health.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        latencies.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut served = 0;
    for l in load {
        served += l.await.unwrap();
    }
    (served, latencies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_concurrent_requests_than_connections_all_get_their_page() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // Slots well above the pool's 16 connections: only the pool limits the requests.
    let app = company_app(200).await;
    let admin = admin(&app).await;
    let paths = [
        "/mappings",
        "/groups/file/bench-group-00042",
        "/apis/bench00003",
        "/apis/bench00003/matrix",
    ];
    let mut requests = Vec::new();
    for i in 0..64 {
        let client = admin.client.clone();
        let url = admin.url(paths[i % paths.len()]);
        requests.push(tokio::spawn(async move {
            let r = client.get(&url).send().await.unwrap();
            (url, r.status(), r.text().await.unwrap())
        }));
    }
    for r in requests {
        let (url, status, html) = r.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{url}: {html:.300}");
        assert!(!html.contains("role=\"alert\""), "{url} shows an error");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_answers_with_an_error_status() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = company_app(16).await;
    let admin = admin(&app).await;
    page(&admin, "/mappings", "mapping-table").await;
    // The database refuses the runtime role the bindings: the page cannot be made.
    let owner = sqlx::PgPool::connect(&app.owner_url).await.unwrap();
    sqlx::query("REVOKE SELECT ON bindings FROM gatehouse_runtime")
        .execute(&owner)
        .await
        .unwrap();
    let response = admin.get("/mappings").await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{html:.500}");
    assert!(html.contains("role=\"alert\""), "the error page says so");
}
