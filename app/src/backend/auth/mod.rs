//! `/auth/login`, `/auth/callback`, `/auth/logout`: plain axum routes around [`oidc::Oidc`].

pub mod oidc;
pub mod overage;
pub mod roles;
pub mod throttle;

use std::{net::SocketAddr, time::Instant};

use axum::{
    extract::{ConnectInfo, Query, State},
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

/// Where to go after sign-in: `next` resolved against our base URL, kept only when it stays on
/// our origin. Control characters, whitespace and backslashes are refused before parsing, because
/// browsers drop tabs and newlines and read `\\` as `/` (`/%09/evil.example` → `//evil.example`).
pub fn safe_next(base: &url::Url, next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next else {
        return HOME.into();
    };
    let hostile = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if next.len() > 2048
        || !next.starts_with('/')
        || next.starts_with("//")
        || next.contains(hostile)
    {
        return HOME.into();
    }
    let Ok(resolved) = base.join(next) else {
        return HOME.into();
    };
    if resolved.origin() != base.origin() || resolved.path().starts_with("/auth/") {
        return HOME.into();
    }
    let mut local = resolved.path().to_string();
    if let Some(q) = resolved.query() {
        local.push('?');
        local.push_str(q);
    }
    // A path that normalises to `//…` would still leave the site.
    if local.starts_with("//") {
        return HOME.into();
    }
    local
}

#[derive(Deserialize)]
struct LoginParams {
    next: Option<String>,
    login_hint: Option<String>,
    /// `select_account`: ask the provider to let the person choose another account.
    prompt: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<LoginParams>,
) -> Response {
    let next = safe_next(&state.settings.base_url, params.next.as_deref());
    let hint = params
        .login_hint
        .as_deref()
        .filter(|h| !h.is_empty() && h.len() <= 256);
    let select_account = params.prompt.as_deref() == Some("select_account");
    match state.oidc.begin(next, hint, select_account).await {
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
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let pending = session
        .remove::<PendingLogin>(PENDING_LOGIN_KEY)
        .await
        .ok()
        .flatten();
    // `state` first: until it matches a sign-in this browser began, nothing in the request is
    // trusted, read or written to the audit chain.
    let pending = match pending {
        Some(p) if params.state.as_deref() == Some(p.state.as_str()) => p,
        other => {
            let refusal = if other.is_none() {
                SignInRefusal::NoPendingLogin
            } else {
                SignInRefusal::StateMismatch
            };
            let from = client.map(|Extension(ConnectInfo(addr))| addr.ip());
            return match state.callback_throttle.unmatched(from, Instant::now()) {
                throttle::Verdict::Refuse { unmatched_total } => {
                    tracing::warn!(
                        reason = refusal.code(),
                        client = ?from,
                        unmatched_total,
                        "sign-in callback matches no sign-in in progress; not recorded"
                    );
                    refusal_page(StatusCode::BAD_REQUEST, &refusal)
                }
                throttle::Verdict::TooMany => plain_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    "<h1>Too many attempts</h1><p>Wait a minute, then sign in again.</p>",
                ),
            };
        }
    };
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
                _ => StatusCode::FORBIDDEN,
            };
            refusal_page(status, &refusal)
        }
    }
}

type Refused = (SignInRefusal, Option<Actor>);

async fn complete_sign_in(
    state: &AppState,
    pending: PendingLogin,
    params: CallbackParams,
) -> Result<(SessionUser, String), Refused> {
    if let Some(error) = params.error {
        // The provider's words, bounded: they reach the audit log.
        let mut text = match params.error_description {
            Some(d) => format!("{error}: {d}"),
            None => error,
        };
        if text.len() > 300 {
            let cut = (0..=300)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        return Err((SignInRefusal::ProviderError(text), None));
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
    let groups_unknown = who.groups_overage && state.graph.is_none();
    if groups_unknown {
        tracing::warn!(
            oid = %who.oid,
            "a person's token had too many groups to list and Microsoft Graph is not configured \
             (GATEHOUSE_GRAPH_…): their groups cannot be read, so group-based roles are missing"
        );
    }
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
        app_roles: who.app_roles,
        roles_checked_at: OffsetDateTime::now_utc().unix_timestamp(),
        seen_at_ms: 0,
        groups_unknown,
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
    // Refused for the account itself: trying again must offer another account.
    let again = match refusal {
        SignInRefusal::TenantNotAllowed(_) => "/auth/login?prompt=select_account",
        _ => "/auth/login",
    };
    let body = format!(
        r#"<h1>Sign-in refused</h1>
           <p class="notice notice-error" role="alert" data-reason="{code}">Gatehouse did not sign you in: {message}.</p>
           <p>Nothing was changed. If this keeps happening, tell your Gatehouse administrator the reason code <code>{code}</code>.</p>
           <p><a class="button button-primary" href="{again}">Try again</a></p>"#,
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
        let base = url::Url::parse("http://127.0.0.1:3000/").unwrap();
        let next = |n: &str| safe_next(&base, Some(n));
        assert_eq!(next("/apis?q=orders"), "/apis?q=orders");
        assert_eq!(next("/change-sets/4"), "/change-sets/4");
        assert_eq!(next("/apis/../history"), "/history");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\tevil.example",
            "/\t/evil.example",
            "/%09/evil.example".replace("%09", "\t").as_str(),
            "/\r\n/evil.example",
            "/ /evil.example",
            "/auth/logout",
            "/auth/../auth/login",
            "evil.example",
            "",
        ] {
            assert_eq!(next(hostile), "/", "{hostile:?} must not be followed");
        }
        assert_eq!(safe_next(&base, None), "/");
    }
}
