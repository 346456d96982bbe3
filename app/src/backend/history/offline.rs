//! `gatehouse audit verify --export FILE --manifest FILE`: checks an export with nothing but the
//! two files — the file's SHA-256, its row count, every row's hash recomputed, each row linked to
//! the one before, and both ends where the manifest says the export sits in the chain.

use std::io::{BufRead, BufReader, Read};

use sha2::{Digest, Sha256};

use super::{
    chain::{Broken, ChainCheck, ChainedEvent},
    export::{unneutralise, Format, Manifest, CSV_HEADER},
};

/// Why an export does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read the {what}: {why}")]
    Unreadable { what: &'static str, why: String },
    #[error("the manifest is not a Gatehouse manifest: {0}")]
    NotAManifest(String),
    #[error("the file's SHA-256 is {actual}, the manifest says {expected}: the file was changed")]
    FileChanged { actual: String, expected: String },
    #[error("the file was changed (its SHA-256 is not the manifest's); the first row that shows it: {first}")]
    FileChangedAt { first: String },
    #[error("the manifest carries no signature, but a public key was given: it cannot be trusted")]
    Unsigned,
    #[error("the manifest's signature is not the audit key's: the manifest was forged or altered")]
    BadSignature,
    #[error("the header row is `{0}`, not Gatehouse's")]
    Header(String),
    #[error("a row is not an event: {0}")]
    NotAnEvent(String),
    #[error(transparent)]
    Chain(#[from] Broken),
    #[error("the file has {actual} rows, the manifest says {expected}")]
    RowCount { actual: u64, expected: u64 },
    #[error("the first or last row is not where the manifest says the export sits in the chain")]
    Ends,
}

fn unreadable(what: &'static str) -> impl Fn(std::io::Error) -> VerifyError {
    move |e| VerifyError::Unreadable {
        what,
        why: e.to_string(),
    }
}

fn event_from_cells(cells: &csv::StringRecord) -> Result<ChainedEvent, VerifyError> {
    if cells.len() != 10 {
        return Err(VerifyError::NotAnEvent(format!(
            "it has {} cells, not 10",
            cells.len()
        )));
    }
    let c = |i: usize| unneutralise(&cells[i]).to_string();
    Ok(ChainedEvent {
        seq: c(0).parse().map_err(|_| {
            VerifyError::NotAnEvent(format!("`{}` is not a sequence number", &cells[0]))
        })?,
        occurred_at: c(1),
        actor_tid: c(2),
        actor_oid: c(3),
        actor_name: c(4),
        action: c(5),
        subject: c(6),
        details: c(7),
        prev_hash: c(8),
        hash: c(9),
    })
}

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub rows: u64,
}

pub fn verify(
    export: &std::path::Path,
    manifest: &std::path::Path,
    key: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<Verified, VerifyError> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(manifest).map_err(unreadable("manifest"))?)
            .map_err(|e| VerifyError::NotAManifest(e.to_string()))?;
    // The manifest is what everything else is checked against: its signature first.
    if let Some(key) = key {
        if manifest.signature.is_none() {
            return Err(VerifyError::Unsigned);
        }
        if !manifest.signature_verifies(key) {
            return Err(VerifyError::BadSignature);
        }
    }
    // The file's hash first, reading it once.
    let mut file = std::fs::File::open(export).map_err(unreadable("export"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(unreadable("export"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sha = hex::encode(hasher.finalize());
    let rows = check_rows(export, &manifest);
    if sha != manifest.file_sha256 {
        // Go on to the rows: the first one that fails says where the change is.
        return Err(match rows {
            Err(e) => VerifyError::FileChangedAt {
                first: e.to_string(),
            },
            Ok(_) => VerifyError::FileChanged {
                actual: sha,
                expected: manifest.file_sha256,
            },
        });
    }
    rows
}

/// Every row's hash and link, the row count and both ends, against the manifest.
fn check_rows(export: &std::path::Path, manifest: &Manifest) -> Result<Verified, VerifyError> {
    let reader = BufReader::new(std::fs::File::open(export).map_err(unreadable("export"))?);
    let mut check = ChainCheck::with_gaps(manifest.filtered);
    let mut first: Option<ChainedEvent> = None;
    let mut last: Option<ChainedEvent> = None;
    let mut take = |e: ChainedEvent| -> Result<(), VerifyError> {
        check.push(&e)?;
        if first.is_none() {
            first = Some(e.clone());
        }
        last = Some(e);
        Ok(())
    };
    match manifest.format {
        Format::Csv => {
            // RFC 4180, line breaks inside quoted cells kept exactly as written (CRLF too).
            let mut rows = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(reader);
            let mut records = rows.records();
            let header = records
                .next()
                .transpose()
                .map_err(|e| VerifyError::NotAnEvent(e.to_string()))?
                .map(|h| h.iter().collect::<Vec<_>>().join(","))
                .unwrap_or_default();
            if format!("{header}\r\n") != CSV_HEADER {
                return Err(VerifyError::Header(header));
            }
            for record in records {
                let record = record.map_err(|e| VerifyError::NotAnEvent(e.to_string()))?;
                take(event_from_cells(&record)?)?;
            }
        }
        Format::Jsonl => {
            for line in reader.lines() {
                let line = line.map_err(unreadable("export"))?;
                let e: ChainedEvent = serde_json::from_str(&line)
                    .map_err(|e| VerifyError::NotAnEvent(e.to_string()))?;
                take(e)?;
            }
        }
    }
    let rows = check.checked;
    if rows != manifest.rows {
        return Err(VerifyError::RowCount {
            actual: rows,
            expected: manifest.rows,
        });
    }
    if first.as_ref().map(|e| e.prev_hash.clone()) != manifest.first_prev_hash.clone()
        || last.as_ref().map(|e| e.hash.clone()) != manifest.last_hash.clone()
    {
        return Err(VerifyError::Ends);
    }
    Ok(Verified { rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::history::{
        chain::GENESIS,
        export::{Exporter, Format},
    };

    /// Two chained events; the second's details hold a CRLF and a quote, as JSON text may.
    fn events() -> Vec<ChainedEvent> {
        let mut out: Vec<ChainedEvent> = Vec::new();
        for (seq, details) in [
            (1, "{\"a\": 1}"),
            (2, "{\"note\": \"two\r\nlines, \\\"quoted\\\"\"}"),
        ] {
            let mut e = ChainedEvent {
                seq,
                occurred_at: format!("2026-12-01T10:00:0{seq}.000000Z"),
                actor_tid: String::new(),
                actor_oid: String::new(),
                actor_name: "Ada Admin".into(),
                action: "change_set.drafted".into(),
                subject: "change_set:1".into(),
                details: details.to_string(),
                prev_hash: out.last().map_or(GENESIS.to_string(), |p| p.hash.clone()),
                hash: String::new(),
            };
            e.hash = e.computed_hash();
            out.push(e);
        }
        out
    }

    fn written(format: Format, dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut exporter = Exporter::new(format);
        let mut text = exporter.start();
        for e in events() {
            text.push_str(&exporter.row(&e));
        }
        let manifest = exporter.finish(serde_json::json!({}), false, "now".into());
        let file = dir.join(format!("export.{}", format.extension()));
        let mpath = dir.join("manifest.json");
        std::fs::write(&file, text).unwrap();
        std::fs::write(&mpath, serde_json::to_vec(&manifest).unwrap()).unwrap();
        (file, mpath)
    }

    #[test]
    fn a_crlf_inside_a_csv_cell_verifies() {
        let dir = std::env::temp_dir().join(format!("gh-offline-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(events()[1].details.contains("\r\n"));
        let (file, manifest) = written(Format::Csv, &dir);
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("two\r\nlines"));
        assert_eq!(verify(&file, &manifest, None), Ok(Verified { rows: 2 }));
        let (file, manifest) = written(Format::Jsonl, &dir);
        assert_eq!(verify(&file, &manifest, None), Ok(Verified { rows: 2 }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_signed_manifest_verifies_with_the_public_key_alone_and_a_forged_one_does_not() {
        use crate::backend::history::anchor::AuditKey;
        let dir = std::env::temp_dir().join(format!("gh-signed-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = AuditKey::from_seed([3; 32]);
        let public = key.verifying_key();
        let (file, mpath) = written(Format::Jsonl, &dir);
        // Unsigned, with a key asked for: refused.
        assert_eq!(
            verify(&file, &mpath, Some(&public)),
            Err(VerifyError::Unsigned)
        );
        let mut manifest: Manifest =
            serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
        manifest.sign(&key);
        std::fs::write(&mpath, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        assert_eq!(
            verify(&file, &mpath, Some(&public)),
            Ok(Verified { rows: 2 })
        );

        // A forger who edits the file rewrites the manifest to match: the signature tells.
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("Ada Admin", "Eve Admin");
        std::fs::write(&file, &text).unwrap();
        let mut forged = manifest.clone();
        forged.file_sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        std::fs::write(&mpath, serde_json::to_vec(&forged).unwrap()).unwrap();
        assert_eq!(
            verify(&file, &mpath, Some(&public)),
            Err(VerifyError::BadSignature)
        );
        // Re-signed with another key: still not the audit key's.
        forged.sign(&AuditKey::from_seed([4; 32]));
        std::fs::write(&mpath, serde_json::to_vec(&forged).unwrap()).unwrap();
        assert_eq!(
            verify(&file, &mpath, Some(&public)),
            Err(VerifyError::BadSignature)
        );

        // With the genuine manifest, the changed file is named down to its first bad row.
        std::fs::write(&mpath, serde_json::to_vec(&manifest).unwrap()).unwrap();
        match verify(&file, &mpath, Some(&public)) {
            Err(VerifyError::FileChangedAt { first }) => {
                assert!(first.contains("event 1"), "{first}")
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
