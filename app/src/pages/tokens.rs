//! `/tokens`: API tokens for the REST API (`/api/v1`). Make one (its secret shown once), see
//! what each acts as, when it was last used, and revoke it.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{field_error, outcome_notice, typed_or};
use crate::{
    components::{copy::CopyButton, loaded::error_view},
    form::FormOutcome,
    tokens::{list_tokens, CreateToken, FreshToken, RevokeToken, TokenView, TokensView},
};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="lede">"Tokens let a script or a pipeline call Gatehouse's REST API ("
            <a href="/api/v1/docs">"reference"</a>", "<a href="/api/v1/openapi.json">"OpenAPI"</a>
            "). Send one as " <code>"Authorization: Bearer gth_…"</code>
            ". A personal token acts as you, within your roles; a service token acts as a named pipeline that can draft, submit and push but never approve. Every request made with a token is recorded."</p>
        {move || revoke.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(v) => view! { <Tokens v create revoke/> }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Tokens(
    v: TokensView,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    view! {
        {v.fresh.map(|f| view! { <Fresh f/> })}
        {if v.tokens.is_empty() {
            view! { <p class="empty-state" data-testid="no-tokens">"You have no tokens yet. Make one below for a script or a pipeline."</p> }.into_any()
        } else {
            view! { <TokenTable tokens=v.tokens revoke/> }.into_any()
        }}
        <NewToken create may_make_service=v.may_make_service person_scopes=v.person_scopes/>
    }
}

#[component]
fn Fresh(f: FreshToken) -> impl IntoView {
    view! {
        <section class="notice notice-success fresh-token" role="status" data-testid="fresh-token">
            <p><strong>{format!("Token {} “{}” made.", f.id, f.name)}</strong>
                " Copy its secret now: Gatehouse keeps only a hash of it and will not show it again."</p>
            <p><code data-testid="token-secret" class="secret">{f.secret.clone()}</code> <CopyButton value=f.secret/></p>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let rows = tokens
        .into_iter()
        .map(|t| {
            let label = format!("Revoke token {} “{}”", t.id, t.name);
            let used = match &t.last_used_at {
                Some(at) => format!("{at} ({} requests)", t.uses),
                None => "never".to_string(),
            };
            view! {
                <tr data-token=t.id class:inactive=!t.active>
                    <td>{t.name.clone()}<br/><code class="muted">{t.prefix.clone()}</code></td>
                    <td>{t.acts_as.clone()}<br/><span class="muted small">{t.kind.clone()}</span></td>
                    <td>{t.scopes.join(", ")}</td>
                    <td>{t.created_at.clone()}<br/><span class="muted small">{format!("by {}", t.created_by)}</span></td>
                    <td>{t.expires_at.clone()}</td>
                    <td>{used}</td>
                    <td data-testid="token-status">{t.status.clone()}</td>
                    <td>{t.active.then(|| view! {
                        <ActionForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="id" value=t.id/>
                            <button type="submit" class="button button-small button-danger" aria-label=label data-testid="revoke-token">"Revoke"</button>
                        </ActionForm>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="token-table">
                <thead><tr><th>"Name"</th><th>"Acts as"</th><th>"Scopes"</th><th>"Made"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn NewToken(
    create: ServerAction<CreateToken>,
    may_make_service: bool,
    person_scopes: Vec<String>,
) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&create.value().get(), f);
    let name = typed_or(&create, "name", String::new());
    let service = typed_or(&create, "service", String::new());
    let days = typed_or(&create, "days", "90".into());
    let kind = typed_or(&create, "kind", "person".into());
    let scope = move |s: &'static str, what: &'static str, person_may: bool| {
        // A scope nobody here may give is not offered at all.
        (person_may || may_make_service).then(|| {
        let id = format!("token-scope-{s}");
        let label_for = id.clone();
        view! {
            <label class="check" for=label_for>
                <input type="checkbox" id=id name=format!("scope_{s}") value="on" checked=s == "read"/>
                <code>{s}</code>" — "{what}
                {(!person_may).then(|| view! { <span class="muted small">" (service tokens only: your roles do not allow it on a personal token)"</span> })}
            </label>
        }
        })
    };
    let may = move |s: &str| person_scopes.iter().any(|p| p == s);
    let (may_read, may_draft, may_push) = (may("read"), may("draft"), may("push"));
    view! {
        <h2>"Make a token"</h2>
        <ActionForm action=create attr:class="form-grid" attr:data-testid="token-form">
            <label for="token-name">"Name"</label>
            <div>
                <input id="token-name" name="name" value=name maxlength="80" placeholder="payments deploy pipeline" aria-describedby="token-name-error"/>
                <p class="field-error" id="token-name-error">{err("name")}</p>
            </div>
            <span class="label">"Acts as"</span>
            <div>
                <label class="check"><input type="radio" name="kind" value="person" checked=kind != "service"/>"me (personal token)"</label>
                {may_make_service.then(|| view! {
                    <label class="check"><input type="radio" name="kind" value="service" checked=kind == "service" data-testid="kind-service"/>"a service identity (admins): "</label>
                    <input id="token-service" name="service" value=service placeholder="deploy-pipeline" aria-label="Service identity's name" aria-describedby="token-service-error"/>
                    <p class="field-error" id="token-service-error">{err("service")}</p>
                })}
                <p class="field-error" id="token-kind-error">{err("kind")}</p>
            </div>
            <span class="label">"Scopes"</span>
            <div>
                {scope("read", "read everything a reader sees", may_read)}
                {scope("draft", "create, submit and withdraw change sets", may_draft)}
                {scope("push", "push approved change sets, check drift", may_push)}
                <p class="field-error" id="token-scopes-error">{err("scopes")}</p>
            </div>
            <label for="token-days">"Expires after (days)"</label>
            <div>
                <input id="token-days" name="days" value=days inputmode="numeric" size="4" aria-describedby="token-days-error"/>
                <p class="field-error" id="token-days-error">{err("days")}</p>
            </div>
            <div></div>
            <div><button class="button button-primary" type="submit">"Make token"</button></div>
        </ActionForm>
        {move || create.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
    }
}
