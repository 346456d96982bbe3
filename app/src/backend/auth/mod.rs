//! `/auth/login`, `/auth/callback`, `/auth/logout`: plain axum routes around [`oidc::Oidc`].

pub mod oidc;
pub mod overage;
pub mod roles;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Router,
};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::backend::{
    audit::{self, action, Actor},
    page::{escape, plain_page},
    session::{SessionUser, PENDING_LOGIN_KEY, USER_KEY},
    state::AppState,
    users,
};
use oidc::{PendingLogin, SignInRefusal};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/signed-out", get(signed_out))
}

/// Only same-site paths: an absolute URL or `//host` here would make us an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.starts_with("/auth/") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Deserialize)]
struct LoginParams {
    next: Option<String>,
    login_hint: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<LoginParams>,
) -> Response {
    let next = safe_next(params.next.as_deref());
    let hint = params
        .login_hint
        .as_deref()
        .filter(|h| !h.is_empty() && h.len() <= 256);
    match state.oidc.begin(next, hint).await {
        Ok((url, pending)) => match session.insert(PENDING_LOGIN_KEY, pending).await {
            Ok(()) => Redirect::to(url.as_str()).into_response(),
            Err(e) => server_error("could not store the sign-in in the session", &e),
        },
        Err(refusal) => {
            tracing::error!(error = %refusal, "sign-in could not start");
            refusal_page(StatusCode::SERVICE_UNAVAILABLE, &refusal)
        }
    }
}

#[derive(Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<CallbackParams>,
) -> Response {
    let pending = session
        .remove::<PendingLogin>(PENDING_LOGIN_KEY)
        .await
        .ok()
        .flatten();
    match complete_sign_in(&state, pending, params).await {
        Ok((user, next)) => {
            // A new id for the signed-in session: a session id planted before sign-in is worthless.
            if let Err(e) = session.cycle_id().await {
                return server_error("could not renew the session", &e);
            }
            if let Err(e) = session.insert(USER_KEY, &user).await {
                return server_error("could not store the session", &e);
            }
            let roles: Vec<&str> = user.roles.iter().map(|r| r.label()).collect();
            let details = json!({ "roles": roles, "username": user.username });
            if let Err(e) =
                audit::record(&state.pool, &user.actor(), action::SIGN_IN, None, details).await
            {
                return server_error("could not record the sign-in", &e);
            }
            Redirect::to(&next).into_response()
        }
        Err((refusal, claimed)) => {
            tracing::warn!(reason = refusal.code(), error = %refusal, "sign-in refused");
            let details = json!({ "reason": refusal.code(), "detail": refusal.to_string() });
            let actor = claimed.unwrap_or_else(Actor::anonymous);
            if let Err(e) =
                audit::record(&state.pool, &actor, action::SIGN_IN_REFUSED, None, details).await
            {
                tracing::error!(error = %e, "could not record a refused sign-in");
            }
            let status = match refusal {
                SignInRefusal::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
                SignInRefusal::StateMismatch | SignInRefusal::NoPendingLogin => {
                    StatusCode::BAD_REQUEST
                }
                _ => StatusCode::FORBIDDEN,
            };
            refusal_page(status, &refusal)
        }
    }
}

type Refused = (SignInRefusal, Option<Actor>);

async fn complete_sign_in(
    state: &AppState,
    pending: Option<PendingLogin>,
    params: CallbackParams,
) -> Result<(SessionUser, String), Refused> {
    let pending = pending.ok_or((SignInRefusal::NoPendingLogin, None))?;
    if let Some(error) = params.error {
        let text = match params.error_description {
            Some(d) => format!("{error}: {d}"),
            None => error,
        };
        return Err((SignInRefusal::ProviderError(text), None));
    }
    if params.state.as_deref() != Some(pending.state.as_str()) {
        return Err((SignInRefusal::StateMismatch, None));
    }
    let code = params.code.ok_or((
        SignInRefusal::ProviderError("no code in the response".into()),
        None,
    ))?;
    let next = pending.next.clone();
    let who = state
        .oidc
        .finish(pending, code)
        .await
        .map_err(|r| (r, None))?;
    let mut who = who;
    if who.groups_overage {
        who.groups = overage::groups(state, &who).await?;
    }
    let roles = state.settings.roles.roles_for(&who.groups, &who.app_roles);
    if let Err(e) = users::upsert(&state.pool, &who, &roles).await {
        tracing::error!(error = %e, "could not save the user");
        return Err((
            SignInRefusal::ProviderUnavailable(
                "Gatehouse could not save your sign-in; try again".into(),
            ),
            Some(Actor::person(
                who.tid,
                who.oid,
                &who.display_name,
                &who.username,
            )),
        ));
    }
    let user = SessionUser {
        tid: who.tid,
        oid: who.oid,
        display_name: who.display_name,
        username: who.username,
        roles,
        signed_in_at: OffsetDateTime::now_utc().unix_timestamp(),
        id_token: who.id_token,
    };
    Ok((user, next))
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    user: Option<Extension<SessionUser>>,
) -> Response {
    let id_token = user.as_ref().map(|u| u.id_token.clone());
    if let Err(e) = session.flush().await {
        return server_error("could not end the session", &e);
    }
    if let Some(Extension(user)) = user {
        if let Err(e) = audit::record(
            &state.pool,
            &user.actor(),
            action::SIGN_OUT,
            None,
            json!({}),
        )
        .await
        {
            tracing::error!(error = %e, "could not record a sign-out");
        }
    }
    let after = state
        .settings
        .base_url
        .join("/auth/signed-out")
        .expect("a valid path");
    match state
        .oidc
        .end_session_url(id_token.as_deref(), &after)
        .await
    {
        Some(url) => Redirect::to(url.as_str()).into_response(),
        None => Redirect::to("/auth/signed-out").into_response(),
    }
}

async fn signed_out() -> Response {
    plain_page(
        StatusCode::OK,
        "Signed out",
        r#"<h1>You have signed out</h1>
           <p>Your Gatehouse session has ended.</p>
           <p><a class="button button-primary" href="/auth/login">Sign in again</a></p>"#,
    )
}

fn refusal_page(status: StatusCode, refusal: &SignInRefusal) -> Response {
    let body = format!(
        r#"<h1>Sign-in refused</h1>
           <p class="notice notice-error" role="alert" data-reason="{code}">Gatehouse did not sign you in: {message}.</p>
           <p>Nothing was changed. If this keeps happening, tell your Gatehouse administrator the reason code <code>{code}</code>.</p>
           <p><a class="button button-primary" href="/auth/login">Try again</a></p>"#,
        code = refusal.code(),
        message = escape(&refusal.to_string()),
    );
    plain_page(status, "Sign-in refused", &body)
}

fn server_error(what: &str, err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "{what}");
    plain_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "<h1>Something went wrong</h1><p>Gatehouse could not finish this request. Nothing was changed; please try again.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_allows_local_paths() {
        assert_eq!(safe_next(Some("/apis?q=orders")), "/apis?q=orders");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/auth/logout")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
