//! Writes a fetched catalog (APIs, roles) into Postgres in one transaction, and counts what was
//! added, changed and removed. What vanished from AWS is marked gone, not deleted.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::{apigateway::FetchedApi, iam::FetchedRole};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    pub added: i32,
    pub changed: i32,
    pub removed: i32,
}

/// A catalog table whose rows are keyed on (target, key) and carry a `snapshot` of what was
/// synced and a `gone_at`. The names are constants, never input.
#[derive(Clone, Copy)]
struct SnapshotTable {
    table: &'static str,
    key: &'static str,
}

const REST_APIS: SnapshotTable = SnapshotTable {
    table: "rest_apis",
    key: "api_id",
};
const IAM_ROLES: SnapshotTable = SnapshotTable {
    table: "iam_roles",
    key: "role_name",
};

impl SnapshotTable {
    /// The snapshots of the rows still present, locked for this transaction.
    async fn present(
        self,
        tx: &mut sqlx::PgConnection,
        target: &str,
    ) -> sqlx::Result<HashMap<String, Value>> {
        let sql = format!(
            "SELECT {key}, snapshot FROM {table} WHERE target = $1 AND gone_at IS NULL FOR UPDATE",
            key = self.key,
            table = self.table
        );
        let rows: Vec<(String, Value)> = sqlx::query_as(&sql)
            .bind(target)
            .fetch_all(&mut *tx)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Counts one fetched item against `present`; answers whether its row must be written.
    /// An unchanged row only has its sync time moved.
    async fn classify(
        self,
        tx: &mut sqlx::PgConnection,
        target: &str,
        present: &HashMap<String, Value>,
        key: &str,
        snapshot: &Value,
        counts: &mut SyncCounts,
    ) -> sqlx::Result<bool> {
        match present.get(key) {
            None => counts.added += 1,
            Some(old) if old != snapshot => counts.changed += 1,
            Some(_) => {
                let sql = format!(
                    "UPDATE {table} SET last_synced_at = now() WHERE target = $1 AND {key} = $2",
                    table = self.table,
                    key = self.key
                );
                sqlx::query(&sql)
                    .bind(target)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Marks gone every present row whose key was not fetched; answers how many.
    async fn mark_gone(
        self,
        tx: &mut sqlx::PgConnection,
        target: &str,
        fetched: &[&str],
    ) -> sqlx::Result<i32> {
        let sql = format!(
            "UPDATE {table} SET gone_at = now() WHERE target = $1 AND gone_at IS NULL AND NOT ({key} = ANY($2))",
            table = self.table,
            key = self.key
        );
        let done = sqlx::query(&sql)
            .bind(target)
            .bind(fetched)
            .execute(&mut *tx)
            .await?;
        Ok(done.rows_affected() as i32)
    }
}

pub async fn store_apis(
    pool: &PgPool,
    target: &str,
    apis: &[FetchedApi],
) -> sqlx::Result<SyncCounts> {
    let mut tx = pool.begin().await?;
    let present = REST_APIS.present(&mut tx, target).await?;
    let mut counts = SyncCounts::default();
    for api in apis {
        let snapshot = serde_json::to_value(api).expect("a fetched API serialises");
        if REST_APIS
            .classify(
                &mut tx,
                target,
                &present,
                &api.api_id,
                &snapshot,
                &mut counts,
            )
            .await?
        {
            write_api(&mut tx, target, api, snapshot).await?;
        }
    }
    let ids: Vec<&str> = apis.iter().map(|a| a.api_id.as_str()).collect();
    counts.removed = REST_APIS.mark_gone(&mut tx, target, &ids).await?;
    tx.commit().await?;
    Ok(counts)
}

async fn write_api(
    tx: &mut sqlx::PgConnection,
    target: &str,
    api: &FetchedApi,
    snapshot: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rest_apis (target, api_id, name, description, endpoint_types, tags, snapshot, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (target, api_id) DO UPDATE SET
           name = EXCLUDED.name, description = EXCLUDED.description, kind = EXCLUDED.kind,
           endpoint_types = EXCLUDED.endpoint_types, tags = EXCLUDED.tags,
           snapshot = EXCLUDED.snapshot, last_synced_at = now(), gone_at = NULL",
    )
    .bind(target)
    .bind(&api.api_id)
    .bind(&api.name)
    .bind(&api.description)
    .bind(&api.endpoint_types)
    .bind(serde_json::to_value(&api.tags).expect("tags serialise"))
    .bind(snapshot)
    .bind(api.kind.as_str())
    .execute(&mut *tx)
    .await?;
    // Children are replaced whole; ON DELETE CASCADE takes the methods with the resources.
    for table in ["api_stages", "api_resources"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE target = $1 AND api_id = $2"
        ))
        .bind(target)
        .bind(&api.api_id)
        .execute(&mut *tx)
        .await?;
    }

    let names: Vec<&str> = api.stages.iter().map(|s| s.name.as_str()).collect();
    let deployments: Vec<Option<&str>> = api
        .stages
        .iter()
        .map(|s| s.deployment_id.as_deref())
        .collect();
    let updated: Vec<Option<i64>> = api.stages.iter().map(|s| s.last_updated_epoch).collect();
    sqlx::query(
        "INSERT INTO api_stages (target, api_id, stage_name, deployment_id, last_updated_at)
         SELECT $1, $2, s.name, s.deployment, to_timestamp(s.updated)
         FROM UNNEST($3::text[], $4::text[], $5::bigint[]) AS s(name, deployment, updated)",
    )
    .bind(target)
    .bind(&api.api_id)
    .bind(&names)
    .bind(&deployments)
    .bind(&updated)
    .execute(&mut *tx)
    .await?;

    let ids: Vec<&str> = api
        .resources
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    let parents: Vec<Option<&str>> = api
        .resources
        .iter()
        .map(|r| r.parent_id.as_deref())
        .collect();
    let paths: Vec<&str> = api.resources.iter().map(|r| r.path.as_str()).collect();
    sqlx::query(
        "INSERT INTO api_resources (target, api_id, resource_id, parent_id, path)
         SELECT $1, $2, r.id, r.parent, r.path
         FROM UNNEST($3::text[], $4::text[], $5::text[]) AS r(id, parent, path)",
    )
    .bind(target)
    .bind(&api.api_id)
    .bind(&ids)
    .bind(&parents)
    .bind(&paths)
    .execute(&mut *tx)
    .await?;

    let methods: Vec<(&str, &super::apigateway::FetchedMethod)> = api
        .resources
        .iter()
        .flat_map(|r| r.methods.iter().map(move |m| (r.resource_id.as_str(), m)))
        .collect();
    let resource_ids: Vec<&str> = methods.iter().map(|(r, _)| *r).collect();
    let verbs: Vec<&str> = methods
        .iter()
        .map(|(_, m)| m.http_method.as_str())
        .collect();
    let auth: Vec<&str> = methods
        .iter()
        .map(|(_, m)| m.authorization_type.as_str())
        .collect();
    let authorizers: Vec<Option<&str>> = methods
        .iter()
        .map(|(_, m)| m.authorizer_id.as_deref())
        .collect();
    let keys: Vec<bool> = methods.iter().map(|(_, m)| m.api_key_required).collect();
    sqlx::query(
        "INSERT INTO api_methods (target, api_id, resource_id, http_method, authorization_type, authorizer_id, api_key_required)
         SELECT $1, $2, m.resource, m.verb, m.auth, m.authorizer, m.key
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
           AS m(resource, verb, auth, authorizer, key)",
    )
    .bind(target)
    .bind(&api.api_id)
    .bind(&resource_ids)
    .bind(&verbs)
    .bind(&auth)
    .bind(&authorizers)
    .bind(&keys)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Same rules as the APIs: a role that vanished from IAM is marked gone, never dropped.
pub async fn store_roles(
    pool: &PgPool,
    target: &str,
    roles: &[FetchedRole],
) -> sqlx::Result<SyncCounts> {
    let mut tx = pool.begin().await?;
    let present = IAM_ROLES.present(&mut tx, target).await?;
    let mut counts = SyncCounts::default();
    for role in roles {
        let snapshot = serde_json::to_value(role).expect("a fetched role serialises");
        if !IAM_ROLES
            .classify(
                &mut tx,
                target,
                &present,
                &role.role_name,
                &snapshot,
                &mut counts,
            )
            .await?
        {
            continue;
        }
        sqlx::query(
            "INSERT INTO iam_roles (target, role_name, role_id, arn, path, description, trust_policy, tags, managed, snapshot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (target, role_name) DO UPDATE SET
               role_id = EXCLUDED.role_id, arn = EXCLUDED.arn, path = EXCLUDED.path,
               description = EXCLUDED.description, trust_policy = EXCLUDED.trust_policy,
               tags = EXCLUDED.tags, managed = EXCLUDED.managed, snapshot = EXCLUDED.snapshot,
               last_synced_at = now(), gone_at = NULL",
        )
        .bind(target)
        .bind(&role.role_name)
        .bind(&role.role_id)
        .bind(&role.arn)
        .bind(&role.path)
        .bind(&role.description)
        .bind(&role.trust_policy)
        .bind(serde_json::to_value(&role.tags).expect("tags serialise"))
        .bind(role.managed())
        .bind(snapshot)
        .execute(&mut *tx)
        .await?;
    }
    let names: Vec<&str> = roles.iter().map(|r| r.role_name.as_str()).collect();
    counts.removed = IAM_ROLES.mark_gone(&mut tx, target, &names).await?;
    tx.commit().await?;
    Ok(counts)
}
