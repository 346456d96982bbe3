//! What Gatehouse approved next to what AWS holds, each side with the lines the other lacks
//! marked (removed on the approved side, added on AWS's), so a drift is seen at a glance.

use leptos::prelude::*;

use crate::domain::diff::{diff_lines, DiffLine, LineKind};

/// One line of a diff: added green with `+`, removed red with `-`, unchanged grey.
pub fn diff_line(l: &DiffLine) -> impl IntoView {
    let (class, sign) = match l.kind {
        LineKind::Added => ("line added", "+ "),
        LineKind::Removed => ("line removed", "- "),
        LineKind::Same => ("line same", "  "),
    };
    view! { <span class=class>{sign}{l.text.clone()}"\n"</span> }
}

#[component]
pub fn TwoSides(desired: String, actual: String) -> impl IntoView {
    let lines = diff_lines(&desired, &actual);
    let side = |skip: LineKind| {
        lines
            .iter()
            .filter(|l| l.kind != skip)
            .map(diff_line)
            .collect_view()
    };
    let (approved, in_aws) = (side(LineKind::Added), side(LineKind::Removed));
    view! {
        <div class="two-sides">
            <section><h3>"Desired"</h3><pre class="json diff" tabindex="0">{approved}</pre></section>
            <section><h3>"In AWS"</h3><pre class="json diff" tabindex="0">{in_aws}</pre></section>
        </div>
    }
}
