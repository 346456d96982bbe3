//! Append-only audit events. The table refuses UPDATE, DELETE and TRUNCATE (see migrations);
//! this module only ever inserts.

use serde_json::Value;
use uuid::Uuid;

/// Who did it: a signed-in person, or nobody known yet (a refused sign-in).
#[derive(Clone, Debug)]
pub struct Actor {
    pub tid: Option<Uuid>,
    pub oid: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn anonymous() -> Self {
        Actor {
            tid: None,
            oid: None,
            name: "anonymous".into(),
        }
    }

    /// Work the server starts by itself or from the command line.
    pub fn system(what: &str) -> Self {
        Actor {
            tid: None,
            oid: None,
            name: format!("system ({what})"),
        }
    }

    pub fn person(tid: Uuid, oid: Uuid, display_name: &str, username: &str) -> Self {
        Actor {
            tid: Some(tid),
            oid: Some(oid),
            name: format!("{display_name} <{username}>"),
        }
    }
}

pub mod action {
    pub const SIGN_IN: &str = "auth.sign_in";
    pub const SIGN_IN_REFUSED: &str = "auth.sign_in_refused";
    pub const SIGN_OUT: &str = "auth.sign_out";
    pub const SESSION_EXPIRED: &str = "auth.session_expired";
    pub const ROLES_CHANGED: &str = "auth.roles_changed";
    pub const SESSIONS_ENDED: &str = "auth.sessions_ended";
    pub const SYNC_FINISHED: &str = "sync.finished";
    pub const SYNC_FAILED: &str = "sync.failed";
    pub const CHANGE_SET_EDITED: &str = "change_set.edited";
    pub const CHANGE_SET_SUBMITTED: &str = "change_set.submitted";
    pub const CHANGE_SET_WITHDRAWN: &str = "change_set.withdrawn";
    pub const CHANGE_SET_APPROVED: &str = "change_set.approved";
    pub const CHANGE_SET_REJECTED: &str = "change_set.rejected";
    pub const CHANGE_SET_APPLIED: &str = "change_set.applied";
    pub const CHANGE_SET_REBASED: &str = "change_set.rebased";
    pub const ACCESS_ENDING: &str = "access.ending";
    pub const ACCESS_EXPIRED: &str = "access.expired";
    pub const PUSH_STARTED: &str = "push.started";
    pub const PUSH_CALL: &str = "push.call";
    pub const PUSH_REPLANNED: &str = "push.replanned";
    pub const PUSH_SUCCEEDED: &str = "push.succeeded";
    pub const PUSH_FAILED: &str = "push.failed";
    pub const DRIFT_FOUND: &str = "drift.found";
    pub const DRIFT_CHECKED: &str = "drift.checked";
    pub const DRIFT_FAILED: &str = "drift.failed";
    pub const EXPORT_DOWNLOADED: &str = "audit.export_downloaded";
    pub const AUDIT_EXPORTED: &str = "audit.exported";
    pub const TOKEN_CREATED: &str = "api_token.created";
    pub const TOKEN_REVOKED: &str = "api_token.revoked";
}

pub async fn record<'e>(
    db: impl sqlx::PgExecutor<'e>,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    details: Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO audit_events (actor_tid, actor_oid, actor_name, action, subject, details)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        actor.tid,
        actor.oid,
        &actor.name,
        action,
        subject,
        details,
    )
    .fetch_one(db)
    .await
}
