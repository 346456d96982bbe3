//! Sessions in Postgres (tower-sessions). The signed-in person is read once per request and
//! handed to routes and server functions through the request's extensions.

use crate::roles::{CurrentUser, Role};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use crate::backend::{
    audit::{self, Actor},
    state::AppState,
};

pub const USER_KEY: &str = "user";
pub const PENDING_LOGIN_KEY: &str = "pending_login";

/// What the session remembers about the person who signed in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionUser {
    pub tid: Uuid,
    pub oid: Uuid,
    pub display_name: String,
    pub username: String,
    pub roles: Vec<Role>,
    pub signed_in_at: i64,
    pub id_token: String,
    /// The token's app roles: roles re-derived later keep what they grant.
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// When the roles were last read from the directory (unix seconds).
    #[serde(default)]
    pub roles_checked_at: i64,
    /// The last request that moved the idle expiry on (unix milliseconds).
    #[serde(default)]
    pub seen_at_ms: i64,
    /// The token's groups overflowed and Microsoft Graph is not configured.
    #[serde(default)]
    pub groups_unknown: bool,
}

impl SessionUser {
    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            groups_unknown: self.groups_unknown,
            display_name: self.display_name.clone(),
            username: self.username.clone(),
            roles: self.roles.clone(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::person(self.tid, self.oid, &self.display_name, &self.username)
    }
}

/// Puts [`SessionUser`] and [`CurrentUser`] into the request's extensions when the session has
/// a person whose session has not run out. Also slides the idle expiry (the store only moves it
/// when the session is saved) and re-reads roles from the directory once they are older than
/// the role TTL.
pub async fn load_user(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    // Assets need nobody: skip the session store's round trip for them.
    let path = req.uri().path();
    if crate::backend::page::is_site_file(path) {
        return next.run(req).await;
    }
    match session.get::<SessionUser>(USER_KEY).await {
        Ok(Some(user)) => {
            if let Some(user) = keep(&state, &session, user).await {
                req.extensions_mut().insert(user.current_user());
                req.extensions_mut().insert(user);
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session; treating the request as signed out")
        }
    }
    next.run(req).await
}

/// The session's person as this request may see them, or `None` when the session ended here.
async fn keep(state: &AppState, session: &Session, mut user: SessionUser) -> Option<SessionUser> {
    let now = OffsetDateTime::now_utc();
    let now_s = now.unix_timestamp();
    if now_s - user.signed_in_at >= state.settings.session_max.as_secs() as i64 {
        end(state, session, &user, "absolute lifetime reached").await;
        return None;
    }
    // An admin ended this person's sessions after this one began.
    match state
        .session_memory
        .ends
        .get(&state.pool, user.tid, user.oid)
        .await
    {
        Ok(Some(ended)) if ended >= user.signed_in_at as f64 => {
            end(state, session, &user, "ended by an admin").await;
            return None;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not check whether the session was ended"),
    }
    let mut changed = false;
    if now_s - user.roles_checked_at >= state.settings.role_ttl.as_secs() as i64 {
        match refresh::roles(state, &user).await {
            Ok(Some(roles)) if roles.is_empty() => {
                record(state, &user, audit::action::ROLES_CHANGED, &roles).await;
                end(state, session, &user, "no Gatehouse role any more").await;
                return None;
            }
            Ok(Some(roles)) => {
                if roles != user.roles {
                    record(state, &user, audit::action::ROLES_CHANGED, &roles).await;
                    user.roles = roles;
                }
                user.roles_checked_at = now_s;
            }
            // Nothing to read them from: the token's roles stand until the session ends.
            Ok(None) => user.roles_checked_at = now_s,
            Err(e) => {
                // Keep the roles a little longer rather than lock everyone out while the
                // directory is down; try again in a minute.
                tracing::warn!(error = %e, oid = %user.oid, "could not re-read roles from the directory");
                user.roles_checked_at = now_s - state.settings.role_ttl.as_secs() as i64 + 60;
            }
        }
        changed = true;
    }
    // Saving moves the store's expiry on; a save per twentieth of the idle time is enough.
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let step = (state.settings.session_idle.as_millis() / 20) as i64;
    if changed || now_ms - user.seen_at_ms >= step {
        user.seen_at_ms = now_ms;
        if let Err(e) = session.insert(USER_KEY, &user).await {
            tracing::warn!(error = %e, "could not refresh the session");
        }
    }
    Some(user)
}

async fn end(state: &AppState, session: &Session, user: &SessionUser, reason: &str) {
    let _ = session.flush().await;
    let details = serde_json::json!({ "reason": reason });
    if let Err(e) = audit::record(
        &state.pool,
        &user.actor(),
        audit::action::SESSION_EXPIRED,
        None,
        details,
    )
    .await
    {
        tracing::error!(error = %e, "could not record session expiry");
    }
}

async fn record(state: &AppState, user: &SessionUser, action: &str, roles: &[Role]) {
    let before: Vec<&str> = user.roles.iter().map(|r| r.label()).collect();
    let after: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    let details = serde_json::json!({ "before": before, "after": after });
    if let Err(e) = audit::record(&state.pool, &user.actor(), action, None, details).await {
        tracing::error!(error = %e, "could not record a role change");
    }
}

mod refresh {
    use super::SessionUser;
    use crate::{backend::state::AppState, roles::Role};

    /// The person's roles as the directory has them now; `None` when no directory can say
    /// (Microsoft Graph is the one that knows a signed-in person by their object id).
    pub async fn roles(state: &AppState, user: &SessionUser) -> anyhow::Result<Option<Vec<Role>>> {
        let Some(graph) = &state.graph else {
            return Ok(None);
        };
        let groups = graph
            .member_groups(&user.oid.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Some(
            state.settings.roles.roles_for(&groups, &user.app_roles),
        ))
    }
}
