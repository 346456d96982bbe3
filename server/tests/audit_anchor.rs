//! The audit chain anchored outside the database: signed checkpoints in a file, checked by the
//! real `gatehouse audit verify`; whoever owns the database can cut or re-chain the log, and the
//! command names what was done. Export manifests are signed and checked with the public key alone.

use crate::common;

use std::{path::PathBuf, process::Command, sync::Arc};

use app::backend::history::anchor::{AnchorFile, Anchoring, AuditKey};
use common::*;
use sqlx::PgPool;

struct Anchored {
    app: TestApp,
    owner: PgPool,
    anchoring: Arc<Anchoring>,
    dir: PathBuf,
    public_key: String,
}

async fn anchored_app() -> Anchored {
    let dir = std::env::temp_dir().join(format!("gh-anchor-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("audit.key");
    let public_key = AuditKey::generate(&key_file).unwrap().public_hex();
    let anchoring = Arc::new(Anchoring {
        key: AuditKey::load(&key_file).unwrap(),
        file: AnchorFile(dir.join("checkpoints.jsonl")),
        every: std::time::Duration::from_secs(3600),
    });
    let for_app = anchoring.clone();
    let app = spawn_app_with(move |s| s.anchoring = Some(for_app)).await;
    let owner = PgPool::connect(&app.owner_url).await.unwrap();
    Anchored {
        app,
        owner,
        anchoring,
        dir,
        public_key,
    }
}

impl Drop for Anchored {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Anchored {
    /// Six events (three sign-ins and sign-outs), then a checkpoint of the head.
    async fn events_and_checkpoint(&self) {
        for _ in 0..3 {
            let _ = self.app.sign_in("admin", "/").await.response.text().await;
            self.app.post_form("/auth/logout").await;
        }
        let written = self.anchoring.checkpoint(&self.app.pool).await.unwrap();
        assert_eq!(written.map(|c| c.seq), Some(6));
    }

    /// `gatehouse audit …` as an auditor runs it: the runtime role's URL and the public key.
    fn audit(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("audit")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", as_runtime(&self.app.owner_url))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn verify(&self) -> (bool, String) {
        let anchors = self.dir.join("checkpoints.jsonl");
        self.audit(&[
            "verify",
            "--public-key",
            &self.public_key,
            "--anchors",
            anchors.to_str().unwrap(),
        ])
    }

    /// What an attacker holding the owner's role can do: switch the append-only trigger off.
    async fn as_owner(&self, statements: &[&str]) {
        let mut tx = self.owner.begin().await.unwrap();
        sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
            .execute(&mut *tx)
            .await
            .unwrap();
        for s in statements {
            sqlx::query(s).execute(&mut *tx).await.unwrap();
        }
        sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn an_intact_log_verifies_against_its_checkpoints() {
    let a = anchored_app().await;
    a.events_and_checkpoint().await;
    let (ok, text) = a.verify();
    assert!(ok, "{text}");
    assert!(
        text.contains("6 events from event 1") && text.contains("1 signed checkpoint(s) agree"),
        "{text}"
    );
}

#[tokio::test]
async fn removing_the_newest_events_is_detected() {
    let a = anchored_app().await;
    a.events_and_checkpoint().await;
    a.as_owner(&["DELETE FROM audit_events WHERE seq > 4"])
        .await;
    let (ok, text) = a.verify();
    assert!(!ok, "{text}");
    assert!(
        text.contains("holds event 6, but the log ends at event 4")
            && text.contains("tail removed"),
        "{text}"
    );
}

#[tokio::test]
async fn removing_the_oldest_events_is_detected() {
    let a = anchored_app().await;
    a.events_and_checkpoint().await;
    a.as_owner(&["DELETE FROM audit_events WHERE seq <= 2"])
        .await;
    let (ok, text) = a.verify();
    assert!(!ok, "{text}");
    assert!(
        text.contains("the log starts at event 3") && text.contains("head removed"),
        "{text}"
    );
}

#[tokio::test]
async fn an_altered_and_rechained_log_is_detected() {
    let a = anchored_app().await;
    a.events_and_checkpoint().await;
    // Event 2 rewritten, then every hash and link after it recomputed, in order: the chain
    // alone is consistent again.
    a.as_owner(&[
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain",
        "UPDATE audit_events SET actor_name = 'Someone Else' WHERE seq = 2",
        "DO $$ DECLARE r audit_events; h TEXT; BEGIN
           SELECT hash INTO h FROM audit_events WHERE seq = 1;
           FOR r IN SELECT * FROM audit_events WHERE seq >= 2 ORDER BY seq LOOP
             r.prev_hash := h;
             h := audit_event_hash(r);
             UPDATE audit_events SET prev_hash = r.prev_hash, hash = h WHERE seq = r.seq;
           END LOOP;
         END $$",
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain",
    ])
    .await;
    let (ok, text) = a.audit(&["verify"]);
    assert!(ok, "without checkpoints a re-chained log passes: {text}");
    let (ok, text) = a.verify();
    assert!(!ok, "{text}");
    assert!(
        text.contains("event 6 is not the event the checkpoint") && text.contains("re-chained"),
        "{text}"
    );
    // A forged checkpoint (the attacker's own key) is refused too.
    let forged = AuditKey::from_seed([9; 32]);
    let head: String = sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = 6")
        .fetch_one(&a.owner)
        .await
        .unwrap();
    let fake = app::backend::history::anchor::Checkpoint::signed(
        &forged,
        6,
        &head,
        "2026-12-02T00:00:00Z",
    );
    std::fs::write(
        a.dir.join("checkpoints.jsonl"),
        serde_json::to_string(&fake).unwrap() + "\n",
    )
    .unwrap();
    let (ok, text) = a.verify();
    assert!(
        !ok && text.contains("does not carry the audit key's signature"),
        "{text}"
    );
}

#[tokio::test]
async fn an_export_manifest_is_signed_and_a_forged_one_is_refused_offline() {
    let a = anchored_app().await;
    a.events_and_checkpoint().await;
    let out = a.dir.join("history.csv");
    let key_file = a.dir.join("audit.key");
    let status = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "audit",
            "export",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("DATABASE_URL", as_runtime(&a.app.owner_url))
        .env("GATEHOUSE_AUDIT_KEY_FILE", &key_file)
        .env(
            "GATEHOUSE_AUDIT_ANCHOR_FILE",
            a.dir.join("checkpoints.jsonl"),
        )
        .status()
        .unwrap();
    assert!(status.success());
    let manifest = PathBuf::from(format!("{}.manifest.json", out.display()));
    let offline = |m: &PathBuf| {
        a.audit(&[
            "verify",
            "--export",
            out.to_str().unwrap(),
            "--manifest",
            m.to_str().unwrap(),
            "--public-key",
            &a.public_key,
        ])
    };
    let (ok, text) = offline(&manifest);
    assert!(
        ok && text.contains("carries the audit key's signature"),
        "{text}"
    );

    // One row changed and the manifest's file hash made to match: the signature refuses it.
    let text = std::fs::read_to_string(&out)
        .unwrap()
        .replacen("Ada Admin", "Eve Admin", 1);
    std::fs::write(&out, &text).unwrap();
    let (ok, said) = offline(&manifest);
    assert!(
        !ok && said.contains("the first row that shows it: event 1"),
        "{said}"
    );
    let mut forged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    use sha2::Digest;
    forged["file_sha256"] = hex::encode(sha2::Sha256::digest(text.as_bytes())).into();
    let forged_path = a.dir.join("forged.manifest.json");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (ok, said) = offline(&forged_path);
    assert!(
        !ok && said.contains("manifest was forged or altered"),
        "{said}"
    );
}
