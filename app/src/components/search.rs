//! The list pages' shared parts: a search box that is a plain GET form without JavaScript and
//! filters as you type with it, keyset "previous/next" links, and identifiers in monospace.

use leptos::prelude::*;

/// Percent-encodes a query-string value.
pub fn urlencode(text: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    // RFC 3986's unreserved characters stay as they are.
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// A search form. `keep` are other query parameters (such as the page size) the search keeps.
/// The results are the page's [`SearchResults`] of the same `id`: as the person types, the page
/// with the new search is fetched and its results swapped in (the box keeps its focus); a
/// submitted search, or one without JavaScript, loads the page.
#[island]
pub fn SearchBar(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] value: String,
    #[prop(optional)] keep: Option<Vec<(String, String)>>,
) -> impl IntoView {
    let keep = keep.unwrap_or_default();
    // Typing pauses for a moment before the page follows, so each keystroke is not a request;
    // a newer search makes an older one's answer moot.
    let waiting: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let latest = StoredValue::new(0u64);
    let results = results_id(&id);
    let kept = keep.clone();
    let on_input = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        if let Some(handle) = waiting.get_value() {
            handle.clear();
        }
        let mut url = format!(
            "{}?q={}",
            window().location().pathname().unwrap_or_default(),
            urlencode(&q)
        );
        for (name, value) in &kept {
            url.push_str(&format!("&{name}={}", urlencode(value)));
        }
        let results = results.clone();
        let handle = set_timeout_with_handle(
            move || {
                latest.update_value(|n| *n += 1);
                let this = latest.get_value();
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(async move {
                    use super::live::browser;
                    let Ok(Some(page)) = browser::fetch_page(&url).await else {
                        return;
                    };
                    if latest.get_value() == this {
                        browser::swap_regions(&page, &[results.as_str()]);
                        if let Ok(history) = window().history() {
                            let _ = history.replace_state_with_url(
                                &leptos::wasm_bindgen::JsValue::NULL,
                                "",
                                Some(&url),
                            );
                        }
                    }
                });
                #[cfg(not(feature = "hydrate"))]
                let _ = (this, &url, &results);
            },
            std::time::Duration::from_millis(250),
        )
        .ok();
        waiting.set_value(handle);
    };
    // A search submitted before the pause ends cancels the pending one.
    let cancel = move |_| {
        if let Some(handle) = waiting.get_value() {
            handle.clear();
        }
        latest.update_value(|n| *n += 1);
    };
    let hidden = keep
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
        .collect_view();
    view! {
        <form method="GET" action="" class="searchbar" role="search" on:submit=cancel>
            <label for=id.clone()>{label} <kbd class="muted small" title="Press / to search">"/"</kbd></label>
            <div class="searchbar-row">
                <input id=id type="search" name="q" value=value autocomplete="off"
                    aria-keyshortcuts="/" on:input=on_input/>
                {hidden}
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
    }
}

fn results_id(search_id: &str) -> String {
    format!("{search_id}-results")
}

/// What a [`SearchBar`] of the same `id` filters: swapped in as the person types.
#[component]
pub fn SearchResults(id: &'static str, children: Children) -> impl IntoView {
    view! { <div id=results_id(id)>{children()}</div> }
}

/// The page size a search keeps (none when the default).
pub fn keep_size(size: String) -> Vec<(String, String)> {
    if size.is_empty() {
        Vec::new()
    } else {
        vec![("size".to_string(), size)]
    }
}

/// A list page's URL with its search and page size, for its pager's links.
pub fn list_base(path: &str, search: &str, size: &str) -> String {
    list_url(path, &[("q", search), ("size", size)])
}

/// `path` with the parameters that have a value, percent-encoded, in the order given.
pub fn list_url(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", urlencode(value)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// "Previous"/"Next" links of a keyset page; `base` is the page's URL with its query so far.
#[component]
pub fn Pager(
    base: String,
    prev: Option<String>,
    next: Option<String>,
    #[prop(default = "")] param_prefix: &'static str,
) -> impl IntoView {
    let sep = if base.contains('?') { "&" } else { "?" };
    let link =
        |kind: &str, key: &str| format!("{base}{sep}{param_prefix}{kind}={}", urlencode(key));
    let prev_link = prev.map(|k| link("before", &k));
    let next_link = next.map(|k| link("after", &k));
    (prev_link.is_some() || next_link.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {match prev_link {
                    Some(href) => view! { <a class="button" rel="prev" href=href>"← Previous"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"← Previous"</span> }.into_any(),
                }}
                {match next_link {
                    Some(href) => view! { <a class="button" rel="next" href=href>"Next →"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"Next →"</span> }.into_any(),
                }}
            </nav>
        }
    })
}

/// An identifier (ARN, object id) in monospace, cut in the middle when long, whole on hover,
/// with a copy button.
#[component]
pub fn Ident(#[prop(into)] value: String, #[prop(default = 40)] max: usize) -> impl IntoView {
    let chars: Vec<char> = value.chars().collect();
    let shown = if chars.len() > max {
        let half = (max - 1) / 2;
        let head: String = chars[..half].iter().collect();
        let tail: String = chars[chars.len() - half..].iter().collect();
        format!("{head}…{tail}")
    } else {
        value.clone()
    };
    view! {
        <span class="ident-with-copy">
            <code class="ident" title=value.clone()>{shown}</code>
            <super::copy::CopyButton value/>
        </span>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_list_url_keeps_only_the_parameters_that_have_a_value() {
        assert_eq!(
            super::list_url("/apis", &[("q", ""), ("size", "")]),
            "/apis"
        );
        assert_eq!(
            super::list_url("/apis", &[("q", "a b"), ("sort", ""), ("size", "10")]),
            "/apis?q=a%20b&size=10"
        );
    }

    #[test]
    fn query_values_are_percent_encoded_but_for_unreserved_characters() {
        assert_eq!(
            super::urlencode("GET /orders/{id} & ü~x_y.z-1"),
            "GET%20%2Forders%2F%7Bid%7D%20%26%20%C3%BC~x_y.z-1"
        );
    }
}
