//! `gatehouse audit verify` (the chain in the database, or an export offline) and
//! `gatehouse audit export` (a file and its manifest, with progress).

use std::io::Write;

use crate::history::HistoryFilter;
use futures_util::StreamExt;
use sqlx::PgPool;

use super::{export::Format, exports, offline, store};
use crate::backend::audit::Actor;

pub async fn verify_database(pool: &PgPool) -> anyhow::Result<()> {
    match store::verify(pool).await? {
        Ok(n) => {
            println!("audit chain intact: {n} events, each hash recomputed and linked");
            Ok(())
        }
        Err(broken) => anyhow::bail!("audit chain broken at the first bad link: {broken}"),
    }
}

pub fn verify_export(export: &std::path::Path, manifest: &std::path::Path) -> anyhow::Result<()> {
    match offline::verify(export, manifest) {
        Ok(v) => {
            println!(
                "export verified: {} rows, file hash, row count and every row's hash and link match the manifest",
                v.rows
            );
            Ok(())
        }
        Err(why) => anyhow::bail!("export does not verify: {why}"),
    }
}

pub async fn export(
    pool: &PgPool,
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
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    while let Some(event) = rows.next().await {
        file.write_all(exporter.row(&event?).as_bytes())?;
        let done = exporter.rows;
        if done.is_multiple_of(10_000) || done == total {
            if tty {
                eprint!("\r\x1b[2Kexport {}: {done}/{total} rows", record.id);
            } else if done.is_multiple_of(100_000) {
                eprintln!("export {}: {done}/{total} rows", record.id);
            }
        }
    }
    file.flush()?;
    if tty {
        eprintln!();
    }
    let manifest = exports::finish(pool, &record, exporter).await?;
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
