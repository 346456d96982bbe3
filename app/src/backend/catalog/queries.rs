//! The read side of the API catalog and of sync runs, for the pages.

use crate::catalog::types::*;
use crate::domain::route_key::ApiKind;
use sqlx::PgPool;
use time::{macros::format_description, OffsetDateTime, UtcOffset};

/// Exact UTC time to the second, as the pages show it.
pub fn utc(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `%search%` for ILIKE, with the pattern characters of the search taken literally.
pub fn like_pattern(search: &str) -> String {
    format!(
        "%{}%",
        search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// An API with its counts, as the list and an API's page read it; `total` (the matching APIs)
/// only in the list.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    target: String,
    api_id: String,
    name: String,
    description: Option<String>,
    stages: i64,
    methods: i64,
    non_iam: i64,
    gone_at: Option<OffsetDateTime>,
    last_synced_at: OffsetDateTime,
    kind: String,
    #[sqlx(default)]
    total: i64,
}

/// A resource and one of its methods (or none: LEFT JOIN).
type MethodJoinRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
);

const SUMMARY_SELECT: &str = "
    SELECT a.target, a.api_id, a.name, a.description, a.stage_count AS stages,
           a.method_count AS methods, a.non_iam_count AS non_iam,
           a.gone_at, a.last_synced_at, a.kind
    FROM rest_apis a";

fn summary(row: SummaryRow) -> ApiSummary {
    ApiSummary {
        target: row.target,
        api_id: row.api_id,
        name: row.name,
        description: row.description,
        stages: row.stages,
        methods: row.methods,
        non_iam_methods: row.non_iam,
        gone: row.gone_at.is_some(),
        last_synced_at: utc(row.last_synced_at),
        kind: ApiKind::parse(&row.kind),
    }
}

/// Every API matching `search`, in `sort` order (tests and tools; pages read a page).
pub async fn list_apis(
    pool: &PgPool,
    search: &str,
    sort: ApiSort,
) -> sqlx::Result<Vec<ApiSummary>> {
    Ok(
        list_apis_page(pool, search, sort, &Cursor::First, usize::MAX / 2)
            .await?
            .items,
    )
}

/// The key an API's place in the list is found by: its target and id, unit-separated.
pub fn api_key(api: &ApiSummary) -> String {
    format!("{}\u{1f}{}", api.target, api.api_id)
}

/// One page of the APIs matching `search`, in `sort` order, after or before an API's key.
/// The order ranks every matching API (the counts are kept on each API's row by the database):
/// an account holds at most a few hundred REST APIs (API Gateway's quota), so the ranking is
/// cheap, and the page ships only the rows it shows. An API gone from the list since the link
/// was made starts the list again rather than failing.
pub async fn list_apis_page(
    pool: &PgPool,
    search: &str,
    sort: ApiSort,
    cursor: &Cursor,
    size: usize,
) -> sqlx::Result<Page<ApiSummary>> {
    // The ORDER BY comes from a closed set, never from the request.
    let order = match sort {
        ApiSort::Name => "lower(a.name), a.api_id, a.target",
        ApiSort::Methods => "a.method_count DESC, lower(a.name), a.api_id, a.target",
        ApiSort::NonIam => "a.non_iam_count DESC, lower(a.name), a.api_id, a.target",
    };
    let (compare, direction) = match cursor {
        Cursor::Before(_) => ("<", "DESC"),
        _ => (">", "ASC"),
    };
    let (target, api_id) = match cursor {
        Cursor::After(k) | Cursor::Before(k) => k.split_once('\u{1f}').unwrap_or(("", "")),
        Cursor::First => ("", ""),
    };
    // Without a search the statement is another text that does not name it (`$1`, `$2` bound
    // and unused), whose plan the database keeps.
    let matching = if search.is_empty() {
        "true"
    } else {
        "(a.name ILIKE $2 OR a.api_id ILIKE $2 OR coalesce(a.description, '') ILIKE $2)"
    };
    let sql = format!(
        "WITH ranked AS (
             SELECT a.target, a.api_id, a.name, a.description, a.stage_count AS stages,
                    a.method_count AS methods, a.non_iam_count AS non_iam,
                    a.gone_at, a.last_synced_at, a.kind,
                    row_number() OVER (ORDER BY (a.gone_at IS NOT NULL), {order}) AS pos
             FROM rest_apis a
             WHERE {matching}),
         mark AS (SELECT coalesce((SELECT pos FROM ranked WHERE target = $3 AND api_id = $4),
                                  0) AS pos)
         SELECT target, api_id, name, description, stages, methods, non_iam, gone_at,
                last_synced_at, kind, (SELECT count(*) FROM ranked) AS total
         FROM ranked WHERE pos {compare} (SELECT pos FROM mark)
         ORDER BY pos {direction} LIMIT {limit}",
        limit = size.saturating_add(1).min(i64::MAX as usize),
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(search)
        .bind(like_pattern(search))
        .bind(target)
        .bind(api_id)
        .fetch_all(pool)
        .await?;
    if rows.is_empty() && !matches!(cursor, Cursor::First) {
        // The API the link started from is gone (or filtered out): start again.
        return Box::pin(list_apis_page(pool, search, sort, &Cursor::First, size)).await;
    }
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let summaries = rows.into_iter().map(summary).collect();
    let page = super::group_queries::keyset_page_of(summaries, cursor, total, api_key, size);
    Ok(page)
}

pub async fn api_detail(pool: &PgPool, api_id: &str) -> sqlx::Result<Option<ApiDetail>> {
    api_detail_on(&mut *pool.acquire().await?, api_id).await
}

/// [`api_detail`] on the request's connection `conn` (its five reads on one connection).
pub async fn api_detail_on(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
) -> sqlx::Result<Option<ApiDetail>> {
    let sql =
        format!("{SUMMARY_SELECT} WHERE a.api_id = $1 ORDER BY a.gone_at NULLS FIRST LIMIT 1");
    let Some(row) = sqlx::query_as::<_, SummaryRow>(&sql)
        .bind(api_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let summary = summary(row);
    let endpoint_types: Vec<String> = sqlx::query_scalar(
        "SELECT endpoint_types FROM rest_apis WHERE target = $1 AND api_id = $2",
    )
    .bind(&summary.target)
    .bind(api_id)
    .fetch_one(&mut *conn)
    .await?;
    let stages: Vec<(String, Option<String>, Option<OffsetDateTime>)> = sqlx::query_as(
        "SELECT stage_name, deployment_id, last_updated_at FROM api_stages
         WHERE target = $1 AND api_id = $2 ORDER BY stage_name",
    )
    .bind(&summary.target)
    .bind(api_id)
    .fetch_all(&mut *conn)
    .await?;
    let methods: Vec<MethodJoinRow> = sqlx::query_as(
        "SELECT r.path, m.http_method, m.authorization_type, m.authorizer_id, m.api_key_required
         FROM api_resources r
         LEFT JOIN api_methods m USING (target, api_id, resource_id)
         WHERE r.target = $1 AND r.api_id = $2
         ORDER BY r.path, m.http_method",
    )
    .bind(&summary.target)
    .bind(api_id)
    .fetch_all(&mut *conn)
    .await?;
    let authorizers = authorizers_of(&mut *conn, Some(&summary.target), api_id).await?;
    let mut resources: Vec<ResourceRow> = Vec::new();
    for (path, verb, auth, authorizer, key) in methods {
        if resources.last().map(|r| &r.path) != Some(&path) {
            resources.push(ResourceRow {
                path,
                methods: Vec::new(),
            });
        }
        if let (Some(http_method), Some(authorization_type)) = (verb, auth) {
            resources
                .last_mut()
                .expect("just pushed")
                .methods
                .push(MethodRow {
                    http_method,
                    authorizer: authorizer
                        .as_deref()
                        .and_then(|id| authorizers.iter().find(|a| a.id == id))
                        .cloned(),
                    authorization_type,
                    authorizer_id: authorizer,
                    api_key_required: key.unwrap_or(false),
                    callers: Vec::new(),
                    callers_more: 0,
                    decided_by: Default::default(),
                });
        }
    }
    Ok(Some(ApiDetail {
        summary,
        endpoint_types,
        stages: stages
            .into_iter()
            .map(|(name, deployment_id, updated)| StageRow {
                name,
                deployment_id,
                last_updated_at: updated.map(utc),
            })
            .collect(),
        resources,
    }))
}

type RunRow = (
    i64,
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<serde_json::Value>,
);

fn run(row: RunRow) -> SyncRun {
    let (
        id,
        catalog,
        started_by,
        started,
        finished,
        added,
        changed,
        removed,
        error,
        progress,
        details,
    ) = row;
    SyncRun {
        id,
        catalog,
        started_by,
        started_at: utc(started),
        finished_at: finished.map(utc),
        added,
        changed,
        removed,
        error,
        progress,
        // Written by this program only; a shape it cannot read shows as no details.
        details: details.and_then(|d| serde_json::from_value(d).ok()),
    }
}

const RUN_SELECT: &str =
    "SELECT id, catalog, started_by, started_at, finished_at, added, changed, removed, error, progress,
            details
     FROM sync_runs";

pub async fn sync_runs(db: impl sqlx::PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<SyncRun>> {
    let rows: Vec<RunRow> = sqlx::query_as(&format!("{RUN_SELECT} ORDER BY id DESC LIMIT {limit}"))
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(run).collect())
}

pub async fn sync_run(pool: &PgPool, id: i64) -> sqlx::Result<SyncRun> {
    let row: RunRow = sqlx::query_as(&format!("{RUN_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(run(row))
}

/// The newest unfinished run of `catalog`, if any.
pub async fn running_sync(pool: &PgPool, catalog: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT max(id) FROM sync_runs WHERE catalog = $1 AND finished_at IS NULL",
        catalog,
    )
    .fetch_one(pool)
    .await
}

pub async fn stage_names(pool: &PgPool, target: &str, api_id: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT stage_name FROM api_stages WHERE target = $1 AND api_id = $2",
        target,
        api_id,
    )
    .fetch_all(pool)
    .await
}

pub async fn api_exists(pool: &PgPool, target: &str, api_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM rest_apis WHERE target = $1 AND api_id = $2
           AND gone_at IS NULL) AS "exists!""#,
        target,
        api_id,
    )
    .fetch_one(pool)
    .await
}

/// Every (path, HTTP method) of an API.
/// A catalogued method: (path, HTTP method, authorization type).
pub type MethodAuth = (String, String, String);

pub async fn api_routes(
    pool: &PgPool,
    target: &str,
    api_id: &str,
) -> sqlx::Result<Vec<MethodAuth>> {
    let rows = sqlx::query!(
        "SELECT r.path, m.http_method, m.authorization_type FROM api_resources r
         JOIN api_methods m USING (target, api_id, resource_id)
         WHERE r.target = $1 AND r.api_id = $2 ORDER BY r.path, m.http_method",
        target,
        api_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.path, r.http_method, r.authorization_type))
        .collect())
}

/// An API's authorizers, as its last sync kept them in the snapshot (none in a snapshot older
/// than them). `target`: `None` for the API of that id in any target still present.
pub async fn authorizers_of(
    db: impl sqlx::PgExecutor<'_>,
    target: Option<&str>,
    api_id: &str,
) -> sqlx::Result<Vec<crate::domain::method_access::AuthorizerInfo>> {
    let authorizers: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT snapshot->'authorizers' FROM rest_apis
         WHERE api_id = $1 AND ($2::text IS NULL OR target = $2) AND ($2::text IS NOT NULL OR gone_at IS NULL)
         LIMIT 1",
    )
    .bind(api_id)
    .bind(target)
    .fetch_optional(db)
    .await?
    .flatten();
    Ok(authorizers
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// Whether the directory group is synced and not deleted.
pub async fn group_exists(pool: &PgPool, source: &str, object_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM directory_groups WHERE source = $1 AND object_id = $2
           AND deleted_at IS NULL) AS "exists!""#,
        source,
        object_id,
    )
    .fetch_one(pool)
    .await
}

/// Whether a synced, present role is Gatehouse's to change (`None`: no such role).
pub async fn role_managed(pool: &PgPool, arn: &str) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar!(
        "SELECT managed FROM iam_roles WHERE arn = $1 AND gone_at IS NULL",
        arn,
    )
    .fetch_optional(pool)
    .await
}
