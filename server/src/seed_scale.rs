//! `gatehouse seed-scale --factor N`: the database of a mid-sized company, for `bench/scale.sh`.
//! At factor 1: 5,000 directory groups, 50 APIs × 20 methods, 500 roles, 5,000 bindings and
//! 5,000 grants (10,000 approved mappings), 100 change sets of 100 items and 1,000,000 audit
//! events over a year; factor 2 doubles each. Writes straight into the tables (as the owner,
//! so the events keep their times); run it on an empty, migrated database.

use anyhow::Context;
use app::domain::{
    desired::ChangeItem,
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};
use sqlx::{types::Json, PgPool};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// Each API's resources; every one has a GET and a POST, so 20 methods.
const PATHS: [&str; 10] = [
    "/",
    "/items",
    "/items/{id}",
    "/items/{id}/notes",
    "/orders",
    "/orders/{id}",
    "/orders/{id}/lines",
    "/reports",
    "/reports/{id}",
    "/health",
];
const WORDS: [&str; 10] = [
    "Payments", "Platform", "Support", "Finance", "Sales", "Ops", "Data", "Mobile", "Risk", "Web",
];
const ACTIONS: [&str; 8] = [
    "change_set.saved",
    "change_set.submitted",
    "change_set.approved",
    "push.started",
    "push.call",
    "push.finished",
    "sync.finished",
    "auth.signed_in",
];

pub struct Sizes {
    pub groups: usize,
    pub apis: usize,
    pub roles: usize,
    pub change_sets: usize,
    pub events: usize,
}

impl Sizes {
    pub fn at(factor: usize) -> Sizes {
        Sizes {
            groups: 5_000 * factor,
            apis: 50 * factor,
            roles: 500 * factor,
            change_sets: 100 * factor,
            events: 1_000_000 * factor,
        }
    }
}

fn api_id(i: usize) -> String {
    format!("bench{i:05}")
}

fn role_arn(i: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/bench-role-{i:04}")
}

fn group(i: usize) -> GroupRef {
    GroupRef::group("file", &format!("bench-group-{i:05}"))
}

/// The approved mappings: group i is bound to role i mod roles; role r is granted 5 routes of
/// API r mod apis and 5 of API (7r + 3) mod apis, so every API has about 20 roles and 200 groups.
pub fn mappings(s: &Sizes) -> anyhow::Result<Vec<ChangeItem>> {
    let mut items = Vec::new();
    for i in 0..s.groups {
        items.push(ChangeItem::AddBinding(Binding {
            group: group(i),
            role: RoleArn::parse(&role_arn(i % s.roles)).map_err(|e| anyhow::anyhow!(e.0))?,
        }));
    }
    for r in 0..s.roles {
        for (k, api) in [(0, r % s.apis), (1, (7 * r + 3) % s.apis)] {
            for j in 0..5 {
                let path = PATHS[(r + j * 2 + k) % PATHS.len()];
                let grant = Grant::parse(&GrantInput {
                    role_arn: role_arn(r),
                    account: ACCOUNT.into(),
                    region: REGION.into(),
                    api_id: api_id(api),
                    stage: if j % 2 == 0 { "prod" } else { "staging" }.into(),
                    method: if j % 3 == 0 { "POST" } else { "GET" }.into(),
                    path: path.into(),
                })
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                items.push(ChangeItem::AddGrant(grant));
            }
        }
    }
    items.sort();
    items.dedup();
    Ok(items)
}

pub async fn seed(pool: &PgPool, s: &Sizes) -> anyhow::Result<()> {
    let target = format!("{ACCOUNT}/{REGION}");
    let mut tx = pool.begin().await?;
    let empty: i64 = sqlx::query_scalar("SELECT count(*) FROM bindings")
        .fetch_one(&mut *tx)
        .await?;
    anyhow::ensure!(
        empty == 0,
        "the database already holds mappings: seed an empty one"
    );
    println!(
        "catalog: {} APIs, {} roles, {} groups",
        s.apis, s.roles, s.groups
    );
    let ids: Vec<String> = (0..s.apis).map(api_id).collect();
    let names: Vec<String> = (0..s.apis)
        .map(|i| format!("{}-api-{i:03}", WORDS[i % WORDS.len()].to_lowercase()))
        .collect();
    sqlx::query(
        "INSERT INTO rest_apis (target, api_id, name, snapshot)
         SELECT $1, id, name, '{}'::jsonb FROM UNNEST($2::text[], $3::text[]) AS t(id, name)",
    )
    .bind(&target)
    .bind(&ids)
    .bind(&names)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO api_stages (target, api_id, stage_name, deployment_id)
         SELECT $1, id, stage, 'dep' || stage FROM UNNEST($2::text[]) AS id,
                UNNEST(ARRAY['prod', 'staging']) AS stage",
    )
    .bind(&target)
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    let paths: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
    sqlx::query(
        "INSERT INTO api_resources (target, api_id, resource_id, parent_id, path)
         SELECT $1, id, 'r' || n, NULL, path
         FROM UNNEST($2::text[]) AS id, UNNEST($3::text[]) WITH ORDINALITY AS p(path, n)",
    )
    .bind(&target)
    .bind(&ids)
    .bind(&paths)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO api_methods (target, api_id, resource_id, http_method, authorization_type)
         SELECT target, api_id, resource_id, m, 'AWS_IAM' FROM api_resources,
                UNNEST(ARRAY['GET', 'POST']) AS m WHERE target = $1",
    )
    .bind(&target)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO iam_roles (target, role_name, role_id, arn, path, managed, snapshot)
         SELECT $1, 'bench-role-' || lpad(i::text, 4, '0'), 'AROABENCH' || i,
                'arn:aws:iam::123456789012:role/bench-role-' || lpad(i::text, 4, '0'), '/', true,
                '{}'::jsonb
         FROM generate_series(0, $2 - 1) AS i",
    )
    .bind(&target)
    .bind(s.roles as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO directory_groups (source, object_id, directory_ref, display_name, description)
         SELECT 'file', 'bench-group-' || lpad(i::text, 5, '0'), 'bench-group-' || lpad(i::text, 5, '0'),
                ($2::text[])[i % array_length($2::text[], 1) + 1] || ' team ' || i,
                'A benchmark group'
         FROM generate_series(0, $1 - 1) AS i",
    )
    .bind(s.groups as i32)
    .bind(WORDS)
    .execute(&mut *tx)
    .await?;
    // Four people per group, each in five groups.
    sqlx::query(
        "INSERT INTO directory_people (source, object_id, directory_ref, display_name)
         SELECT 'file', 'bench-person-' || i, 'bench-person-' || i, 'Person ' || i
         FROM generate_series(0, $1 - 1) AS i",
    )
    .bind((s.groups * 4) as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO directory_memberships (source, group_id, member_id, member_kind)
         SELECT DISTINCT 'file', 'bench-group-' || lpad(((i * 7 + k * 997) % $1)::text, 5, '0'),
                'bench-person-' || i, 'person'
         FROM generate_series(0, $1 * 4 - 1) AS i, generate_series(0, 4) AS k",
    )
    .bind(s.groups as i32)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO directory_sync_state (source, last_full_sync_at, memberships_synced_at)
         VALUES ('file', now(), now())
         ON CONFLICT (source) DO UPDATE SET memberships_synced_at = now()",
    )
    .execute(&mut *tx)
    .await?;
    let items = mappings(s)?;
    println!("mappings: {} bindings and grants", items.len());
    app::backend::mappings::store::apply(&mut tx, 1, &items).await?;
    println!("change sets: {}", s.change_sets);
    for c in 0..s.change_sets {
        let slice: Vec<&ChangeItem> = items.iter().skip(c * 37 % items.len()).take(100).collect();
        sqlx::query(
            "INSERT INTO change_sets (title, justification, state, author_oid, author_name,
                                      base_version, applied_version, items)
             VALUES ($1, 'Benchmark data', $2, gen_random_uuid(), $3, 0, $4, $5)",
        )
        .bind(format!("Benchmark change set {c}"))
        .bind(if c % 10 == 0 { "submitted" } else { "pushed" })
        .bind(format!("Author {}", c % 20))
        .bind(if c % 10 == 0 { None } else { Some(1i64) })
        .bind(Json(&slice))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    println!("audit events: {}", s.events);
    let actions: Vec<String> = ACTIONS.iter().map(|a| a.to_string()).collect();
    let batch = 100_000;
    for start in (0..s.events).step_by(batch) {
        let n = batch.min(s.events - start);
        // A year of events, oldest first, so time follows the sequence as it does live.
        sqlx::query(
            "INSERT INTO audit_events (occurred_at, actor_name, action, subject, details)
             SELECT now() - interval '365 days' + (($1 + i)::float8 / $2) * interval '365 days',
                    'Person ' || (($1 + i) % 50),
                    ($3::text[])[($1 + i) % array_length($3::text[], 1) + 1],
                    'change_set:' || (($1 + i) % 2000),
                    jsonb_build_object('note', 'benchmark event ' || ($1 + i),
                                       'role', 'bench-role-' || (($1 + i) % 500))
             FROM generate_series(0, $4 - 1) AS i",
        )
        .bind(start as i64)
        .bind(s.events as f64)
        .bind(&actions)
        .bind(n as i64)
        .execute(pool)
        .await
        .context("writing audit events")?;
        println!("  {} events", start + n);
    }
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}
