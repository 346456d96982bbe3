//! Access requests: everyone signed in (no Gatehouse role needed) may ask for a role for
//! themselves, see their requests and withdraw one still waiting. Reviewing them is the usual
//! change-set review.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::{error::AppError, form::FormOutcome, mappings::types::RequestOptions};

#[cfg(feature = "ssr")]
use crate::{
    backend::{mappings::requests, state::actor, state::app_state},
    form::ssr::answer_typed,
    me::ssr::require_signed_in,
};

/// The signed-in person's Gatehouse identity (object id): requests are theirs only.
#[cfg(feature = "ssr")]
fn requester() -> Result<uuid::Uuid, AppError> {
    require_signed_in()?;
    actor()
        .oid
        .ok_or_else(|| AppError::Refused("only a signed-in person can request access".into()))
}

/// What the requester reads once a request is made.
#[cfg(feature = "ssr")]
fn made(
    result: Result<i64, crate::backend::mappings::workflow::WorkflowError>,
) -> Result<FormOutcome, AppError> {
    result
        .map(|id| FormOutcome {
            change_set: Some(id),
            message: Some(format!(
                "Request {id} is waiting for a reviewer. This page shows what they decide."
            )),
            ..Default::default()
        })
        .map_err(AppError::from)
}

/// Anyone signed in: the roles they may ask for and their own requests.
#[server(endpoint = "requests/options", output = crate::codec::StrJson)]
pub async fn get_request_options() -> Result<RequestOptions, AppError> {
    let who = requester()?;
    Ok(requests::options(&app_state()?, who).await?)
}

/// Anyone signed in: ask for `role_arn` for `hours`, saying why. The request is submitted for
/// review at once.
#[server(endpoint = "requests/create", output = crate::codec::StrJson)]
pub async fn create_request(
    role_arn: String,
    hours: String,
    justification: String,
) -> Result<FormOutcome, AppError> {
    requester()?;
    let form = crate::domain::request::RequestForm {
        role_arn: role_arn.clone(),
        hours: hours.clone(),
        justification: justification.clone(),
    };
    let result = made(requests::create(&app_state()?, &actor(), &form).await);
    answer_typed(
        result,
        &[
            ("role_arn", &role_arn),
            ("hours", &hours),
            ("justification", &justification),
        ],
    )
}

/// Anyone signed in: ask for the ticked routes (`routes[rN]`: route keys) for `hours`, saying
/// why. Gatehouse binds them to the fewest roles that give those routes; the request says what
/// else the roles give.
#[server(endpoint = "requests/create-routes", output = crate::codec::StrJson)]
pub async fn create_route_request(
    #[server(default)] routes: BTreeMap<String, String>,
    hours: String,
    justification: String,
) -> Result<FormOutcome, AppError> {
    requester()?;
    let keys: Vec<String> = routes.into_values().collect();
    let form = crate::domain::request::RouteRequestForm {
        routes: keys.clone(),
        hours: hours.clone(),
        justification: justification.clone(),
    };
    let result = made(requests::create_for_routes(&app_state()?, &actor(), &form).await);
    // A refused form keeps its boxes ticked.
    let ticked = FormOutcome::ticked_field(&keys);
    answer_typed(
        result,
        &[
            ("routes", &ticked),
            ("hours", &hours),
            ("justification", &justification),
        ],
    )
}

/// Anyone signed in: withdraw one of their own requests while it waits for review.
#[server(endpoint = "requests/withdraw", output = crate::codec::StrJson)]
pub async fn withdraw_request(id: i64) -> Result<FormOutcome, AppError> {
    let who = requester()?;
    let state = app_state()?;
    let result = match requests::withdraw(&state.pool, &actor(), who, id).await {
        Ok(()) => Ok(FormOutcome::message(format!("Request {id} is withdrawn."))),
        Err(e) => Err(AppError::from(e)),
    };
    answer_typed(result, &[])
}

/// Anyone signed in: confirm one of their own waiting requests after its role changed (the
/// reviewers then see it against the role as it is now).
#[server(endpoint = "requests/confirm", output = crate::codec::StrJson)]
pub async fn confirm_request(id: i64) -> Result<FormOutcome, AppError> {
    let who = requester()?;
    let state = app_state()?;
    let result = match requests::confirm(&state.pool, &actor(), who, id).await {
        Ok(()) => Ok(FormOutcome::message(format!(
            "Request {id} now asks for the role as it is; it waits for a reviewer."
        ))),
        Err(e) => Err(AppError::from(e)),
    };
    answer_typed(result, &[])
}
