//! The API catalog sync against a real moto_server and real Postgres, and its server functions.

use crate::common;

use app::catalog::types::{ApiSort, ApiSummary, Cursor, Page};
use common::*;
use gatehouse::{
    audit::Actor,
    catalog::{self, queries, Catalog, SyncError, Syncer},
    seed_demo,
};
use reqwest::{header, StatusCode};

async fn sync_apis(syncer: &Syncer) -> Result<catalog::SyncOutcome, SyncError> {
    syncer.sync(&Actor::system("test"), Catalog::Apis).await
}

/// moto with the demo's APIs and roles, a migrated database, and a syncer reading that moto.
async fn seeded() -> (Moto, gatehouse::aws::AwsClients, sqlx::PgPool, Syncer) {
    let moto = start_moto().await;
    let aws = moto.clients().await;
    seed_demo::seed(&aws).await.unwrap();
    let pool = migrated_database().await;
    let syncer = Syncer::new(pool.clone(), &moto.settings(), None).await;
    (moto, aws, pool, syncer)
}

#[tokio::test]
async fn a_sync_adds_then_notices_changes_and_marks_deleted_apis_gone() {
    let (_moto, aws, pool, syncer) = seeded().await;

    let first = sync_apis(&syncer).await.unwrap();
    assert_eq!(
        (
            first.counts.added,
            first.counts.changed,
            first.counts.removed
        ),
        (4, 0, 0),
        "three REST APIs and one HTTP API"
    );
    let again = sync_apis(&syncer).await.unwrap();
    assert_eq!(
        (
            again.counts.added,
            again.counts.changed,
            again.counts.removed
        ),
        (0, 0, 0)
    );

    let apis = queries::list_apis(&pool, "", ApiSort::Name).await.unwrap();
    let names: Vec<&str> = apis.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bookings-http",
            "inventory-api",
            "orders-api",
            "payments-api"
        ]
    );
    let orders = apis.iter().find(|a| a.name == "orders-api").unwrap();
    assert_eq!(
        (orders.stages, orders.methods, orders.non_iam_methods),
        (2, 7, 2)
    );

    // Each method's authorizer is synced: Gatehouse's own (its Lambda is
    // gatehouse-authorizer) or another, told apart on the API page.
    use app::domain::method_access::{decided_by, DecidedBy};
    let method_of = |detail: &app::catalog::types::ApiDetail, path: &str, verb: &str| {
        detail
            .resources
            .iter()
            .find(|r| r.path == path)
            .and_then(|r| r.methods.iter().find(|m| m.http_method == verb))
            .cloned()
            .unwrap_or_else(|| panic!("no {verb} {path}"))
    };
    let decide = |m: &app::catalog::types::MethodRow| {
        decided_by(
            &m.authorization_type,
            m.authorizer.as_ref(),
            "gatehouse-authorizer",
        )
    };
    let by_name = |name: &str| apis.iter().find(|a| a.name == name).unwrap().api_id.clone();
    let inventory_detail = queries::api_detail(&pool, &by_name("inventory-api"))
        .await
        .unwrap()
        .unwrap();
    let stock = method_of(&inventory_detail, "/warehouses/{warehouseId}/stock", "ANY");
    assert_eq!(stock.authorizer.as_ref().unwrap().name, "gatehouse");
    assert_eq!(decide(&stock), DecidedBy::Gatehouse);
    assert_eq!(
        decide(&method_of(&inventory_detail, "/items", "GET")),
        DecidedBy::Anyone
    );
    let payments_detail = queries::api_detail(&pool, &by_name("payments-api"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        decide(&method_of(&payments_detail, "/payments", "POST")),
        DecidedBy::Outside("authorizer token-authorizer (TOKEN)".into())
    );
    assert_eq!(
        decide(&method_of(&payments_detail, "/payments", "GET")),
        DecidedBy::Iam
    );
    // The HTTP API's routes are methods on their paths, `$default` as `ANY $default`.
    let bookings = by_name("bookings-http");
    let bookings_detail = queries::api_detail(&pool, &bookings)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bookings_detail.summary.kind,
        app::domain::route_key::ApiKind::Http
    );
    assert_eq!(
        decide(&method_of(&bookings_detail, "$default", "ANY")),
        DecidedBy::Anyone
    );
    assert_eq!(
        decide(&method_of(&bookings_detail, "/bookings", "GET")),
        DecidedBy::Iam
    );
    assert_eq!(
        (
            bookings_detail.summary.stages,
            bookings_detail.summary.methods
        ),
        (2, 5)
    );

    // In AWS: one API deleted, one method added to another.
    let inventory = apis
        .iter()
        .find(|a| a.name == "inventory-api")
        .unwrap()
        .api_id
        .clone();
    aws.apigateway
        .delete_rest_api()
        .rest_api_id(&inventory)
        .send()
        .await
        .unwrap();
    let detail = queries::api_detail(&pool, &orders.api_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        detail
            .resources
            .iter()
            .map(|r| r.path.as_str())
            .collect::<Vec<_>>(),
        [
            "/",
            "/health",
            "/orders",
            "/orders/{orderId}",
            "/orders/{orderId}/items"
        ]
    );
    let health_id = aws
        .apigateway
        .get_resources()
        .rest_api_id(&orders.api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/health"))
        .and_then(|r| r.id().map(String::from))
        .unwrap();
    aws.apigateway
        .put_method()
        .rest_api_id(&orders.api_id)
        .resource_id(health_id)
        .http_method("HEAD")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    // And a route added to the HTTP API.
    aws.apigatewayv2
        .create_route()
        .api_id(&bookings)
        .route_key("PUT /bookings/{bookingId}")
        .send()
        .await
        .unwrap();

    let third = sync_apis(&syncer).await.unwrap();
    assert_eq!(
        (
            third.counts.added,
            third.counts.changed,
            third.counts.removed
        ),
        (0, 2, 1)
    );
    let apis = queries::list_apis(&pool, "", ApiSort::Name).await.unwrap();
    let gone: Vec<(&str, bool)> = apis.iter().map(|a| (a.name.as_str(), a.gone)).collect();
    assert_eq!(
        gone,
        [
            ("bookings-http", false),
            ("orders-api", false),
            ("payments-api", false),
            ("inventory-api", true)
        ],
        "gone APIs last"
    );

    let runs = queries::sync_runs(&pool, 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs
        .iter()
        .all(|r| r.finished_at.is_some() && r.error.is_none()));
    let audited = count(
        &pool,
        "SELECT count(*) FROM audit_events WHERE action = 'sync.finished'",
    )
    .await;
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn search_and_sort_the_catalog() {
    let (_moto, _aws, pool, syncer) = seeded().await;
    sync_apis(&syncer).await.unwrap();

    // A path fragment with `/`, which no API id holds (ids are random letters and digits: a
    // bare "sku" once matched one).
    let found = queries::list_apis(&pool, "items/{sku}", ApiSort::Name)
        .await
        .unwrap();
    assert!(
        found.is_empty(),
        "only names, ids and descriptions are searched, not paths"
    );
    let found = queries::list_apis(&pool, "REFUND", ApiSort::Name)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["payments-api"],
        "case does not matter"
    );
    let found = queries::list_apis(&pool, "settlement", ApiSort::Name)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["payments-api"]
    );
    let found = queries::list_apis(&pool, "%", ApiSort::Name).await.unwrap();
    assert!(found.is_empty(), "a % is searched for, not a wildcard");

    let by_non_iam = queries::list_apis(&pool, "", ApiSort::NonIam)
        .await
        .unwrap();
    let counts: Vec<i64> = by_non_iam.iter().map(|a| a.non_iam_methods).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
}

#[tokio::test]
async fn apis_page_forward_and_back_in_any_order() {
    let (_moto, _aws, pool, syncer) = seeded().await;
    sync_apis(&syncer).await.unwrap();
    let names = |p: &Page<ApiSummary>| p.items.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    for sort in [ApiSort::Name, ApiSort::Methods, ApiSort::NonIam] {
        let all = queries::list_apis(&pool, "", sort).await.unwrap();
        let all: Vec<String> = all.into_iter().map(|a| a.name).collect();
        assert_eq!(all.len(), 4);
        let first = queries::list_apis_page(&pool, "", sort, &Cursor::First, 2)
            .await
            .unwrap();
        assert_eq!(
            (names(&first), first.total, first.prev.clone()),
            (all[..2].to_vec(), 4, None)
        );
        let next = Cursor::After(first.next.clone().expect("a next page"));
        let second = queries::list_apis_page(&pool, "", sort, &next, 2)
            .await
            .unwrap();
        assert_eq!(
            (names(&second), second.next.clone()),
            (all[2..].to_vec(), None)
        );
        let back = Cursor::Before(second.prev.clone().expect("a previous page"));
        let again = queries::list_apis_page(&pool, "", sort, &back, 2)
            .await
            .unwrap();
        assert_eq!(names(&again), all[..2].to_vec(), "{sort:?}");
    }
    // A link whose API is gone starts the list again instead of showing nothing.
    let stale = Cursor::After("no-target\u{1f}no-api".into());
    let page = queries::list_apis_page(&pool, "", ApiSort::Name, &stale, 2)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn only_one_sync_of_a_catalog_runs_at_a_time() {
    let moto = start_moto().await;
    let pool = migrated_database().await;
    let syncer = Syncer::new(pool.clone(), &moto.settings(), None).await;
    // Another process holds the catalog's lock.
    let mut other = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(catalog::APIS_LOCK)
        .execute(&mut *other)
        .await
        .unwrap();
    let result = sync_apis(&syncer).await;
    assert!(
        matches!(result, Err(SyncError::AlreadyRunning)),
        "{result:?}"
    );
    let runs = count(&pool, "SELECT count(*) FROM sync_runs").await;
    assert_eq!(runs, 0, "a refused run leaves no row");
}

#[tokio::test]
async fn a_failed_sync_is_recorded_and_changes_nothing() {
    let moto = start_moto().await;
    let mut settings = moto.settings();
    settings.endpoint_url = Some("http://127.0.0.1:9".parse().unwrap()); // nothing listens there
    let pool = migrated_database().await;
    let syncer = Syncer::new(pool.clone(), &settings, None).await;
    let result = sync_apis(&syncer).await;
    let Err(SyncError::Failed { run_id, message }) = result else {
        panic!("{result:?}")
    };
    assert!(message.contains("GetRestApis"), "{message}");
    let run = queries::sync_run(&pool, run_id).await.unwrap();
    assert!(run.finished_at.is_some() && run.error.is_some());
    let apis = count(&pool, "SELECT count(*) FROM rest_apis").await;
    assert_eq!(apis, 0);
    let failed = count(
        &pool,
        "SELECT count(*) FROM audit_events WHERE action = 'sync.failed'",
    )
    .await;
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn only_admins_may_start_a_sync_and_only_role_holders_read_the_catalog() {
    let moto = start_moto().await;
    seed_demo::seed(&moto.clients().await).await.unwrap();
    let aws = moto.settings();
    let mut app = spawn_app_with(move |s| s.aws = aws).await;
    let post = |app: &TestApp, path: &str, body: &'static str| {
        app.client
            .post(app.url(path))
            .header(header::ORIGIN, &app.base_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body)
            .send()
    };
    for (user, sync_status, list_status) in [
        ("norole", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
        ("auditor", StatusCode::FORBIDDEN, StatusCode::OK),
        ("reviewer", StatusCode::FORBIDDEN, StatusCode::OK),
        ("admin", StatusCode::OK, StatusCode::OK),
    ] {
        app.client = browser();
        let _ = app.sign_in(user, "/").await.response.text().await;
        let response = post(&app, "/api/catalog/sync", "catalog=apis")
            .await
            .unwrap();
        assert_eq!(response.status(), sync_status, "{user} starting a sync");
        let response = post(&app, "/api/catalog/apis", "search=&sort=name")
            .await
            .unwrap();
        assert_eq!(response.status(), list_status, "{user} listing APIs");
    }
    let runs: Vec<String> = sqlx::query_scalar("SELECT started_by FROM sync_runs")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        runs,
        ["Ada Admin <ada.admin@contoso.test>"],
        "only the admin's attempt ran"
    );

    // The run goes on in the background; the page shows what it found once it is done.
    wait_for_runs(&app.pool).await;
    let (status, html) = body(app.get("/apis?q=orders").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("orders-api") && !html.contains("payments-api"),
        "{html}"
    );
}

#[tokio::test]
async fn a_role_sync_reads_trust_policies_and_tags_and_marks_deleted_roles_gone() {
    let (_moto, aws, pool, syncer) = seeded().await;
    let actor = Actor::system("test");
    let first = syncer.sync(&actor, Catalog::Roles).await.unwrap();
    assert_eq!(
        (
            first.counts.added,
            first.counts.changed,
            first.counts.removed
        ),
        (5, 0, 0)
    );
    let roles: Vec<(String, bool, serde_json::Value)> =
        sqlx::query_as("SELECT role_name, managed, trust_policy FROM iam_roles ORDER BY role_name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let managed: Vec<(&str, bool)> = roles.iter().map(|(n, m, _)| (n.as_str(), *m)).collect();
    assert_eq!(
        managed,
        [
            ("gatehouse-inventory-readers", true),
            ("gatehouse-orders-readers", true),
            ("gatehouse-orders-writers", true),
            ("gatehouse-payments-operators", true),
            ("legacy-billing-batch", false)
        ]
    );
    assert_eq!(
        roles[1].2["Statement"][0]["Action"], "sts:AssumeRole",
        "decoded trust policy"
    );

    aws.iam
        .delete_role()
        .role_name("legacy-billing-batch")
        .send()
        .await
        .unwrap();
    aws.iam
        .tag_role()
        .role_name("gatehouse-orders-writers")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("commerce")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let second = syncer.sync(&actor, Catalog::Roles).await.unwrap();
    assert_eq!(
        (
            second.counts.added,
            second.counts.changed,
            second.counts.removed
        ),
        (0, 1, 1)
    );
    let gone = count(
        &pool,
        "SELECT count(*) FROM iam_roles WHERE gone_at IS NOT NULL",
    )
    .await;
    assert_eq!(gone, 1);
    let runs: Vec<String> = sqlx::query_scalar("SELECT catalog FROM sync_runs")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(runs, ["roles", "roles"]);
}

#[tokio::test]
async fn every_target_is_synced_and_a_role_is_assumed_where_one_is_named() {
    let (moto, _aws, pool, _) = seeded().await;
    let mut settings = moto.settings();
    let other = gatehouse::config::AwsTarget::parse(
        "111111111111/eu-west-1=arn:aws:iam::111111111111:role/GatehouseCatalogReader",
    )
    .unwrap();
    settings.targets.push(other.clone());
    // An API that exists only in the other account and region, made through the assumed role.
    let assumed = gatehouse::aws::target_clients(&settings, &other).await;
    assumed
        .apigateway
        .create_rest_api()
        .name("ledger-api")
        .send()
        .await
        .unwrap();

    let syncer = Syncer::new(pool.clone(), &settings, None).await;
    let outcome = sync_apis(&syncer).await.unwrap();
    assert_eq!(outcome.counts.added, 5);
    let apis = queries::list_apis(&pool, "", ApiSort::Name).await.unwrap();
    let placed: Vec<(&str, &str)> = apis
        .iter()
        .map(|a| (a.name.as_str(), a.target.as_str()))
        .collect();
    assert_eq!(
        placed,
        [
            ("bookings-http", "123456789012/us-east-1"),
            ("inventory-api", "123456789012/us-east-1"),
            ("ledger-api", "111111111111/eu-west-1"),
            ("orders-api", "123456789012/us-east-1"),
            ("payments-api", "123456789012/us-east-1"),
        ]
    );
}

/// A sync that fails after taking its lock (here the run's row cannot be written) gives the lock
/// up: the pooled connection that held it is closed, not put back holding it.
#[tokio::test]
async fn a_sync_that_fails_holding_its_lock_does_not_leave_it_held() {
    let (_moto, _aws, pool, syncer) = seeded().await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'no new runs today'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON sync_runs FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let failed = sync_apis(&syncer).await;
    assert!(failed.is_err(), "{failed:?}");
    let mut left = count(&pool, held).await;
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = count(&pool, held).await;
    }
    assert_eq!(left, 0, "the advisory lock was given up");
    sqlx::raw_sql("DROP TRIGGER refuse ON sync_runs")
        .execute(&pool)
        .await
        .unwrap();
    assert!(sync_apis(&syncer).await.is_ok());
}
