//! The catalogued routes policies are made exact over: those of every API a grant names, in
//! the desired state or in a change set still open (so a preview sees the routes its new
//! grants reach).

use sqlx::PgConnection;

use crate::domain::{
    exact::{ApiRoutes, RouteCatalog},
    grant::ApiRef,
    names::{AccountId, ApiId, Region},
};

pub(crate) fn api_ref(target: &str, api_id: &str) -> Option<ApiRef> {
    let (account, region) = target.split_once('/')?;
    Some(ApiRef {
        account: AccountId::parse(account).ok()?,
        region: Region::parse(region).ok()?,
        api_id: ApiId::parse(api_id).ok()?,
    })
}

pub async fn route_catalog(db: &mut PgConnection) -> sqlx::Result<RouteCatalog> {
    let rows = sqlx::query!(
        r#"WITH named AS (
               SELECT api_id FROM grants
               UNION
               SELECT jsonb_path_query(items, '$[*].*.api.api_id') #>> '{}'
               FROM change_sets
               WHERE state IN ('draft', 'submitted', 'approved', 'pushing', 'push_failed')
           )
           SELECT a.target AS "target!", a.api_id AS "api_id!", a.kind AS "kind!",
                  COALESCE((SELECT array_agg(s.stage_name ORDER BY s.stage_name) FROM api_stages s
                            WHERE s.target = a.target AND s.api_id = a.api_id), '{}')
                      AS "stages!",
                  COALESCE((SELECT array_agg(r.path ORDER BY r.path, m.http_method)
                            FROM api_resources r JOIN api_methods m USING (target, api_id, resource_id)
                            WHERE r.target = a.target AND r.api_id = a.api_id), '{}') AS "paths!",
                  COALESCE((SELECT array_agg(m.http_method ORDER BY r.path, m.http_method)
                            FROM api_resources r JOIN api_methods m USING (target, api_id, resource_id)
                            WHERE r.target = a.target AND r.api_id = a.api_id), '{}') AS "methods!"
           FROM rest_apis a
           WHERE a.gone_at IS NULL AND a.api_id IN (SELECT api_id FROM named)"#
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let api = api_ref(&r.target, &r.api_id)?;
            let methods = r.paths.into_iter().zip(r.methods).collect();
            Some((
                api,
                ApiRoutes {
                    stages: r.stages,
                    methods,
                    kind: crate::domain::route_key::ApiKind::parse(&r.kind),
                },
            ))
        })
        .collect())
}
