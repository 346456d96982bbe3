//! What Gatehouse approved next to what AWS holds, each side with the lines the other lacks
//! marked (removed on the approved side, added on AWS's), so a drift is seen at a glance.

use leptos::prelude::*;

use crate::domain::diff::{diff_lines, DiffLine, LineKind};

/// One line of a diff: added green with `+`, removed red with `-`, unchanged grey.
pub fn diff_line(l: &DiffLine) -> impl IntoView {
    line_view(l, &l.text)
}

/// The line as the after side writes it (an unchanged line may differ by a trailing comma).
fn after_line(l: &DiffLine) -> impl IntoView {
    line_view(l, l.after_text())
}

fn line_view(l: &DiffLine, text: &str) -> impl IntoView {
    let (class, sign) = match l.kind {
        LineKind::Added => ("line added", "+ "),
        LineKind::Removed => ("line removed", "- "),
        LineKind::Same => ("line same", "  "),
    };
    view! { <span class=class>{sign}{text.to_string()}"\n"</span> }
}

#[component]
pub fn TwoSides(desired: String, actual: String) -> impl IntoView {
    let lines = diff_lines(&desired, &actual);
    let approved = lines
        .iter()
        .filter(|l| l.kind != LineKind::Added)
        .map(diff_line)
        .collect_view();
    let in_aws = lines
        .iter()
        .filter(|l| l.kind != LineKind::Removed)
        .map(after_line)
        .collect_view();
    view! {
        <div class="two-sides">
            <section><h3>"Desired"</h3><pre class="json diff" tabindex="0">{approved}</pre></section>
            <section><h3>"In AWS"</h3><pre class="json diff" tabindex="0">{in_aws}</pre></section>
        </div>
    }
}
