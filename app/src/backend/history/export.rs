//! Export formats (CSV per RFC 4180, JSON Lines) of chained events, and their manifest. No IO:
//! the caller feeds rows and writes the bytes; the SHA-256 of everything written and the chain
//! ends are kept as it goes, so an export of any size holds one row at a time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::chain::ChainedEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/jsonl; charset=utf-8",
        }
    }
}

pub const CSV_HEADER: &str =
    "seq,occurred_at,actor_tid,actor_oid,actor_name,action,subject,details,prev_hash,hash\r\n";

/// A cell a spreadsheet would run as a formula (or one already starting with the escape) gets a
/// leading `'`; [`unneutralise`] takes exactly that one off again.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

pub fn unneutralise(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// Appends one CSV cell: neutralised, quoted when it holds a separator, quote or line end.
pub fn csv_cell(out: &mut String, cell: &str) {
    let cell = neutralise(cell);
    if cell.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&cell);
    }
}

pub fn csv_row(e: &ChainedEvent) -> String {
    let seq = e.seq.to_string();
    let cells = [
        seq.as_str(),
        &e.occurred_at,
        &e.actor_tid,
        &e.actor_oid,
        &e.actor_name,
        &e.action,
        &e.subject,
        &e.details,
        &e.prev_hash,
        &e.hash,
    ];
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(&mut out, c);
    }
    out.push_str("\r\n");
    out
}

pub fn jsonl_row(e: &ChainedEvent) -> String {
    let mut line = serde_json::to_string(e).expect("an event serialises");
    line.push('\n');
    line
}

/// What an export proves: the filters, how many rows, the chain at both ends, the file's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: Format,
    pub filters: serde_json::Value,
    /// True when filters other than a time range were applied: the rows need not be contiguous.
    pub filtered: bool,
    pub rows: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The `prev_hash` of the first row and the `hash` of the last: where the export sits in the chain.
    pub first_prev_hash: Option<String>,
    pub last_hash: Option<String>,
    pub file_sha256: String,
    pub created_at: String,
    /// Ed25519 over everything above (see [`Manifest::signed_bytes`]), by the audit key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<ManifestSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSignature {
    pub public_key: String,
    pub signature: String,
}

impl Manifest {
    /// What the signature covers: the manifest without its signature, as JSON (fields in
    /// declaration order, object keys sorted), after a fixed prefix.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let unsigned = Manifest {
            signature: None,
            ..self.clone()
        };
        let json = serde_json::to_string(&unsigned).expect("a manifest serialises");
        format!("gatehouse-manifest-v1\n{json}").into_bytes()
    }

    pub fn sign(&mut self, key: &super::anchor::AuditKey) {
        self.signature = Some(ManifestSignature {
            public_key: key.public_hex(),
            signature: key.sign(&self.signed_bytes()),
        });
    }

    /// Whether `key` signed exactly this manifest.
    pub fn signature_verifies(&self, key: &ed25519_dalek::VerifyingKey) -> bool {
        self.signature.as_ref().is_some_and(|s| {
            super::anchor::signature_verifies(key, &self.signed_bytes(), &s.signature)
        })
    }
}

/// Builds an export row by row.
pub struct Exporter {
    pub format: Format,
    hasher: Sha256,
    pub rows: u64,
    /// Bytes of the file so far.
    pub bytes: u64,
    first: Option<(i64, String)>,
    last: Option<(i64, String)>,
}

impl Exporter {
    pub fn new(format: Format) -> Exporter {
        Exporter {
            format,
            hasher: Sha256::new(),
            rows: 0,
            bytes: 0,
            first: None,
            last: None,
        }
    }

    /// The bytes that start the file.
    pub fn start(&mut self) -> String {
        let head = match self.format {
            Format::Csv => CSV_HEADER.to_string(),
            Format::Jsonl => String::new(),
        };
        self.hasher.update(head.as_bytes());
        self.bytes += head.len() as u64;
        head
    }

    /// The bytes of one more row.
    pub fn row(&mut self, e: &ChainedEvent) -> String {
        let text = match self.format {
            Format::Csv => csv_row(e),
            Format::Jsonl => jsonl_row(e),
        };
        self.hasher.update(text.as_bytes());
        self.bytes += text.len() as u64;
        self.rows += 1;
        if self.first.is_none() {
            self.first = Some((e.seq, e.prev_hash.clone()));
        }
        self.last = Some((e.seq, e.hash.clone()));
        text
    }

    pub fn finish(
        self,
        filters: serde_json::Value,
        filtered: bool,
        created_at: String,
    ) -> Manifest {
        Manifest {
            format: self.format,
            filters,
            filtered,
            rows: self.rows,
            first_seq: self.first.as_ref().map(|f| f.0),
            first_prev_hash: self.first.map(|f| f.1),
            last_seq: self.last.as_ref().map(|l| l.0),
            last_hash: self.last.map(|l| l.1),
            file_sha256: hex::encode(self.hasher.finalize()),
            created_at,
            signature: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_come_back_exactly() {
        for cell in [
            "=HYPERLINK(\"x\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "'quoted",
            "\tx",
            "plain",
            "",
        ] {
            let n = neutralise(cell);
            assert!(!n.starts_with(['=', '+', '-', '@', '\t']), "{n}");
            assert_eq!(unneutralise(&n), cell);
        }
        assert_eq!(neutralise("plain"), "plain");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let e = ChainedEvent {
            seq: 7,
            occurred_at: "2026-11-28T21:12:19.591331Z".into(),
            actor_tid: String::new(),
            actor_oid: String::new(),
            actor_name: "=cmd|' /C calc'!A0".into(),
            action: "a".into(),
            subject: "x,y".into(),
            details: r#"{"k": "line
two"}"#
                .into(),
            prev_hash: "p".into(),
            hash: "h".into(),
        };
        assert_eq!(
            csv_row(&e),
            "7,2026-11-28T21:12:19.591331Z,,,'=cmd|' /C calc'!A0,a,\"x,y\",\"{\"\"k\"\": \"\"line\ntwo\"\"}\",p,h\r\n"
        );
    }
}
