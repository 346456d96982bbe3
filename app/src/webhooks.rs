//! Notifications (admins): subscribe receivers to events, see every delivery with its status
//! and last error, send one again, turn a receiver off and on.
// A subscription form has one checkbox per event, each an argument of its server function (the
// macro's generated client function would not carry an attribute put on the function).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, form::FormOutcome};

#[cfg(feature = "ssr")]
use crate::{
    backend::{state::app_state, webhooks},
    domain::webhook::SubscriptionRequest,
    form::ssr::{answer_result, answer_typed},
    me::ssr::require_role,
    roles::Role,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub url: String,
    /// The HMAC key generic receivers check signatures with.
    pub secret: String,
    pub events: Vec<String>,
    pub api_ids: Vec<String>,
    pub created_by: String,
    pub enabled: bool,
    pub delivered: i64,
    pub waiting: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub receiver: String,
    pub event: String,
    pub change_set: Option<i64>,
    pub attempts: i32,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub status: String,
    pub delivered: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsView {
    pub subscriptions: Vec<SubscriptionView>,
    pub deliveries: Vec<DeliveryView>,
}

#[server(endpoint = "notifications/list", output = crate::codec::StrJson)]
pub async fn list_notifications() -> Result<NotificationsView, AppError> {
    require_role(&[Role::Admin])?;
    let pool = &app_state()?.pool;
    Ok(NotificationsView {
        subscriptions: webhooks::subscriptions(pool).await?,
        deliveries: webhooks::deliveries(pool, 100).await?,
    })
}

/// Subscribes a receiver. Events come as one checkbox each (`event_submitted=on` …).
#[server(endpoint = "notifications/subscribe", output = crate::codec::StrJson)]
pub async fn subscribe(
    name: String,
    kind: String,
    url: String,
    #[server(default)] apis: String,
    #[server(default)] event_submitted: String,
    #[server(default)] event_approved: String,
    #[server(default)] event_rejected: String,
    #[server(default)] event_pushed: String,
    #[server(default)] event_push_failed: String,
    #[server(default)] event_drift_found: String,
    #[server(default)] event_export_ready: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let typed = [
        ("name", name.as_str()),
        ("kind", kind.as_str()),
        ("url", url.as_str()),
        ("apis", apis.as_str()),
    ];
    let events = [
        ("submitted", &event_submitted),
        ("approved", &event_approved),
        ("rejected", &event_rejected),
        ("pushed", &event_pushed),
        ("push_failed", &event_push_failed),
        ("drift_found", &event_drift_found),
        ("export_ready", &event_export_ready),
    ]
    .into_iter()
    .filter(|(_, on)| !on.is_empty())
    .map(|(e, _)| e.to_string())
    .collect();
    let state = app_state()?;
    let request = SubscriptionRequest {
        name: name.clone(),
        kind: kind.clone(),
        url: url.clone(),
        events,
        apis: apis.clone(),
    };
    // Plain http receivers only where the dashboard itself is plain http (a local setup).
    let allow_http = state.settings.base_url.scheme() == "http";
    let checked = match request.check(allow_http) {
        Ok(c) => c,
        Err(errors) => {
            return answer_typed(
                Err(AppError::form(FormOutcome::invalid(
                    errors
                        .into_iter()
                        .map(|(f, e)| (f.to_string(), e))
                        .collect(),
                ))),
                &typed,
            )
        }
    };
    let actor = crate::backend::state::actor();
    let id = webhooks::subscribe(&state.pool, &actor, &checked).await?;
    answer_result(Ok(FormOutcome::message(format!(
        "Receiver {id} subscribed: it hears of the events from now on."
    ))))
}

#[server(endpoint = "notifications/enable", output = crate::codec::StrJson)]
pub async fn enable_receiver(id: i64, enabled: String) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let on = enabled == "true";
    let actor = crate::backend::state::actor();
    if webhooks::set_enabled(&app_state()?.pool, &actor, id, on).await? {
        answer_result(Ok(FormOutcome::message(if on {
            format!("Receiver {id} is on: what waited is sent now, in order.")
        } else {
            format!("Receiver {id} is off: its notifications wait until it is turned on.")
        })))
    } else {
        Err(AppError::not_found(format!("There is no receiver {id}.")))
    }
}

/// Replaces a receiver's signing secret; the old one still signs beside it for a day.
#[server(endpoint = "notifications/new-secret", output = crate::codec::StrJson)]
pub async fn replace_secret(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let actor = crate::backend::state::actor();
    if webhooks::rotate_secret(&app_state()?.pool, &actor, id).await? {
        answer_result(Ok(FormOutcome::message(format!(
            "Receiver {id} signs with a new secret (shown in its row). For {} hours each notification is signed with the old one too, so the receiver can switch without refusing any.",
            webhooks::PREVIOUS_SECRET_HOURS
        ))))
    } else {
        Err(AppError::not_found(format!("There is no receiver {id}.")))
    }
}

#[server(endpoint = "notifications/resend", output = crate::codec::StrJson)]
pub async fn resend_delivery(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let actor = crate::backend::state::actor();
    if webhooks::resend(&app_state()?.pool, &actor, id).await? {
        answer_result(Ok(FormOutcome::message(format!(
            "Delivery {id} goes again now."
        ))))
    } else {
        Err(AppError::not_found(format!("There is no delivery {id}.")))
    }
}
