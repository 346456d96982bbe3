//! Pages whose content later issues build. Each renders, is guarded, and says what will be here.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::Guarded;
use crate::roles::Page;

#[component]
fn Upcoming(page: Page, what: &'static str, next: &'static str) -> impl IntoView {
    view! {
        <Title text=page.title()/>
        <Guarded page=page>
            <h1>{page.title()}</h1>
            <section class="empty-state" data-testid="empty-state">
                <h2>"Nothing here yet"</h2>
                <p>{what}</p>
                <p class="muted">{next}</p>
            </section>
        </Guarded>
    }
}

#[component]
pub fn MappingsPage() -> impl IntoView {
    view! {
        <Upcoming
            page=Page::Mappings
            what="Every approved mapping: directory group → IAM role → API routes."
            next="Nothing is mapped yet. Mappings appear here once an admin's change set is approved."
        />
    }
}

#[component]
pub fn ChangeSetsPage() -> impl IntoView {
    view! {
        <Upcoming
            page=Page::ChangeSets
            what="Proposed, approved and pushed changes to access, each with its justification and diff."
            next="No change set exists yet."
        />
    }
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    view! {
        <Upcoming
            page=Page::Reviews
            what="Change sets submitted by other people and waiting for your approval."
            next="Nothing is waiting for your review."
        />
    }
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Upcoming
            page=Page::History
            what="Every sign-in, edit, review and push, in order, ready to filter and export."
            next="Filtering and export are on their way; events are already being recorded."
        />
    }
}
