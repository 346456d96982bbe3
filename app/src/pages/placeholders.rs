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
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Upcoming
            page=Page::History
            what="Every sign-in, edit, review and push, in order, ready to filter and export."
            next="Filtering and export are on their way; events are already being recorded."
        />
    }
}
