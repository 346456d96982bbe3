//! The matrix's cell editor: revoke the grants that tick a cell, or grant the cell's route to one
//! of the group's roles, in the admin's draft. With no group picked (from an API page's method),
//! it grants the route to any bound group's role.

use leptos::prelude::*;

use super::forms::{field_error, outcome_notice};
use crate::components::search::urlencode;
use crate::mappings::{
    types::{ApiMatrix, CellGrant, FormOutcome, MatrixRoute},
    GrantRoute,
};

/// What the URL picked: the group filter, and a cell (`g` row key, `c` route label).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub search: String,
    /// The route filter, the page of groups and the first route shown.
    pub routes: String,
    pub after: String,
    pub before: String,
    pub from: usize,
    pub group: Option<String>,
    pub route: Option<String>,
}

impl Selection {
    /// The filters, without the page or the picked cell.
    fn filters(&self) -> String {
        format!(
            "q={}&rq={}",
            urlencode(&self.search),
            urlencode(&self.routes)
        )
    }

    /// The filters and the slice of routes: a pager link adds the page of groups.
    pub fn filters_and_columns(&self) -> String {
        format!("{}&from={}", self.filters(), self.from)
    }

    /// Where the page is, without the picked cell: a cell link adds it.
    pub fn query(&self) -> String {
        let page = match (self.after.is_empty(), self.before.is_empty()) {
            (false, _) => format!("&after={}", urlencode(&self.after)),
            (true, false) => format!("&before={}", urlencode(&self.before)),
            _ => String::new(),
        };
        format!("{}{page}", self.filters_and_columns())
    }

    /// The same page with another slice of routes.
    pub fn with_from(&self, from: usize) -> String {
        Selection {
            from,
            ..self.clone()
        }
        .query()
    }
}

#[component]
pub fn CellEditor(m: ApiMatrix, sel: Selection, grant: ServerAction<GrantRoute>) -> impl IntoView {
    let Some(route) = m
        .routes
        .iter()
        .position(|r| Some(r.label()) == sel.route)
        .map(|i| (i, m.routes[i].clone()))
    else {
        return view! {
            <section class="card editor" id="editor">
                <p class="notice notice-warning" role="status">"This API has no route " <code>{sel.route.clone()}</code> "."</p>
            </section>
        }
        .into_any();
    };
    let close = format!("?{}", sel.query());
    let row = sel
        .group
        .as_ref()
        .and_then(|g| m.rows.iter().find(|r| &r.key == g));
    let (heading, revoke, choices) = match row {
        Some(row) => {
            let cell = row.cells[route.0].clone();
            let state = match (cell.now.is_empty(), cell.draft.is_empty()) {
                (true, true) => "May not call it.".to_string(),
                (false, _) if !cell.pending() => format!("May call it: {}.", cell.now.join(", ")),
                (_, true) => format!("Approved: {}. Your draft revokes it.", cell.now.join(", ")),
                _ => format!("Your draft makes it: {}.", cell.draft.join(", ")),
            };
            let revoke = cell
                .grants
                .iter()
                .map(
                    |g| view! { <RevokeForm g=g.clone() route=route.1.clone() m=m.clone() grant/> },
                )
                .collect_view();
            let choices: Vec<(String, String)> = row
                .roles
                .iter()
                .map(|r| (r.arn.clone(), r.name.clone()))
                .collect();
            (
                view! { <h2>{row.group.clone()} " × " <code>{route.1.label()}</code></h2><p data-testid="cell-state">{state}</p> }.into_any(),
                Some(revoke),
                choices,
            )
        }
        None => {
            let mut choices: Vec<(String, String)> = m
                .rows
                .iter()
                .flat_map(|row| {
                    row.roles
                        .iter()
                        .map(|r| (r.arn.clone(), format!("{} → {}", row.group, r.name)))
                })
                .collect();
            choices.sort_by_key(|c| c.1.to_lowercase());
            (
                view! {
                    <h2>"Grant " <code>{route.1.label()}</code> " to a group"</h2>
                    <p class="muted small">"The groups on this page of the matrix are listed. A group that may not call this API yet: type its name under “Groups containing” above."</p>
                }.into_any(),
                None,
                choices,
            )
        }
    };
    let no_roles = choices.is_empty();
    // No stage is picked for the user: every grant form asks for one (or `*`) explicitly.
    let stage_options = std::iter::once((String::new(), "Choose a stage".to_string()))
        .chain(std::iter::once((
            "*".to_string(),
            "* (every stage)".to_string(),
        )))
        .chain(m.stages.iter().map(|s| (s.clone(), s.clone())))
        .map(|(v, l)| view! { <option value=v>{l}</option> })
        .collect_view();
    let role_options = choices
        .into_iter()
        .map(|(arn, label)| view! { <option value=arn>{label}</option> })
        .collect_view();
    let result = move || {
        grant.value().get().map(|r| {
            let o = FormOutcome::of(&r);
            view! {
                {outcome_notice(&o)}
                {o.change_set.map(|id| view! { <p><a href=format!("/change-sets/{id}")>"Open your draft change set " {id}</a></p> })}
            }
        })
    };
    view! {
        <section class="card editor" id="editor" data-testid="cell-editor">
            <p class="editor-close"><a href=close>"Close"</a></p>
            {heading}
            {revoke.map(|r| view! { <ul class="plain revoke">{r}</ul> })}
            {if no_roles {
                view! { <p class="muted">"No role is bound to this group. Bind one on the group's page first."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=grant attr:class="form" attr:data-testid="cell-grant-form">
                        <input type="hidden" name="remove" value="false"/>
                        <input type="hidden" name="target" value=m.target.clone()/>
                        <input type="hidden" name="api_id" value=m.api_id.clone()/>
                        <input type="hidden" name="method" value=route.1.method.clone()/>
                        <input type="hidden" name="path" value=route.1.path.clone()/>
                        <label for="cell-role">"Grant through role"</label>
                        <select id="cell-role" name="role_arn" aria-describedby="cell-role-error">{role_options}</select>
                        <p class="field-error" id="cell-role-error">{move || field_error(&grant.value().get(), "role_arn")}</p>
                        <label for="cell-stage">"Stage"</label>
                        <select id="cell-stage" name="stage" required aria-describedby="cell-stage-error">{stage_options}</select>
                        <p class="field-error" id="cell-stage-error">{move || field_error(&grant.value().get(), "stage")}</p>
                        <button class="button button-primary" type="submit">"Grant in my change set"</button>
                    </ActionForm>
                }.into_any()
            }}
            {result}
        </section>
    }
    .into_any()
}

/// One grant that ticks the cell, with a button that revokes it (the whole grant: it may cover
/// more routes than this one, and says so).
#[component]
fn RevokeForm(
    g: CellGrant,
    route: MatrixRoute,
    m: ApiMatrix,
    grant: ServerAction<GrantRoute>,
) -> impl IntoView {
    let wider = g.method != route.method || g.path != route.path;
    let what = format!(
        "{} {} on {} through {}",
        g.method, g.path, g.stage, g.role_name
    );
    view! {
        <li>
            <ActionForm action=grant attr:class="inline-form">
                <input type="hidden" name="remove" value="true"/>
                <input type="hidden" name="role_arn" value=g.role_arn.clone()/>
                <input type="hidden" name="target" value=m.target.clone()/>
                <input type="hidden" name="api_id" value=m.api_id.clone()/>
                <input type="hidden" name="stage" value=g.stage.clone()/>
                <input type="hidden" name="method" value=g.method.clone()/>
                <input type="hidden" name="path" value=g.path.clone()/>
                <span>{what.clone()}</span>
                {wider.then(|| view! { " " <span class="badge badge-warn">"covers more routes"</span> })}
                " "
                <button class="button button-small button-danger" type="submit" aria-label=format!("Revoke {what}")>"Revoke"</button>
            </ActionForm>
        </li>
    }
}
