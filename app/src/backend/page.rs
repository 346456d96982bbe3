//! Small server-rendered pages outside the Leptos app (sign-in refusals, signed out, errors).

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

/// The site's files (the wasm, script and stylesheet under `/pkg/`, the icon): served to
/// anyone, with no session, no page headers, no request slot.
pub fn is_site_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.ico"
}

/// What probes and scrapers call: answered at once to anyone.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the site's stylesheet by its hashed name (set once at start when the build hashed it).
pub fn set_stylesheet(href: String) {
    let _ = STYLESHEET.set(href);
}

/// The site's stylesheet, as pages outside the Leptos app link it.
pub fn stylesheet() -> &'static str {
    STYLESHEET
        .get()
        .map(String::as_str)
        .unwrap_or("/pkg/gatehouse.css")
}

/// `body` must already be escaped HTML.
pub fn plain_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · Gatehouse</title>
<link rel="stylesheet" href="{stylesheet}">
<link rel="icon" href="/favicon.ico">
</head>
<body>
<header class="topbar"><a class="brand" href="/"><svg class="brand-mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor" d="M3 21V8l9-5 9 5v13h-5v-7a4 4 0 0 0-8 0v7z"/></svg>Gatehouse</a></header>
<main id="main" class="page"><section class="empty-state">{body}</section></main>
</body>
</html>"#,
        title = escape(title),
        stylesheet = stylesheet(),
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
