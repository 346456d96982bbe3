//! `/campaigns/:id`: one review campaign — its facts, progress (a chart), its lines with who
//! certifies each, the keep/revoke forms, closing it, and its evidence export.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    campaigns::TallyBar,
    forms::{field_error, outcome_notice},
};
use crate::{
    campaigns::{get_campaign, CampaignLine, CampaignView, CloseCampaign, DecideLine},
    components::{
        layout::Guarded,
        loaded::{loaded, NotFound},
        state::StateBadge,
    },
    error::AppError,
    form::FormOutcome,
    history::CreateAuditExport,
    roles::Page,
};

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let raw_id = move || params.read().get("id").unwrap_or_default();
    let decide = ServerAction::<DecideLine>::new();
    let close = ServerAction::<CloseCampaign>::new();
    let export = ServerAction::<CreateAuditExport>::new();
    let detail = Resource::new(
        move || (raw_id(), decide.version().get(), close.version().get()),
        |(raw, ..)| async move {
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => get_campaign(id).await,
                _ => Err(AppError::not_found(format!(
                    "`{raw}` is not a campaign number."
                ))),
            }
        },
    );
    view! {
        <Title text="Review campaign"/>
        <Guarded page=Page::History>
            <p class="breadcrumb"><a href="/campaigns">"Review campaigns"</a></p>
            {move || close.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let not_found = NotFound { title: "Campaign not found", back_href: "/campaigns", back_label: "All campaigns" };
                    loaded(detail.await, not_found, |v| view! { <Campaign v decide close export/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn Campaign(
    v: CampaignView,
    decide: ServerAction<DecideLine>,
    close: ServerAction<CloseCampaign>,
    export: ServerAction<CreateAuditExport>,
) -> impl IntoView {
    let s = v.summary.clone();
    let id = s.id;
    let state = match &s.closed_at {
        Some(at) => format!("closed {at}"),
        None => "open".into(),
    };
    let revocation = s.revocation.map(|cs| {
        let st = v.revocation_state.clone().unwrap_or_default();
        view! { <div><dt>"Revocation"</dt><dd data-testid="campaign-revocation"><a href=format!("/change-sets/{cs}")>{format!("change set {cs}")}</a>" " <StateBadge state=st/></dd></div> }
    });
    let default = if s.default_decision == "revoke" {
        "revoked"
    } else {
        "kept"
    };
    view! {
        <h1>{s.name.clone()}</h1>
        <dl class="facts">
            <div><dt>"State"</dt><dd data-testid="campaign-state">{state}</dd></div>
            <div><dt>"Covers"</dt><dd>{s.scope.clone()}</dd></div>
            <div><dt>"Reviewers"</dt><dd>{s.reviewers.clone()}</dd></div>
            <div><dt>"Due"</dt><dd>{format!("{} UTC", s.due_at)}</dd></div>
            <div><dt>"Undecided lines at the due date"</dt><dd>{format!("are {default}")}</dd></div>
            <div><dt>"Started"</dt><dd>{format!("{} by {}", s.started_at, s.started_by)}</dd></div>
            {revocation}
        </dl>
        <Progress v=v.clone()/>
        {v.may_close.then(|| view! {
            <ActionForm action=close attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="button" data-testid="close-campaign">"Close now"</button>
                <span class="muted small">" Undecided lines take the default now; the revokes go to review."</span>
            </ActionForm>
        })}
        <Lines lines=v.lines.clone() id decide/>
        <h2>"Evidence"</h2>
        <p>"The campaign's start, every decision, its close and the change set it wrote are events in the audit chain. Export them with a manifest that proves them unaltered (" <code>"gatehouse audit verify --export FILE --manifest MANIFEST"</code> " checks it offline)."</p>
        <ActionForm action=export attr:class="inline-form export-form">
            {["from", "to", "actor", "action", "change_set", "mentions"].map(|f| view! { <input type="hidden" name=format!("filter[{f}]") value=""/> })}
            <input type="hidden" name="filter[campaign]" value=id/>
            <button class="button" type="submit" name="format" value="csv" data-testid="export-campaign-csv">"Export CSV"</button>
            " "
            <button class="button" type="submit" name="format" value="jsonl">"Export JSON Lines"</button>
            " "<a href=format!("/history?campaign={id}")>"See its events"</a>
        </ActionForm>
    }
}

/// The tally as a bar and the lines decided day by day as a line, against the total.
#[component]
fn Progress(v: CampaignView) -> impl IntoView {
    let s = v.summary.clone();
    let total = s.total().max(1) as f64;
    let (w, h, pad) = (560.0_f64, 140.0_f64, 24.0_f64);
    // The line rises from nothing decided at the start, one step per day.
    let n = v.by_day.len().max(1) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n;
    let y = |k: u32| h - pad - (h - 2.0 * pad) * k as f64 / total;
    let steps: Vec<(f64, f64)> = std::iter::once((x(0), y(0)))
        .chain(
            v.by_day
                .iter()
                .enumerate()
                .map(|(i, (_, k))| (x(i + 1), y(*k))),
        )
        .collect();
    let points = steps
        .iter()
        .map(|(px, py)| format!("{px:.1},{py:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = steps[1..]
        .iter()
        .map(|(px, py)| view! { <circle class="chart-dot" cx=format!("{px:.1}") cy=format!("{py:.1}") r="3"/> })
        .collect_view();
    let first = v.by_day.first().map(|d| d.0.clone()).unwrap_or_default();
    let last = v.by_day.last().map(|d| d.0.clone()).unwrap_or_default();
    let decided = s.keep + s.revoke;
    let label = format!(
        "{decided} of {} decided by {last}: {} kept, {} to revoke, {} undecided",
        count_lines(s.total()),
        s.keep,
        s.revoke,
        s.undecided
    );
    view! {
        <h2>"Progress"</h2>
        <div class="campaign-progress" data-testid="campaign-progress">
            <TallyBar c=s.clone()/>
            <p class="small">
                <span class="key key-keep"></span>{format!(" {} kept ", s.keep)}
                <span class="key key-revoke"></span>{format!(" {} to revoke ", s.revoke)}
                <span class="key key-undecided"></span>{format!(" {} undecided", s.undecided)}
            </p>
            <svg class="chart" viewBox=format!("0 0 {w} {h}") role="img" aria-label=label>
                <line class="chart-goal" x1=pad y1=y(s.total()) x2=w - pad y2=y(s.total())/>
                <line class="chart-axis" x1=pad y1=h - pad x2=w - pad y2=h - pad/>
                <polyline class="chart-line" points=points/>
                {dots}
                <text x=pad y=h - 6.0 class="chart-label">{first}</text>
                <text x=w - pad y=h - 6.0 class="chart-label" text-anchor="end">{last}</text>
                <text x=pad y=y(s.total()) - 4.0 class="chart-label">{format!("all {}", count_lines(s.total()))}</text>
            </svg>
        </div>
    }
}

#[component]
fn Lines(lines: Vec<CampaignLine>, id: i64, decide: ServerAction<DecideLine>) -> impl IntoView {
    let query = use_query_map();
    let show = move || query.read().get("show").unwrap_or_default();
    let filter_link = |value: &'static str, label: &'static str| {
        let href = if value.is_empty() {
            format!("/campaigns/{id}")
        } else {
            format!("/campaigns/{id}?show={value}")
        };
        view! { <a href=href class="button button-small" aria-current=move || (show() == value).then_some("page")>{label}</a> }
    };
    let all = lines.len();
    let yours = lines
        .iter()
        .filter(|l| l.not_yours.is_empty() && l.decision.is_none())
        .count();
    view! {
        <h2>"Lines"</h2>
        <p class="inline-form">
            {filter_link("", "All")} " "
            {filter_link("undecided", "Undecided")} " "
            {filter_link("yours", "Waiting on you")}
            <span class="muted small">{format!(" {}; {yours} wait on you.", count_lines(all as u32))}</span>
        </p>
        {move || {
            let shown: Vec<CampaignLine> = lines
                .iter()
                .filter(|l| match show().as_str() {
                    "undecided" => l.decision.is_none(),
                    "yours" => l.decision.is_none() && l.not_yours.is_empty(),
                    _ => true,
                })
                .cloned()
                .collect();
            if shown.is_empty() {
                return view! { <p class="empty-state" data-testid="no-lines">"No line here: every line of this view is decided. Show all lines to read the decisions."</p> }.into_any();
            }
            let rows = shown.into_iter().map(|l| view! { <LineRow l id decide/> }).collect_view();
            view! {
                <div class="table-wrap">
                    <table data-testid="campaign-lines">
                        <thead><tr><th class="num">"#"</th><th>"Access"</th><th>"Certified by"</th><th>"Decision"</th><th>"Keep or revoke"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {move || decide.value().get().and_then(|r| {
            let o = FormOutcome::of(&r);
            o.refused.is_some().then(|| outcome_notice(&o))
        })}
    }
}

#[component]
fn LineRow(l: CampaignLine, id: i64, decide: ServerAction<DecideLine>) -> impl IntoView {
    let access = if l.kind == "Binding" {
        view! { <span class="badge badge-kind">"binding"</span>" " <a href=l.principal_href.clone()>{l.principal.clone()}</a>" may use role " <strong>{l.role.clone()}</strong> }.into_any()
    } else {
        view! { <span class="badge badge-kind">"grant"</span>" role " <strong>{l.role.clone()}</strong>" may call " <code>{l.route.clone()}</code> }.into_any()
    };
    let decision = match l.decision.as_deref() {
        Some(d) => {
            let (class, word) = if d == "revoke" {
                ("badge badge-error", "revoke")
            } else {
                ("badge badge-ok", "keep")
            };
            let by = if l.defaulted {
                "by default: nobody decided".to_string()
            } else {
                format!("{} · {}", l.decided_by, l.decided_at)
            };
            view! {
                <span class=class data-testid="line-decision">{word}</span>
                <br/><span class="muted small">{by}</span>
                {(!l.comment.is_empty()).then(|| view! { <br/><span class="small">"“" {l.comment.clone()} "”"</span> })}
            }
            .into_any()
        }
        None => {
            view! { <span class="muted" data-testid="line-decision">"undecided"</span> }.into_any()
        }
    };
    let line = l.line;
    let mine = l.not_yours.is_empty();
    // The comment's error shows on the line whose form was sent.
    let sent_line = move || {
        decide.input().get().map(|i| i.line).or_else(|| {
            decide
                .value()
                .get()
                .and_then(|r| FormOutcome::of(&r).typed("line"))
                .and_then(|t| t.parse().ok())
        })
    };
    let error = move || {
        (sent_line() == Some(line))
            .then(|| field_error(&decide.value().get(), "comment"))
            .flatten()
    };
    let form = if mine {
        view! {
            <ActionForm action=decide attr:class="decide-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="line" value=line/>
                <input name="comment" value=l.comment.clone() placeholder="Why (needed to revoke)" aria-label=format!("Comment on line {line}") maxlength="2000"/>
                <button type="submit" class="button button-small" name="decision" value="keep" aria-label=format!("Keep line {line}")>"Keep"</button>
                <button type="submit" class="button button-small button-danger" name="decision" value="revoke" aria-label=format!("Revoke line {line}")>"Revoke"</button>
                <p class="field-error">{error}</p>
            </ActionForm>
        }
        .into_any()
    } else {
        view! { <span class="muted small">{l.not_yours.clone()}</span> }.into_any()
    };
    view! {
        <tr data-line=line>
            <td class="num">{line}</td>
            <td>{access}</td>
            <td class="small">{l.reviewers.clone()}</td>
            <td>{decision}</td>
            <td>{form}</td>
        </tr>
    }
}

/// "1 line", "3 lines".
fn count_lines(n: u32) -> String {
    if n == 1 {
        "1 line".into()
    } else {
        format!("{n} lines")
    }
}
