//! The site's files (`/pkg`): content-hashed names when the build made them (cargo-leptos
//! `hash-files`), so a deploy changes every name it changes the content of and browsers may keep
//! a hashed file for good, while an unhashed name is revalidated on every use.

use std::path::Path;

/// The hashed names a build recorded in `hash.txt` (`js: …`, `wasm: …`, `css: …`).
#[derive(Debug, PartialEq, Eq)]
pub struct Hashes {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl Hashes {
    /// Reads cargo-leptos's hash file; `None` unless it names all three files.
    pub fn parse(text: &str) -> Option<Self> {
        let find = |key: &str| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                let v = v.trim();
                (k.trim() == key && is_hash(v)).then(|| v.to_string())
            })
        };
        Some(Self {
            js: find("js")?,
            wasm: find("wasm")?,
            css: find("css")?,
        })
    }

    /// The file names under `pkg/` these hashes stand for.
    pub fn file_names(&self, output_name: &str) -> [String; 3] {
        [
            format!("{output_name}.{}.js", self.js),
            format!("{output_name}.{}.wasm", self.wasm),
            format!("{output_name}.{}.css", self.css),
        ]
    }
}

/// The hashes of the site under `site_root`, when it was built with hashed names that match the
/// hash file beside this binary. A stale hash file (left by an older build in the same folder) or
/// a site built without hashing answers `None`, and pages then name the plain files.
pub fn site_hashes(exe_dir: &Path, site_root: &Path, output_name: &str) -> Option<Hashes> {
    let text = std::fs::read_to_string(exe_dir.join("hash.txt")).ok()?;
    let Some(hashes) = Hashes::parse(&text) else {
        tracing::warn!(
            "hash.txt beside the binary is not a cargo-leptos hash file; serving plain names"
        );
        return None;
    };
    let pkg = site_root.join("pkg");
    let present = hashes
        .file_names(output_name)
        .iter()
        .all(|name| pkg.join(name).is_file());
    if !present {
        tracing::warn!(
            "hash.txt beside the binary names files the site does not have (an older build?); serving plain names"
        );
    }
    present.then_some(hashes)
}

/// cargo-leptos's hashes: an MD5 digest in unpadded base64url, 22 characters.
fn is_hash(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a `/pkg` path names a content-hashed file (`gatehouse.<hash>.wasm`, with or without
/// a `.br`/`.gz` sibling's suffix): such a file never changes, so it may be cached for good.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    // The first part is the output name, the last the extension: the hash sits between.
    parts.next();
    let middle: Vec<&str> = parts.collect();
    middle.len() >= 2 && middle[..middle.len() - 1].iter().any(|p| is_hash(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "Ab-_0123456789abcdefgh";

    #[test]
    fn reads_the_hash_file_cargo_leptos_writes() {
        let text = format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n");
        let hashes = Hashes::parse(&text).unwrap();
        assert_eq!(hashes.js, HASH);
        assert_eq!(
            hashes.file_names("gatehouse")[1],
            format!("gatehouse.{HASH}.wasm")
        );
        // One missing or malformed: not a hashed build.
        assert_eq!(Hashes::parse(&format!("js: {HASH}\ncss: {HASH}\n")), None);
        assert_eq!(
            Hashes::parse(&format!("js: {HASH}\nwasm: short\ncss: {HASH}\n")),
            None
        );
    }

    #[test]
    fn only_hashed_names_are_immutable() {
        assert!(is_content_hashed(&format!("/pkg/gatehouse.{HASH}.wasm")));
        assert!(is_content_hashed(&format!("/pkg/gatehouse.{HASH}.js.br")));
        assert!(is_content_hashed(&format!("/pkg/gatehouse.{HASH}.css.gz")));
        assert!(!is_content_hashed("/pkg/gatehouse_bg.wasm"));
        assert!(!is_content_hashed("/pkg/gatehouse.js"));
        assert!(!is_content_hashed(&format!("/pkg/{HASH}")));
        // wasm-bindgen's snippets keep their names: revalidated like any plain file.
        assert!(!is_content_hashed(
            "/pkg/snippets/app-0123456789abcdef/inline0.js"
        ));
    }

    #[test]
    fn a_stale_hash_file_is_not_trusted() {
        let dir = std::env::temp_dir().join(format!("gh-assets-{}", std::process::id()));
        let (exe, site) = (dir.join("bin"), dir.join("site"));
        std::fs::create_dir_all(&exe).unwrap();
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        assert_eq!(site_hashes(&exe, &site, "gatehouse"), None, "no hash file");
        std::fs::write(
            exe.join("hash.txt"),
            format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
        )
        .unwrap();
        assert_eq!(site_hashes(&exe, &site, "gatehouse"), None, "files missing");
        for name in Hashes::parse(&std::fs::read_to_string(exe.join("hash.txt")).unwrap())
            .unwrap()
            .file_names("gatehouse")
        {
            std::fs::write(site.join("pkg").join(name), "x").unwrap();
        }
        assert_eq!(site_hashes(&exe, &site, "gatehouse").unwrap().css, HASH);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
