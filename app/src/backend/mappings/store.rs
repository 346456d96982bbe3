//! Reading and writing the desired state and change sets. The workflow (`super::workflow`)
//! decides; this file only moves rows.

use crate::catalog::types::{Cursor, Page};
use crate::domain::{
    change_set::State,
    desired::{ChangeItem, DesiredState},
    grant::{Binding, Grant},
    names::RoleArn,
};
use sqlx::{types::Json, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct ChangeSetRow {
    pub id: i64,
    pub title: String,
    pub justification: String,
    pub ticket: Option<String>,
    pub state: State,
    pub author_oid: Uuid,
    pub author_name: String,
    pub base_version: i64,
    pub applied_version: Option<i64>,
    pub items: Vec<ChangeItem>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// When the access it adds ends (then Gatehouse revokes it).
    pub access_ends_at: Option<OffsetDateTime>,
    /// The time-bound change set whose ended access this one revokes.
    pub revokes: Option<i64>,
    /// What a change set of its own is for: a rollback, a drift resolution, an access request
    /// ([`super::requests::PURPOSE`]); `None` for a person's general draft.
    pub purpose: Option<String>,
}

impl ChangeSetRow {
    /// A person asked for this access for themselves.
    pub fn is_request(&self) -> bool {
        self.purpose.as_deref() == Some(super::requests::PURPOSE)
    }
}

/// A change set as stored; `state` and `items` must decode, or reading fails.
struct Stored {
    id: i64,
    title: String,
    justification: String,
    ticket: Option<String>,
    state: State,
    author_oid: Uuid,
    author_name: String,
    base_version: i64,
    applied_version: Option<i64>,
    items: Json<Vec<ChangeItem>>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    access_ends_at: Option<OffsetDateTime>,
    revokes_change_set_id: Option<i64>,
    purpose: Option<String>,
}

impl From<Stored> for ChangeSetRow {
    fn from(r: Stored) -> Self {
        ChangeSetRow {
            id: r.id,
            title: r.title,
            justification: r.justification,
            ticket: r.ticket,
            state: r.state,
            author_oid: r.author_oid,
            author_name: r.author_name,
            base_version: r.base_version,
            applied_version: r.applied_version,
            items: r.items.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            access_ends_at: r.access_ends_at,
            revokes: r.revokes_change_set_id,
            purpose: r.purpose,
        }
    }
}

/// `SELECT` of change sets followed by `$tail` (a string literal), compile-checked.
macro_rules! select_change_sets {
    ($tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            Stored,
            r#"SELECT id, title, justification, ticket, state AS "state: State", author_oid,
               author_name, base_version, applied_version,
               items AS "items: Json<Vec<ChangeItem>>", created_at, updated_at,
               access_ends_at, revokes_change_set_id, purpose
               FROM change_sets "# + $tail
            $(, $arg)*
        )
    };
}

pub async fn change_set(
    db: &mut PgConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<ChangeSetRow>> {
    let row = if lock {
        select_change_sets!("WHERE id = $1 FOR UPDATE", id)
            .fetch_optional(db)
            .await?
    } else {
        select_change_sets!("WHERE id = $1", id)
            .fetch_optional(db)
            .await?
    };
    Ok(row.map(ChangeSetRow::from))
}

/// The author's general draft, where their edits land.
pub async fn draft_of(db: &mut PgConnection, author: Uuid) -> sqlx::Result<Option<ChangeSetRow>> {
    let row = select_change_sets!(
        "WHERE author_oid = $1 AND state = 'draft' AND purpose IS NULL FOR UPDATE",
        author
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(ChangeSetRow::from))
}

/// The author's draft made for `purpose` (a rollback, a drift resolution), if still a draft.
pub async fn purpose_draft_of(
    db: &mut PgConnection,
    author: Uuid,
    purpose: &str,
) -> sqlx::Result<Option<ChangeSetRow>> {
    let row = select_change_sets!(
        "WHERE author_oid = $1 AND state = 'draft' AND purpose = $2 FOR UPDATE",
        author,
        purpose
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(ChangeSetRow::from))
}

pub async fn insert_purpose_draft(
    db: &mut PgConnection,
    author: Uuid,
    author_name: &str,
    base_version: i64,
    purpose: &str,
    title: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO change_sets (author_oid, author_name, base_version, purpose, title)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        author,
        author_name,
        base_version,
        purpose,
        title,
    )
    .fetch_one(db)
    .await
}

/// A change set as lists show it: its items counted by the database, not read.
pub struct Listed {
    pub author_oid: Uuid,
    pub state: State,
    pub summary: crate::mappings::types::ChangeSetSummary,
}

/// The newest `limit` change sets in `states` (every state when empty), for lists.
pub async fn listed(
    db: impl sqlx::PgExecutor<'_>,
    states: &[State],
    limit: i64,
) -> sqlx::Result<Vec<Listed>> {
    let size = usize::try_from(limit).unwrap_or(0);
    // Only the rows: nobody asked how many there are in all (Home asks twice per request).
    listed_rows(db, states, "id", false, &Cursor::First, size)
        .await?
        .into_iter()
        .take(size)
        .map(ListedRow::listed)
        .collect()
}

/// The orders the change sets list offers: a URL key and the SQL it sorts by (a closed set,
/// so nothing from the request reaches the query). Ties go newest first.
const LIST_ORDERS: [(&str, &str); 6] = [
    ("id", "c.id"),
    (
        "title",
        "lower(CASE WHEN c.title = '' THEN 'draft ' || c.id ELSE c.title END)",
    ),
    ("state", "c.state::text"),
    ("author", "lower(c.author_name)"),
    ("changes", "jsonb_array_length(c.items)"),
    ("updated", "c.updated_at"),
];

/// One page of the change sets in `states` (every state when empty), ordered by `sort` (a key
/// of `LIST_ORDERS`; newest first when unknown), after or before a change set's id.
pub async fn listed_page(
    pool: &PgPool,
    states: &[State],
    sort: &str,
    ascending: bool,
    cursor: &Cursor,
    size: usize,
) -> sqlx::Result<Page<Listed>> {
    let rows = listed_rows(pool, states, sort, ascending, cursor, size).await?;
    let names: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM change_sets c WHERE {LISTED_FILTER}"
    ))
    .bind(&names)
    .fetch_one(pool)
    .await?;
    let page = crate::backend::catalog::group_queries::keyset_page_of(
        rows,
        cursor,
        total,
        |r: &ListedRow| r.id.to_string(),
        size,
    );
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(ListedRow::listed)
            .collect::<sqlx::Result<_>>()?,
        total: page.total,
        next: page.next,
        prev: page.prev,
    })
}

/// Change sets in the states `$1` (every state when empty).
const LISTED_FILTER: &str = "(cardinality($1::text[]) = 0 OR c.state::text = ANY($1))";

/// `size` + 1 rows of [`listed_page`]'s (the one more tells whether there is a next page).
async fn listed_rows(
    db: impl sqlx::PgExecutor<'_>,
    states: &[State],
    sort: &str,
    ascending: bool,
    cursor: &Cursor,
    size: usize,
) -> sqlx::Result<Vec<ListedRow>> {
    let expr = LIST_ORDERS
        .iter()
        .find(|(k, _)| *k == sort)
        .map(|(_, e)| *e)
        .unwrap_or(LIST_ORDERS[0].1);
    // Walking backwards ("before") reads the order reversed, then the page is turned back.
    let forward = !matches!(cursor, Cursor::Before(_));
    let (order, compare) = if ascending == forward {
        ("ASC", ">")
    } else {
        ("DESC", "<")
    };
    let after = match cursor {
        Cursor::First => String::new(),
        // Change sets are never deleted, so the cursor's row is always there to compare with.
        _ => format!(
            "AND ({expr}, -c.id) {compare} (SELECT {expr}, -c.id FROM change_sets c WHERE c.id = $2)"
        ),
    };
    let id: i64 = match cursor {
        Cursor::After(k) | Cursor::Before(k) => k.parse().unwrap_or(0),
        Cursor::First => 0,
    };
    let names: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
    let filter = LISTED_FILTER;
    let sql = format!(
        "SELECT c.id, c.title, c.state::text AS state, c.author_oid, c.author_name,
                jsonb_array_length(c.items) AS items, c.updated_at,
                c.purpose IS NOT DISTINCT FROM '{request}' AS request
         FROM change_sets c WHERE {filter} {after}
         ORDER BY {expr} {order}, -c.id {order} LIMIT {limit}",
        limit = size + 1,
        request = super::requests::PURPOSE,
    );
    sqlx::query_as(&sql)
        .bind(&names)
        .bind(id)
        .fetch_all(db)
        .await
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    id: i64,
    title: String,
    state: String,
    author_oid: Uuid,
    author_name: String,
    items: i32,
    updated_at: time::OffsetDateTime,
    request: bool,
}

impl ListedRow {
    /// A state this code does not know (a newer version's, or written by hand) is an error,
    /// as the checked queries make it, never a row left out.
    fn listed(self) -> sqlx::Result<Listed> {
        let state = State::parse(&self.state).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "state".into(),
            source: format!("invalid value {:?} for enum State", self.state).into(),
        })?;
        Ok(Listed {
            author_oid: self.author_oid,
            state,
            summary: crate::mappings::types::ChangeSetSummary {
                id: self.id,
                title: super::views::shown_title(self.id, &self.title),
                state: state.as_str().to_string(),
                author_name: self.author_name,
                items: self.items as usize,
                updated_at: crate::backend::catalog::queries::utc(self.updated_at),
                waits_on: None,
                waits_on_viewer: false,
                request: self.request,
            },
        })
    }
}

/// What a change set's items touch, judged against `state` (the desired state now): a role, a
/// group, and for a grant every group bound to its role (before or after the items), since
/// those are whose access it changes.
pub fn touches(items: &[ChangeItem], state: &DesiredState) -> Vec<String> {
    let after = state.apply(items).ok();
    let bound_to = |role: &RoleArn| -> Vec<String> {
        state
            .bindings
            .iter()
            .chain(after.iter().flat_map(|a| a.bindings.iter()))
            .filter(|b| &b.role == role)
            .map(|b| format!("group:{}/{}", b.group.source, b.group.object_id))
            .collect()
    };
    // Whatever changes what a group can reach conflicts with every other change to the same
    // role or group: a binding touches its role too, so "bind G → R" and "grant R a route"
    // approved separately can never combine into access no reviewer's diff showed.
    let mut keys: Vec<String> = items
        .iter()
        .flat_map(|i| match i {
            ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => vec![
                format!("role:{}", b.role),
                format!("group:{}/{}", b.group.source, b.group.object_id),
            ],
            // What a grant changes reaches groups only through its role. (Grants of other
            // roles on the same API combine into exactly what each diff showed; pushes to one
            // API are serialised at push time, not review time.)
            ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => {
                let mut keys = bound_to(&g.role);
                keys.push(format!("role:{}", g.role));
                keys
            }
            // A re-push changes nothing another change set could conflict with.
            ChangeItem::Repush(_) => Vec::new(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn grant_key(g: &Grant) -> String {
    format!("{}|{}", g.role, g.invoke_arn())
}

pub async fn save_items(db: &mut PgConnection, id: i64, items: &[ChangeItem]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE change_sets SET items = $2, touches = $3, updated_at = now() WHERE id = $1",
        id,
        Json(items) as _,
        // Informational: conflicts are judged again against the state of the moment.
        &touches(items, &DesiredState::default()),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_state(db: &mut PgConnection, id: i64, state: State) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE change_sets SET state = $2, updated_at = now() WHERE id = $1",
        id,
        state as State,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The current version; `lock` holds it until the transaction ends (one application at a time).
pub async fn version(db: &mut PgConnection, lock: bool) -> sqlx::Result<i64> {
    if lock {
        sqlx::query_scalar!("SELECT version FROM desired_state FOR UPDATE")
            .fetch_one(db)
            .await
    } else {
        sqlx::query_scalar!("SELECT version FROM desired_state")
            .fetch_one(db)
            .await
    }
}

pub async fn desired_state(db: &mut PgConnection) -> sqlx::Result<DesiredState> {
    let mut state = approved_rows(&mut *db).await?;
    state.catalog = super::routes::route_catalog(&mut *db).await?;
    Ok(state)
}

/// The bindings and grants, without the route catalog (which moves with syncs, not versions).
pub async fn approved_rows(db: &mut PgConnection) -> sqlx::Result<DesiredState> {
    // A row that does not decode is an error: an empty desired state would revoke everything.
    let bindings =
        sqlx::query_scalar!(r#"SELECT binding AS "binding: Json<Binding>" FROM bindings"#)
            .fetch_all(&mut *db)
            .await?;
    let grants = sqlx::query_scalar!(r#"SELECT grant_json AS "grant: Json<Grant>" FROM grants"#)
        .fetch_all(&mut *db)
        .await?;
    Ok(DesiredState {
        bindings: bindings.into_iter().map(|b| b.0).collect(),
        grants: grants.into_iter().map(|g| g.0).collect(),
        catalog: Default::default(),
    })
}

/// Writes the items into the desired state (already checked to apply) and moves the version.
pub async fn apply(
    db: &mut PgConnection,
    change_set: i64,
    items: &[ChangeItem],
) -> sqlx::Result<i64> {
    for item in items {
        match item {
            ChangeItem::AddBinding(b) => {
                sqlx::query!(
                    "INSERT INTO bindings (group_source, group_id, role_arn, binding, applied_by,
                                           principal_kind)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &b.group.source,
                    &b.group.object_id,
                    b.role.to_string(),
                    Json(b) as _,
                    change_set,
                    b.group.kind.as_str(),
                )
                .execute(&mut *db)
                .await?;
            }
            ChangeItem::RemoveBinding(b) => {
                sqlx::query!(
                    "DELETE FROM bindings WHERE group_source = $1 AND group_id = $2 AND role_arn = $3",
                    &b.group.source,
                    &b.group.object_id,
                    b.role.to_string(),
                )
                .execute(&mut *db)
                .await?;
            }
            ChangeItem::AddGrant(g) => {
                sqlx::query!(
                    "INSERT INTO grants (grant_key, role_arn, api_id, grant_json, applied_by)
                     VALUES ($1, $2, $3, $4, $5)",
                    grant_key(g),
                    g.role.to_string(),
                    g.api.api_id.as_str(),
                    Json(g) as _,
                    change_set,
                )
                .execute(&mut *db)
                .await?;
            }
            ChangeItem::RemoveGrant(g) => {
                sqlx::query!("DELETE FROM grants WHERE grant_key = $1", grant_key(g))
                    .execute(&mut *db)
                    .await?;
            }
            // Only the push acts on it.
            ChangeItem::Repush(_) => {}
        }
    }
    let version =
        sqlx::query_scalar!("UPDATE desired_state SET version = version + 1 RETURNING version")
            .fetch_one(&mut *db)
            .await?;
    sqlx::query!(
        "UPDATE change_sets SET applied_version = $2 WHERE id = $1",
        change_set,
        version,
    )
    .execute(&mut *db)
    .await?;
    Ok(version)
}

/// Change sets applied after `base` that touch anything `items` touch, both judged against
/// the desired state now (computed from their items, so change sets stored under older
/// conflict keys are judged by today's rules).
pub async fn conflicting(
    db: &mut PgConnection,
    base: i64,
    items: &[ChangeItem],
) -> sqlx::Result<Vec<(i64, String)>> {
    let now = desired_state(&mut *db).await?;
    conflicting_in(db, &now, base, items).await
}

/// As [`conflicting`], judged against `now` (the desired state as read once by a caller that
/// checks several change sets).
pub async fn conflicting_in(
    db: &mut PgConnection,
    now: &DesiredState,
    base: i64,
    items: &[ChangeItem],
) -> sqlx::Result<Vec<(i64, String)>> {
    let keys = touches(items, now);
    let rows = sqlx::query!(
        r#"SELECT id, title, items AS "items: Json<Vec<ChangeItem>>" FROM change_sets
           WHERE applied_version > $1 ORDER BY applied_version"#,
        base,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| touches(&r.items.0, now).iter().any(|k| keys.contains(k)))
        .map(|r| (r.id, r.title))
        .collect())
}

pub struct ReviewRow {
    pub reviewer_oid: Uuid,
    pub reviewer_name: String,
    pub decision: String,
    pub comment: String,
    pub at: OffsetDateTime,
}

pub async fn reviews(db: &mut PgConnection, id: i64) -> sqlx::Result<Vec<ReviewRow>> {
    sqlx::query_as!(
        ReviewRow,
        "SELECT reviewer_oid, reviewer_name, decision, comment, at FROM reviews
         WHERE change_set_id = $1 AND superseded_at IS NULL ORDER BY at",
        id,
    )
    .fetch_all(db)
    .await
}

/// Holds `author`'s edit lock until the transaction ends.
pub async fn lock_author(db: &mut PgConnection, author: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('draft:' || $1::text, 0))",
        author.to_string(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A change set Gatehouse writes itself (no person is its author): a time-bound change set's
/// revocation, or a review campaign's revokes.
pub struct SystemChangeSet<'a> {
    pub title: &'a str,
    pub justification: &'a str,
    pub state: crate::domain::change_set::State,
    /// Who the change set is written by, as people read it ("Gatehouse (access expiry)").
    pub author_name: &'a str,
    pub base_version: i64,
    pub items: &'a [ChangeItem],
    /// The state the items apply to, for the keys other change sets conflict on.
    pub against: &'a DesiredState,
    pub revokes: Option<i64>,
    pub campaign: Option<i64>,
}

pub async fn insert_system_change_set(
    db: &mut PgConnection,
    cs: SystemChangeSet<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO change_sets (title, justification, state, author_oid, author_name,
             base_version, items, touches, revokes_change_set_id, campaign_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(cs.title)
    .bind(cs.justification)
    .bind(cs.state.as_str())
    .bind(Uuid::nil())
    .bind(cs.author_name)
    .bind(cs.base_version)
    .bind(Json(cs.items))
    .bind(touches(cs.items, cs.against))
    .bind(cs.revokes)
    .bind(cs.campaign)
    .fetch_one(db)
    .await
}

pub async fn insert_draft(
    db: &mut PgConnection,
    author: Uuid,
    author_name: &str,
    base_version: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO change_sets (author_oid, author_name, base_version) VALUES ($1, $2, $3)
         RETURNING id",
        author,
        author_name,
        base_version,
    )
    .fetch_one(db)
    .await
}

pub async fn save_details(
    db: &mut PgConnection,
    id: i64,
    title: &str,
    justification: &str,
    ticket: Option<&str>,
    access_ends_at: Option<OffsetDateTime>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE change_sets SET title = $2, justification = $3, ticket = $4, access_ends_at = $5,
         updated_at = now() WHERE id = $1",
        id,
        title,
        justification,
        ticket,
        access_ends_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn insert_review(
    db: &mut PgConnection,
    id: i64,
    reviewer: Uuid,
    reviewer_name: &str,
    approve: bool,
    comment: &str,
    content_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO reviews (change_set_id, reviewer_oid, reviewer_name, decision, comment, content_hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        reviewer,
        reviewer_name,
        if approve { "approve" } else { "reject" },
        comment,
        content_hash,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many reviewers approved change set `id`.
pub async fn approvals(db: &mut PgConnection, id: i64) -> sqlx::Result<i64> {
    let n = sqlx::query_scalar!(
        "SELECT count(*) FROM reviews
         WHERE change_set_id = $1 AND decision = 'approve' AND superseded_at IS NULL",
        id,
    )
    .fetch_one(db)
    .await?;
    Ok(n.unwrap_or(0))
}

/// Supersedes the change set's current reviews (kept for the record); answers how many
/// approvals that cleared.
pub async fn supersede_reviews(db: &mut PgConnection, id: i64) -> sqlx::Result<i64> {
    let cleared = sqlx::query_scalar!(
        r#"WITH done AS (
             UPDATE reviews SET superseded_at = now()
             WHERE change_set_id = $1 AND superseded_at IS NULL RETURNING decision)
           SELECT count(*) FILTER (WHERE decision = 'approve') AS "n!" FROM done"#,
        id,
    )
    .fetch_one(db)
    .await?;
    Ok(cleared)
}

/// What a reviewer sees is computed from the items and the mappings version they are based on:
/// their hash names that content (sent with the review form, stored with the review).
pub fn content_hash(
    items: &[ChangeItem],
    base_version: i64,
    access_ends_at: Option<OffsetDateTime>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(items).expect("items serialise"));
    hash.update(format!("\nbase:{base_version}"));
    // Approval covers "until T": a different end is different content. (Without an end, the
    // hash is what it was before ends existed.)
    if let Some(end) = access_ends_at {
        hash.update(format!("\nends:{}", end.unix_timestamp()));
    }
    hex::encode(hash.finalize())
}

pub async fn set_base(db: &mut PgConnection, id: i64, version: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE change_sets SET base_version = $2, updated_at = now() WHERE id = $1",
        id,
        version,
    )
    .execute(db)
    .await?;
    Ok(())
}
