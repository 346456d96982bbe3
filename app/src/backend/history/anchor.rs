//! Anchors for the audit chain outside PostgreSQL: checkpoints (sequence, hash, time) signed
//! with an Ed25519 key the database never sees, appended to a file the database cannot reach.
//! Whoever owns the database can re-chain it, but not re-sign a checkpoint: `audit verify`
//! compares the chain with every checkpoint and names a missing head or tail or a re-chained row.
//! Export manifests are signed with the same key, so a manifest is checked with the public key
//! alone.

use std::{
    io::{BufRead, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// The private key. Its `Debug` shows the public half only.
pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", self.public_hex())
    }
}

impl AuditKey {
    /// A key file holds the 32-byte seed as 64 hex digits and must be readable by its owner only.
    pub fn load(path: &Path) -> Result<AuditKey, String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} is readable by others (mode {:o}); chmod 600 it",
                    path.display(),
                    mode & 0o777
                ));
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("{} does not hold 64 hex digits", path.display()))?;
        Ok(AuditKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// A key from its seed (tests, and tools that hold the seed elsewhere).
    pub fn from_seed(seed: [u8; 32]) -> AuditKey {
        AuditKey {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Makes a new key file (never over an existing one), mode 600.
    pub fn generate(path: &Path) -> Result<AuditKey, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        writeln!(file, "{}", hex::encode(seed)).map_err(|e| e.to_string())?;
        Ok(AuditKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

/// A public key given as 64 hex digits.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("a public key is 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".into())
}

/// Whether `signature` (hex) is `key`'s over `message`.
pub fn signature_verifies(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Some(bytes) = hex::decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}

/// The chain's head at a moment, signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// When it was taken (UTC, RFC 3339).
    pub at: String,
    pub public_key: String,
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: i64, hash: &str, at: &str) -> String {
        format!("gatehouse-checkpoint-v1\n{seq}\n{hash}\n{at}\n")
    }

    pub fn signed(key: &AuditKey, seq: i64, hash: &str, at: &str) -> Checkpoint {
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at: at.to_string(),
            public_key: key.public_hex(),
            signature: key.sign(Self::message(seq, hash, at).as_bytes()),
        }
    }

    pub fn verifies(&self, key: &VerifyingKey) -> bool {
        signature_verifies(
            key,
            Self::message(self.seq, &self.hash, &self.at).as_bytes(),
            &self.signature,
        )
    }
}

/// An append-only file of checkpoints, one JSON object per line (for production, keep it where
/// the database's owner cannot write: another host, a WORM volume, or ship each line to an
/// object store with a retention lock).
#[derive(Clone, Debug)]
pub struct AnchorFile(pub PathBuf);

impl AnchorFile {
    pub fn append(&self, checkpoint: &Checkpoint) -> std::io::Result<()> {
        let mut line = serde_json::to_string(checkpoint)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.0)?;
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }

    /// Every checkpoint, in the order written; a line that is not one is an error naming it.
    pub fn read(&self) -> Result<Vec<Checkpoint>, String> {
        let file = match std::fs::File::open(&self.0) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", self.0.display())),
        };
        let mut out = Vec::new();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| format!("cannot read {}: {e}", self.0.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(serde_json::from_str(&line).map_err(|e| {
                format!(
                    "{} line {}: not a checkpoint ({e})",
                    self.0.display(),
                    n + 1
                )
            })?);
        }
        Ok(out)
    }
}

/// The key and where its checkpoints go.
#[derive(Debug)]
pub struct Anchoring {
    pub key: AuditKey,
    pub file: AnchorFile,
    pub every: Duration,
}

impl Anchoring {
    /// Signs the chain's current head into the anchor file, unless the newest checkpoint already
    /// holds it. Answers the checkpoint written, if any.
    pub async fn checkpoint(&self, pool: &PgPool) -> anyhow::Result<Option<Checkpoint>> {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await?;
        let Some((seq, hash)) = head else {
            return Ok(None);
        };
        let file = self.file.clone();
        let newest = tokio::task::spawn_blocking(move || file.read())
            .await?
            .map_err(|e| anyhow::anyhow!(e))?
            .pop();
        if newest.is_some_and(|c| c.seq == seq && c.hash == hash) {
            return Ok(None);
        }
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let checkpoint = Checkpoint::signed(&self.key, seq, &hash, &at);
        let (file, written) = (self.file.clone(), checkpoint.clone());
        tokio::task::spawn_blocking(move || file.append(&written)).await??;
        Ok(Some(checkpoint))
    }

    /// Checkpoints on a schedule, for as long as the process runs.
    pub fn spawn_schedule(self: Arc<Self>, pool: PgPool) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.checkpoint(&pool).await {
                    tracing::error!(error = %e, "could not write an audit checkpoint");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey {
            signing: SigningKey::from_bytes(&[7; 32]),
        }
    }

    #[test]
    fn a_checkpoint_verifies_only_as_signed() {
        let key = key();
        let c = Checkpoint::signed(&key, 42, &"a".repeat(64), "2026-12-02T10:00:00Z");
        assert!(c.verifies(&key.verifying_key()));
        for forged in [
            Checkpoint {
                seq: 41,
                ..c.clone()
            },
            Checkpoint {
                hash: "b".repeat(64),
                ..c.clone()
            },
            Checkpoint {
                at: "2026-12-02T10:00:01Z".into(),
                ..c.clone()
            },
        ] {
            assert!(!forged.verifies(&key.verifying_key()), "{forged:?}");
        }
        let other = AuditKey {
            signing: SigningKey::from_bytes(&[8; 32]),
        };
        assert!(!c.verifies(&other.verifying_key()));
        assert!(format!("{key:?}").starts_with("AuditKey(public "));
        assert!(!format!("{key:?}").contains(&hex::encode([7u8; 32])));
    }

    #[test]
    fn key_files_are_private_and_round_trip() {
        let dir = std::env::temp_dir().join(format!("gh-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.key");
        let made = AuditKey::generate(&path).unwrap();
        assert_eq!(
            AuditKey::load(&path).unwrap().public_hex(),
            made.public_hex()
        );
        assert!(
            AuditKey::generate(&path).is_err(),
            "never over an existing key"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(AuditKey::load(&path).unwrap_err().contains("chmod 600"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
