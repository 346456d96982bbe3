//! What enforces bindings, read for a plan: Identity Center's permission sets and groups, the
//! Entra enterprise application's app roles and assignments, and the directory's names of the
//! groups concerned.

use std::collections::BTreeMap;

use sqlx::PgPool;

use super::{PushError, Pusher};
use crate::backend::config::push::saml_provider_arn;
use crate::backend::mappings::views::Names;
use crate::domain::{
    desired::DesiredState, grant::GroupRef, identity_center::IdentityCenterActual, names::RoleArn,
    saml::SamlActual,
};

impl Pusher {
    /// The permission sets of `roles`, and the identity-store groups of their bindings.
    pub(super) async fn read_identity_center(
        &self,
        desired: &DesiredState,
        roles: &[RoleArn],
    ) -> Result<(IdentityCenterActual, BTreeMap<String, GroupRef>), PushError> {
        if roles.is_empty() {
            return Ok(Default::default());
        }
        let center = self.identity_center().await?;
        let (people, bound): (Vec<&GroupRef>, Vec<&GroupRef>) = bound_to(desired, roles)
            .into_iter()
            .partition(|g| g.is_person());
        let names = group_names(&self.pool, &bound).await?;
        let people = user_names(&self.pool, &people).await?;
        let (actual, external) = center
            .read(roles, &names, &people)
            .await
            .map_err(|e| PushError::Aws(format!("{e:#}")))?;
        let groups = groups_by_external_id(&self.pool, &external).await?;
        Ok((actual, groups))
    }

    /// The enterprise application's app roles and assignments for `roles` (SAML mode).
    pub(super) async fn read_saml(
        &self,
        desired: &DesiredState,
        roles: &[RoleArn],
    ) -> Result<SamlActual, PushError> {
        if roles.is_empty() {
            return Ok(SamlActual::default());
        }
        let (graph, sp) = self.entra()?;
        let provider = self.settings.saml_provider.clone().unwrap_or_default();
        let bound = bound_to(desired, roles);
        let graph_error = |e: crate::backend::directory::DirectoryError| {
            PushError::Aws(format!("Microsoft Graph: {e}"))
        };
        Ok(SamlActual {
            roles: roles
                .iter()
                .map(|r| {
                    let arn =
                        saml_provider_arn(r.partition.as_str(), r.account.as_str(), &provider);
                    (r.clone(), arn)
                })
                .collect(),
            app_roles: graph.app_roles(sp).await.map_err(graph_error)?,
            assignments: graph.app_role_assignments(sp).await.map_err(graph_error)?,
            group_names: group_names(&self.pool, &bound).await?,
        })
    }
}

/// The groups bound to any of `roles`.
fn bound_to<'d>(desired: &'d DesiredState, roles: &[RoleArn]) -> Vec<&'d GroupRef> {
    desired
        .bindings
        .iter()
        .filter(|b| roles.contains(&b.role))
        .map(|b| &b.group)
        .collect()
}

/// The directory's names of `groups`, as change set pages name them (`Names`).
async fn group_names(
    pool: &PgPool,
    groups: &[&GroupRef],
) -> Result<BTreeMap<GroupRef, String>, PushError> {
    let names = Names::load(pool, groups.iter().copied()).await?;
    Ok(groups
        .iter()
        .map(|g| ((*g).clone(), names.group(g)))
        .collect())
}

/// The display name and user principal name of each of `people` (bound by access requests):
/// SCIM provisions the user principal name as the identity-store user's `userName`.
async fn user_names(
    pool: &PgPool,
    people: &[&GroupRef],
) -> Result<BTreeMap<GroupRef, (String, Option<String>)>, PushError> {
    let rows = crate::backend::memberships::people(pool, people.iter().copied()).await?;
    Ok(people
        .iter()
        .map(|p| {
            let found = rows
                .iter()
                .find(|r| r.source == p.source && r.object_id == p.object_id)
                .map(|r| (r.display_name.clone(), r.user_principal_name.clone()))
                .unwrap_or_else(|| (p.object_id.clone(), None));
            ((*p).clone(), found)
        })
        .collect())
}

/// The directory groups whose object ids identity-store groups carry as external ids.
async fn groups_by_external_id(
    pool: &PgPool,
    external: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, GroupRef>, PushError> {
    let ids: Vec<String> = external.values().cloned().collect();
    let rows = sqlx::query!(
        "SELECT source, object_id FROM directory_groups
         WHERE object_id = ANY($1) AND deleted_at IS NULL",
        &ids,
    )
    .fetch_all(pool)
    .await?;
    Ok(external
        .iter()
        .filter_map(|(store_id, object_id)| {
            let r = rows.iter().find(|r| &r.object_id == object_id)?;
            Some((store_id.clone(), GroupRef::group(&r.source, &r.object_id)))
        })
        .collect())
}
