//! Long work (a sync, a push, an export) shows its progress: with JavaScript the page polls;
//! without, it reloads itself through a `<noscript>` refresh while the work goes on.

use leptos::prelude::*;

/// Reloads the page every `seconds` when scripting is off, while `active`.
#[component]
pub fn RefreshWithoutJs(active: bool, seconds: u32) -> impl IntoView {
    // inner_html: with scripting on, a noscript's content is text that hydration must not walk.
    // (Given as a value, not a literal: a literal inside a larger static view became an
    // attribute named inner_html.)
    let meta = format!(r#"<meta http-equiv="refresh" content="{seconds}">"#);
    active.then(|| view! { <noscript inner_html=meta></noscript> })
}
