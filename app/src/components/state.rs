//! A change set's state: one colour each, always with the word.

use leptos::prelude::*;

use crate::domain::change_set::State;

#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let label = State::parse(&state).map(State::label).unwrap_or("unknown");
    let class = format!("badge state state-{}", state.replace('_', "-"));
    view! { <span class=class>{label}</span> }
}
