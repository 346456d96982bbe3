//! The signed-in person. The server's session layer puts a [`CurrentUser`] into each request's
//! extensions; server functions read it from there and nowhere else.

use leptos::prelude::*;

use crate::{error::AppError, roles::CurrentUser};

/// The person behind this request, as the pages see it. `None` when nobody is signed in.
#[server(endpoint = "me", output = crate::codec::StrJson)]
pub async fn get_me() -> Result<Option<CurrentUser>, AppError> {
    Ok(ssr::current_user())
}

pub type MeResource = Resource<Result<Option<CurrentUser>, AppError>>;

/// Loaded once per page load, blocking so the first HTML already has the person's name and
/// navigation (no layout shift when the page hydrates).
pub fn provide_me() {
    let me: MeResource = Resource::new_blocking(|| (), |_| get_me());
    provide_context(me);
}

pub fn use_me() -> MeResource {
    expect_context::<MeResource>()
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::roles::Role;

    pub fn current_user() -> Option<CurrentUser> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
    }

    /// For server functions: the caller must be signed in and hold one of `roles`.
    pub fn require_role(roles: &[Role]) -> Result<CurrentUser, AppError> {
        let user = current_user().ok_or_else(|| {
            set_status(http::StatusCode::UNAUTHORIZED);
            AppError::SignIn
        })?;
        if roles.iter().any(|r| user.has(*r)) {
            Ok(user)
        } else {
            set_status(http::StatusCode::FORBIDDEN);
            Err(AppError::Forbidden)
        }
    }

    /// For server functions open to everyone signed in (asking for access needs no role).
    pub fn require_signed_in() -> Result<CurrentUser, AppError> {
        current_user().ok_or_else(|| {
            set_status(http::StatusCode::UNAUTHORIZED);
            AppError::SignIn
        })
    }

    fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
}
