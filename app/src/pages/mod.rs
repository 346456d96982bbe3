//! One file per page. Pages that later work fills say so plainly and tell people what to do.

mod access_report;
mod api_owners;
mod apis;
mod callers;
mod campaign;
mod campaigns;
mod change_set_push;
mod change_set_table;
mod change_sets;
mod drift;
mod forms;
mod group_roles;
mod groups;
mod history;
mod history_export;
mod home;
mod mappings;
mod matrix;
mod matrix_editor;
mod notifications;
mod people;
mod person;
mod requests;
mod roles;
mod sync;
mod tokens;
mod try_call;

pub use access_report::AccessReportPage;
pub use apis::{ApiPage, ApisPage};
pub use callers::CallersPage;
pub use campaign::CampaignPage;
pub use campaigns::CampaignsPage;
pub use change_sets::{ChangeSetPage, ChangeSetsPage};
pub use drift::DriftPage;
pub use groups::{GroupPage, GroupsPage};
pub use history::HistoryPage;
pub use home::HomePage;
pub use mappings::{MappingsPage, ReviewsPage};
pub use matrix::ApiMatrixPage;
pub use notifications::NotificationsPage;
pub use person::{PeoplePage, PersonPage};
pub use requests::RequestsPage;
pub use roles::{RolePage, RolesPage};
pub use sync::SyncPage;
pub use tokens::TokensPage;
pub use try_call::TryCallPage;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="empty-state">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. Use the navigation above, or go to the home page."</p>
            <p><a href="/">"Home"</a></p>
        </section>
    }
}
