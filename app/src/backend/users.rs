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
