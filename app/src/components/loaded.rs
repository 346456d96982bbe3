//! The one way a page shows what its server function answered: the page itself, "not found"
//! (answering 404, with a way back), or the error worded for people (with its status).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;

/// Where a "not found" page sends people back to.
#[derive(Clone, Copy)]
pub struct NotFound {
    pub title: &'static str,
    pub back_href: &'static str,
    pub back_label: &'static str,
}

/// `view` of the loaded value, or the not-found or error view.
pub fn loaded<T>(
    result: Result<T, AppError>,
    not_found: NotFound,
    view: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match result {
        Ok(value) => view(value),
        Err(e) if e.is_not_found() => not_found_view(not_found, &e),
        Err(e) => error_view(&e),
    }
}

pub fn not_found_view(not_found: NotFound, e: &AppError) -> AnyView {
    set_status(e);
    let NotFound {
        title,
        back_href,
        back_label,
    } = not_found;
    view! {
        <Title text=title/>
        <section class="empty-state" data-testid="not-found">
            <h1>{title}</h1>
            <p>{e.to_string()}</p>
            <p><a href=back_href>{back_label}</a></p>
        </section>
    }
    .into_any()
}

pub fn error_view(e: &AppError) -> AnyView {
    set_status(e);
    view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any()
}

/// The server-rendered page answers with the error's status (404 for not found).
fn set_status(_e: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(_e.status());
    }
}
