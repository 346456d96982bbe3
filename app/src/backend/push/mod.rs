//! Pushing approved change sets to IAM and API Gateway: plan from what AWS holds, record the
//! plan as steps, make each call (recorded before and after), then read AWS back.
//!
//! A push run is a job in Postgres with a lease: the process holding it renews it while it works;
//! if it dies, the lease lapses and another process (or the same one restarted) takes the run
//! over and finishes the steps not yet done. Two processes never work on the same run.

pub mod aws_state;
pub mod bundle;
pub mod calls;
pub mod cli;
pub mod drift;
mod enforcement;
pub mod http_calls;
pub mod identity_center;
pub mod plan_cache;
pub mod service;
pub mod store;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use crate::domain::{
    attach::AuthorizerSpec,
    change_set::{Action, State},
    desired::{ChangeItem, DesiredState, RepushTarget},
    enforcement::Enforcement,
    grant::{ApiRef, GroupRef},
    identity_center::{self as ic, IdentityCenterActual},
    names::RoleArn,
    plan::{plan, Call, PlanError, PlanSettings, Step},
    saml::{self, SamlActual},
};
use serde_json::json;
use sqlx::PgPool;

use crate::backend::{
    audit::{self, Actor},
    aws::{self, AwsClients},
    catalog::rate_limit::{ApiGatewayLimits, RateLimiter},
    config::{
        push::{default_trust_policy, saml_trust_policy},
        AwsSettings, PushSettings,
    },
    directory::graph::GraphDirectory,
    mappings::store as cs_store,
};

/// API Gateway's and IAM's quotas for one account, shared by every target in it.
pub struct PushLimits {
    pub all: RateLimiter,
    pub deployments: RateLimiter,
}

pub struct PushTarget {
    pub name: String,
    pub account: String,
    pub enforcement: Enforcement,
    pub clients: AwsClients,
    pub limits: Arc<PushLimits>,
    pub read_limits: ApiGatewayLimits,
    /// The permissions boundary (a policy ARN in this account) every role made here carries.
    pub boundary: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("change set {0} does not exist")]
    NotFound(i64),
    #[error("{0}")]
    Refused(String),
    #[error("the plan cannot be made: {0}")]
    Plan(String),
    #[error("reading AWS failed: {0}")]
    Aws(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Another process took the push over; this one stops recording.
    #[error("{0}")]
    LeaseLost(String),
}

impl From<store::MarkError> for PushError {
    fn from(e: store::MarkError) -> Self {
        match e {
            store::MarkError::Database(e) => PushError::Database(e),
            e @ store::MarkError::LeaseLost(_) => PushError::LeaseLost(e.to_string()),
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    pub run_id: i64,
    pub succeeded: bool,
    pub calls_made: usize,
    pub error: Option<String>,
}

/// AWS's state for a scope.
pub struct Actual {
    /// IAM roles (modes `none` and `saml`).
    pub roles: BTreeMap<RoleArn, crate::domain::plan::RoleActual>,
    pub apis: Vec<crate::domain::plan::ApiActual>,
    /// Permission sets and groups (mode `identity-center`).
    pub identity_center: IdentityCenterActual,
    /// The directory group each identity-store group stands for, where its external id or
    /// name says so (to adopt an assignment made by hand).
    pub store_groups: BTreeMap<String, GroupRef>,
    /// The enterprise application's app roles and assignments (mode `saml`).
    pub saml: SamlActual,
    /// Token mode: the published access bundle and the directory's nesting.
    pub bundle: Option<bundle::BundleActual>,
}

/// The roles and APIs a push concerns.
pub struct Scope {
    pub roles: Vec<RoleArn>,
    pub apis: Vec<ApiRef>,
}

impl Scope {
    pub fn of(items: &[ChangeItem]) -> Scope {
        let mut roles: Vec<RoleArn> = items.iter().filter_map(|i| i.role().cloned()).collect();
        roles.sort();
        roles.dedup();
        let mut apis: Vec<ApiRef> = items
            .iter()
            .filter_map(|i| match i {
                ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => Some(g.api.clone()),
                ChangeItem::Repush(RepushTarget::Api(api)) => Some(api.clone()),
                _ => None,
            })
            .collect();
        apis.sort();
        apis.dedup();
        Scope { roles, apis }
    }
}

pub struct Pusher {
    pub pool: PgPool,
    pub targets: Vec<PushTarget>,
    pub settings: PushSettings,
    aws_settings: AwsSettings,
    /// Connected on first use (only pushes to `identity-center` targets need it).
    identity_center: tokio::sync::OnceCell<identity_center::IdentityCenter>,
    /// Microsoft Graph, for SAML mode's app role assignments.
    graph: Option<Arc<GraphDirectory>>,
    /// This process, as lease holder.
    pub owner: String,
    /// Token mode: where the access bundle is published.
    pub(crate) bundle: Option<bundle::BundlePublisher>,
    /// The API catalog, synced again after a push changes methods or authorizers (the API
    /// pages say what decides each method from it).
    catalog: Option<Arc<crate::backend::catalog::Syncer>>,
    /// The change sets whose plan is being read from AWS for the change set page.
    plan_reads: plan_cache::PlanReads,
    /// Set when the process is stopping: leases are no longer renewed or taken.
    stopping: Arc<std::sync::atomic::AtomicBool>,
}

impl Pusher {
    pub async fn new(pool: PgPool, aws_settings: &AwsSettings, settings: PushSettings) -> Pusher {
        let mut by_account: BTreeMap<String, Arc<PushLimits>> = BTreeMap::new();
        let mut targets = Vec::new();
        for target in &aws_settings.targets {
            let limits = by_account
                .entry(target.account_id.clone())
                .or_insert_with(|| {
                    Arc::new(PushLimits {
                        all: RateLimiter::per_second(settings.calls_per_second),
                        deployments: RateLimiter::every(settings.deploy_interval),
                    })
                })
                .clone();
            targets.push(PushTarget {
                name: target.name(),
                account: target.account_id.clone(),
                enforcement: target.enforcement.unwrap_or_default(),
                clients: aws::target_clients(aws_settings, target).await,
                limits,
                read_limits: ApiGatewayLimits::for_endpoint(aws_settings),
                boundary: settings
                    .permissions_boundary
                    .as_deref()
                    .map(|name| crate::domain::aws_policy::boundary_arn(&target.account_id, name)),
            });
        }
        let bundle = match &settings.access_bundle {
            Some((bucket, key)) => {
                Some(bundle::BundlePublisher::new(aws_settings, bucket.clone(), key.clone()).await)
            }
            None => None,
        };
        Pusher {
            pool,
            targets,
            bundle,
            catalog: None,
            settings,
            aws_settings: aws_settings.clone(),
            identity_center: tokio::sync::OnceCell::new(),
            graph: None,
            owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4()),
            plan_reads: plan_cache::PlanReads::default(),
            stopping: Arc::default(),
        }
    }

    /// Hands this process's running pushes back (the server is stopping): their leases end
    /// now, so another replica, or this one restarted, takes them over at once instead of after
    /// the lease. Answers how many.
    pub async fn release_leases(&self) -> sqlx::Result<u64> {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let released = sqlx::query(
            "UPDATE push_runs SET lease_until = now() - interval '1 second'
             WHERE lease_owner = $1 AND state = 'running'",
        )
        .bind(&self.owner)
        .execute(&self.pool)
        .await?;
        Ok(released.rows_affected())
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn target(&self, name: &str) -> Result<&PushTarget, PushError> {
        self.targets.iter().find(|t| t.name == name).ok_or_else(|| {
            PushError::Plan(format!(
                "no AWS target {name} is configured (GATEHOUSE_AWS_TARGETS)"
            ))
        })
    }

    fn role_target(&self, role: &RoleArn) -> Result<&PushTarget, PushError> {
        self.targets
            .iter()
            .find(|t| t.account == role.account.as_str())
            .ok_or_else(|| {
                PushError::Plan(format!(
                    "no AWS target is configured for account {} of role {role}",
                    role.account.as_str()
                ))
            })
    }

    /// Gives the pusher Microsoft Graph, for SAML mode's directory writes.
    pub fn with_graph(mut self, graph: Option<Arc<GraphDirectory>>) -> Self {
        self.graph = graph;
        self
    }

    /// Gives the pusher the catalog to sync after it changes methods or authorizers.
    pub fn with_catalog(mut self, syncer: Arc<crate::backend::catalog::Syncer>) -> Self {
        self.catalog = Some(syncer);
        self
    }

    /// Starts a sync of the API catalog in the background (one already running will do).
    fn refresh_catalog(&self, run_id: i64) {
        if let Some(syncer) = &self.catalog {
            let syncer = Arc::clone(syncer);
            tokio::spawn(async move {
                let actor = Actor::system(&format!("push {run_id}"));
                let request = crate::backend::catalog::SyncRequest::default();
                match syncer
                    .start(actor, crate::backend::catalog::Catalog::Apis, request)
                    .await
                {
                    Ok(_) | Err(crate::backend::catalog::SyncError::AlreadyRunning) => {}
                    Err(e) => {
                        tracing::warn!(run_id, error = %e, "cannot sync the APIs after a push")
                    }
                }
            });
        }
    }

    /// The enterprise application and Graph, or why SAML mode cannot work.
    pub(crate) fn entra(&self) -> Result<(&GraphDirectory, &str), PushError> {
        match (&self.graph, &self.settings.saml_service_principal) {
            (Some(graph), Some(sp)) => Ok((graph, sp)),
            _ => Err(PushError::Plan(
                PlanError::NoEnterpriseApplication.to_string(),
            )),
        }
    }

    /// How bindings to `role` are enforced (its account's target's mode).
    pub fn enforcement_of(&self, role: &RoleArn) -> Enforcement {
        self.role_target(role)
            .map(|t| t.enforcement)
            .unwrap_or_default()
    }

    pub(crate) async fn identity_center(
        &self,
    ) -> Result<&identity_center::IdentityCenter, PushError> {
        self.identity_center
            .get_or_try_init(|| {
                identity_center::IdentityCenter::connect(&self.aws_settings, &self.settings)
            })
            .await
            .map_err(|e| PushError::Aws(format!("IAM Identity Center: {e:#}")))
    }

    pub(crate) async fn desired(&self) -> Result<DesiredState, PushError> {
        let mut conn = self.pool.acquire().await?;
        Ok(cs_store::desired_state(&mut conn).await?)
    }

    async fn read_role(
        &self,
        role: &RoleArn,
        with_outside: bool,
    ) -> (RoleArn, Result<crate::domain::plan::RoleActual, PushError>) {
        let read = async {
            let target = self.role_target(role)?;
            let with_trust = target.enforcement == Enforcement::Saml;
            aws_state::read_role(target, role.name(), with_trust, with_outside)
                .await
                .map_err(|e| PushError::Aws(format!("{e:#}")))
        };
        (role.clone(), read.await)
    }

    async fn read_api_tagged(
        &self,
        api: &ApiRef,
    ) -> (ApiRef, Result<crate::domain::plan::ApiActual, PushError>) {
        (api.clone(), self.read_api(api).await)
    }

    async fn read_api(&self, api: &ApiRef) -> Result<crate::domain::plan::ApiActual, PushError> {
        let target = self.target(&format!("{}/{}", api.account.as_str(), api.region.as_str()))?;
        let kind = store::api_kind(&self.pool, &target.name, api.api_id.as_str()).await?;
        let mut actual = aws_state::read_api(target, api, kind)
            .await
            .map_err(|e| PushError::Aws(format!("{e:#}")))?;
        actual.changed_at =
            store::last_api_change(&self.pool, &target.name, api.api_id.as_str()).await?;
        Ok(actual)
    }

    /// What AWS holds for `scope`'s roles and (when a push changes APIs) its APIs.
    pub async fn read_actual(
        &self,
        desired: &DesiredState,
        scope: &Scope,
    ) -> Result<Actual, PushError> {
        Ok(self.read_actual_with(desired, scope, false).await?.0)
    }

    /// As [`Self::read_actual`]; when `tolerant`, a role or API that cannot be read is left
    /// out and answered with why (subject, error) instead of failing the whole read.
    pub async fn read_actual_with(
        &self,
        desired: &DesiredState,
        scope: &Scope,
        tolerant: bool,
    ) -> Result<(Actual, Vec<(String, String)>), PushError> {
        use futures_util::StreamExt;
        let mut unreadable = Vec::new();
        let (ic_roles, iam_roles): (Vec<RoleArn>, Vec<RoleArn>) = scope
            .roles
            .iter()
            .cloned()
            .partition(|r| self.enforcement_of(r) == Enforcement::IdentityCenter);
        let (identity_center, store_groups) = self.read_identity_center(desired, &ic_roles).await?;
        let saml_roles: Vec<RoleArn> = iam_roles
            .iter()
            .filter(|r| self.enforcement_of(r) == Enforcement::Saml)
            .cloned()
            .collect();
        let saml = self.read_saml(desired, &saml_roles).await?;
        // Several reads in flight: each waits its turn at the target's quota limiter, so the
        // pace stays within AWS's quotas while the latency of one call no longer adds up.
        // (The futures are made first, by named methods: a closure here trips the compiler's
        // `Send` inference for the spawned push.)
        // A drift check (tolerant) also reads the policies that are not Gatehouse's, to report
        // access granted outside it; a push never reads them.
        let role_reads: Vec<_> = iam_roles
            .iter()
            .map(|r| self.read_role(r, tolerant))
            .collect();
        let read: Vec<_> = futures_util::stream::iter(role_reads)
            .buffer_unordered(READS_IN_FLIGHT)
            .collect()
            .await;
        let mut roles = BTreeMap::new();
        for (arn, result) in read {
            match result {
                Ok(actual) => {
                    roles.insert(arn, actual);
                }
                Err(e) if tolerant => unreadable.push((arn.to_string(), e.to_string())),
                Err(e) => return Err(e),
            }
        }
        let mut apis = Vec::new();
        if self.settings.enforce_iam
            || self.settings.resource_policy
            || !self.settings.attach_authorizer.is_empty()
        {
            let api_reads: Vec<_> = scope.apis.iter().map(|a| self.read_api_tagged(a)).collect();
            let read: Vec<_> = futures_util::stream::iter(api_reads)
                .buffered(READS_IN_FLIGHT)
                .collect()
                .await;
            for (api, result) in read {
                match result {
                    Ok(actual) => apis.push(actual),
                    Err(e) if tolerant => unreadable.push((
                        format!(
                            "API {} ({}/{})",
                            api.api_id.as_str(),
                            api.account.as_str(),
                            api.region.as_str()
                        ),
                        e.to_string(),
                    )),
                    Err(e) => return Err(e),
                }
            }
        }
        let bundle = match &self.bundle {
            Some(publisher) => {
                let (last_version, last_etag) = bundle::last_published(&self.pool).await?;
                Some(bundle::BundleActual {
                    head: publisher.head().await.map_err(PushError::Aws)?,
                    nesting: bundle::nesting(&self.pool).await?,
                    last_version,
                    last_etag,
                })
            }
            None => None,
        };
        Ok((
            Actual {
                roles,
                apis,
                identity_center,
                store_groups,
                saml,
                bundle,
            },
            unreadable,
        ))
    }

    /// The calls that bring `actual` to `desired`.
    pub fn plan_actual(
        &self,
        desired: &DesiredState,
        actual: &Actual,
    ) -> Result<Vec<Step>, PushError> {
        let trust = |role: &RoleArn| match (self.enforcement_of(role), &self.settings.saml_provider)
        {
            (Enforcement::Saml, Some(provider)) => {
                saml_trust_policy(role.partition.as_str(), role.account.as_str(), provider)
            }
            _ => self
                .settings
                .trust_policy
                .clone()
                .unwrap_or_else(|| default_trust_policy(role.account.as_str())),
        };
        let keeps_trust = |role: &RoleArn| self.enforcement_of(role) == Enforcement::Saml;
        let principal = |role: &RoleArn| match self.enforcement_of(role) {
            Enforcement::IdentityCenter => ic::provisioned_role_pattern(
                role.partition.as_str(),
                role.account.as_str(),
                role.name(),
            ),
            _ => role.to_string(),
        };
        let role_target = |role: &RoleArn| {
            self.role_target(role)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        };
        let attach = |api: &crate::domain::plan::ApiActual| {
            self.settings
                .attach_authorizer
                .covers(&api.api, &api.name)
                .then(|| {
                    AuthorizerSpec::for_api(
                        &api.api,
                        &self.settings.authorizer_function,
                        self.settings.authorizer_ttl_seconds,
                    )
                })
        };
        let settings = PlanSettings {
            attach: &attach,
            enforce_iam: self.settings.enforce_iam,
            resource_policy: self.settings.resource_policy,
            role_target: &role_target,
            trust_policy: &trust,
            keeps_trust: &keeps_trust,
            principal: &principal,
        };
        // Permission sets and assignments first: a resource policy naming a permission set's
        // roles is only useful once Identity Center has provisioned them.
        let mut steps = ic::plan(desired, &actual.identity_center)
            .map_err(|e| PushError::Plan(e.to_string()))?;
        steps.extend(
            plan(desired, &actual.roles, &actual.apis, &settings)
                .map_err(|e| PushError::Plan(e.to_string()))?,
        );
        // The app role names the role's ARN: the role comes first.
        steps
            .extend(saml::plan(desired, &actual.saml).map_err(|e| PushError::Plan(e.to_string()))?);
        // The bundle last: the authorizer enforces it at once, so it follows the writes the
        // other paths make.
        if let (Some(publisher), Some(published)) = (&self.bundle, &actual.bundle) {
            let (b, sha) = bundle::desired_bundle(desired, &published.nesting);
            let head = published.head.as_ref();
            if published.difference(&sha).is_some() {
                let version = published
                    .last_version
                    .max(head.and_then(|h| h.version).unwrap_or(0))
                    + 1;
                steps.push(Step {
                    target: publisher.location(),
                    call: Call::PublishAccessBundle {
                        bucket: publisher.bucket.clone(),
                        key: publisher.key.clone(),
                        version,
                        content_sha256: sha,
                        groups: b.groups.len(),
                        grants: b.apis.iter().map(|a| a.grants.len()).sum(),
                    },
                });
            }
        }
        Ok(steps)
    }

    /// The calls that would bring `scope` to `desired`, from what AWS holds now.
    pub async fn plan_scope(
        &self,
        desired: &DesiredState,
        scope: &Scope,
    ) -> Result<Vec<Step>, PushError> {
        let actual = self.read_actual(desired, scope).await?;
        self.plan_actual(desired, &actual)
    }

    async fn change_set(&self, id: i64) -> Result<cs_store::ChangeSetRow, PushError> {
        let mut conn = self.pool.acquire().await?;
        cs_store::change_set(&mut conn, id, false)
            .await?
            .ok_or(PushError::NotFound(id))
    }

    /// What pushing change set `id` would do now.
    pub async fn plan(&self, id: i64) -> Result<Vec<Step>, PushError> {
        let cs = self.change_set(id).await?;
        let desired = self.desired().await?;
        self.plan_scope(&desired, &Scope::of(&cs.items)).await
    }

    /// As [`Self::plan`], with what AWS was read to hold (to show each policy's change).
    pub async fn plan_with_actual(&self, id: i64) -> Result<(Vec<Step>, Actual), PushError> {
        let cs = self.change_set(id).await?;
        let desired = self.desired().await?;
        let actual = self.read_actual(&desired, &Scope::of(&cs.items)).await?;
        let steps = self.plan_actual(&desired, &actual)?;
        Ok((steps, actual))
    }

    /// Records a push of change set `id` with its plan and holds it; answers the run's id, or
    /// `None` when the change set was pushed before and AWS still matches (nothing to write).
    pub async fn begin(&self, actor: &Actor, id: i64) -> Result<Option<i64>, PushError> {
        let cs = self.change_set(id).await?;
        if cs.state == State::Pushing {
            return Err(PushError::Refused(format!(
                "change set {id} is being pushed already"
            )));
        }
        let steps = self.plan(id).await?;
        if cs.state == State::Pushed {
            return if steps.is_empty() {
                Ok(None)
            } else {
                Err(PushError::Refused(format!(
                    "change set {id} was pushed, and AWS has changed since ({} calls would put it back): that is drift; revert it from the drift report",
                    steps.len()
                )))
            };
        }
        let mut tx = self.pool.begin().await?;
        let cs = cs_store::change_set(&mut tx, id, true)
            .await?
            .ok_or(PushError::NotFound(id))?;
        busy(&mut tx, id, &cs.items).await?;
        let next = cs
            .state
            .next(Action::Push)
            .map_err(|e| PushError::Refused(e.to_string()))?;
        cs_store::set_state(&mut tx, id, next).await?;
        let run_id = store::insert_run(
            &mut tx,
            id,
            &actor.name,
            &self.owner,
            self.settings.lease.as_secs_f64(),
            &steps,
        )
        .await?;
        audit::record(
            &mut *tx,
            actor,
            audit::action::PUSH_STARTED,
            Some(&format!("change_set:{id}")),
            json!({
                "run": run_id,
                "before": {"state": cs.state.as_str()},
                "after": {"state": next.as_str()},
                "plan": steps.iter().map(|s| json!({"target": s.target, "call": s.call.summary()})).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(run_id))
    }

    /// Starts a push in the background and answers its run id at once.
    pub async fn start(self: &Arc<Self>, actor: Actor, id: i64) -> Result<Option<i64>, PushError> {
        let run = self.begin(&actor, id).await?;
        if let Some(run_id) = run {
            let pusher = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = pusher.execute(run_id).await {
                    tracing::error!(run_id, error = %e, "push stopped");
                }
            });
        }
        Ok(run)
    }

    /// Takes over pushes whose process died, in the background, now and every half lease.
    pub fn spawn_resumer(self: Arc<Self>) {
        tokio::spawn(async move {
            loop {
                if self.is_stopping() {
                    return;
                }
                match store::orphans(&self.pool).await {
                    Ok(runs) => {
                        for run_id in runs {
                            tracing::info!(run_id, "taking over an interrupted push");
                            if let Err(e) = self.execute(run_id).await {
                                tracing::warn!(run_id, error = %e, "push not taken over");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot look for interrupted pushes"),
                }
                tokio::time::sleep(self.settings.lease / 2).await;
            }
        });
    }
}

mod execute;

/// Refuses a push while another push touches one of its roles or APIs: two pushes writing one
/// role's policy could interleave, and the older could land last.
async fn busy(db: &mut sqlx::PgConnection, id: i64, items: &[ChangeItem]) -> Result<(), PushError> {
    let mine = Scope::of(items);
    for (run, other, title, their_items) in store::pushing(db).await? {
        let Ok(theirs) = serde_json::from_value::<Vec<ChangeItem>>(their_items) else {
            continue;
        };
        let theirs = Scope::of(&theirs);
        let role = mine.roles.iter().find(|r| theirs.roles.contains(r));
        let api = mine.apis.iter().find(|a| theirs.apis.contains(a));
        let what = match (role, api) {
            (Some(r), _) => format!("role {r}"),
            (None, Some(a)) => format!("API {}", a.api_id.as_str()),
            (None, None) => continue,
        };
        if other != id {
            return Err(PushError::Refused(format!(
                "push {run} of change set {other} (“{title}”) is writing {what} now; one push at a time may touch a role or an API: push this one when it has finished"
            )));
        }
    }
    Ok(())
}

/// How long verification waits for IAM's eventual consistency, in all.
/// AWS reads a plan, a drift check or a read-back keeps in flight at once.
const READS_IN_FLIGHT: usize = 8;
const VERIFY_ATTEMPTS: u32 = 5;
const VERIFY_PAUSE: Duration = Duration::from_millis(500);

/// For the audit log: which call a step made.
fn call_details(seq: i32, call: &Call) -> serde_json::Value {
    json!({"seq": seq, "operation": call.operation(), "call": call.summary()})
}
