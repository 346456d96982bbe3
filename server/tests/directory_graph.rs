//! Directory groups from Microsoft Graph, against an HTTP fake that speaks Graph's wire format:
//! pages, delta rounds with `members@delta`, expired delta links, throttling, errors, stored
//! memberships checked against Graph's own transitive members, and a person's groups.

use crate::common;

use std::sync::Arc;

use app::catalog::types::Cursor;
use common::{graph_fake::*, *};
use gatehouse::{
    audit::Actor,
    catalog::{group_queries, queries, Catalog, SyncError, SyncRequest, Syncer},
    directory::{graph::GraphDirectory, membership, Directory},
};

fn group(id: &str, name: &str, members: &[&str], nested: &[&str]) -> FakeGroup {
    FakeGroup {
        id: id.into(),
        display_name: name.into(),
        description: Some(format!("About {name}")),
        mail: Some(format!(
            "{}@contoso.test",
            name.to_lowercase().replace(' ', "-")
        )),
        members: members.iter().map(|m| m.to_string()).collect(),
        nested: nested.iter().map(|n| n.to_string()).collect(),
    }
}

const A: &str = "0a000000-0000-4000-8000-000000000001";
const B: &str = "0b000000-0000-4000-8000-000000000002";
const C: &str = "0c000000-0000-4000-8000-000000000003";
const D: &str = "0d000000-0000-4000-8000-000000000004";
const E: &str = "0e000000-0000-4000-8000-000000000005";
const F: &str = "0f000000-0000-4000-8000-000000000006";
const ADA: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const GRACE: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const LINUS: &str = "aaaaaaaa-0000-4000-8000-000000000003";

/// A tenant of five groups (B nests C, C nests D) served two to a page: three pages.
async fn tenant() -> GraphFake {
    let fake = GraphFake::start().await;
    fake.add_user(ADA, "Ada Lovelace");
    fake.add_user(GRACE, "Grace Hopper");
    fake.add_user(LINUS, "Linus Torvalds");
    fake.add_group(group(A, "Accounting", &[ADA], &[]));
    fake.add_group(group(B, "Billing engineers", &[GRACE], &[C]));
    fake.add_group(group(C, "Billing on-call", &[], &[D]));
    fake.add_group(group(D, "Database admins", &[LINUS], &[]));
    fake.add_group(group(E, "Everyone", &[ADA, GRACE, LINUS], &[]));
    fake.set_page_size(2);
    fake
}

async fn syncer(fake: &GraphFake) -> (Syncer, sqlx::PgPool) {
    let pool = migrated_database().await;
    let graph = Arc::new(GraphDirectory::new(fake.settings()).unwrap());
    let directory = Some(Arc::new(Directory::Graph(graph)));
    let aws = gatehouse::config::ServeArgs::default().aws().unwrap();
    (Syncer::new(pool.clone(), &aws, directory).await, pool)
}

async fn sync(s: &Syncer) -> Result<(i32, i32, i32), SyncError> {
    let o = s.sync(&Actor::system("test"), Catalog::Groups).await?;
    Ok((o.counts.added, o.counts.changed, o.counts.removed))
}

async fn names(pool: &sqlx::PgPool) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT display_name, deleted_at IS NOT NULL FROM directory_groups ORDER BY object_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_full_listing_follows_next_links_then_delta_rounds_bring_changes() {
    let fake = tenant().await;
    let (s, pool) = syncer(&fake).await;

    assert_eq!(sync(&s).await.unwrap(), (5, 0, 0));
    let listed: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("/v1.0/groups/delta?"))
        .collect();
    assert_eq!(
        listed.len(),
        3,
        "three pages of a first delta round: {listed:#?}"
    );
    assert!(listed[0].contains("members") && !listed[0].contains("skiptoken"));
    assert!(
        !listed[0].contains("deltatoken"),
        "a first round has no token"
    );
    assert!(listed[1..].iter().all(|r| r.contains("$skiptoken=RFNwdA")));
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.contains("/v1.0/users/delta?")),
        "people come from their own delta round"
    );

    // In the directory: one group added, one renamed, one removed.
    fake.add_group(group(F, "Finance", &[ADA], &[]));
    fake.rename_group(B, "Billing platform engineers");
    fake.remove_group(C);
    let before = fake.requests().len();
    assert_eq!(sync(&s).await.unwrap(), (1, 1, 1));
    let round: Vec<String> = fake.requests()[before..].to_vec();
    assert!(
        round
            .iter()
            .all(|r| r.contains("/delta?") && r.contains("$deltatoken=v")),
        "only the stored delta links are followed: {round:#?}"
    );
    assert_eq!(
        names(&pool).await,
        [
            ("Accounting".into(), false),
            ("Billing platform engineers".into(), false),
            ("Billing on-call".into(), true),
            ("Database admins".into(), false),
            ("Everyone".into(), false),
            ("Finance".into(), false),
        ]
    );
    let description: Option<String> =
        sqlx::query_scalar("SELECT description FROM directory_groups WHERE object_id = $1")
            .bind(B)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        description.as_deref(),
        Some("About Billing engineers"),
        "a rename leaves the fields the delta left out"
    );
    let deleted_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT deleted_at FROM directory_groups WHERE object_id = $1")
            .bind(C)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        deleted_at.is_some(),
        "removed groups keep the time they went"
    );

    assert_eq!(sync(&s).await.unwrap(), (0, 0, 0), "nothing changed");

    // Graph forgot the delta token (410): a full listing, which finds nothing new.
    fake.forget_delta_tokens();
    let before = fake.requests().len();
    assert_eq!(sync(&s).await.unwrap(), (0, 0, 0));
    assert!(fake.requests()[before..]
        .iter()
        .any(|r| r.contains("/v1.0/groups/delta?") && !r.contains("deltatoken")));

    let runs = queries::sync_runs(&pool, 10).await.unwrap();
    assert_eq!(runs.len(), 4);
    assert!(runs
        .iter()
        .all(|r| r.catalog == "groups" && r.error.is_none()));
}

#[tokio::test]
async fn throttled_pages_are_retried_after_the_wait_graph_asks_for() {
    let fake = tenant().await;
    let (s, pool) = syncer(&fake).await;
    fake.throttle_next(2, Some(1));
    let started = std::time::Instant::now();
    assert_eq!(sync(&s).await.unwrap(), (5, 0, 0));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "waited Retry-After twice"
    );
    // Without Retry-After the client backs off on its own, and still gets through.
    fake.rename_group(A, "Accounts");
    fake.throttle_next(2, None);
    assert_eq!(sync(&s).await.unwrap(), (0, 1, 0));
    assert_eq!(names(&pool).await[0].0, "Accounts");
}

#[tokio::test]
async fn an_error_page_fails_the_run_and_changes_nothing() {
    let fake = tenant().await;
    let (s, pool) = syncer(&fake).await;
    assert_eq!(sync(&s).await.unwrap(), (5, 0, 0));
    fake.rename_group(A, "Renamed but never stored");
    fake.remove_group(E);
    fake.fail_next(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );
    let Err(SyncError::Failed { run_id, message }) = sync(&s).await else {
        panic!("the run should fail")
    };
    assert!(
        message.contains("403") && message.contains("Authorization_RequestDenied"),
        "{message}"
    );
    let run = queries::sync_run(&pool, run_id).await.unwrap();
    assert!(run.error.is_some() && run.finished_at.is_some());
    assert_eq!(names(&pool).await[0].0, "Accounting");
    assert!(names(&pool).await.iter().all(|(_, deleted)| !deleted));
    // The delta link did not move: the next run brings both changes.
    assert_eq!(sync(&s).await.unwrap(), (0, 1, 1));

    // Throttled past the attempts allowed: a clear failure, not a hang.
    fake.throttle_next(10, Some(0));
    let Err(SyncError::Failed { message, .. }) = sync(&s).await else {
        panic!("should give up")
    };
    assert!(
        message.contains("429") && message.contains("TooManyRequests"),
        "{message}"
    );
}

#[tokio::test]
async fn wrong_graph_credentials_are_named() {
    let fake = tenant().await;
    let pool = migrated_database().await;
    let mut settings = fake.settings();
    settings.client_secret = gatehouse::config::Secret::new("wrong".into());
    let graph = Arc::new(GraphDirectory::new(settings).unwrap());
    let aws = gatehouse::config::ServeArgs::default().aws().unwrap();
    let s = Syncer::new(pool, &aws, Some(Arc::new(Directory::Graph(graph)))).await;
    let Err(SyncError::Failed { message, .. }) = sync(&s).await else {
        panic!("should fail")
    };
    assert!(message.contains("AADSTS7000215"), "{message}");
}

#[tokio::test]
async fn a_group_shows_its_transitive_members_a_page_at_a_time() {
    let fake = tenant().await;
    // B nests C, which nests D: Grace directly, Linus through two levels.
    let (s, pool) = syncer(&fake).await;
    sync(&s).await.unwrap();
    let detail = group_queries::group_detail(&pool, "graph", B, &Cursor::First)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.nested_groups, 2);
    assert!(detail.members_as_of.is_some());
    let members = detail.members.unwrap();
    let names: Vec<(&str, Vec<String>)> = members
        .items
        .iter()
        .map(|m| (m.display_name.as_str(), m.via.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("Grace Hopper", vec![]),
            (
                "Linus Torvalds",
                vec!["Billing on-call".into(), "Database admins".into()]
            )
        ],
        "each person with the path of nested groups that brings them in"
    );
    assert_eq!(members.total, 2);

    // 120 members, Graph paging them 2 at a time: Gatehouse pages them 50 at a time.
    let many: Vec<String> = (0..120)
        .map(|i| format!("bbbbbbbb-0000-4000-8000-{i:012}"))
        .collect();
    for (i, id) in many.iter().enumerate() {
        fake.add_user(id, &format!("Member {i:03}"));
    }
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    fake.add_group(group(F, "Finance", &refs, &[]));
    sync(&s).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = Cursor::First;
    loop {
        let page = group_queries::group_detail(&pool, "graph", F, &cursor)
            .await
            .unwrap()
            .unwrap()
            .members
            .unwrap();
        assert_eq!(page.total, 120);
        seen.extend(page.items.iter().map(|m| m.display_name.clone()));
        match page.next {
            Some(next) => cursor = Cursor::After(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    assert_eq!(seen[0], "Member 000");
    assert_eq!(seen[119], "Member 119");
    // Pages read the stored memberships: Graph is never asked while someone browses.
    assert!(!fake
        .requests()
        .iter()
        .any(|r| r.contains("transitiveMembers")));
}

/// Each group's people from the stored graph, next to Graph's own `transitiveMembers`.
async fn compare_with_graph(pool: &sqlx::PgPool, directory: &Directory, groups: &[&str]) {
    for group in groups {
        let stored = membership::transitive_people(pool, "graph", group)
            .await
            .unwrap();
        let mut graph: Vec<String> = directory
            .transitive_members(group)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        graph.sort();
        assert_eq!(stored, graph, "group {group}");
    }
}

#[tokio::test]
async fn stored_memberships_match_graphs_transitive_members_and_deltas_keep_them_so() {
    let fake = tenant().await;
    let (s, pool) = syncer(&fake).await;
    let directory = s.directory.clone().unwrap();
    let all = [A, B, C, D, E];
    sync(&s).await.unwrap();
    compare_with_graph(&pool, &directory, &all).await;
    let edges: i64 = sqlx::query_scalar("SELECT count(*) FROM directory_memberships")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(edges, 8, "direct edges only: 6 people and 2 nested groups");

    // A delta round: Linus leaves Database admins, Grace joins Accounting, C stops nesting D.
    fake.remove_member(D, LINUS);
    fake.add_member(A, GRACE);
    fake.remove_member(C, D);
    let o = s
        .sync(&Actor::system("test"), Catalog::Groups)
        .await
        .unwrap();
    let report = o.directory.unwrap();
    assert!(!report.full, "a delta round");
    assert_eq!(
        (report.memberships_added, report.memberships_removed),
        (1, 2)
    );
    compare_with_graph(&pool, &directory, &all).await;
    let b = membership::transitive_people(&pool, "graph", B)
        .await
        .unwrap();
    assert_eq!(
        b,
        [GRACE],
        "Linus is gone from B with both the edge and the nesting"
    );

    // A person deleted from the directory leaves every group.
    fake.remove_user(ADA);
    sync(&s).await.unwrap();
    compare_with_graph(&pool, &directory, &all).await;
    let e = membership::transitive_people(&pool, "graph", E)
        .await
        .unwrap();
    assert_eq!(e, [GRACE, LINUS]);
}

#[tokio::test]
async fn an_expired_delta_link_leads_to_a_full_listing_in_the_same_run() {
    let fake = tenant().await;
    let (s, pool) = syncer(&fake).await;
    sync(&s).await.unwrap();
    // Past seven days Graph answers 400 syncStateNotFound, not 410.
    fake.expire_delta_tokens();
    fake.rename_group(A, "Accounts payable");
    fake.add_member(E, "aaaaaaaa-0000-4000-8000-000000000009");
    fake.add_user("aaaaaaaa-0000-4000-8000-000000000009", "Margaret Hamilton");
    let before = fake.requests().len();
    let o = s
        .sync(&Actor::system("test"), Catalog::Groups)
        .await
        .unwrap();
    assert_eq!(
        (o.counts.added, o.counts.changed, o.counts.removed),
        (0, 1, 0)
    );
    let report = o.directory.unwrap();
    assert!(report.full);
    let reason = report.resynced.unwrap();
    assert!(reason.contains("400 syncStateNotFound"), "{reason}");
    let round = fake.requests()[before..].to_vec();
    assert!(
        round.iter().any(|r| r.contains("$deltatoken=v")),
        "the stored link first"
    );
    assert!(
        round
            .iter()
            .any(|r| r.contains("/groups/delta?") && !r.contains("deltatoken")),
        "then a first round, in the same run: {round:#?}"
    );
    let e = membership::transitive_people(&pool, "graph", E)
        .await
        .unwrap();
    assert_eq!(e.len(), 4, "the full listing brought the new member");
    let run = queries::sync_run(&pool, o.run_id).await.unwrap();
    assert!(run.error.is_none());
    let details = run.details.unwrap();
    assert!(
        details
            .summary()
            .contains("full resync: Graph answered 400"),
        "{}",
        details.summary()
    );
    let status = membership::status(&pool, "graph").await.unwrap();
    assert_eq!(status.full_resyncs, 1, "counted for the Sync page");
    assert_eq!(
        (status.groups, status.people, status.memberships),
        (5, 4, 9)
    );
    assert!(status.memberships_synced_at.is_some() && status.last_full_sync_at.is_some());

    // The next run follows the new link; a forced full resync lists everything again.
    let o = s
        .sync(&Actor::system("test"), Catalog::Groups)
        .await
        .unwrap();
    assert!(!o.directory.unwrap().full);
    let forced = SyncRequest {
        full: true,
        ..Default::default()
    };
    let before = fake.requests().len();
    let o = s
        .sync_with(&Actor::system("test"), Catalog::Groups, forced)
        .await
        .unwrap();
    let report = o.directory.unwrap();
    assert!(report.full && report.resynced.is_none());
    assert!(!fake.requests()[before..]
        .iter()
        .any(|r| r.contains("deltatoken=v")));
}

#[tokio::test]
async fn a_persons_groups_come_from_get_member_groups_or_transitive_member_of() {
    let fake = tenant().await;
    let graph = GraphDirectory::new(fake.settings()).unwrap();
    let mut groups = graph.member_groups(LINUS).await.unwrap();
    groups.sort();
    assert_eq!(groups, [B, C, D, E], "nested groups count");
    fake.too_many_groups_for(LINUS);
    let mut fallback = graph.member_groups(LINUS).await.unwrap();
    fallback.sort();
    assert_eq!(fallback, groups);
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.contains("transitiveMemberOf/microsoft.graph.group")));
}

#[tokio::test]
async fn group_pages_walk_forwards_and_backwards_and_search() {
    let fake = tenant().await;
    fake.generate_groups(130);
    fake.set_page_size(999);
    let (s, pool) = syncer(&fake).await;
    assert_eq!(sync(&s).await.unwrap(), (135, 0, 0));
    let first = group_queries::list_groups(&pool, &Default::default(), "", &Cursor::First)
        .await
        .unwrap();
    assert_eq!((first.total, first.items.len()), (135, 50));
    assert!(first.prev.is_none());
    let second = group_queries::list_groups(
        &pool,
        &Default::default(),
        "",
        &Cursor::After(first.next.clone().unwrap()),
    )
    .await
    .unwrap();
    let back = group_queries::list_groups(
        &pool,
        &Default::default(),
        "",
        &Cursor::Before(second.prev.clone().unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(
        back.items, first.items,
        "previous goes back to the same page"
    );
    assert!(back.prev.is_none());
    let by_mail =
        group_queries::list_groups(&pool, &Default::default(), "generated-7@", &Cursor::First)
            .await
            .unwrap();
    assert_eq!(by_mail.total, 1);
    let by_id = group_queries::list_groups(&pool, &Default::default(), D, &Cursor::First)
        .await
        .unwrap();
    assert_eq!(by_id.items[0].display_name, "Database admins");
    let literal = group_queries::list_groups(&pool, &Default::default(), "%", &Cursor::First)
        .await
        .unwrap();
    assert_eq!(literal.total, 0, "% is searched for, not a wildcard");
}
