//! Change sets: the list, and one change set with its items, policy diff, effective access,
//! reviews, timeline and the actions its author and reviewers may take.

use leptos::prelude::*;

use crate::error::AppError;

use crate::components::loaded::{loaded, NotFound};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::change_set_push::{push_view_resource, PushActions, PushPanel};
pub use super::change_set_table::ChangeSetList;
use super::change_set_table::ChangeSetTable;
use crate::components::search::{list_url, Pager};
use crate::components::{empty::EmptyState, layout::Guarded, state::StateBadge};
use crate::mappings::{
    get_change_set, list_change_sets,
    types::{AccessEnd, ChangeSetDetail, FormOutcome},
    DropChangeSetItem, RebaseChangeSet, ReviewChangeSet, SaveChangeSet, WithdrawChangeSet,
};
use crate::push::PushView;
use crate::roles::Page;

use super::forms::{field_error, outcome_notice, typed_or};

const FILTERS: [(&str, &str); 9] = [
    ("", "All"),
    ("draft", "Drafts"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("pushing", "Pushing"),
    ("pushed", "Pushed"),
    ("push_failed", "Push failed"),
    ("withdrawn", "Withdrawn"),
];

#[component]
pub fn ChangeSetsPage() -> impl IntoView {
    let query = use_query_map();
    let state = move || query.read().get("state").unwrap_or_default();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    // The order and the page are in the query too: the server sorts and pages.
    let list = Resource::new(
        move || {
            (
                state(),
                param("sort"),
                param("dir"),
                param("after"),
                param("before"),
                param("size"),
            )
        },
        |(state, sort, dir, after, before, size)| {
            list_change_sets(state, sort, dir, after, before, size)
        },
    );
    view! {
        <Title text="Change sets"/>
        <Guarded page=Page::ChangeSets>
            <h1>"Change sets"</h1>
            <nav class="filters" aria-label="Filter by state">
                {FILTERS.iter().map(|(key, label)| {
                    let href = if key.is_empty() { "/change-sets".to_string() } else { format!("/change-sets?state={key}") };
                    let current = move || (state() == *key).then_some("page");
                    view! { <a class="button" href=href aria-current=current>{*label}</a> }
                }).collect_view()}
            </nav>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(page) if page.total == 0 => view! { <EmptyState title="No change set here" text="Admins start one by binding a role to a group or granting a route on a group's page; every edit lands in their draft."/> }.into_any(),
                        Ok(page) => {
                            let q = query.get_untracked();
                            let value = |name: &str| q.get(name).unwrap_or_default();
                            let base = list_url("/change-sets", &[("state", &value("state")), ("sort", &value("sort")), ("dir", &value("dir")), ("size", &value("size"))]);
                            let shown = page.items.len();
                            view! {
                                <ChangeSetTable rows=page.items sorted_by_server=true/>
                                <p class="muted small" data-testid="change-set-count">
                                    {format!("{shown} of {} change set{}", page.total, if page.total == 1 { "" } else { "s" })}
                                </p>
                                <Pager base prev=page.prev next=page.next/>
                            }.into_any()
                        }
                        Err(e) => crate::components::loaded::error_view(&e),
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
pub fn ChangeSetPage() -> impl IntoView {
    let params = use_params_map();
    let raw_id = move || params.read().get("id").unwrap_or_default();
    let id = move || raw_id().parse::<i64>().unwrap_or(0);
    let save = ServerAction::<SaveChangeSet>::new();
    let withdraw = ServerAction::<WithdrawChangeSet>::new();
    let review = ServerAction::<ReviewChangeSet>::new();
    let rebase = ServerAction::<RebaseChangeSet>::new();
    let drop_item = ServerAction::<DropChangeSetItem>::new();
    let push_actions = PushActions::new();
    let detail = Resource::new(
        move || {
            (
                raw_id(),
                save.version().get(),
                drop_item.version().get(),
                withdraw.version().get(),
                review.version().get(),
                rebase.version().get(),
            )
        },
        |(raw, ..)| async move {
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => get_change_set(id).await,
                _ => Err(AppError::not_found(format!(
                    "`{raw}` is not a change set number."
                ))),
            }
        },
    );
    let push_view = push_view_resource(id, push_actions);
    view! {
        <Guarded page=Page::ChangeSets>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let not_found = NotFound { title: "Change set not found", back_href: "/change-sets", back_label: "All change sets" };
                    loaded(detail.await, not_found, |d| view! { <Detail d save withdraw review rebase drop_item push_view push_actions/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

fn notice(o: Option<Result<FormOutcome, AppError>>) -> Option<AnyView> {
    o.map(|r| outcome_notice(&FormOutcome::of(&r)))
}

#[component]
fn Detail(
    d: ChangeSetDetail,
    save: ServerAction<SaveChangeSet>,
    withdraw: ServerAction<WithdrawChangeSet>,
    review: ServerAction<ReviewChangeSet>,
    rebase: ServerAction<RebaseChangeSet>,
    drop_item: ServerAction<DropChangeSetItem>,
    push_view: Resource<Result<PushView, AppError>>,
    push_actions: PushActions,
) -> impl IntoView {
    let s = d.summary.clone();
    let id = s.id;
    let draft = s.state == "draft";
    let open = draft || s.state == "submitted";
    let author_draft = d.viewer_is_author && draft;
    let pushable = matches!(
        s.state.as_str(),
        "approved" | "pushing" | "pushed" | "push_failed"
    );
    let items = d
        .items
        .iter()
        .map(|i| {
            let sign = if i.added { "+" } else { "−" };
            let (index, text) = (i.index, i.text.clone());
            let remove = author_draft.then(move || {
                let label = format!("Remove “{text}” from the change set");
                view! {
                    <ActionForm action=drop_item attr:class="item-remove">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="index" value=index/>
                        <button class="button button-small" type="submit" aria-label=label>"Remove"</button>
                    </ActionForm>
                }
            });
            view! { <li class:added=i.added class:removed=!i.added><span class="sign" aria-hidden="true">{sign}</span>
                <span class="visually-hidden">{if i.added { "added: " } else { "removed: " }}</span>{i.text.clone()}{remove}
                {i.warning.clone().map(|w| view! { <p class="item-warning" data-testid="item-warning">{w}</p> })}</li> }
        })
        .collect_view();
    let policies = d
        .policies
        .iter()
        .map(|p| {
            let lines = p
                .lines
                .iter()
                .map(crate::components::two_sides::diff_line)
                .collect_view();
            view! {
                <section class="policy">
                    <h3><code>{p.role.clone()}</code></h3>
                    <p class="muted small">{p.summary.clone()}</p>
                    {p.error.clone().map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
                    <pre class="json diff" tabindex="0" data-testid="policy-diff">{lines}</pre>
                </section>
            }
        })
        .collect_view();
    let access = d
        .access
        .iter()
        .map(|a| {
            let people = a.people.map(|n| format!(" ({n} people)")).unwrap_or_default();
            view! {
                <li><strong>{a.group.clone()}</strong>{people}
                    <ul>
                        {a.gained.iter().map(|r| view! { <li class="added">"gains " {r.clone()}</li> }).collect_view()}
                        {a.lost.iter().map(|r| view! { <li class="removed">"loses " {r.clone()}</li> }).collect_view()}
                    </ul>
                </li>
            }
        })
        .collect_view();
    let timeline = d
        .timeline
        .iter()
        .map(|t| view! { <li><span class="muted nowrap"><crate::components::when::When at=t.at.clone()/></span>" " <strong>{t.who.clone()}</strong> " " {t.what.clone()}</li> })
        .collect_view();
    let (title, justification, ticket) = (
        typed_or(&save, "title", s.title.clone()),
        typed_or(&save, "justification", d.justification.clone()),
        typed_or(&save, "ticket", d.ticket.clone().unwrap_or_default()),
    );
    let access_ends = typed_or(
        &save,
        "access_ends",
        d.access_end
            .as_ref()
            .map(|e| e.field.clone())
            .unwrap_or_default(),
    );
    let approve_label = match &d.access_end {
        Some(e) => format!("Approve until {} UTC", e.at),
        None => "Approve".to_string(),
    };
    let comment = typed_or(&review, "comment", String::new());
    view! {
        <Title text=format!("Change set {id}")/>
        <p class="breadcrumb"><a href="/change-sets">"Change sets"</a> " / "</p>
        <h1>{s.title.clone()} " " <StateBadge state=s.state.clone()/></h1>
        <dl class="facts">
            <div><dt>"Number"</dt><dd>{id}</dd></div>
            {if s.request {
                view! { <div><dt>"Access request"</dt><dd data-testid="request-fact">{format!("{} asks for this for themselves; they cannot approve it", s.author_name)}</dd></div> }.into_any()
            } else {
                view! { <div><dt>"Author"</dt><dd>{s.author_name.clone()}</dd></div> }.into_any()
            }}
            {match d.revokes {
                Some(other) => view! { <div><dt>"Approvals"</dt><dd data-testid="approvals">{format!("under change set {other}'s")}</dd></div> }.into_any(),
                None => view! { <div><dt>"Approvals"</dt><dd data-testid="approvals">{format!("{} of {}", d.approvals, d.approvals_required)}</dd></div> }.into_any(),
            }}
            {(!d.owner_approvals.is_empty()).then(|| {
                let lines = d.owner_approvals.iter().map(|o| {
                    let text = match &o.approved_by {
                        Some(who) => format!("{}: approved by {who} ({})", o.api_name, o.group_name),
                        None => format!("{}: waiting for a member of {}", o.api_name, o.group_name),
                    };
                    let class = if o.approved_by.is_some() { "owner-ok" } else { "owner-waiting" };
                    view! { <li class=class>{text}</li> }
                }).collect_view();
                view! { <div><dt>"API owners"</dt><dd data-testid="owner-approvals"><ul class="plain">{lines}</ul></dd></div> }
            })}
            <div><dt>"Ticket"</dt><dd>{d.ticket.clone().unwrap_or_else(|| "—".into())}</dd></div>
            {d.access_end.clone().map(|e| view! { <div><dt>"Access ends"</dt><dd data-testid="access-ends">{format!("{} UTC", e.at)}</dd></div> })}
            {d.revokes.map(|other| view! { <div><dt>"Revokes"</dt><dd><a href=format!("/change-sets/{other}")>{format!("change set {other}")}</a></dd></div> })}
            <div><dt>"Updated"</dt><dd><crate::components::when::When at=s.updated_at.clone()/></dd></div>
        </dl>
        {d.stale.clone().map(|why| view! {
            <div class="notice notice-warning" role="status" data-testid="stale">{why}
                {d.viewer_is_author.then(|| view! {
                    <ActionForm action=rebase><input type="hidden" name="id" value=id/>
                        <button class="button" type="submit">"Rebase onto the current mappings"</button></ActionForm>
                })}
            </div>
        })}
        {move || notice(rebase.value().get())}
        {d.access_end.clone().map(|e| access_end_notice(&e, &s.state))}
        {d.revokes.map(|other| view! {
            <p class="notice notice-info" role="status" data-testid="revokes">
                "Gatehouse wrote this change set when the time-bound access of "
                <a href=format!("/change-sets/{other}")>{format!("change set {other}")}</a>
                " ended. It needs no review: the approval of change set " {other} " covered the end."
            </p>
        })}
        {(!author_draft).then(|| view! { <h2>"Justification"</h2><p class="justification">{justification.clone()}</p> })}
        {author_draft.then(|| view! {
            <h2>"Describe the change"</h2>
            <ActionForm action=save attr:class="form" attr:data-testid="details-form">
                <input type="hidden" name="id" value=id/>
                <label for="cs-title">"Title"</label>
                <input id="cs-title" name="title" value=title.clone() maxlength="120" aria-describedby="cs-title-error"/>
                <p class="field-error" id="cs-title-error">{move || field_error(&save.value().get(), "title")}</p>
                <label for="cs-justification">"Justification (why this access is needed)"</label>
                <textarea id="cs-justification" name="justification" rows="4" aria-describedby="cs-justification-error">{justification.clone()}</textarea>
                <p class="field-error" id="cs-justification-error">{move || field_error(&save.value().get(), "justification")}</p>
                <label for="cs-ticket">"Ticket (optional)"</label>
                <input id="cs-ticket" name="ticket" value=ticket.clone() placeholder="CHG-1234" aria-describedby="cs-ticket-error"/>
                <p class="field-error" id="cs-ticket-error">{move || field_error(&save.value().get(), "ticket")}</p>
                <label for="cs-access-ends">"Access ends (optional, UTC)"</label>
                <input id="cs-access-ends" name="access_ends" type="datetime-local" value=access_ends.clone() aria-describedby="cs-access-ends-hint cs-access-ends-error"/>
                <p class="muted small" id="cs-access-ends-hint">"For temporary access: at this time Gatehouse revokes what this change set adds, without a new review. Leave empty for access without an end."
                    {(!d.longest.is_empty()).then(|| view! { " " <strong data-testid="access-longest">{format!("Required here: {}.", d.longest.join("; "))}</strong> })}</p>
                <p class="field-error" id="cs-access-ends-error">{move || field_error(&save.value().get(), "access_ends")}</p>
                <div class="actions">
                    <button class="button button-primary" type="submit" name="submit" value="true">"Submit for review"</button>
                    <button class="button" type="submit" name="submit" value="false">"Save draft"</button>
                </div>
            </ActionForm>
            {move || notice(save.value().get())}
        })}
        <h2>"Changes"</h2>
        {if d.items.is_empty() {
            view! { <p class="muted">"No changes yet. Open a group to bind a role or grant a route."</p> }.into_any()
        } else {
            view! { <ul class="items" data-testid="items">{items}</ul> }.into_any()
        }}
        {d.enforcement_notice.clone().map(|n| view! {
            <p class="notice notice-info" role="status" data-testid="enforcement-notice">{capitalised(&n)} "."</p>
        })}
        {(!d.bindings.is_empty()).then(|| view! {
            <h2>"Who will be able to use which role"</h2>
            <ul class="bindings" data-testid="binding-lines">
                {d.bindings.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
            </ul>
        })}
        {(open || !d.policies.is_empty() || !d.access.is_empty()).then(|| view! {
            <h2>{if open { "Policy, before → after" } else { "Policy, before → after (as approved)" }}</h2>
            {if d.policies.is_empty() { Some(view! { <p class="muted">"No role's policy changes."</p> }) } else { None }}
            {policies}
            <h2>"Effective access"</h2>
            {if d.access.is_empty() { Some(view! { <p class="muted">"Nobody gains or loses a route."</p> }) } else { None }}
            <ul class="access" data-testid="access">{access}</ul>
        })}
        {d.viewer_may_review.then(|| view! {
            <h2>"Review"</h2>
            <ActionForm action=review attr:class="form" attr:data-testid="review-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="content_hash" value=d.content_hash.clone()/>
                <label for="review-comment">"Comment"</label>
                <textarea id="review-comment" name="comment" rows="3" aria-describedby="review-comment-error">{comment.clone()}</textarea>
                <p class="field-error" id="review-comment-error">{move || field_error(&review.value().get(), "comment")}</p>
                <div class="actions">
                    <button class="button button-primary" type="submit" name="decision" value="approve">{approve_label.clone()}</button>
                    <button class="button button-danger" type="submit" name="decision" value="reject">"Reject"</button>
                </div>
            </ActionForm>
        })}
        {move || notice(review.value().get())}
        {(d.viewer_is_author && open).then(|| view! {
            <ActionForm action=withdraw attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button class="button button-danger" type="submit">"Withdraw this change set"</button>
            </ActionForm>
        })}
        {move || notice(withdraw.value().get())}
        {pushable.then(|| view! { <PushPanel id view_res=push_view actions=push_actions/> })}
        <h2>"Timeline"</h2>
        <ol class="timeline" data-testid="timeline">{timeline}</ol>
    }
}

/// What the end of time-bound access means for this change set now.
fn access_end_notice(e: &AccessEnd, state: &str) -> AnyView {
    let text = match (e.revoked_by, e.ended) {
        (Some(_), _) => format!("The access this change set gave ended at {} UTC and was revoked by ", e.at),
        (None, true) if state == "draft" || state == "submitted" => format!("The end it asks for ({} UTC) has passed: withdraw it and ask again with a later end.", e.at),
        (None, true) => format!("The access ended at {} UTC; Gatehouse revokes it within a minute.", e.at),
        (None, false) => format!("Time-bound: at {} UTC Gatehouse revokes what this change set adds, under the same approval.", e.at),
    };
    let link = e
        .revoked_by
        .map(|r| view! { <a href=format!("/change-sets/{r}")>{format!("change set {r}")}</a> "." });
    view! { <p class="notice notice-info" role="status" data-testid="access-end">{text}{link}</p> }
        .into_any()
}

/// A sentence's first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
