//! Parts of a page that change while it is open (a sync's, a push's or an export's progress) are
//! fetched again as HTML and swapped in place: the server renders pages anyway, and the browser
//! then needs no code for them (only `#[island]`s are hydrated; see `crate::hydrate`).
//! Without JavaScript a `<noscript>` refresh reloads the whole page instead.

use leptos::prelude::*;

/// While `active`, the element `region` (an id; `main` is the whole page below the header) is
/// fetched again every `seconds`: swapped in place with JavaScript, the page reloaded without.
#[component]
pub fn KeepFresh(
    active: bool,
    seconds: u32,
    #[prop(default = "main")] region: &'static str,
) -> impl IntoView {
    // inner_html: with scripting on, a noscript's content is text that must not be walked.
    // (Given as a value, not a literal: a literal inside a larger static view became an
    // attribute named inner_html.)
    let meta = format!(r#"<meta http-equiv="refresh" content="{seconds}">"#);
    active.then(|| {
        view! {
            <noscript inner_html=meta></noscript>
            <RefreshRegion region=region.to_string() millis=seconds * 1000/>
        }
    })
}

/// Fetches the page again after `millis` and swaps `region` in. The fresh region brings a fresh
/// `RefreshRegion` while the work goes on, so the loop ends with it.
#[island]
fn RefreshRegion(region: String, millis: u32) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let mut wait = millis;
        loop {
            browser::sleep(wait).await;
            let url = window().location().href().unwrap_or_default();
            match browser::fetch_page(&url).await {
                Ok(Some(page)) if browser::swap_regions(&page, &[region.as_str()]) > 0 => return,
                // Gone elsewhere (signed out, say): the browser followed.
                Ok(None) => return,
                // The server is away for a moment (a restart, a proxy's error page): try again,
                // less often.
                _ => wait = (wait * 2).min(15_000),
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (region, millis);
}

/// The browser side: fetch a page, swap regions, hydrate the islands that came with them.
#[cfg(feature = "hydrate")]
pub mod browser {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Document, DomParser, Element, Response, SupportedType};

    /// Resolves after `millis`.
    pub async fn sleep(millis: u32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = leptos::prelude::window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis as i32);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// The page at `url`, parsed, whatever its status (a page that says what is wrong is still
    /// the page); `None` when the server sent the browser elsewhere (it has gone there, as a
    /// link would).
    pub async fn fetch_page(url: &str) -> Result<Option<Document>, JsValue> {
        let window = leptos::prelude::window();
        let response: Response = JsFuture::from(window.fetch_with_str(url))
            .await?
            .dyn_into()?;
        if response.redirected() {
            window.location().set_href(&response.url())?;
            return Ok(None);
        }
        let html = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let page = DomParser::new()?.parse_from_string(&html, SupportedType::TextHtml)?;
        Ok(Some(page))
    }

    /// Replaces each element of `ids` with the one of the same id in `page`; how many were.
    pub fn swap_regions(page: &Document, ids: &[&str]) -> usize {
        let document = leptos::prelude::document();
        let mut swapped = 0;
        for id in ids {
            let (Some(old), Some(new)) =
                (document.get_element_by_id(id), page.get_element_by_id(id))
            else {
                continue;
            };
            let Ok(new) = document.import_node_with_deep(&new, true) else {
                continue;
            };
            if old.replace_with_with_node_1(&new).is_ok() {
                swapped += 1;
                if let Some(new) = new.dyn_ref::<Element>() {
                    hydrate_islands(new);
                }
            }
        }
        swapped
    }

    /// Hands each island in `root` to Leptos's island script (`window.__hydrateIsland`).
    fn hydrate_islands(root: &Element) {
        let window = leptos::prelude::window();
        let Ok(hydrate) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland"))
        else {
            return;
        };
        let Some(hydrate) = hydrate.dyn_ref::<js_sys::Function>() else {
            return;
        };
        let Ok(islands) = root.query_selector_all("leptos-island") else {
            return;
        };
        for i in 0..islands.length() {
            let Some(island) = islands.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let id = island.get_attribute("data-component").unwrap_or_default();
            let _ = hydrate.call2(&JsValue::NULL, &island, &JsValue::from_str(&id));
        }
    }
}
