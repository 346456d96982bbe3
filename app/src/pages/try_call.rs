//! "Try a call": pick a person from the directory (or paste an access token) and a route; the
//! page answers allow or refuse, with the chain of links that decides it and the bundle version,
//! from the same decision function Gatehouse's Lambda authorizer runs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{layout::Guarded, loaded::error_view};
use crate::error::AppError;
use crate::roles::Page;
use crate::tryit::{get_try_choices, try_person, TryChoices, TryOutcome, TryRoute, TryToken};

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

fn field_error(result: &Option<Result<TryOutcome, AppError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message.clone()),
        _ => None,
    }
}

#[component]
fn OutcomeCard(outcome: TryOutcome) -> impl IntoView {
    let (badge, word) = if outcome.allowed {
        ("badge badge-ok", "Allowed")
    } else {
        ("badge badge-error", "Refused")
    };
    let chain = outcome
        .chain
        .iter()
        .map(|link| view! { <li>{link.clone()}</li> })
        .collect_view();
    view! {
        <section class="card try-outcome" data-testid="try-outcome" data-allowed=outcome.allowed.to_string()>
            <h2><span class=badge>{word}</span> {outcome.who.clone()}</h2>
            <p data-testid="try-reason">{outcome.reason.clone()}</p>
            <ol class="chain">{chain}</ol>
            <p class="muted small" data-testid="try-bundle">"Decided on " {outcome.bundle.clone()} "."</p>
            {outcome.not_asked.clone().map(|why| view! {
                <p class="notice notice-warning" data-testid="try-not-asked">{why}</p>
            })}
            {outcome.unpublished.then(|| view! {
                <p class="notice notice-warning">"No access bundle has been published yet: until a push publishes one (GATEHOUSE_ACCESS_BUNDLE), the authorizer refuses every call."</p>
            })}
        </section>
    }
}

#[component]
fn RouteFields(
    choices: TryChoices,
    route: TryRoute,
    prefix: &'static str,
    errors: Signal<Option<Result<TryOutcome, AppError>>>,
) -> impl IntoView {
    let api_options = choices
        .apis
        .iter()
        .map(|(id, label)| view! { <option value=id.clone() selected=*id == route.api_id>{label.clone()}</option> })
        .collect_view();
    let method_options = METHODS
        .iter()
        .map(|m| view! { <option value=*m selected=*m == route.method.as_str()>{*m}</option> })
        .collect_view();
    let err = move |f: &'static str| move || field_error(&errors.get(), f);
    let stage = if route.stage.is_empty() {
        "prod".to_string()
    } else {
        route.stage.clone()
    };
    view! {
        <div class="filter-field">
            <label for=format!("{prefix}-api")>"API"</label>
            <select id=format!("{prefix}-api") name="route[api_id]" required>
                <option value="">"Choose an API"</option>
                {api_options}
            </select>
            <p class="field-error">{err("api_id")}</p>
        </div>
        <div class="filter-field">
            <label for=format!("{prefix}-stage")>"Stage"</label>
            <input id=format!("{prefix}-stage") name="route[stage]" value=stage required/>
            <p class="field-error">{err("stage")}</p>
        </div>
        <div class="filter-field">
            <label for=format!("{prefix}-method")>"Method"</label>
            <select id=format!("{prefix}-method") name="route[method]">{method_options}</select>
            <p class="field-error">{err("method")}</p>
        </div>
        <div class="filter-field">
            <label for=format!("{prefix}-path")>"Path"</label>
            <input id=format!("{prefix}-path") name="route[path]" value=route.path.clone() placeholder="/orders/42" required/>
            <p class="field-error">{err("path")}</p>
        </div>
    }
}

#[component]
pub fn TryCallPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |name: &str| query.read().get(name).unwrap_or_default();
    let route = move || TryRoute {
        api_id: q("route[api_id]"),
        stage: q("route[stage]"),
        method: q("route[method]"),
        path: q("route[path]"),
    };
    let choices = Resource::new(|| (), |_| get_try_choices());
    let asked = Resource::new(move || (q("person"), route()), |(p, r)| try_person(p, r));
    view! {
        <Title text="Try a call"/>
        <Guarded page=Page::Apis>
            <p class="breadcrumb"><a href="/apis">"APIs"</a> " / "</p>
            <h1>"Try a call"</h1>
            <p class="lead">"Would Gatehouse's authorizer let this person call this route, and why? The answer comes from the same decision the Lambda authorizer makes, on the access bundle it reads."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let choices = match choices.await {
                        Ok(c) => c,
                        Err(e) => return error_view(&e),
                    };
                    let result = asked.await;
                    let refused = result.as_ref().err().cloned();
                    let errors = Signal::derive(move || refused.clone().map(Err));
                    let person = q("person");
                    let people = choices.people.iter().map(|(key, label)| view! {
                        <option value=key.clone() selected=*key == person>{label.clone()}</option>
                    }).collect_view();
                    let person_error = field_error(&errors.get_untracked(), "person");
                    let outcome = match result {
                        Ok(Some(o)) => view! { <OutcomeCard outcome=o/> }.into_any(),
                        Ok(None) if choices.people.is_empty() => view! {
                            <section class="empty-state" data-testid="try-empty"><p>"No person is in the directory yet: sync the groups (Sync page) and try again, or paste a token below."</p></section>
                        }.into_any(),
                        Ok(None) => view! { <p class="muted">"Choose a person and a route, then Try."</p> }.into_any(),
                        Err(AppError::Invalid { .. }) => ().into_any(),
                        Err(e) => error_view(&e),
                    };
                    let tokens = choices.tokens;
                    view! {
                        <form method="get" action="/try" class="filters-form" data-testid="try-person-form">
                            <div class="filter-field">
                                <label for="try-person">"Person"</label>
                                <select id="try-person" name="person" required>
                                    <option value="">"Choose a person"</option>
                                    {people}
                                </select>
                                <p class="field-error">{person_error}</p>
                            </div>
                            <RouteFields choices=choices.clone() route=route() prefix="p" errors/>
                            <div class="actions"><button class="button button-primary" type="submit">"Try"</button></div>
                        </form>
                        {outcome}
                        <h2>"Or paste an access token"</h2>
                        {if tokens {
                            view! {
                                <TokenTry choices=choices.clone() route=route()/>
                            }.into_any()
                        } else {
                            view! { <p class="muted">"Tokens cannot be checked here until GATEHOUSE_API_AUDIENCES names the APIs' audiences."</p> }.into_any()
                        }}
                    }.into_any()
                })}
            </Suspense>
        </Guarded>
    }
}

/// A pasted token, tried in place. An island: the token is posted by the browser's code and the
/// answer drawn here, because a plain form's answer would have to come back in the page's
/// address (the token's decision is not a form outcome, and nothing of a token belongs in an
/// address).
#[island]
fn TokenTry(choices: TryChoices, route: TryRoute) -> impl IntoView {
    let token_action = ServerAction::<TryToken>::new();
    let token_errors = Signal::derive(move || token_action.value().get());
    view! {
        <p class="muted small">"The token is checked as the authorizer checks it (signature, issuer, tenant, audience, expiry), then decided. It is not stored or logged. Needs JavaScript."</p>
        <ActionForm action=token_action attr:class="filters-form" attr:data-testid="try-token-form">
            <div class="filter-field wide">
                <label for="try-token">"Access token"</label>
                <textarea id="try-token" name="token" rows="3" placeholder="eyJ…" required></textarea>
                <p class="field-error">{move || field_error(&token_errors.get(), "token")}</p>
            </div>
            <RouteFields choices route prefix="t" errors=token_errors/>
            <div class="actions"><button class="button" type="submit">"Try the token"</button></div>
        </ActionForm>
        {move || match token_action.value().get() {
            Some(Ok(o)) => view! { <OutcomeCard outcome=o/> }.into_any(),
            Some(Err(AppError::Invalid { .. })) | None => ().into_any(),
            Some(Err(e)) => error_view(&e),
        }}
    }
}
