//! Sign-in when the token's groups claim overflowed: the person's groups come from Microsoft
//! Graph.

use super::{oidc, SignInRefusal};
use crate::backend::{audit::Actor, state::AppState};

/// A person in too many groups for the token: their groups come from Microsoft Graph
/// (transitively), never from the endpoint the token names. Without Graph configured they
/// sign in with their app roles only.
pub async fn groups(
    state: &AppState,
    who: &oidc::VerifiedIdentity,
) -> Result<Vec<String>, (SignInRefusal, Option<Actor>)> {
    let Some(graph) = &state.graph else {
        tracing::warn!(
            oid = %who.oid,
            "the token's groups claim overflowed and Microsoft Graph is not configured; groups ignored"
        );
        return Ok(Vec::new());
    };
    graph.member_groups(&who.oid.to_string()).await.map_err(|e| {
        tracing::error!(error = %e, oid = %who.oid, "could not read groups from Graph at sign-in");
        (
            SignInRefusal::ProviderUnavailable(
                "Gatehouse could not read your groups from Microsoft Graph; try again in a minute"
                    .into(),
            ),
            Some(Actor::person(
                who.tid,
                who.oid,
                &who.display_name,
                &who.username,
            )),
        )
    })
}
