//! The list pages' shared parts: a search box that is a plain GET form without JavaScript and
//! filters as you type with it, keyset "previous/next" links, and identifiers in monospace.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::{
    components::Form,
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

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

/// A search form. `keep` are other query parameters (such as the sort) the search keeps.
#[component]
pub fn SearchBar(
    id: &'static str,
    label: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(into, optional)] keep: Signal<Vec<(&'static str, String)>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let path = use_location().pathname;
    let waiting: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    // Typing pauses for a moment before the page follows, so each keystroke is not a request.
    let on_input = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        if let Some(handle) = waiting.get_value() {
            handle.clear();
        }
        let navigate = navigate.clone();
        let mut url = format!("{}?q={}", path.get_untracked(), urlencode(&q));
        for (name, value) in keep.get_untracked() {
            url.push_str(&format!("&{name}={}", urlencode(&value)));
        }
        let handle = set_timeout_with_handle(
            move || {
                navigate(
                    &url,
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                )
            },
            Duration::from_millis(250),
        )
        .ok();
        waiting.set_value(handle);
    };
    // A search submitted, or a page left, before the pause ends cancels the pending one.
    let cancel = move || {
        if let Some(Some(handle)) = waiting.try_get_value() {
            handle.clear();
        }
    };
    on_cleanup(cancel);
    let hidden = move || {
        keep.get()
            .into_iter()
            .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
            .collect_view()
    };
    view! {
        <Form method="GET" action="" attr:class="searchbar" attr:role="search" on:submit=move |_| cancel()>
            <label for=id>{label} <kbd class="muted small" title="Press / to search">"/"</kbd></label>
            <div class="searchbar-row">
                <input id=id type="search" name="q" value=value autocomplete="off"
                    aria-keyshortcuts="/" on:input=on_input/>
                {hidden}
                <button type="submit" class="button">"Search"</button>
            </div>
        </Form>
    }
}

/// The page size a search keeps (none when the default).
pub fn keep_size(size: String) -> Vec<(&'static str, String)> {
    if size.is_empty() {
        Vec::new()
    } else {
        vec![("size", size)]
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
