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
}

impl SessionUser {
    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
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
/// a person whose absolute session lifetime has not run out (idle expiry is the store's job).
pub async fn load_user(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    // Assets need nobody: skip the session store's round trip for them.
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.ico" {
        return next.run(req).await;
    }
    match session.get::<SessionUser>(USER_KEY).await {
        Ok(Some(user)) => {
            let age = OffsetDateTime::now_utc().unix_timestamp() - user.signed_in_at;
            if age >= state.settings.session_max.as_secs() as i64 {
                let _ = session.flush().await;
                let details = serde_json::json!({ "reason": "absolute lifetime reached" });
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
            } else {
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
