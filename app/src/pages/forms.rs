//! How a page shows a form's outcome ([`FormOutcome`]): the general notice, the message next to
//! each field, and what the person typed or ticked, put back after a refusal (with JavaScript from
//! the action's value, without it from the redirect that carried the outcome back).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::form::FormOutcome;

/// A form's server function: it answers a [`FormOutcome`]. Written once here rather than as the
/// five bounds on every helper that reads an action's last value.
pub trait FormFn:
    ServerFn<Output = FormOutcome, Error = AppError> + Clone + Send + Sync + 'static
{
}

impl<T> FormFn for T where
    T: ServerFn<Output = FormOutcome, Error = AppError> + Clone + Send + Sync + 'static
{
}

/// A form's general message: refusal, warning or success.
pub fn outcome_notice(o: &FormOutcome) -> AnyView {
    if let Some(why) = &o.refused {
        return view! { <p class="notice notice-error" role="alert">{why.clone()}</p> }.into_any();
    }
    if !o.errors.is_empty() {
        // The reasons are next to the fields too; they are repeated here for a page that came
        // back from a plain form post.
        let reasons = o
            .errors
            .iter()
            .map(|(_, e)| view! { <li>{e.clone()}</li> })
            .collect_view();
        return view! {
            <div class="notice notice-error" role="alert">
                <p>"Some fields need attention:"</p>
                <ul>{reasons}</ul>
            </div>
        }
        .into_any();
    }
    let warning = o
        .warning
        .clone()
        .map(|w| view! { <p class="notice notice-warning" role="status">{w}</p> });
    let message = o
        .message
        .clone()
        .map(|m| view! { <p class="notice notice-success" role="status">{m}</p> });
    view! { {warning} {message} }.into_any()
}

/// The message for one field of a form, from its action's last result (a value with
/// JavaScript, an error carried back by the redirect without).
pub fn field_error(
    o: &Option<Result<FormOutcome, AppError>>,
    field: &'static str,
) -> Option<String> {
    o.as_ref()
        .map(FormOutcome::of)
        .and_then(|o| o.error_for(field))
}

/// What the person typed into `field` before the form came back refused (without JavaScript the
/// page reloads; this puts it back), or `default`. Read once, as the form is built.
pub fn typed_or<T: FormFn>(action: &ServerAction<T>, field: &str, default: String) -> String {
    action
        .value()
        .get_untracked()
        .as_ref()
        .map(FormOutcome::of)
        .and_then(|o| o.typed(field))
        .unwrap_or(default)
}

/// The boxes of `field` a refused form had ticked (kept by [`FormOutcome::keep_ticked`]), so
/// they come back ticked, with or without JavaScript.
pub fn ticked<T: FormFn>(action: &ServerAction<T>, field: &str) -> Vec<String> {
    typed_or(action, field, String::new())
        .lines()
        .map(str::to_string)
        .collect()
}
