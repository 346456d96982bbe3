//! One person's access as of a moment, as a download: CSV or JSON Lines (one row per route and
//! the chain that allows it) and a manifest naming the person, the moment, the row count and
//! the SHA-256 of the file's exact bytes. The past does not change (memberships and approvals
//! are history), so the same request later yields the same bytes and the manifest still holds.

use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Json, Router,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::export::{csv_cell, Format};
use crate::backend::{session::SessionUser, state::AppState};
use crate::person::PersonView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/reports/person-access.csv", get(csv))
        .route("/api/reports/person-access.jsonl", get(jsonl))
        .route("/api/reports/person-access.manifest.json", get(manifest))
}

#[derive(Deserialize)]
struct ReportQuery {
    #[serde(default)]
    source: String,
    #[serde(default)]
    oid: String,
    #[serde(default)]
    at: String,
    /// For the manifest: which file it describes (`csv`, the default, or `jsonl`).
    #[serde(default)]
    format: String,
}

/// One exported row.
#[derive(Serialize)]
struct Row<'a> {
    person_source: &'a str,
    person_oid: &'a str,
    person_name: &'a str,
    as_of: &'a str,
    api_id: &'a str,
    api_name: &'a str,
    stage: &'a str,
    method: &'a str,
    path: &'a str,
    authorization: &'a str,
    chain: String,
}

const CSV_HEADER: &str = "person_source,person_oid,person_name,as_of,api_id,api_name,stage,method,path,authorization,chain\r\n";

fn rows<'a>(p: &'a PersonView, as_of: &'a str) -> impl Iterator<Item = Row<'a>> {
    p.routes.iter().map(move |r| Row {
        person_source: &p.source,
        person_oid: &p.oid,
        person_name: &p.name,
        as_of,
        api_id: &r.api_id,
        api_name: &r.api_name,
        stage: &r.stage,
        method: &r.method,
        path: &r.path,
        authorization: &r.authorization,
        chain: r.chain.join(" → "),
    })
}

/// The file's bytes and its row count. Pure: the manifest hashes what this returns.
pub fn render(p: &PersonView, as_of: &str, format: Format) -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    if format == Format::Csv {
        out.push_str(CSV_HEADER);
    }
    for row in rows(p, as_of) {
        n += 1;
        match format {
            Format::Csv => {
                let cells = [
                    row.person_source,
                    row.person_oid,
                    row.person_name,
                    row.as_of,
                    row.api_id,
                    row.api_name,
                    row.stage,
                    row.method,
                    row.path,
                    row.authorization,
                    &row.chain,
                ];
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    csv_cell(&mut out, c);
                }
                out.push_str("\r\n");
            }
            Format::Jsonl => {
                out.push_str(&serde_json::to_string(&row).expect("rows serialise"));
                out.push('\n');
            }
        }
    }
    (out, n)
}

/// What proves a download whole: recompute the SHA-256 of the file and compare.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct PersonReportManifest {
    pub report: String,
    pub person: String,
    pub person_name: String,
    /// The moment the access is for: just before this instant (RFC 3339).
    pub as_of: String,
    pub format: Format,
    pub file: String,
    pub rows: usize,
    pub bytes: usize,
    pub sha256: String,
}

/// The person's view as of the query's moment, or the response that says what is wrong.
async fn view_of(
    state: &AppState,
    user: &Option<Extension<SessionUser>>,
    q: &ReportQuery,
) -> Result<(PersonView, String), Response> {
    if let Some(r) = super::routes::refused(user) {
        return Err(r);
    }
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    let at = match crate::history::as_of(&q.at) {
        Ok(Some(at)) => at,
        Ok(None) => return Err(bad("give a date: ?at=2026-11-28".into())),
        Err(e) => return Err(bad(e)),
    };
    if q.source.is_empty() || q.oid.is_empty() || q.oid.len() > 200 || q.source.len() > 50 {
        return Err(bad("name the person: ?source=…&oid=…".into()));
    }
    match crate::backend::person_access::person(state, &q.source, &q.oid, Some(&at)).await {
        Ok(Some(p)) => Ok((p, at)),
        Ok(None) => Err(crate::error::AppError::not_found(format!(
            "There is no person {} in the {} directory.",
            q.oid, q.source
        ))
        .into_response()),
        Err(e) => Err(e.into_response()),
    }
}

fn file_name(q: &ReportQuery, format: Format) -> String {
    let safe: String = q
        .oid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "gatehouse-person-access-{safe}-{}.{}",
        q.at.trim().replace(':', ""),
        format.extension()
    )
}

async fn download(
    state: AppState,
    user: Option<Extension<SessionUser>>,
    q: ReportQuery,
    format: Format,
) -> Response {
    let (p, at) = match view_of(&state, &user, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (body, _) = render(&p, &at, format);
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&q, format)),
            ),
        ],
        body,
    )
        .into_response()
}

async fn csv(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Query(q): Query<ReportQuery>,
) -> Response {
    download(state, user, q, Format::Csv).await
}

async fn jsonl(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Query(q): Query<ReportQuery>,
) -> Response {
    download(state, user, q, Format::Jsonl).await
}

async fn manifest(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let format = match q.format.as_str() {
        "" => Format::Csv,
        f => match Format::parse(f) {
            Some(f) => f,
            None => return (StatusCode::BAD_REQUEST, "format: csv or jsonl").into_response(),
        },
    };
    let (p, at) = match view_of(&state, &user, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (body, rows) = render(&p, &at, format);
    Json(PersonReportManifest {
        report: "person-access".into(),
        person: format!("{}:{}", p.source, p.oid),
        person_name: p.name.clone(),
        as_of: at,
        format,
        file: file_name(&q, format),
        rows,
        bytes: body.len(),
        sha256: hex::encode(Sha256::digest(body.as_bytes())),
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::person::PersonRouteView;

    fn person() -> PersonView {
        PersonView {
            source: "file".into(),
            oid: "alice".into(),
            name: "=Alice, \"the\" admin".into(),
            username: None,
            groups: vec![],
            roles: vec![],
            routes: vec![PersonRouteView {
                api_id: "a1b2c3d4e5".into(),
                api_name: "Orders".into(),
                stage: "prod".into(),
                method: "GET".into(),
                path: "/orders".into(),
                authorization: "AWS_IAM".into(),
                open: false,
                chain: vec!["member of Orders team".into(), "role orders-readers".into()],
            }],
            outside: vec![],
            at: Some("2026-03-31T00:00:00Z".into()),
            at_error: None,
        }
    }

    #[test]
    fn csv_rows_quote_and_neutralise_cells_and_count_rows() {
        let (body, rows) = render(&person(), "2026-03-31T00:00:00Z", Format::Csv);
        assert_eq!(rows, 1);
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.trim_end());
        assert_eq!(
            lines[1],
            "file,alice,\"'=Alice, \"\"the\"\" admin\",2026-03-31T00:00:00Z,a1b2c3d4e5,Orders,prod,GET,/orders,AWS_IAM,member of Orders team → role orders-readers"
        );
        assert_eq!(lines.len(), 3, "header, one row, and the final line end");
    }

    #[test]
    fn json_lines_hold_one_object_per_route_and_no_header() {
        let (body, rows) = render(&person(), "2026-03-31T00:00:00Z", Format::Jsonl);
        assert_eq!(rows, 1);
        let row: serde_json::Value = serde_json::from_str(body.trim_end()).unwrap();
        assert_eq!(row["person_name"], "=Alice, \"the\" admin");
        assert_eq!(row["chain"], "member of Orders team → role orders-readers");
        let (empty, none) = render(
            &PersonView {
                routes: vec![],
                ..person()
            },
            "x",
            Format::Csv,
        );
        assert_eq!((empty.as_str(), none), (CSV_HEADER, 0));
    }
}
