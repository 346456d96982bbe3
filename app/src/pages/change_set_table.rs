//! The change set table (the Change sets and Reviews pages): sortable by each column, the order
//! in the URL so that it works as plain links without JavaScript.

use leptos::prelude::*;

use crate::components::empty::EmptyState;
use leptos_router::hooks::{use_location, use_query_map};

use crate::components::{search::urlencode, state::StateBadge};
use crate::mappings::types::ChangeSetSummary;

use crate::mappings::types::{ChangeSetOrder, CHANGE_SET_SORTS as SORTS};

/// `rows` ordered by column `key` (newest first when it is unknown), ascending or not.
fn sort_rows(rows: &mut [ChangeSetSummary], key: &str, ascending: bool) {
    match key {
        "title" => rows.sort_by_key(|r| r.title.to_lowercase()),
        "state" => rows.sort_by(|a, b| a.state.cmp(&b.state).then(b.id.cmp(&a.id))),
        "author" => rows.sort_by_key(|r| r.author_name.to_lowercase()),
        "changes" => rows.sort_by_key(|r| r.items),
        // Times are written so that text order is time order.
        "updated" => rows.sort_by(|a, b| a.updated_at.cmp(&b.updated_at)),
        _ => rows.sort_by_key(|r| r.id),
    }
    if !ascending {
        rows.reverse();
    }
}

/// A list of change sets as it loads: the table, what to do when it is empty, or the error.
#[component]
pub fn ChangeSetList(
    list: Resource<Result<Vec<ChangeSetSummary>, crate::error::AppError>>,
    empty_title: &'static str,
    empty_text: &'static str,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <EmptyState title=empty_title text=empty_text/> }.into_any(),
                    Ok(rows) => view! { <ChangeSetTable rows/> }.into_any(),
                    Err(e) => crate::components::loaded::error_view(&e),
                }
            })}
        </Suspense>
    }
}

/// The table, ordered as the URL says (`sort`, `dir`). `sorted_by_server`: the rows are a page
/// the server already ordered, and must stay in its order.
#[component]
pub fn ChangeSetTable(
    mut rows: Vec<ChangeSetSummary>,
    #[prop(optional)] sorted_by_server: bool,
) -> impl IntoView {
    // The order lives in the URL (`sort`, `dir`), beside whatever else the page's query holds.
    let query = use_query_map().get_untracked();
    let order = ChangeSetOrder::of(
        &query.get("sort").unwrap_or_default(),
        &query.get("dir").unwrap_or_default(),
    );
    let ascending = order.ascending;
    if !sorted_by_server {
        sort_rows(&mut rows, order.sort, ascending);
    }
    let path = use_location().pathname.get_untracked();
    let header = |(k, label, starts_ascending): (&'static str, &'static str, bool)| {
        let current = k == order.sort;
        let dir = if current {
            !ascending
        } else {
            starts_ascending
        };
        let mut params: Vec<String> = query
            .clone()
            .into_iter()
            // A new order starts from its first page.
            .filter(|(name, _)| {
                name != "sort" && name != "dir" && name != "after" && name != "before"
            })
            .map(|(name, value)| format!("{name}={}", urlencode(&value)))
            .collect();
        params.push(format!("sort={k}&dir={}", if dir { "asc" } else { "desc" }));
        let href = format!("{path}?{}", params.join("&"));
        let sort = current.then_some(if ascending { "ascending" } else { "descending" });
        let class = if matches!(k, "id" | "changes") {
            "num"
        } else {
            ""
        };
        view! { <th scope="col" class=class aria-sort=sort><a href=href>{label}</a></th> }
    };
    let headers = SORTS.into_iter().map(header).collect_view();
    let body = rows
        .into_iter()
        .map(|cs| {
            view! {
                <tr>
                    <td class="num">{cs.id}</td>
                    <td><a href=format!("/change-sets/{}", cs.id)>{cs.title.clone()}</a>
                        {cs.request.then(|| view! { " " <span class="badge badge-kind" data-testid="request-badge">"Access request"</span> })}
                        {cs.waits_on.clone().map(|w| view! {
                            " " <span class=if cs.waits_on_viewer { "badge badge-warn" } else { "badge badge-muted" }
                                data-testid="waits-on">{w}</span>
                        })}</td>
                    <td><StateBadge state=cs.state.clone()/></td>
                    <td>{cs.author_name.clone()}</td>
                    <td class="num">{cs.items}</td>
                    <td class="nowrap"><crate::components::when::When at=cs.updated_at.clone()/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="change-set-table">
                <thead><tr>{headers}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(id: i64, title: &str, state: &str, items: usize, updated: &str) -> ChangeSetSummary {
        ChangeSetSummary {
            id,
            title: title.into(),
            state: state.into(),
            author_name: format!("author {id}"),
            items,
            updated_at: updated.into(),
            waits_on: None,
            waits_on_viewer: false,
            request: false,
        }
    }

    #[test]
    fn rows_sort_by_each_column_both_ways() {
        let mut rows = vec![
            cs(1, "beta", "pushed", 3, "2026-11-02 10:00:00 UTC"),
            cs(2, "Alpha", "draft", 1, "2026-11-03 09:00:00 UTC"),
            cs(3, "gamma", "draft", 2, "2026-11-01 08:00:00 UTC"),
        ];
        let ids = |rows: &[ChangeSetSummary]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
        sort_rows(&mut rows, "title", true);
        assert_eq!(ids(&rows), [2, 1, 3], "case does not matter");
        sort_rows(&mut rows, "title", false);
        assert_eq!(ids(&rows), [3, 1, 2]);
        sort_rows(&mut rows, "state", true);
        assert_eq!(ids(&rows), [3, 2, 1], "one state: newest first");
        sort_rows(&mut rows, "changes", false);
        assert_eq!(ids(&rows), [1, 3, 2]);
        sort_rows(&mut rows, "updated", false);
        assert_eq!(ids(&rows), [2, 1, 3]);
        sort_rows(&mut rows, "nonsense", false);
        assert_eq!(ids(&rows), [3, 2, 1]);
    }
}
