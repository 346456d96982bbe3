//! `gatehouse audit verify --export FILE --manifest FILE`: checks an export with nothing but the
//! two files — the file's SHA-256, its row count, every row's hash recomputed, each row linked to
//! the one before, and both ends where the manifest says the export sits in the chain.

use std::io::{BufRead, BufReader, Read};

use sha2::{Digest, Sha256};

use super::{
    chain::{hex, ChainCheck, ChainedEvent},
    export::{unneutralise, Format, Manifest, CSV_HEADER},
};

/// Splits CSV (RFC 4180) into records, a line at a time (a quoted cell may span lines).
fn csv_records(reader: impl BufRead) -> impl Iterator<Item = Result<Vec<String>, String>> {
    let mut lines = reader.lines();
    std::iter::from_fn(move || {
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut started = false;
        loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                Some(Err(e)) => return Some(Err(e.to_string())),
                None if started => return Some(Err("the file ends inside a quoted cell".into())),
                None => return None,
            };
            if started {
                cell.push('\n'); // the line break inside the quoted cell
            }
            started = true;
            let line = line.strip_suffix('\r').unwrap_or(&line).to_string();
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (quoted, c) {
                    (true, '"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        cell.push('"');
                    }
                    (true, '"') => quoted = false,
                    (true, c) => cell.push(c),
                    (false, '"') if cell.is_empty() => quoted = true,
                    (false, ',') => cells.push(std::mem::take(&mut cell)),
                    (false, c) => cell.push(c),
                }
            }
            if !quoted {
                cells.push(cell);
                return Some(Ok(cells));
            }
            // Inside a quoted cell, the record goes on: CRLF inside cells came back as "\r\n".
        }
    })
}

fn event_from_cells(cells: &[String]) -> Result<ChainedEvent, String> {
    if cells.len() != 10 {
        return Err(format!("a row has {} cells, not 10", cells.len()));
    }
    let c = |i: usize| unneutralise(&cells[i]).to_string();
    Ok(ChainedEvent {
        seq: c(0)
            .parse()
            .map_err(|_| format!("`{}` is not a sequence number", cells[0]))?,
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

pub fn verify(export: &std::path::Path, manifest: &std::path::Path) -> Result<Verified, String> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(manifest).map_err(|e| format!("cannot read the manifest: {e}"))?,
    )
    .map_err(|e| format!("the manifest is not a Gatehouse manifest: {e}"))?;
    // The file's hash first, reading it once.
    let mut file =
        std::fs::File::open(export).map_err(|e| format!("cannot read the export: {e}"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sha = hex(&hasher.finalize());
    if sha != manifest.file_sha256 {
        return Err(format!(
            "the file's SHA-256 is {sha}, the manifest says {}: the file was changed",
            manifest.file_sha256
        ));
    }
    let reader = BufReader::new(std::fs::File::open(export).map_err(|e| e.to_string())?);
    let mut check = ChainCheck::with_gaps(manifest.filtered);
    let mut first: Option<ChainedEvent> = None;
    let mut last: Option<ChainedEvent> = None;
    let mut take = |e: ChainedEvent| -> Result<(), String> {
        check.push(&e).map_err(|b| b.to_string())?;
        if first.is_none() {
            first = Some(e.clone());
        }
        last = Some(e);
        Ok(())
    };
    match manifest.format {
        Format::Csv => {
            let mut records = csv_records(reader);
            let header = records.next().transpose()?.unwrap_or_default().join(",");
            if format!("{header}\r\n") != CSV_HEADER {
                return Err(format!("the header row is `{header}`, not Gatehouse's"));
            }
            for record in records {
                take(event_from_cells(&record?)?)?;
            }
        }
        Format::Jsonl => {
            for line in reader.lines() {
                let line = line.map_err(|e| e.to_string())?;
                let e: ChainedEvent = serde_json::from_str(&line)
                    .map_err(|e| format!("a line is not an event: {e}"))?;
                take(e)?;
            }
        }
    }
    let rows = check.checked;
    if rows != manifest.rows {
        return Err(format!(
            "the file has {rows} rows, the manifest says {}",
            manifest.rows
        ));
    }
    if first.as_ref().map(|e| e.prev_hash.clone()) != manifest.first_prev_hash
        || last.as_ref().map(|e| e.hash.clone()) != manifest.last_hash
    {
        return Err(
            "the first or last row is not where the manifest says the export sits in the chain"
                .into(),
        );
    }
    Ok(Verified { rows })
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_records_span_lines_inside_quotes() {
        let text = "a,\"b\"\"c\",d\r\n\"x\r\ny\",,z\r\n";
        let records: Vec<Vec<String>> = super::csv_records(text.as_bytes())
            .map(Result::unwrap)
            .collect();
        assert_eq!(records, vec![vec!["a", "b\"c", "d"], vec!["x\ny", "", "z"]]);
    }
}
