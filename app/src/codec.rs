//! How server functions' answers travel: JSON, as leptos's own `Json`, but read with
//! `serde_json::from_str` rather than `from_slice`.
//!
//! Why: an island's data reaches the browser two ways — inside the HTML (its props and resources,
//! read with `from_str`) and as a server function's answer (leptos's `Json` reads it with
//! `from_slice`). Each reader makes its own copy of every type's deserializer in the WASM
//! bundle; one reader keeps one copy (measured in the README, "What the browser downloads", when
//! every page was hydrated).

use leptos::server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON read as text. Use as `#[server(endpoint = "…", output = crate::codec::StrJson)]`.
pub type StrJson = Post<StrJsonEncoding>;

pub struct StrJsonEncoding;

impl ContentType for StrJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for StrJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for StrJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for StrJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text =
            std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_bad_bytes_are_an_error() {
        let bytes =
            <StrJsonEncoding as Encodes<Vec<(String, i64)>>>::encode(&vec![("orders".into(), 7)])
                .unwrap();
        let back: Vec<(String, i64)> = StrJsonEncoding::decode(bytes).unwrap();
        assert_eq!(back, vec![("orders".to_string(), 7)]);
        let bad = <StrJsonEncoding as Decodes<Vec<i64>>>::decode(Bytes::from_static(b"[1, \xff]"));
        assert!(bad.is_err());
    }

    /// A server function left on leptos's `Json` would bring the second copy of its types'
    /// deserializers back: every one names this codec.
    #[test]
    fn every_server_function_answers_through_str_json() {
        fn visit(dir: &std::path::Path, missing: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, missing);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let line = line.trim();
                        if line.starts_with("#[server")
                            && !line.starts_with("#[server(default")
                            && !line.contains("output = crate::codec::StrJson")
                        {
                            missing.push(format!("{}:{}: {line}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
        let mut missing = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut missing,
        );
        assert!(
            missing.is_empty(),
            "add `output = crate::codec::StrJson` to:\n{}",
            missing.join("\n")
        );
    }
}
