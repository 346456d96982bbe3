//! Directory groups from a real Active Directory: a Samba AD domain controller provisioned for
//! this test run, listening on 127.0.0.1:389, with nested groups, primary groups, and a group
//! filter that matches nothing (the mass-removal guard). One test: one domain controller.

use crate::common;

use std::{
    collections::HashSet,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use app::catalog::types::Cursor;
use common::migrated_database;
use gatehouse::{
    audit::Actor,
    catalog::{group_queries, queries, Catalog, SyncError, SyncRequest, Syncer},
    config::Secret,
    directory::{
        ldap::{LdapDirectory, LdapSettings},
        membership, Directory,
    },
};
use ldap3::LdapConnAsync;

const BASE: &str = "DC=example,DC=test";
const USERS: &str = "CN=Users,DC=example,DC=test";
const ADMIN_DN: &str = "CN=Administrator,CN=Users,DC=example,DC=test";
const PASSWORD: &str = "Gatehouse-Test-1!";

/// A Samba AD DC in a throwaway folder; stopped (its whole process group) when dropped.
struct Samba {
    child: Child,
    dir: PathBuf,
}

impl Drop for Samba {
    fn drop(&mut self) {
        // Its own process group (see start_samba), so this stops samba's children and nothing else.
        let pgid = self.child.id() as libc::pid_t;
        if pgid > 1 {
            unsafe { libc::killpg(pgid, libc::SIGTERM) };
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("samba-tool runs (apt-get install samba winbind)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn start_samba() -> Samba {
    let dir = std::env::temp_dir().join(format!("gatehouse-samba-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run(Command::new("samba-tool").args([
        "domain",
        "provision",
        &format!("--targetdir={}", dir.display()),
        "--realm=EXAMPLE.TEST",
        "--domain=EXAMPLE",
        "--server-role=dc",
        "--dns-backend=NONE",
        &format!("--adminpass={PASSWORD}"),
        "--host-name=dc1",
        "--use-rfc2307",
        "--option=interfaces=lo",
        "--option=bind interfaces only=yes",
    ]));
    // Only the LDAP service (the others take fixed and dynamic ports that other tests' sockets
    // may hold), and simple binds over plain LDAP, for the test only (production uses ldaps or
    // StartTLS).
    let conf = dir.join("etc/smb.conf");
    let text: String = std::fs::read_to_string(&conf)
        .unwrap()
        .lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with("server services") => "\tserver services = ldap".to_string(),
            "[global]" => format!(
                "[global]\n\tldap server require strong auth = no\n\tpid directory = {}",
                dir.display()
            ),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&conf, text).unwrap();
    let log = std::fs::File::create(dir.join("samba.log")).unwrap();
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new("samba")
            .args(["-s", conf.to_str().unwrap(), "-i"])
            // Never the terminal's stdin: samba in the foreground reads it.
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("samba starts")
    };
    let mut samba = Samba { child, dir };
    for _ in 0..300 {
        if let Ok(Some(status)) = samba.child.try_wait() {
            let log = std::fs::read_to_string(samba.dir.join("samba.log")).unwrap_or_default();
            panic!("samba stopped ({status}):\n{log}");
        }
        if let Ok((conn, mut ldap)) = LdapConnAsync::new("ldap://127.0.0.1:389").await {
            ldap3::drive!(conn);
            if ldap
                .simple_bind(ADMIN_DN, PASSWORD)
                .await
                .and_then(|r| r.success())
                .is_ok()
            {
                return samba;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(samba.dir.join("samba.log")).unwrap_or_default();
    panic!("Samba did not answer on 127.0.0.1:389 within 60 s:\n{log}");
}

async fn admin() -> ldap3::Ldap {
    let (conn, mut ldap) = LdapConnAsync::new("ldap://127.0.0.1:389").await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(ADMIN_DN, PASSWORD)
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

fn set(values: &[&str]) -> HashSet<&'static str> {
    values
        .iter()
        .map(|v| &*Box::leak(v.to_string().into_boxed_str()))
        .collect()
}

async fn add_user(ldap: &mut ldap3::Ldap, name: &str, login: &str) -> String {
    let dn = format!("CN={name},{USERS}");
    let upn = format!("{login}@example.test");
    ldap.add(
        &dn,
        vec![
            (
                "objectClass",
                set(&["top", "person", "organizationalPerson", "user"]),
            ),
            ("sAMAccountName", set(&[login])),
            ("userPrincipalName", set(&[&upn])),
            ("displayName", set(&[name])),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    dn
}

async fn add_group(ldap: &mut ldap3::Ldap, name: &str, members: &[&str]) -> String {
    let dn = format!("CN={name},{USERS}");
    let account = name.replace(' ', "-");
    let mut attrs = vec![
        ("objectClass", set(&["top", "group"])),
        ("sAMAccountName", set(&[&account])),
        ("description", set(&[&format!("The {name} team")])),
    ];
    if !members.is_empty() {
        attrs.push(("member", set(members)));
    }
    ldap.add(&dn, attrs).await.unwrap().success().unwrap();
    dn
}

fn directory() -> Directory {
    Directory::Ldap(LdapDirectory {
        settings: LdapSettings {
            url: "ldap://127.0.0.1:389".into(),
            starttls: false,
            bind_dn: ADMIN_DN.into(),
            bind_password: Secret::new(PASSWORD.into()),
            base_dn: BASE.into(),
            group_filter: "(objectClass=group)".into(),
            user_filter: "(&(objectClass=user)(!(objectClass=computer)))".into(),
        },
    })
}

fn with_group_filter(filter: &str) -> Directory {
    let Directory::Ldap(l) = directory() else {
        unreachable!()
    };
    Directory::Ldap(LdapDirectory {
        settings: LdapSettings {
            group_filter: filter.into(),
            ..l.settings
        },
    })
}

/// The stored transitive people of a group, as ids, next to the in-chain rule's answer.
async fn stored_and_in_chain(
    pool: &sqlx::PgPool,
    directory: &Directory,
    group: &str,
) -> (Vec<String>, Vec<String>) {
    let stored = membership::transitive_people(pool, "ldap", group)
        .await
        .unwrap();
    let mut chain: Vec<String> = directory
        .transitive_members(group)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    chain.sort();
    (stored, chain)
}

async fn first_seen(pool: &sqlx::PgPool) -> Vec<(String, time::OffsetDateTime, bool)> {
    sqlx::query_as(
        "SELECT object_id, first_seen_at, deleted_at IS NOT NULL FROM directory_groups ORDER BY object_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn group_id(pool: &sqlx::PgPool, name: &str) -> String {
    sqlx::query_scalar("SELECT object_id FROM directory_groups WHERE display_name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn active_directory_groups_sync_with_nested_members() {
    let _samba = start_samba().await;
    let mut ldap = admin().await;
    let alice = add_user(&mut ldap, "Alice Admin", "alice").await;
    let bob = add_user(&mut ldap, "Bob Builder", "bob").await;
    let carol = add_user(&mut ldap, "Carol Chen", "carol").await;
    // Payments ⊃ Payments on-call ⊃ Database admins.
    let dba = add_group(&mut ldap, "Database admins", &[&carol]).await;
    let on_call = add_group(&mut ldap, "Payments on-call", &[&bob, &dba]).await;
    add_group(&mut ldap, "Payments", &[&alice, &on_call]).await;

    let pool = migrated_database().await;
    let aws = gatehouse::config::ServeArgs::default().aws().unwrap();
    let directory = Arc::new(directory());
    let syncer = Syncer::new(pool.clone(), &aws, Some(directory.clone())).await;
    let actor = Actor::system("test");
    let first = syncer.sync(&actor, Catalog::Groups).await.unwrap();
    assert!(first.counts.added > 3, "AD's own groups come too");
    let payments = group_id(&pool, "Payments").await;
    assert!(
        uuid::Uuid::parse_str(&payments).is_ok(),
        "objectGUID as a GUID: {payments}"
    );
    let (description, security): (Option<String>, Option<bool>) = sqlx::query_as(
        "SELECT description, security_enabled FROM directory_groups WHERE object_id = $1",
    )
    .bind(&payments)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(description.as_deref(), Some("The Payments team"));
    assert_eq!(security, Some(true), "a global security group");

    // Memberships are stored at sync; the stored graph agrees with AD's in-chain rule.
    for group in ["Payments", "Payments on-call", "Database admins"] {
        let id = group_id(&pool, group).await;
        let (stored, chain) = stored_and_in_chain(&pool, &directory, &id).await;
        assert_eq!(stored, chain, "{group}");
    }
    let detail = group_queries::group_detail(&pool, "ldap", &payments, &Cursor::First)
        .await
        .unwrap()
        .unwrap();
    let paths: Vec<(String, Vec<String>)> = detail
        .members
        .unwrap()
        .items
        .into_iter()
        .map(|m| (m.display_name, m.via))
        .collect();
    assert_eq!(
        paths,
        [
            ("Alice Admin".to_string(), vec![]),
            (
                "Bob Builder".to_string(),
                vec!["Payments on-call".to_string()]
            ),
            (
                "Carol Chen".to_string(),
                vec![
                    "Payments on-call".to_string(),
                    "Database admins".to_string()
                ]
            ),
        ]
    );
    // Domain Users lists nobody in `member`: people hold it as their primaryGroupID.
    let domain_users = group_id(&pool, "Domain Users").await;
    let detail = group_queries::group_detail(&pool, "ldap", &domain_users, &Cursor::First)
        .await
        .unwrap()
        .unwrap();
    let members = detail.members.unwrap();
    let alice_row = members
        .items
        .iter()
        .find(|m| m.display_name == "Alice Admin")
        .expect("Alice is in Domain Users through her primary group");
    assert!(alice_row.primary_group && alice_row.via.is_empty());

    let members = directory.transitive_members(&payments).await.unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.display_name.as_str()).collect();
    assert_eq!(
        names,
        ["Alice Admin", "Bob Builder", "Carol Chen"],
        "through two levels"
    );
    assert_eq!(
        members[0].user_principal_name.as_deref(),
        Some("alice@example.test")
    );
    let dba_id = group_id(&pool, "Database admins").await;
    let names: Vec<String> = directory
        .transitive_members(&dba_id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.display_name)
        .collect();
    assert_eq!(names, ["Carol Chen"]);

    // A group deleted in AD is marked deleted at the next sync; nothing else moves.
    ldap.delete(&dba).await.unwrap().success().unwrap();
    let second = syncer.sync(&actor, Catalog::Groups).await.unwrap();
    assert_eq!(
        (
            second.counts.added,
            second.counts.changed,
            second.counts.removed
        ),
        (0, 0, 1)
    );
    let deleted: Vec<String> = sqlx::query_scalar(
        "SELECT display_name FROM directory_groups WHERE deleted_at IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(deleted, ["Database admins"]);
    let names: Vec<String> = directory
        .transitive_members(&payments)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.display_name)
        .collect();
    assert_eq!(names, ["Alice Admin", "Bob Builder"]);

    let (stored, chain) = stored_and_in_chain(&pool, &directory, &payments).await;
    assert_eq!(
        stored, chain,
        "the deleted nested group took its member away"
    );

    // A group filter with a typo matches nothing: AD answers "success" with no entries. The
    // sync is refused, says why, and changes nothing.
    let before = first_seen(&pool).await;
    let known = before.iter().filter(|(_, _, deleted)| !deleted).count() as i64;
    let typo = Arc::new(with_group_filter("(objectClass=grup)"));
    let broken = Syncer::new(pool.clone(), &aws, Some(typo.clone())).await;
    let Err(SyncError::Failed { run_id, message }) = broken.sync(&actor, Catalog::Groups).await
    else {
        panic!("a listing of zero groups must be refused")
    };
    assert!(
        message.contains(&format!(
            "refused to remove {known} of {known} known groups"
        )),
        "{message}"
    );
    assert!(
        message.contains("(objectClass=grup)") && !message.contains('\n'),
        "{message}"
    );
    assert_eq!(first_seen(&pool).await, before, "nothing changed");
    let run = queries::sync_run(&pool, run_id).await.unwrap();
    assert_eq!(run.removals_held(), Some(known));
    let (stored, _) = stored_and_in_chain(&pool, &directory, &payments).await;
    assert_eq!(stored.len(), 2, "memberships kept");

    // Applied deliberately, the removals go through, audited as allowed.
    let allow = SyncRequest {
        allow_removals: true,
        ..Default::default()
    };
    let applied = broken
        .sync_with(&actor, Catalog::Groups, allow)
        .await
        .unwrap();
    assert_eq!(applied.counts.removed as i64, known);
    assert!(applied.directory.unwrap().removals_allowed);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE details -> 'directory' ->> 'removals_allowed' = 'true'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Fixed, the groups come back with their history: the same first_seen_at.
    let back = syncer.sync(&actor, Catalog::Groups).await.unwrap();
    assert_eq!(back.counts.added as i64, known);
    assert_eq!(first_seen(&pool).await, before);
    let (stored, chain) = stored_and_in_chain(&pool, &directory, &payments).await;
    assert_eq!((stored.len(), stored == chain), (2, true));

    // A wrong password is a clear failure.
    let wrong = Directory::Ldap(LdapDirectory {
        settings: LdapSettings {
            bind_password: Secret::new("nope".into()),
            ..match directory.as_ref() {
                Directory::Ldap(l) => l.settings.clone(),
                _ => unreachable!(),
            }
        },
    });
    let err = wrong
        .transitive_members(&payments)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the bind"), "{err}");
}
