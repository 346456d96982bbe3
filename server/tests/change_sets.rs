//! The change-set workflow against real PostgreSQL: every transition, separation of duties,
//! stale bases and two reviewers approving at the same moment.

use crate::common;

use app::domain::{
    change_set::State,
    desired::ChangeItem,
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};
use common::{count, migrated_database, person};
use gatehouse::{
    audit::Actor,
    mappings::{
        store,
        workflow::{self, Details, WorkflowError},
    },
};
use sqlx::PgPool;

fn ada() -> Actor {
    person(1, "Ada Admin")
}
fn rita() -> Actor {
    person(2, "Rita Reviewer")
}
fn sam() -> Actor {
    person(3, "Sam Both")
}

fn grant(role: &str, path: &str) -> ChangeItem {
    ChangeItem::AddGrant(
        Grant::parse(&GrantInput {
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: path.into(),
        })
        .unwrap(),
    )
}

fn binding(group: &str, role: &str) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: GroupRef::group("file", group),
        role: RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{role}")).unwrap(),
    })
}

fn details(title: &str) -> Details {
    Details {
        title: title.into(),
        justification: "Orders team needs to read orders for the new dashboard.".into(),
        ticket: "CHG-1234".into(),
        ..Details::default()
    }
}

async fn draft(pool: &PgPool, author: &Actor, items: Vec<ChangeItem>, title: &str) -> i64 {
    let mut id = 0;
    for item in items {
        id = workflow::edit(pool, author, item).await.unwrap();
    }
    let state = workflow::save_details(pool, author, id, details(title), true)
        .await
        .unwrap();
    assert_eq!(state, State::Submitted);
    id
}

async fn state_of(pool: &PgPool, id: i64) -> State {
    let mut conn = pool.acquire().await.unwrap();
    store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap()
        .state
}

async fn version(pool: &PgPool) -> i64 {
    count(pool, "SELECT version FROM desired_state").await
}

fn refused(r: Result<impl std::fmt::Debug, WorkflowError>) -> String {
    match r {
        Err(WorkflowError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_change_set_goes_from_draft_to_applied_and_every_step_is_audited() {
    let pool = migrated_database().await;
    let id = workflow::edit(&pool, &ada(), binding("orders", "readers"))
        .await
        .unwrap();
    let same = workflow::edit(&pool, &ada(), grant("readers", "/orders"))
        .await
        .unwrap();
    assert_eq!(id, same, "edits land in the author's one draft");

    // Submitting needs a title and a justification, named field by field.
    let empty = Details {
        title: " ".into(),
        justification: "why".into(),
        ticket: "".into(),
        ..Details::default()
    };
    let Err(WorkflowError::Fields(fields)) =
        workflow::save_details(&pool, &ada(), id, empty, true).await
    else {
        panic!("fields expected")
    };
    let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
    assert_eq!(names, ["title", "justification"]);
    assert_eq!(state_of(&pool, id).await, State::Draft, "nothing changed");

    workflow::save_details(&pool, &ada(), id, details("Orders readers"), true)
        .await
        .unwrap();
    assert_eq!(state_of(&pool, id).await, State::Submitted);
    // Submitted change sets are not edited: a new edit starts a new draft.
    let next = workflow::edit(&pool, &ada(), grant("readers", "/health"))
        .await
        .unwrap();
    assert_ne!(next, id);

    // The author cannot approve, even holding the reviewer role too.
    let why = refused(workflow::review(&pool, &ada(), id, true, "", 1).await);
    assert!(why.contains("someone else"), "{why}");
    assert_eq!(
        workflow::review(&pool, &rita(), id, true, "Looks right.", 1)
            .await
            .unwrap(),
        State::Approved
    );
    assert_eq!(version(&pool).await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM bindings").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM grants").await, 1);
    let why = refused(workflow::review(&pool, &sam(), id, true, "", 1).await);
    assert!(why.contains("approved now"), "{why}");

    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE subject = $1 ORDER BY id")
            .bind(format!("change_set:{id}"))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "change_set.edited",
            "change_set.edited",
            "change_set.submitted",
            "change_set.approved",
            "change_set.applied"
        ]
    );
}

#[tokio::test]
async fn illegal_steps_are_refused_and_change_nothing() {
    let pool = migrated_database().await;
    let id = workflow::edit(&pool, &ada(), binding("orders", "readers"))
        .await
        .unwrap();
    let why = refused(workflow::review(&pool, &rita(), id, true, "", 1).await);
    assert!(why.contains("only submitted"), "{why}");
    let why = refused(workflow::withdraw(&pool, &rita(), id).await);
    assert!(why.contains("only its author"), "{why}");
    workflow::save_details(&pool, &ada(), id, details("Orders readers"), true)
        .await
        .unwrap();
    // Rejecting needs a reason; with one, the change set is rejected and stays so.
    let Err(WorkflowError::Fields(f)) = workflow::review(&pool, &rita(), id, false, "  ", 1).await
    else {
        panic!("a reason is required")
    };
    assert_eq!(f[0].0, "comment");
    assert_eq!(
        workflow::review(
            &pool,
            &rita(),
            id,
            false,
            "Use the readers group instead.",
            1
        )
        .await
        .unwrap(),
        State::Rejected
    );
    let why = refused(workflow::withdraw(&pool, &ada(), id).await);
    assert!(why.contains("rejected cannot be withdrawn"), "{why}");
    assert_eq!(version(&pool).await, 0);

    // Withdrawing a submitted change set.
    let other = draft(&pool, &ada(), vec![grant("readers", "/orders")], "Second").await;
    workflow::withdraw(&pool, &ada(), other).await.unwrap();
    assert_eq!(state_of(&pool, other).await, State::Withdrawn);
    // An edit that does not fit the mappings (removing what is not there) is refused.
    let missing = ChangeItem::RemoveGrant(match grant("readers", "/nowhere") {
        ChangeItem::AddGrant(g) => g,
        _ => unreachable!(),
    });
    let why = refused(workflow::edit(&pool, &ada(), missing).await);
    assert!(why.contains("has no grant"), "{why}");
}

#[tokio::test]
async fn an_author_removes_one_item_from_their_draft_and_nobody_else_can() {
    let pool = migrated_database().await;
    let id = workflow::edit(&pool, &ada(), grant("readers", "/orders"))
        .await
        .unwrap();
    workflow::edit(&pool, &ada(), grant("readers", "/health"))
        .await
        .unwrap();
    let why = refused(workflow::drop_item(&pool, &sam(), id, 0).await);
    assert!(why.contains("only its author"), "{why}");
    workflow::drop_item(&pool, &ada(), id, 0).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let left = store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap()
        .items;
    assert_eq!(left, vec![grant("readers", "/health")]);
    let why = refused(workflow::drop_item(&pool, &ada(), id, 5).await);
    assert!(why.contains("no longer in the change set"), "{why}");
}

#[tokio::test]
async fn each_reviewer_counts_once_toward_the_approvals_required() {
    let pool = migrated_database().await;
    let id = draft(
        &pool,
        &ada(),
        vec![grant("readers", "/orders")],
        "Two approvals",
    )
    .await;
    assert_eq!(
        workflow::review(&pool, &rita(), id, true, "", 2)
            .await
            .unwrap(),
        State::Submitted
    );
    let why = refused(workflow::review(&pool, &rita(), id, true, "", 2).await);
    assert!(why.contains("each person counts once"), "{why}");
    assert_eq!(
        workflow::review(&pool, &sam(), id, true, "", 2)
            .await
            .unwrap(),
        State::Approved
    );
}

#[tokio::test]
async fn a_stale_base_is_refused_until_rebased() {
    let pool = migrated_database().await;
    let first = draft(&pool, &ada(), vec![grant("readers", "/orders")], "First").await;
    let second = draft(&pool, &sam(), vec![grant("readers", "/health")], "Second").await;
    let unrelated = draft(
        &pool,
        &person(9, "Uma"),
        vec![grant("writers", "/orders")],
        "Unrelated",
    )
    .await;
    workflow::review(&pool, &rita(), first, true, "", 1)
        .await
        .unwrap();

    // Same role changed since "Second" was written: refused, and nothing moved.
    let why = refused(workflow::review(&pool, &rita(), second, true, "", 1).await);
    assert!(why.contains("First") && why.contains("rebase"), "{why}");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM reviews WHERE change_set_id = 2"
        )
        .await,
        0
    );
    assert_eq!(state_of(&pool, second).await, State::Submitted);
    // Another role: the older base does not matter.
    workflow::review(&pool, &rita(), unrelated, true, "", 1)
        .await
        .unwrap();

    workflow::rebase(&pool, &sam(), second).await.unwrap();
    assert_eq!(
        workflow::review(&pool, &rita(), second, true, "", 1)
            .await
            .unwrap(),
        State::Approved
    );
    assert_eq!(version(&pool).await, 3);

    // Items that no longer fit cannot be rebased.
    let dup = draft(&pool, &sam(), vec![grant("readers", "/orders2")], "Dup A").await;
    let dup2 = draft(
        &pool,
        &person(7, "Dee"),
        vec![grant("readers", "/orders2")],
        "Dup B",
    )
    .await;
    workflow::review(&pool, &rita(), dup, true, "", 1)
        .await
        .unwrap();
    let why = refused(workflow::rebase(&pool, &person(7, "Dee"), dup2).await);
    assert!(why.contains("may already call"), "{why}");
}

#[tokio::test]
async fn two_reviewers_approving_at_once_make_one_transition() {
    let pool = migrated_database().await;
    for round in 0..5 {
        let id = draft(
            &pool,
            &ada(),
            vec![grant("readers", &format!("/r{round}"))],
            "Race",
        )
        .await;
        let (r, s) = (rita(), sam());
        let (a, b) = tokio::join!(
            workflow::review(&pool, &r, id, true, "", 1),
            workflow::review(&pool, &s, id, true, "", 1),
        );
        let approved = [&a, &b]
            .iter()
            .filter(|r| matches!(r, Ok(State::Approved)))
            .count();
        assert_eq!(approved, 1, "{a:?} {b:?}");
        assert!(
            matches!(a, Err(WorkflowError::Refused(_)))
                || matches!(b, Err(WorkflowError::Refused(_)))
        );
        let reviews: i64 =
            sqlx::query_scalar("SELECT count(*) FROM reviews WHERE change_set_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(reviews, 1);
    }
    assert_eq!(version(&pool).await, 5);
}

/// A state or item the code does not know (written by a newer version, or by hand) is an error
/// when read, never a draft or an empty list.
#[tokio::test]
async fn an_unknown_state_or_unreadable_items_in_the_database_are_errors() {
    let pool = migrated_database().await;
    let id = workflow::edit(&pool, &ada(), grant("orders-reader", "/orders"))
        .await
        .unwrap();
    // A later migration might allow more states; this code must not read them as another.
    sqlx::query("ALTER TABLE change_sets DROP CONSTRAINT change_sets_state_check")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE change_sets SET state = 'frozen' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let read = store::change_set(&mut conn, id, false).await;
    assert!(
        matches!(read, Err(sqlx::Error::ColumnDecode { ref source, .. })
            if source.to_string().contains("invalid value \"frozen\" for enum State")),
        "{read:?}"
    );
    assert!(store::listed(&pool, &[], 10).await.is_err());
    // Acting on it is a failure of Gatehouse's, not a refusal as if it were in some state.
    let submit = workflow::save_details(&pool, &ada(), id, details("Frozen"), true).await;
    assert!(
        matches!(submit, Err(WorkflowError::Database(_))),
        "{submit:?}"
    );

    sqlx::query(
        "UPDATE change_sets SET state = 'draft', items = '[{\"Nonsense\": 1}]' WHERE id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let read = store::change_set(&mut conn, id, false).await;
    assert!(
        matches!(read, Err(sqlx::Error::ColumnDecode { ref index, .. }) if index == "9"),
        "{read:?}"
    );
}

/// "Bind G → R" and "grant R a route", each reviewed alone, would give G a route no reviewer's
/// diff showed: whichever is approved second is refused as stale, in both orders.
#[tokio::test]
async fn a_binding_and_a_grant_on_one_role_approved_apart_make_the_second_stale() {
    for binding_first in [true, false] {
        let pool = migrated_database().await;
        let bind = draft(&pool, &ada(), vec![binding("orders", "readers")], "Bind").await;
        let route = draft(&pool, &sam(), vec![grant("readers", "/orders")], "Grant").await;
        let (first, second) = if binding_first {
            (bind, route)
        } else {
            (route, bind)
        };
        assert_eq!(
            workflow::review(&pool, &rita(), first, true, "", 1)
                .await
                .unwrap(),
            State::Approved
        );
        let why = refused(workflow::review(&pool, &rita(), second, true, "", 1).await);
        assert!(why.contains("rebase"), "{why}");
        assert_eq!(state_of(&pool, second).await, State::Submitted);
        // Another group bound to another role is no conflict.
        let other = draft(
            &pool,
            &person(9, "Uma"),
            vec![binding("finance", "writers")],
            "Other",
        )
        .await;
        assert_eq!(
            workflow::review(&pool, &rita(), other, true, "", 1)
                .await
                .unwrap(),
            State::Approved
        );
    }
}

/// What a reviewer approves is what they were shown: an approval sent with the content hash of
/// an earlier version is refused, and a rebase clears the approvals given before it.
#[tokio::test]
async fn approvals_hold_only_for_the_content_reviewed_and_a_rebase_clears_them() {
    let pool = migrated_database().await;
    let id = draft(&pool, &ada(), vec![grant("readers", "/orders")], "Readers").await;
    let row = |pool: PgPool| async move {
        let mut conn = pool.acquire().await.unwrap();
        store::change_set(&mut conn, id, false)
            .await
            .unwrap()
            .unwrap()
    };
    let cs = row(pool.clone()).await;
    let seen = store::content_hash(&cs.items, cs.base_version, cs.access_ends_at);
    // Two approvals needed; Rita gives the first, on what she saw.
    assert_eq!(
        workflow::review_seen(&pool, &rita(), id, true, "", 2, Some(&seen))
            .await
            .unwrap(),
        State::Submitted
    );
    // Meanwhile another change set changes the same role; the author rebases.
    let other = draft(&pool, &sam(), vec![grant("readers", "/health")], "Other").await;
    workflow::review(&pool, &person(4, "Rob"), other, true, "", 1)
        .await
        .unwrap();
    workflow::rebase(&pool, &ada(), id).await.unwrap();
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT count(*) FROM reviews WHERE change_set_id = {id} AND superseded_at IS NULL"
            )
        )
        .await,
        0,
        "the rebase cleared Rita's approval"
    );
    // A second reviewer who loaded the page before the rebase is refused; nothing is recorded.
    let why = refused(
        workflow::review_seen(&pool, &person(4, "Rob"), id, true, "", 2, Some(&seen)).await,
    );
    assert!(why.contains("changed since you opened it"), "{why}");
    // Reviewing what it holds now: Rita may approve again, and two fresh approvals apply it.
    let cs = row(pool.clone()).await;
    let now = store::content_hash(&cs.items, cs.base_version, cs.access_ends_at);
    assert_ne!(now, seen);
    for (reviewer, state) in [
        (rita(), State::Submitted),
        (person(4, "Rob"), State::Approved),
    ] {
        assert_eq!(
            workflow::review_seen(&pool, &reviewer, id, true, "", 2, Some(&now))
                .await
                .unwrap(),
            state
        );
    }
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT content_hash FROM reviews WHERE change_set_id = $1 AND superseded_at IS NULL LIMIT 1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored.as_deref(), Some(now.as_str()));
}

/// A double click on the first "Add": edits that arrive at once make one draft between them,
/// with every item, and no error.
#[tokio::test]
async fn simultaneous_first_edits_make_one_draft() {
    let pool = migrated_database().await;
    // Connections open and the edits released together, so they truly overlap.
    let mut open = Vec::new();
    for _ in 0..8 {
        open.push(pool.acquire().await.unwrap());
    }
    drop(open);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let edits = (0..8).map(|n| {
        let (pool, start) = (pool.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            workflow::edit(&pool, &ada(), grant("readers", &format!("/orders{n}"))).await
        })
    });
    let ids: Vec<i64> = futures_util::future::join_all(edits)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(count(&pool, "SELECT count(*) FROM change_sets").await, 1);
    let mut conn = pool.acquire().await.unwrap();
    let draft = store::change_set(&mut conn, ids[0], false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.items.len(), 8);
}

#[tokio::test]
async fn a_rollback_or_a_drift_resolution_gets_a_change_set_of_its_own() {
    let pool = migrated_database().await;
    let applied = draft(
        &pool,
        &ada(),
        vec![binding("orders-team", "readers")],
        "Bind",
    )
    .await;
    workflow::review(&pool, &rita(), applied, true, "ok", 1)
        .await
        .unwrap();
    // An unrelated edit waits in Ada's general draft.
    let general = workflow::edit(&pool, &ada(), grant("writers", "/orders"))
        .await
        .unwrap();
    let revert = workflow::Purpose {
        key: "drift-revert:role/readers".into(),
        title: "Revert drift on readers".into(),
    };
    let adopt = workflow::Purpose {
        key: "drift-adopt:role/readers".into(),
        title: "Adopt drift on readers".into(),
    };
    let reverting = workflow::edit_for(&pool, &ada(), &revert, vec![grant("readers", "/a")])
        .await
        .unwrap();
    let adopting = workflow::edit_for(&pool, &ada(), &adopt, vec![grant("readers", "/b")])
        .await
        .unwrap();
    assert!(reverting != general && adopting != general && reverting != adopting);
    // The same purpose again reuses its draft; the general draft still takes plain edits.
    let again = workflow::edit_for(&pool, &ada(), &revert, vec![grant("readers", "/c")])
        .await
        .unwrap();
    assert_eq!(again, reverting);
    assert_eq!(
        workflow::edit(&pool, &ada(), grant("writers", "/health"))
            .await
            .unwrap(),
        general
    );
    let mut conn = pool.acquire().await.unwrap();
    let cs = store::change_set(&mut conn, reverting, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cs.title, "Revert drift on readers");
    assert_eq!(
        cs.items,
        vec![grant("readers", "/a"), grant("readers", "/c")]
    );
    // A rollback whose items do not all fit lands nothing.
    let rollback = workflow::Purpose {
        key: format!("rollback:{applied}"),
        title: format!("Roll back change set {applied}"),
    };
    let both = vec![
        binding("orders-team", "readers").opposite(),
        binding("nobody", "readers").opposite(),
    ];
    let err = refused(workflow::edit_for(&pool, &ada(), &rollback, both).await);
    assert!(err.contains("does not fit"), "{err}");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM change_sets WHERE title LIKE 'Roll back%'"
        )
        .await,
        0
    );
}

/// The directory of the owner tests: group "Orders owners" holds group "Orders leads", which
/// holds Sam (person 3); Rita (person 2) is in neither. API a1b2c3d4e5 is "orders".
async fn owners_directory(pool: &PgPool) {
    for sql in [
        "INSERT INTO rest_apis (target, api_id, name, snapshot, tags) VALUES ('123456789012/us-east-1', 'a1b2c3d4e5', 'orders', '{}', '{\"team\": \"commerce\"}')",
        "INSERT INTO directory_groups (source, object_id, display_name, directory_ref) VALUES
            ('file', 'orders-owners', 'Orders owners', 'orders-owners'),
            ('file', 'orders-leads', 'Orders leads', 'orders-leads'),
            ('file', 'twin-a', 'Twins', 'twin-a'), ('file', 'twin-b', 'Twins', 'twin-b')",
        "INSERT INTO directory_memberships (source, group_id, member_id, member_kind) VALUES
            ('file', 'orders-owners', 'orders-leads', 'group'),
            ('file', 'orders-leads', '00000000-0000-0000-0000-000000000003', 'person')",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}

#[tokio::test]
async fn a_change_set_touching_an_owned_api_waits_for_an_owner_approval() {
    use gatehouse::owners::{self, SetError};
    let pool = migrated_database().await;
    owners_directory(&pool).await;
    // Naming the owners: a group that is not there, a name two groups share, an API that is not
    // there or a tag the API does not carry is refused next to its field and sets nothing.
    for (api, scope, typed, field, why) in [
        (
            "a1b2c3d4e5",
            "api",
            "Orders ownrs",
            "group",
            "No directory group is named",
        ),
        (
            "a1b2c3d4e5",
            "api",
            "twins",
            "group",
            "Several directory groups are named",
        ),
        (
            "zzzzzzzzzz",
            "api",
            "Orders owners",
            "group",
            "no API zzzzzzzzzz",
        ),
        (
            "a1b2c3d4e5",
            "tag:team=finance",
            "Orders owners",
            "scope",
            "does not carry the tag team=finance",
        ),
    ] {
        match owners::set(&pool, &ada(), api, scope, typed).await {
            Err(SetError::Field(f, e)) => {
                assert_eq!(f, field, "{typed}");
                assert!(e.contains(why), "{typed}: {e}");
            }
            other => panic!("{typed}: {other:?}"),
        }
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM api_owners").await, 0);
    // Owners named for the API's tag own it (and every API with that tag).
    let owners = owners::set(
        &pool,
        &ada(),
        "a1b2c3d4e5",
        "tag:team=commerce",
        "orders owners",
    )
    .await
    .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].group_name, "Orders owners");
    assert_eq!(owners[0].tag.as_deref(), Some("team=commerce"));

    // A grant on the owned API: Rita's approval is one of one required, but no owner's.
    let id = draft(
        &pool,
        &ada(),
        vec![grant("orders-readers", "/orders")],
        "Read orders",
    )
    .await;
    let state = workflow::review(&pool, &rita(), id, true, "fine by me", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Submitted, "approved without an owner");
    assert_eq!(version(&pool).await, 0, "applied without an owner");
    // Sam owns it through a nested group: his approval completes it.
    let state = workflow::review(&pool, &sam(), id, true, "owner ok", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Approved);
    let decisions: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'change_set.approved' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(decisions[0]["owners_missing"], "orders (Orders owners)");
    let by = decisions[1]["owners"][0]["approved_by"].as_str().unwrap();
    assert!(by.starts_with("Sam Both"), "{by}");
    assert!(decisions[1]["owners_missing"].is_null());

    // Binding a group to the role that calls orders changes who may call it: owners again. A
    // second owner group named for the API itself: a member of either may approve.
    owners::set(&pool, &ada(), "a1b2c3d4e5", "api", "Twins")
        .await
        .unwrap_err();
    let owners = owners::set(&pool, &ada(), "a1b2c3d4e5", "api", "twin-a")
        .await
        .unwrap();
    assert_eq!(owners.len(), 2);
    let id = draft(
        &pool,
        &ada(),
        vec![binding("support", "orders-readers")],
        "Support reads",
    )
    .await;
    let state = workflow::review(&pool, &rita(), id, true, "ok", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Submitted);
    let mut conn = pool.acquire().await.unwrap();
    let items = store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap()
        .items;
    let checks = owners::for_change_set(&mut conn, id, &items).await.unwrap();
    assert_eq!(
        owners::missing(&checks).as_deref(),
        Some("orders (Twins or Orders owners)")
    );
    drop(conn);
    // Without owners, one approval is enough again.
    for scope in ["api", "tag:team=commerce"] {
        assert!(owners::set(&pool, &ada(), "a1b2c3d4e5", scope, "")
            .await
            .is_ok());
    }
    let other = draft(
        &pool,
        &ada(),
        vec![grant("orders-writers", "/orders")],
        "Write",
    )
    .await;
    let state = workflow::review(&pool, &rita(), other, true, "ok", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Approved);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE 'api.owner%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "api.owner_set",
            "api.owner_set",
            "api.owner_cleared",
            "api.owner_cleared"
        ]
    );
}
