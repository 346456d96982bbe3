//! A copy button beside an identifier. It needs JavaScript (the clipboard), so it stays invisible
//! (its space kept: nothing moves when it appears) until the page has hydrated; without
//! JavaScript the identifier is still selectable text.

use std::time::Duration;

use leptos::prelude::*;

#[cfg(target_arch = "wasm32")]
fn write_clipboard(text: &str) -> bool {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        // `catch`: outside a secure context there is no clipboard, and that must not panic.
        #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
        fn write_text(text: &str) -> Result<JsValue, JsValue>;
    }
    write_text(text).is_ok()
}

#[cfg(not(target_arch = "wasm32"))]
fn write_clipboard(_text: &str) -> bool {
    false
}

/// An island: the one part of most pages that runs in the browser.
#[island]
pub fn CopyButton(#[prop(into)] value: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    // Effects run in the browser only: the button shows once it can work.
    Effect::new(move |_| hydrated.set(true));
    let copied = RwSignal::new(None::<bool>);
    let label = format!("Copy {value}");
    let copy = move |_| {
        copied.set(Some(write_clipboard(&value)));
        set_timeout(
            move || {
                copied.try_set(None);
            },
            Duration::from_millis(1500),
        );
    };
    view! {
        <button type="button" class="copy button-small button-quiet" aria-label=label
            class:not-yet=move || !hydrated.get() aria-hidden=move || (!hydrated.get()).then_some("true")
            on:click=copy>
            {move || match copied.get() {
                Some(true) => "Copied",
                Some(false) => "Copy failed",
                None => "Copy",
            }}
        </button>
    }
}
