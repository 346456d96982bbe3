//! `/campaigns`: access review campaigns — the list, with what waits on you, and the start
//! form (auditors, admins). One campaign's page is `campaign.rs`.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{field_error, outcome_notice, ticked, typed_or};
use crate::{
    campaigns::{list_campaigns, CampaignSummary, CampaignsView, StartCampaign},
    components::{layout::Guarded, loaded::error_view},
    form::FormOutcome,
    roles::Page,
};

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let start = ServerAction::<StartCampaign>::new();
    let view = Resource::new(move || start.version().get(), |_| list_campaigns());
    view! {
        <Title text="Review campaigns"/>
        <Guarded page=Page::History>
            <h1>"Review campaigns"</h1>
            <p class="lead">"Every binding and grant in a campaign's scope is a line its reviewers certify: keep or revoke. At the due date undecided lines take the campaign's default and the revokes become one change set, reviewed and pushed as usual. The decisions export with the history's manifest, as evidence for auditors."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(v) => view! { <Campaigns v start/> }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn Campaigns(v: CampaignsView, start: ServerAction<StartCampaign>) -> impl IntoView {
    let may_start = v.may_start;
    let list = if v.campaigns.is_empty() {
        view! {
            <p class="empty-state" data-testid="no-campaigns">{if may_start {
                "No campaign yet. Start one below: choose what to review, who certifies it and by when."
            } else {
                "No campaign yet. Auditors and admins start them; you will see here what waits on you."
            }}</p>
        }
        .into_any()
    } else {
        view! { <CampaignTable campaigns=v.campaigns/> }.into_any()
    };
    view! {
        {list}
        {may_start.then(|| view! { <StartForm apis=v.apis roles=v.roles start/> })}
    }
}

/// "12 of 20 decided" as a thin bar: kept, revoked, undecided. SVG attributes, not inline
/// styles: the content security policy allows no `style=`.
#[component]
pub fn TallyBar(c: CampaignSummary) -> impl IntoView {
    let total = c.total().max(1) as f64;
    let share = |n: u32| n as f64 * 100.0 / total;
    let (keep, revoke) = (share(c.keep), share(c.revoke));
    let label = format!(
        "{} kept, {} to revoke, {} undecided of {}",
        c.keep,
        c.revoke,
        c.undecided,
        c.total()
    );
    view! {
        <svg class="tally" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label=label.clone()>
            <title>{label.clone()}</title>
            <rect class="tally-undecided" x="0" y="0" width="100" height="6"/>
            <rect class="tally-keep" x="0" y="0" width=format!("{keep:.2}") height="6"/>
            <rect class="tally-revoke" x=format!("{keep:.2}") y="0" width=format!("{revoke:.2}") height="6"/>
        </svg>
    }
}

#[component]
fn CampaignTable(campaigns: Vec<CampaignSummary>) -> impl IntoView {
    let rows = campaigns
        .into_iter()
        .map(|c| {
            let href = format!("/campaigns/{}", c.id);
            let state = match &c.closed_at {
                Some(_) => view! { <span class="badge badge-muted">"closed"</span> }.into_any(),
                None => view! { <span class="badge badge-ok">"open"</span> }.into_any(),
            };
            let yours = (c.yours > 0).then(|| {
                view! { <span class="badge badge-warn" data-testid="campaign-yours">{format!("{} wait on you", c.yours)}</span> }
            });
            let decided = format!("{} of {} decided", c.keep + c.revoke, c.total());
            view! {
                <tr data-campaign=c.id>
                    <td class="num">{c.id}</td>
                    <td><a href=href>{c.name.clone()}</a>" " {yours}<br/><span class="muted small">{c.scope.clone()}</span></td>
                    <td>{state}</td>
                    <td class="nowrap">{format!("{} UTC", c.due_at)}</td>
                    <td><TallyBar c=c.clone()/><span class="small">{decided}</span></td>
                    <td class="small">{c.reviewers.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="campaigns">
                <thead><tr><th class="num">"#"</th><th>"Campaign"</th><th>"State"</th><th>"Due"</th><th>"Progress"</th><th>"Reviewers"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn StartForm(
    apis: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    start: ServerAction<StartCampaign>,
) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&start.value().get(), f);
    let name = typed_or(&start, "name", String::new());
    let group = typed_or(&start, "group", String::new());
    let due = typed_or(&start, "due", String::new());
    let reviewers = typed_or(&start, "reviewers", "owners".into());
    let default = typed_or(&start, "default_decision", "keep".into());
    // Each box its own key (`scope[a0]`): a form sends repeated names only as the last one.
    // A refused form keeps its boxes ticked.
    let ticked = ticked(&start, "scope");
    let api_boxes = apis
        .into_iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let value = format!("api:{id}");
            let checked = ticked.contains(&value);
            view! { <label class="check"><input type="checkbox" name=format!("scope[a{i}]") value=value checked=checked/>" API " {name}</label> }
        })
        .collect_view();
    let role_boxes = roles
        .into_iter()
        .enumerate()
        .map(|(i, (arn, name))| {
            let value = format!("role:{arn}");
            let checked = ticked.contains(&value);
            view! { <label class="check"><input type="checkbox" name=format!("scope[r{i}]") value=value checked=checked/>" role " {name}</label> }
        })
        .collect_view();
    let radio = |name: &'static str, value: &'static str, current: &str, label: &'static str| {
        let checked = current == value;
        view! { <label class="check"><input type="radio" name=name value=value checked=checked/>" " {label}</label> }
    };
    view! {
        <h2>"Start a campaign"</h2>
        <ActionForm action=start attr:class="form-grid" attr:data-testid="campaign-form">
            <label for="campaign-name">"Name"</label>
            <div>
                <input id="campaign-name" name="name" maxlength="200" value=name placeholder="Q4 payments access review" aria-describedby="campaign-name-error"/>
                <p class="field-error" id="campaign-name-error">{err("name")}</p>
            </div>
            <span>"What to review"</span>
            <div>
                <fieldset class="checks" aria-describedby="campaign-scope-error">
                    <legend class="small muted">"Tick APIs or roles; tick nothing to review every binding and grant."</legend>
                    {api_boxes}
                    {role_boxes}
                </fieldset>
                <p class="field-error" id="campaign-scope-error">{err("scope")}</p>
            </div>
            <span>"Who certifies"</span>
            <div>
                <div class="checks">
                    {radio("reviewers", "owners", &reviewers, "Each API's owners (Gatehouse reviewers where an API has none)")}
                    {radio("reviewers", "group", &reviewers, "The members of this group:")}
                </div>
                <input id="campaign-group" name="group" value=group placeholder="exact group name or object id" aria-label="Reviewer group" aria-describedby="campaign-group-error"/>
                <p class="field-error" id="campaign-group-error">{err("group")}{err("reviewers")}</p>
            </div>
            <label for="campaign-due">"Due by the end of"</label>
            <div>
                <input id="campaign-due" name="due" type="date" value=due aria-describedby="campaign-due-error"/>
                <p class="field-error" id="campaign-due-error">{err("due")}</p>
            </div>
            <span>"Lines nobody decided"</span>
            <div>
                <div class="checks">
                    {radio("default_decision", "keep", &default, "are kept")}
                    {radio("default_decision", "revoke", &default, "are revoked")}
                </div>
                <p class="field-error">{err("default_decision")}</p>
            </div>
            <div></div>
            <div><button class="button button-primary" type="submit">"Start the campaign"</button></div>
        </ActionForm>
        {move || start.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
    }
}
