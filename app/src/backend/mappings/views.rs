//! Turns change sets and the desired state into what the pages show: item lines, policy diffs,
//! effective access, timelines, group mappings.

use std::collections::HashMap;

use crate::backend::directory::cache::{group_names, DirectoryCache};
use crate::{
    domain::{
        desired::{effective_access, ChangeItem, DesiredState, RepushTarget, Route},
        diff::diff_lines,
        grant::GroupRef,
        names::RoleArn,
        policy::{role_policy, RolePolicy, DEFAULT_MANAGED_PER_ROLE, INLINE_AGGREGATE_LIMIT},
    },
    mappings::types::*,
};
use sqlx::{PgConnection, PgPool};

use super::store::ChangeSetRow;
use crate::backend::catalog::queries::utc;

/// Display names of groups and APIs, for sentences people read.
#[derive(Default)]
pub struct Names {
    groups: HashMap<(String, String), String>,
    /// People bound directly (access requests), by source and object id.
    people: HashMap<(String, String), String>,
    apis: HashMap<String, String>,
}

impl Names {
    /// The names of `groups` (only those: the directory may hold tens of thousands) and of the
    /// APIs.
    pub async fn load<'g>(
        pool: &PgPool,
        groups: impl IntoIterator<Item = &'g GroupRef>,
    ) -> sqlx::Result<Names> {
        let mut conn = pool.acquire().await?;
        Names::load_with(&mut conn, None, groups).await
    }

    /// [`Names::load`] on the request's connection `conn`.
    pub async fn load_on<'g>(
        conn: &mut PgConnection,
        groups: impl IntoIterator<Item = &'g GroupRef>,
    ) -> sqlx::Result<Names> {
        Names::load_with(conn, None, groups).await
    }

    /// [`Names::load_on`], the groups' names through `cache` (pages that name hundreds of groups
    /// per request: a matrix, an API's callers).
    pub async fn load_cached_on<'g>(
        conn: &mut PgConnection,
        cache: &DirectoryCache,
        groups: impl IntoIterator<Item = &'g GroupRef>,
    ) -> sqlx::Result<Names> {
        Names::load_with(conn, Some(cache), groups).await
    }

    async fn load_with<'g>(
        conn: &mut PgConnection,
        cache: Option<&DirectoryCache>,
        groups: impl IntoIterator<Item = &'g GroupRef>,
    ) -> sqlx::Result<Names> {
        let (persons, groups): (Vec<&GroupRef>, Vec<&GroupRef>) =
            groups.into_iter().partition(|g| g.is_person());
        let wanted: Vec<(String, String)> = groups
            .into_iter()
            .map(|g| (g.source.clone(), g.object_id.clone()))
            .collect();
        let people = crate::backend::memberships::people(&mut *conn, persons).await?;
        let groups = match cache {
            Some(cache) => cache.names(conn, wanted).await?,
            None => group_names(&mut *conn, &wanted).await?,
        };
        let apis = sqlx::query!("SELECT api_id, name FROM rest_apis")
            .fetch_all(&mut *conn)
            .await?;
        Ok(Names {
            groups,
            people: people
                .into_iter()
                .map(|p| ((p.source, p.object_id), p.display_name))
                .collect(),
            apis: apis.into_iter().map(|a| (a.api_id, a.name)).collect(),
        })
    }

    /// Names already read: `groups` by (source, object id), and `people` likewise; no API names
    /// (for views that name groups only).
    pub fn known(
        groups: HashMap<(String, String), String>,
        people: HashMap<(String, String), String>,
    ) -> Names {
        Names {
            groups,
            people,
            apis: HashMap::new(),
        }
    }

    /// A group's name, or a person's followed by "(person)": a binding to one person is an
    /// access request's, and reads differently from a group's.
    pub fn group(&self, g: &GroupRef) -> String {
        if g.is_person() {
            return match self.people.get(&(g.source.clone(), g.object_id.clone())) {
                Some(name) => format!("{name} (person)"),
                None => format!("{} person {}", g.source, g.object_id),
            };
        }
        self.groups
            .get(&(g.source.clone(), g.object_id.clone()))
            .cloned()
            .unwrap_or_else(|| format!("{} group {}", g.source, g.object_id))
    }

    /// An API's name, or its id when the catalog does not know it.
    pub fn api(&self, api_id: &str) -> String {
        self.apis
            .get(api_id)
            .cloned()
            .unwrap_or_else(|| api_id.to_string())
    }

    pub fn route(&self, r: &Route) -> String {
        let api = self
            .apis
            .get(r.api.api_id.as_str())
            .map(String::as_str)
            .unwrap_or("unknown API");
        format!(
            "{} {} on {api} ({}) stage {}",
            r.method,
            r.path.as_str(),
            r.api.api_id.as_str(),
            r.stage.as_str()
        )
    }

    pub fn item(&self, item: &ChangeItem) -> String {
        match item {
            ChangeItem::AddBinding(b) => {
                format!("Bind {} → role {}", self.group(&b.group), b.role.name())
            }
            ChangeItem::RemoveBinding(b) => format!(
                "Unbind {} from role {}",
                self.group(&b.group),
                b.role.name()
            ),
            ChangeItem::AddGrant(g) => {
                format!("Grant role {} {}", g.role.name(), self.route(&Route::of(g)))
            }
            ChangeItem::RemoveGrant(g) => format!(
                "Revoke from role {} {}",
                g.role.name(),
                self.route(&Route::of(g))
            ),
            ChangeItem::Repush(RepushTarget::Role(r)) => {
                format!("Push role {} again (revert drift)", r.name())
            }
            ChangeItem::Repush(RepushTarget::Api(a)) => format!(
                "Push the resource policy and methods of API {} again (revert drift)",
                self.apis
                    .get(a.api_id.as_str())
                    .cloned()
                    .unwrap_or_else(|| a.api_id.as_str().to_string())
            ),
        }
    }
}

/// A change set's title as lists show it: an untitled draft is "Draft N".
pub fn shown_title(id: i64, title: &str) -> String {
    if title.is_empty() {
        format!("Draft {id}")
    } else {
        title.to_string()
    }
}

pub fn summary(cs: &ChangeSetRow) -> ChangeSetSummary {
    ChangeSetSummary {
        id: cs.id,
        title: shown_title(cs.id, &cs.title),
        state: cs.state.as_str().to_string(),
        author_name: cs.author_name.clone(),
        items: cs.items.len(),
        updated_at: utc(cs.updated_at),
        waits_on: None,
        waits_on_viewer: false,
        request: cs.is_request(),
    }
}

pub fn policy_text(p: &RolePolicy) -> (String, String) {
    match p {
        RolePolicy::None => (String::new(), "no Gatehouse policy".into()),
        RolePolicy::Inline(d) => (
            d.pretty(),
            format!(
                "one inline policy, {} of {INLINE_AGGREGATE_LIMIT} characters",
                d.size
            ),
        ),
        RolePolicy::Managed(ds) => (
            ds.iter()
                .map(|d| format!("// {}\n{}", d.name, d.pretty()))
                .collect::<Vec<_>>()
                .join("\n"),
            format!("{} managed policies (too large for inline)", ds.len()),
        ),
    }
}

/// The policy of each role the items touch, before → after.
pub fn policy_diffs(
    items: &[ChangeItem],
    before: &DesiredState,
    after: &DesiredState,
) -> Vec<PolicyDiff> {
    crate::domain::desired::affected_roles(items)
        .into_iter()
        .map(|role: RoleArn| {
            let old = role_policy(
                role.name(),
                &before.grants_of(&role),
                &before.catalog,
                DEFAULT_MANAGED_PER_ROLE,
            );
            let new = role_policy(
                role.name(),
                &after.grants_of(&role),
                &after.catalog,
                DEFAULT_MANAGED_PER_ROLE,
            );
            let (old_text, _) = old.as_ref().map(policy_text).unwrap_or_default();
            let (new_text, new_summary) = new.as_ref().map(policy_text).unwrap_or_default();
            let (_, old_summary) = old.as_ref().map(policy_text).unwrap_or_default();
            PolicyDiff {
                role: role.to_string(),
                lines: diff_lines(&old_text, &new_text),
                summary: format!("before: {old_summary}; after: {new_summary}"),
                error: new.err().map(|e| e.to_string()),
            }
        })
        .collect()
}

pub async fn access(
    pool: &PgPool,
    names: &Names,
    before: &DesiredState,
    after: &DesiredState,
) -> sqlx::Result<Vec<AccessView>> {
    let changes = effective_access(before, after);
    let groups: Vec<(String, String)> = changes
        .iter()
        .map(|c| (c.group.source.clone(), c.group.object_id.clone()))
        .collect();
    let counts = crate::backend::directory::membership::people_counts(pool, &groups).await?;
    Ok(changes
        .into_iter()
        .map(|c| AccessView {
            group: names.group(&c.group),
            people: counts
                .get(&(c.group.source.clone(), c.group.object_id.clone()))
                .copied(),
            gained: c.gained.iter().map(|r| names.route(r)).collect(),
            lost: c.lost.iter().map(|r| names.route(r)).collect(),
        })
        .collect())
}

/// What each binding of a change set will make true, as people read it ("Members of G (N
/// people) will be able to use R in account A through IAM Identity Center"), and the notice
/// to show when some of them are recorded only.
pub async fn binding_lines(
    pool: &PgPool,
    names: &Names,
    items: &[ChangeItem],
    aws: &crate::backend::config::AwsSettings,
) -> sqlx::Result<(Vec<String>, Option<String>)> {
    use crate::domain::enforcement::RECORDED_ONLY;
    let bindings: Vec<(bool, &crate::domain::grant::Binding)> = items
        .iter()
        .filter_map(|i| match i {
            ChangeItem::AddBinding(b) => Some((true, b)),
            ChangeItem::RemoveBinding(b) => Some((false, b)),
            _ => None,
        })
        .collect();
    let groups: Vec<(String, String)> = bindings
        .iter()
        .map(|(_, b)| (b.group.source.clone(), b.group.object_id.clone()))
        .collect();
    let counts = crate::backend::directory::membership::people_counts(pool, &groups).await?;
    let mut recorded_only = false;
    let lines = bindings
        .into_iter()
        .map(|(added, b)| {
            let mode = aws.enforcement_of(b.role.account.as_str());
            recorded_only |= !mode.enforces_bindings();
            let people = counts
                .get(&(b.group.source.clone(), b.group.object_id.clone()))
                .map(|n| format!(" ({n} {})", if *n == 1 { "person" } else { "people" }))
                .unwrap_or_default();
            let will = if added {
                "will be able to use"
            } else {
                "will no longer be able to use"
            };
            let how = if mode.enforces_bindings() {
                format!("through {}", mode.broker())
            } else {
                "(recorded only: who may assume it is managed outside Gatehouse)".to_string()
            };
            format!(
                "Members of {}{people} {will} {} in account {} {how}.",
                names.group(&b.group),
                b.role.name(),
                b.role.account.as_str(),
            )
        })
        .collect();
    Ok((lines, recorded_only.then(|| RECORDED_ONLY.to_string())))
}

pub async fn timeline(pool: &PgPool, id: i64) -> sqlx::Result<Vec<TimelineEntry>> {
    let rows = sqlx::query!(
        "SELECT occurred_at, actor_name, action, details FROM audit_events
         WHERE subject = $1 ORDER BY id",
        format!("change_set:{id}"),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.occurred_at, r.actor_name, r.action, r.details))
        .map(|(at, who, action, details)| {
            let comment = details
                .get("comment")
                .and_then(|c| c.as_str())
                .filter(|c| !c.is_empty());
            let what = match action.as_str() {
                "change_set.edited" => "edited".to_string(),
                "change_set.submitted" => "submitted it for review".into(),
                "change_set.withdrawn" => "withdrew it".into(),
                "change_set.approved" => format!(
                    "approved{}",
                    comment.map(|c| format!(": “{c}”")).unwrap_or_default()
                ),
                "change_set.rejected" => format!(
                    "rejected{}",
                    comment.map(|c| format!(": “{c}”")).unwrap_or_default()
                ),
                "change_set.applied" => match details["revokes"].as_i64() {
                    Some(n) => format!(
                        "applied it to the mappings (the access of change set {n} ended; approved under its approval)"
                    ),
                    None => "applied it to the mappings".into(),
                },
                "access.ending" => format!(
                    "announced that the access ends at {} UTC",
                    details["access_ends_at"].as_str().unwrap_or_default()
                ),
                "access.expired" => format!(
                    "ended the access at {} UTC: change set {} revokes it",
                    details["access_ends_at"].as_str().unwrap_or_default(),
                    details["revocation"]
                ),
                "change_set.rebased" => match details["approvals_cleared"].as_i64() {
                    Some(n) if n > 0 => format!(
                        "rebased it onto the current mappings; {n} approval{} cleared: reviewers must look again",
                        if n == 1 { "" } else { "s" }
                    ),
                    _ => "rebased it onto the current mappings".into(),
                },
                "push.started" => format!(
                    "started push {} ({} calls planned)",
                    details["run"],
                    details["plan"].as_array().map_or(0, Vec::len)
                ),
                "push.call" => format!(
                    "push {}: {} {}{}",
                    details["run"],
                    details["call"].as_str().unwrap_or_default(),
                    details["outcome"].as_str().unwrap_or_default(),
                    details["error"]
                        .as_str()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
                "push.replanned" => format!(
                    "push {} taken over and planned again: {} calls left",
                    details["run"],
                    details["plan"].as_array().map_or(0, Vec::len)
                ),
                "push.succeeded" => format!("push {} succeeded and read back", details["run"]),
                "push.failed" => format!(
                    "push {} failed: {}",
                    details["run"],
                    details["error"].as_str().unwrap_or_default()
                ),
                other => other.to_string(),
            };
            TimelineEntry {
                at: utc(at),
                who,
                what,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures;

    #[test]
    fn a_route_reads_method_path_api_and_stage_and_an_unknown_api_says_so() {
        let g = fixtures::grant("r0", "POST", "/orders/{id}", "prod");
        let api_id = g.api.api_id.as_str().to_string();
        let mut names = Names::default();
        assert_eq!(
            names.route(&Route::of(&g)),
            format!("POST /orders/{{id}} on unknown API ({api_id}) stage prod")
        );
        names.apis.insert(api_id.clone(), "Orders".into());
        assert_eq!(
            names.route(&Route::of(&g)),
            format!("POST /orders/{{id}} on Orders ({api_id}) stage prod")
        );
    }
}
