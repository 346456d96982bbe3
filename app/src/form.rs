//! What a form's server function answers: done (with a message, a warning, the change set it
//! went to), or not done (the fields that are wrong, or why it was refused) with what the person
//! typed, so the page can show it again.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub errors: Vec<(String, String)>,
    pub refused: Option<String>,
    pub warning: Option<String>,
    pub change_set: Option<i64>,
    pub message: Option<String>,
    /// What the person typed, sent back with a refused or invalid form so a page reloaded
    /// without JavaScript can show it again.
    #[serde(default)]
    pub typed: Vec<(String, String)>,
}

impl FormOutcome {
    pub fn invalid(errors: Vec<(String, String)>) -> FormOutcome {
        FormOutcome {
            errors,
            ..Default::default()
        }
    }

    pub fn refused(why: impl Into<String>) -> FormOutcome {
        FormOutcome {
            refused: Some(why.into()),
            ..Default::default()
        }
    }

    pub fn message(text: impl Into<String>) -> FormOutcome {
        FormOutcome {
            message: Some(text.into()),
            ..Default::default()
        }
    }

    pub fn went_through(&self) -> bool {
        self.errors.is_empty() && self.refused.is_none()
    }

    /// One line for the whole outcome (an error's text).
    pub fn summary(&self) -> String {
        if let Some(r) = &self.refused {
            return r.clone();
        }
        if let Some((field, e)) = self.errors.first() {
            return format!("{field}: {e}");
        }
        self.message.clone().unwrap_or_default()
    }

    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, e)| e.clone())
    }

    pub fn typed(&self, field: &str) -> Option<String> {
        self.typed
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.clone())
    }

    /// The ticked boxes of a form, kept as one typed field (one value per line) by
    /// [`FormOutcome::keep_typed`]; `pages::forms::ticked` reads them back.
    pub fn ticked_field(values: &[String]) -> String {
        values.join("\n")
    }

    /// Keeps the typed `fields` when the form did not go through.
    pub fn keep_typed(mut self, fields: &[(&str, &str)]) -> FormOutcome {
        if !self.went_through() {
            self.typed = fields
                .iter()
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect();
        }
        self
    }

    /// The outcome of a form's server function, whether it came back as a value or an error.
    pub fn of(result: &Result<FormOutcome, AppError>) -> FormOutcome {
        match result {
            Ok(o) => o.clone(),
            Err(AppError::Form(o)) => (**o).clone(),
            Err(AppError::Invalid { field, message }) => {
                FormOutcome::invalid(vec![(field.clone(), message.clone())])
            }
            Err(e) => FormOutcome::refused(e.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use leptos::prelude::use_context;

    /// A form's answer. A call from the browser's code gets a refused or invalid outcome as a
    /// value; a plain HTML form post (every form: pages are rendered on the server) gets it as
    /// [`AppError::Form`], which the redirect back carries to the page so the fields can still
    /// say what is wrong. (One that went through is carried back too, by the server's
    /// `http::status` middleware, so the page can say what was done.)
    pub fn answer(outcome: FormOutcome) -> Result<FormOutcome, AppError> {
        if outcome.went_through() || !html_form_post() {
            Ok(outcome)
        } else {
            Err(AppError::form(outcome))
        }
    }

    /// Refusals and invalid input become the form's outcome; other errors stay errors.
    pub fn answer_result(result: Result<FormOutcome, AppError>) -> Result<FormOutcome, AppError> {
        answer_typed(result, &[])
    }

    /// As [`answer_result`], keeping what was typed into `fields` when the form did not go
    /// through.
    pub fn answer_typed(
        result: Result<FormOutcome, AppError>,
        fields: &[(&str, &str)],
    ) -> Result<FormOutcome, AppError> {
        let outcome = match result {
            Ok(o) => o,
            Err(AppError::Form(o)) => *o,
            Err(
                AppError::Refused(why)
                | AppError::NotFound(why)
                | AppError::Conflict(why)
                | AppError::Upstream(why),
            ) => FormOutcome::refused(why),
            Err(AppError::Invalid { field, message }) => {
                FormOutcome::invalid(vec![(field, message)])
            }
            Err(e) => return Err(e),
        };
        answer(outcome.keep_typed(fields))
    }

    fn html_form_post() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.headers
                    .get(http::header::ACCEPT)?
                    .to_str()
                    .ok()
                    .map(String::from)
            })
            .is_some_and(|accept| accept.contains("text/html"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_survives_the_trip_as_an_error() {
        use leptos::server_fn::error::FromServerFnError;
        let outcome = FormOutcome::invalid(vec![(
            "path".into(),
            "a resource path starts with /".into(),
        )]);
        let kept = outcome.clone().keep_typed(&[("path", "orders")]);
        let back = AppError::de(AppError::form(kept.clone()).ser());
        assert_eq!(FormOutcome::of(&Err(back)), kept);
        assert_eq!(kept.typed("path").as_deref(), Some("orders"));
        // A form that went through keeps nothing: the fields start afresh.
        assert!(FormOutcome::default()
            .keep_typed(&[("path", "x")])
            .typed
            .is_empty());
        // Any other error reads as a refusal with its own words.
        let other = FormOutcome::of(&Err(AppError::Conflict("taken".into())));
        assert_eq!(other.refused.as_deref(), Some("taken"));
    }
}
