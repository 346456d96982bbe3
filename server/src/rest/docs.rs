//! `/api/v1/docs`: the REST API's reference, rendered on the server from the OpenAPI document
//! itself (no script, nothing fetched from elsewhere), so it never disagrees with the document.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::problem::KINDS;
use app::backend::page::escape;

/// A description, escaped, with its `code` spans set as code.
fn text(v: &Value) -> String {
    escape(v.as_str().unwrap_or(""))
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// `#/components/schemas/X` → a link to X's section; inline schemas by their type.
fn schema_name(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\"><code>{0}</code></a>", escape(name));
    }
    if let Some(items) = s.get("items") {
        return format!("array of {}", schema_name(items));
    }
    if let Some(one_of) = s.get("oneOf").and_then(Value::as_array) {
        return one_of
            .iter()
            .map(schema_name)
            .collect::<Vec<_>>()
            .join(" or ");
    }
    match s.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .map(|t| format!("<code>{}</code>", text(t)))
            .collect::<Vec<_>>()
            .join(" or "),
        Some(t) => format!("<code>{}</code>", text(t)),
        None => "<code>object</code>".into(),
    }
}

fn operation(method: &str, path: &str, op: &Value) -> String {
    let scopes = op["security"]
        .as_array()
        .and_then(|s| s.first())
        .and_then(|s| s["token"].as_array())
        .map(|s| s.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let who = match (op.get("security"), scopes.is_empty()) {
        (None, _) => "anyone".to_string(),
        (Some(_), true) => "no token (refused)".to_string(),
        (Some(_), false) => format!("token with <code>{scopes}</code>"),
    };
    let params = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    format!(
                        "<li><code>{}</code> ({}{}) {}</li>",
                        text(&p["name"]),
                        text(&p["in"]),
                        if p["required"].as_bool() == Some(true) {
                            ", required"
                        } else {
                            ""
                        },
                        text(&p["description"])
                    )
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    let body = op["requestBody"]["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| {
            format!(
                "<p>Body: {}</p>",
                schema_name(&op["requestBody"]["content"]["application/json"]["schema"])
            )
        })
        .unwrap_or_default();
    let responses = op["responses"]
        .as_object()
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| {
                    let schema = r["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| format!(" — {}", schema_name(&c["schema"])))
                        .unwrap_or_default();
                    format!(
                        "<li><code>{status}</code> {}{schema}</li>",
                        text(&r["description"])
                    )
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    format!(
        "<section class=\"card\" id=\"{anchor}\"><h3><code>{m} {p}</code></h3><p class=\"muted\">{who}</p><p>{desc}</p>{params}{body}<h4>Answers</h4><ul>{responses}</ul></section>",
        anchor = escape(&format!("{method}-{path}")),
        m = method.to_uppercase(),
        p = escape(path),
        desc = text(op.get("description").unwrap_or(&op["summary"])),
        params = if params.is_empty() { String::new() } else { format!("<h4>Parameters</h4><ul>{params}</ul>") },
    )
}

fn schema(name: &str, s: &Value) -> String {
    let required: Vec<&str> = s["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = s["properties"]
        .as_object()
        .map(|ps| {
            ps.iter()
                .map(|(field, p)| {
                    format!(
                        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(field),
                        if required.contains(&field.as_str()) {
                            ""
                        } else {
                            " <span class=\"muted\">(optional)</span>"
                        },
                        schema_name(p),
                        text(&p["description"])
                    )
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    let variants = s["oneOf"]
        .as_array()
        .map(|vs| vs.iter().map(|v| schema("one of", v)).collect::<String>())
        .unwrap_or_default();
    format!(
        "<section id=\"schema-{n}\"><h3><code>{n}</code></h3><p>{d}</p>{table}{variants}</section>",
        n = escape(name),
        d = text(&s["description"]),
        table = if fields.is_empty() {
            String::new()
        } else {
            format!("<div class=\"table-wrap\"><table><thead><tr><th>Field</th><th>Type</th><th>What</th></tr></thead><tbody>{fields}</tbody></table></div>")
        },
    )
}

pub async fn page() -> Response {
    let doc = serde_json::to_value(super::openapi()).unwrap_or_default();
    let mut ops = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    ops.push_str(&operation(method, path, op));
                }
            }
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .map(|s| s.iter().map(|(n, v)| schema(n, v)).collect::<String>())
        .unwrap_or_default();
    let problems = KINDS
        .iter()
        .map(|(slug, title, status)| {
            format!("<tr id=\"problem-{slug}\"><td><code>/api/v1/docs#problem-{slug}</code></td><td>{status}</td><td>{title}</td></tr>")
        })
        .collect::<String>();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>REST API reference · Gatehouse</title>
<link rel="stylesheet" href="{stylesheet}"><link rel="icon" href="/favicon.ico"></head>
<body><header class="topbar"><a class="brand" href="/">Gatehouse</a></header>
<main id="main" class="page api-docs">
<h1>REST API reference</h1>
<p class="lede">{intro}</p>
<p>The machine-readable document: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a> (OpenAPI {version}). Make a token on <a href="/tokens">API tokens</a>.</p>
<h2>Endpoints</h2>{ops}
<h2 id="problems">Problems</h2>
<p>Every error answers <code>application/problem+json</code> with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code> and, for bad input, <code>errors</code> (a <code>field</code> and a <code>message</code> each).</p>
<div class="table-wrap"><table data-testid="problem-kinds"><thead><tr><th>type</th><th>status</th><th>title</th></tr></thead><tbody>{problems}</tbody></table></div>
<h2>Schemas</h2>{schemas}
</main></body></html>"#,
        intro = text(&doc["info"]["description"]),
        version = text(&doc["openapi"]),
        stylesheet = app::backend::page::stylesheet(),
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
