//! `gatehouse audit verify` (the chain in the database, or an export offline) and
//! `gatehouse audit export` (a file and its manifest, with progress).

use std::io::Write;

use crate::history::HistoryFilter;
use futures_util::StreamExt;
use sqlx::PgPool;

use ed25519_dalek::VerifyingKey;

use super::{
    anchor::{self, AnchorFile, Anchoring},
    chain::ChainCheck,
    export::Format,
    exports, offline, store,
};
use crate::backend::audit::Actor;

/// The public key to check signatures with: the one given, else the configured key's.
pub fn verifying_key(
    given: Option<&str>,
    anchoring: Option<&Anchoring>,
) -> anyhow::Result<Option<VerifyingKey>> {
    match (given, anchoring) {
        (Some(text), _) => Ok(Some(
            anchor::public_key(text).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
        )),
        (None, Some(a)) => Ok(Some(a.key.verifying_key())),
        (None, None) => Ok(None),
    }
}

/// The chain from event 1, every hash and link, and agreement with every signed checkpoint.
pub async fn verify_database(
    pool: &PgPool,
    key: Option<VerifyingKey>,
    anchors: Option<AnchorFile>,
) -> anyhow::Result<()> {
    let checkpoints = match &anchors {
        Some(file) => file.read().map_err(|e| anyhow::anyhow!(e))?,
        None => Vec::new(),
    };
    if !checkpoints.is_empty() {
        let key = key.ok_or_else(|| {
            anyhow::anyhow!(
                "the checkpoints' signatures need the public key: --public-key or GATEHOUSE_AUDIT_KEY_FILE"
            )
        })?;
        if let Some((n, c)) = checkpoints
            .iter()
            .enumerate()
            .find(|(_, c)| !c.verifies(&key))
        {
            anyhow::bail!(
                "checkpoint {} (event {}, {}) does not carry the audit key's signature: the anchor file was forged or the key is not this log's",
                n + 1,
                c.seq,
                c.at
            );
        }
    }
    let check = ChainCheck::anchored(
        checkpoints
            .iter()
            .map(|c| (c.seq, c.hash.clone(), c.at.clone())),
    );
    match store::verify_anchored(pool, check).await? {
        Ok(n) => {
            println!(
                "audit chain intact: {n} events from event 1, each hash recomputed and linked; {} signed checkpoint(s) agree",
                checkpoints.len()
            );
            if checkpoints.is_empty() {
                eprintln!(
                    "warning: no signed checkpoints to compare with, so events removed from the end cannot be detected"
                );
            }
            Ok(())
        }
        Err(broken) => anyhow::bail!("audit chain broken: {broken}"),
    }
}

pub fn verify_export(
    export: &std::path::Path,
    manifest: &std::path::Path,
    key: Option<VerifyingKey>,
) -> anyhow::Result<()> {
    match offline::verify(export, manifest, key.as_ref()) {
        Ok(v) => {
            println!(
                "export verified: {} rows, file hash, row count and every row's hash and link match the manifest{}",
                v.rows,
                if key.is_some() {
                    ", and the manifest carries the audit key's signature"
                } else {
                    ""
                }
            );
            if key.is_none() {
                eprintln!("warning: the manifest's signature was not checked: give --public-key");
            }
            Ok(())
        }
        Err(why) => anyhow::bail!("export does not verify: {why}"),
    }
}

pub fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    let key = anchor::AuditKey::generate(out).map_err(|e| anyhow::anyhow!(e))?;
    println!("{}", key.public_hex());
    eprintln!(
        "audit key written to {} (mode 600); its public key is above: give it to auditors for `gatehouse audit verify --public-key`",
        out.display()
    );
    Ok(())
}

pub async fn export(
    pool: &PgPool,
    anchoring: Option<&Anchoring>,
    filter: HistoryFilter,
    format: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let format = Format::parse(format)
        .ok_or_else(|| anyhow::anyhow!("--format is csv or jsonl, not `{format}`"))?;
    let record = exports::create_export(pool, &Actor::system("command line"), &filter, format)
        .await
        .map_err(|e| match e {
            crate::error::AppError::Form(outcome) => anyhow::anyhow!(
                "{}",
                outcome
                    .errors
                    .iter()
                    .map(|(f, e)| format!("--{}: {e}", f.replace('_', "-")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            e => anyhow::anyhow!("{e}"),
        })?;
    // One pass: each row is written and hashed as it comes from the database.
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut exporter = super::export::Exporter::new(record.format());
    file.write_all(exporter.start().as_bytes())?;
    let mut rows = std::pin::pin!(store::stream(
        pool.clone(),
        record.checked(),
        Some(record.upto_seq),
    ));
    let total = record.rows.max(0) as u64;
    let mut progress = crate::backend::progress::Progress::new(Some(total));
    let label = format!("export {} rows", record.id);
    while let Some(event) = rows.next().await {
        file.write_all(exporter.row(&event?).as_bytes())?;
        let done = exporter.rows;
        if done.is_multiple_of(10_000) || done == total {
            progress.update(done, total, &label);
        }
    }
    file.flush()?;
    progress.finish();
    let manifest = exports::finish(pool, anchoring, &record, exporter).await?;
    let manifest_path = std::path::PathBuf::from(format!("{}.manifest.json", out.display()));
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
    println!(
        "export {}: {} rows to {} (manifest {})",
        record.id,
        manifest.rows,
        out.display(),
        manifest_path.display()
    );
    Ok(())
}
