//! The Sync page's "Sessions" section (admins): who has signed in, and ending a person's
//! sessions — at their next request they are signed out everywhere and must sign in again.

use leptos::prelude::*;

use crate::components::loaded::error_view;
use crate::people::{list_people, EndSessions, PersonRow};

#[component]
pub fn PeopleSessions() -> impl IntoView {
    let end = ServerAction::<EndSessions>::new();
    let people = Resource::new(move || end.version().get(), |_| list_people());
    let outcome = move || {
        // Carried back by the form's redirect as an outcome, whether it went through or not.
        end.value().get().map(|r| match crate::form::FormOutcome::of(&r) {
            o if o.went_through() => view! { <p class="notice notice-success" role="status" data-testid="sessions-ended">{o.summary()}</p> }.into_any(),
            o => view! { <p class="notice notice-error" role="alert">{o.summary()}</p> }.into_any(),
        })
    };
    view! {
        <h2 id="sessions">"Sessions"</h2>
        <p class="muted">"Everyone who has signed in to Gatehouse. Ending a person's sessions signs them out everywhere at their next request; their roles are read again when they sign back in. Recorded in the history."</p>
        {outcome}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match people.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty-state">"Nobody has signed in yet."</p>
                    }.into_any(),
                    Ok(list) => view! { <PeopleTable list end/> }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PeopleTable(list: Vec<PersonRow>, end: ServerAction<EndSessions>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|p| {
            let label = format!("End every session of {}", p.display_name);
            view! {
                <tr data-person=p.username.clone()>
                    <td>{p.display_name.clone()} <br/><code class="muted">{p.username.clone()}</code></td>
                    <td>{if p.roles.is_empty() { "none".to_string() } else { p.roles.join(", ") }}</td>
                    <td>{p.last_sign_in_at.clone()}</td>
                    <td>{p.sessions_ended_at.clone().unwrap_or_else(|| "—".into())}</td>
                    <td>
                        <ActionForm action=end attr:class="inline-form">
                            <input type="hidden" name="tid" value=p.tid.clone()/>
                            <input type="hidden" name="oid" value=p.oid.clone()/>
                            <button type="submit" class="button button-small button-danger" aria-label=label data-testid="end-sessions">"End sessions"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="people-sessions">
                <thead><tr>
                    <th scope="col">"Person"</th><th scope="col">"Roles at last sign-in"</th>
                    <th scope="col">"Last sign-in (UTC)"</th><th scope="col">"Sessions ended (UTC)"</th><th scope="col"><span class="visually-hidden">"Action"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
