//! People who have signed in, keyed on (tenant id, object id) as Entra ID recommends: names
//! and usernames change, those two do not.

use crate::roles::Role;
use sqlx::PgPool;

use crate::backend::auth::oidc::VerifiedIdentity;

pub async fn upsert(
    pool: &PgPool,
    who: &VerifiedIdentity,
    roles: &[Role],
) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = roles.iter().map(|r| r.label().to_string()).collect();
    sqlx::query!(
        "INSERT INTO users (tid, oid, display_name, preferred_username, roles)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tid, oid) DO UPDATE
           SET display_name = EXCLUDED.display_name,
               preferred_username = EXCLUDED.preferred_username,
               roles = EXCLUDED.roles,
               last_sign_in_at = now()",
        who.tid,
        who.oid,
        &who.display_name,
        &who.username,
        &roles,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A `users` row as the Sessions list shows it.
type PersonTuple = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    Vec<String>,
    String,
    Option<String>,
);

/// Everyone who has signed in, the most recent first.
pub async fn list(pool: &PgPool) -> Result<Vec<crate::people::PersonRow>, sqlx::Error> {
    let rows: Vec<PersonTuple> = sqlx::query_as(
        "SELECT tid, oid, display_name, preferred_username, roles,
                    to_char(last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    to_char(sessions_ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
             FROM users ORDER BY last_sign_in_at DESC LIMIT 500",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(tid, oid, display_name, username, roles, last, ended)| crate::people::PersonRow {
                tid: tid.to_string(),
                oid: oid.to_string(),
                display_name,
                username,
                roles,
                last_sign_in_at: last,
                sessions_ended_at: ended,
            },
        )
        .collect())
}

/// Ends every session of the person signed in before now (audited with the same transaction);
/// `None` when nobody with those ids has signed in.
pub async fn end_sessions(
    pool: &PgPool,
    actor: &crate::backend::audit::Actor,
    tid: uuid::Uuid,
    oid: uuid::Uuid,
) -> Result<Option<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE users SET sessions_ended_at = clock_timestamp() WHERE tid = $1 AND oid = $2
         RETURNING display_name || ' <' || preferred_username || '>'",
    )
    .bind(tid)
    .bind(oid)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(name) = &name {
        crate::backend::audit::record(
            &mut *tx,
            actor,
            crate::backend::audit::action::SESSIONS_ENDED,
            Some(&format!("person:{oid}")),
            serde_json::json!({ "person": name, "tid": tid, "oid": oid }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(name)
}

/// When an admin last ended the person's sessions (unix seconds), if ever.
pub async fn sessions_ended_at(
    pool: &PgPool,
    tid: uuid::Uuid,
    oid: uuid::Uuid,
) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM sessions_ended_at)::float8 FROM users WHERE tid = $1 AND oid = $2",
    )
    .bind(tid)
    .bind(oid)
    .fetch_optional(pool)
    .await
    .map(Option::flatten)
}
