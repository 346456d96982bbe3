//! The History page's export notice: an export's rows are hashed in the background (for the
//! manifest and the file's exact length), the notice follows that (fetched again while it runs:
//! `components::live`), then offers the file and its manifest.

use leptos::prelude::*;

use crate::components::{live::KeepFresh, loaded::error_view};
use crate::error::AppError;
use crate::history::{get_export_status, ExportStatus};

pub type StatusResource = Resource<Result<Option<ExportStatus>, AppError>>;

/// The status of export `id` (from the URL). Made at page level, as every resource of a page.
pub fn export_status_resource(
    id: impl Fn() -> Option<i64> + Send + Sync + 'static,
) -> StatusResource {
    Resource::new(id, |id| async move {
        match id {
            Some(id) => get_export_status(id).await.map(Some),
            None => Ok(None),
        }
    })
}

#[component]
pub fn ExportNotice(status: StatusResource) -> impl IntoView {
    // The region the page fetches again while the export is prepared.
    view! {
        <div id="export-notice">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(Some(s)) => Some(notice(s).into_any()),
                        Ok(None) => None,
                        Err(e) => Some(error_view(&e)),
                    }
                })}
            </Suspense>
        </div>
    }
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} bytes"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1_000.0),
        b => format!("{:.1} MB", b as f64 / 1_000_000.0),
    }
}

fn notice(s: ExportStatus) -> impl IntoView {
    let id = s.id;
    if let Some(error) = s.error.clone() {
        return view! {
            <section class="notice notice-error" role="alert" data-testid="export-failed">
                <p><strong>{format!("Export {id} failed: {error}.")}</strong></p>
            </section>
        }
        .into_any();
    }
    if !s.ready {
        let percent = if s.rows > 0 {
            s.hashed_rows * 100 / s.rows
        } else {
            0
        };
        return view! {
            <section class="notice" role="status" data-testid="export-preparing">
                <p><strong>{format!("Preparing export {id}: {} of {} events hashed ({percent} %).", s.hashed_rows, s.rows)}</strong>
                    " You can leave this page; the export goes on and this address shows where it stands."</p>
                <progress max=s.rows.max(1) value=s.hashed_rows aria-label=format!("Export {id}")></progress>
                <KeepFresh active=true seconds=1 region="export-notice"/>
            </section>
        }
        .into_any();
    }
    let size = s.bytes.map(size).unwrap_or_default();
    view! {
        <section class="notice notice-success" role="status" data-testid="export-ready">
            <p><strong>{format!("Export {id} is ready: {} events, {size}.", s.rows)}</strong>
                " The file is read from the database as it downloads; its manifest holds the row count, both ends of the chain and the file's SHA-256."</p>
            <p>
                <a class="button" href=format!("/api/audit/exports/{id}/file") download="">"Download the file"</a> " "
                <a class="button" href=format!("/api/audit/exports/{id}/manifest") download="">"Download the manifest"</a>
            </p>
            <p class="muted small">"Check it offline: " <code>"gatehouse audit verify --export FILE --manifest FILE.manifest.json"</code></p>
        </section>
    }
    .into_any()
}
