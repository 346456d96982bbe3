//! The one error of the request path. Server functions answer it to the browser (typed, through
//! Leptos's `FromServerFnError`), axum routes turn it into a status and a plain message, and
//! internal failures are logged once, with a reference the person can quote.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::form::FormOutcome;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Sign in first.")]
    SignIn,
    #[error("Your Gatehouse roles do not allow this.")]
    Forbidden,
    /// What was asked for does not exist (or not any more); the text says what.
    #[error("{0}")]
    NotFound(String),
    /// Allowed to ask, but the rules say no (state machine, separation of duties…).
    #[error("{0}")]
    Refused(String),
    /// One input is wrong; `field` names it as the form does.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Someone else changed the same thing first.
    #[error("{0}")]
    Conflict(String),
    /// AWS or the directory failed or refused; worded for people.
    #[error("{0}")]
    Upstream(String),
    /// Gatehouse's own failure: the details are in the server's log under `reference`.
    #[error(
        "Gatehouse could not finish this because of an error on its side (reference {reference}). \
         Try again; if it goes on, give the reference to whoever runs Gatehouse."
    )]
    Internal { reference: String },
    /// A form that did not go through, with its field errors and what was typed. A browser
    /// without JavaScript gets it back through the redirect to the page.
    #[error("{}", .0.summary())]
    Form(Box<FormOutcome>),
    /// The call itself failed on its way (network, encoding).
    #[error("{0}")]
    Request(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A form that did not go through.
    pub fn form(outcome: FormOutcome) -> Self {
        AppError::Form(Box::new(outcome))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    /// Whether the page should say "not found" (and answer 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AppError::NotFound(_))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use http::StatusCode;

    impl AppError {
        /// Logs `error` with a fresh reference and answers the person with that reference only.
        pub fn internal(error: impl std::fmt::Display) -> AppError {
            let reference = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
            tracing::error!(reference = %reference, error = %error, "internal error");
            AppError::Internal { reference }
        }

        pub fn status(&self) -> StatusCode {
            match self {
                AppError::SignIn => StatusCode::UNAUTHORIZED,
                AppError::Forbidden | AppError::Refused(_) => StatusCode::FORBIDDEN,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Invalid { .. } | AppError::Form(_) | AppError::Request(_) => {
                    StatusCode::BAD_REQUEST
                }
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
                AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            AppError::internal(e)
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            (self.status(), self.to_string()).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_to_the_browser_typed() {
        let form = FormOutcome::invalid(vec![("path".into(), "a path starts with /".into())])
            .keep_typed(&[("path", "orders")]);
        for e in [
            AppError::invalid("from", "`2026-02-31` is not a date"),
            AppError::NotFound("No change set 7.".into()),
            AppError::Internal {
                reference: "abc".into(),
            },
            AppError::Form(Box::new(form)),
        ] {
            let back = AppError::de(e.ser());
            assert_eq!(back, e);
        }
        // Whatever the transport failed on comes back as a request error, not a panic.
        assert!(matches!(
            AppError::de("not json".into()),
            AppError::Request(_)
        ));
    }
}
