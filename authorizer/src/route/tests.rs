use super::*;
use proptest::prelude::*;

fn p(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}
fn t(s: &str) -> Vec<Segment> {
    template(s).unwrap()
}

#[test]
fn a_grant_covers_exactly_its_templates() {
    assert!(p("/orders/{id}").covers_template(&t("/orders/{orderId}")));
    assert!(p("/orders/{id}").covers_template(&t("/orders/export")));
    assert!(!p("/orders/export").covers_template(&t("/orders/{id}")));
    assert!(!p("/orders/{id}").covers_template(&t("/orders/{id}/items")));
    assert!(!p("/orders/{id}").covers_template(&t("/orders/{proxy+}")));
    assert!(p("/orders/*").covers_template(&t("/orders/{id}/items")));
    assert!(!p("/orders/*").covers_template(&t("/orders")));
    assert!(p("/{proxy+}").covers_template(&t("/a/b")));
    assert!(!p("/{proxy+}").covers_template(&t("/")));
    assert!(p("/").covers_template(&t("/")));
    assert!(!p("/").covers_template(&t("/a")));
    assert!(p("/*").covers_template(&t("/a")));
}

#[test]
fn only_a_grant_on_default_covers_the_default_route() {
    let default = t("$default");
    assert!(p("$default").covers_template(&default));
    assert!(!p("/*").covers_template(&default));
    assert!(!p("/{proxy+}").covers_template(&default));
    assert!(!p("$default").covers_template(&t("/a")));
    assert!(!p("$default").covers_template(&t("/")));
    assert!(p("$default").matches_path("$default"));
    assert!(!p("$default").matches_path("/anything"));
}

#[test]
fn a_grant_covers_exactly_its_concrete_paths() {
    assert!(p("/orders/{id}").matches_path("/orders/42"));
    assert!(p("/orders/{id}").matches_path("orders/42"));
    assert!(!p("/orders/{id}").matches_path("/orders/42/items"));
    assert!(!p("/orders/{id}").matches_path("/orders"));
    assert!(p("/orders/*").matches_path("/orders/42/items"));
    assert!(!p("/orders/*").matches_path("/orders"));
    assert!(p("/files/{path+}").matches_path("/files/a/b/c"));
    assert!(!p("/files/{path+}").matches_path("/files"));
}

#[test]
fn a_concrete_path_resolves_to_the_most_specific_template() {
    let templates = [t("/orders/{id}"), t("/orders/export"), t("/{proxy+}")];
    let resolve_path = |path| resolve(templates.iter().map(|t| t.as_slice()), path);
    assert_eq!(resolve_path("/orders/export"), Some(1));
    assert_eq!(resolve_path("/orders/42"), Some(0));
    assert_eq!(resolve_path("/customers/7"), Some(2));
    assert_eq!(resolve(std::iter::empty(), "/x"), None);
}

#[test]
fn bad_patterns_are_refused_with_the_reason() {
    assert!(Pattern::parse("orders")
        .unwrap_err()
        .contains("start with /"));
    assert!(Pattern::parse("/{proxy+}/x")
        .unwrap_err()
        .contains("comes last"));
    assert!(Pattern::parse("/a/{}").unwrap_err().contains("parameter"));
    assert!(Pattern::parse("/a*/b").unwrap_err().contains("segment"));
}

#[test]
fn arns_and_methods() {
    assert_eq!(arn_part("/orders/{id}/items"), "orders/*/items");
    assert_eq!(arn_part("/"), "");
    assert!(method_covers("*", "DELETE"));
    assert!(method_covers("GET", "GET"));
    assert!(!method_covers("GET", "POST"));
    assert!(iam_matches(
        "api/prod/GET/orders/*",
        "api/prod/GET/orders/1/items"
    ));
    assert!(!iam_matches("api/prod/GET/orders", "api/prod/GET/orders/1"));
}

// A pattern and a path drawn from a small alphabet, so that matches and misses both occur.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("{id}".to_string()),
        Just("{rest+}".to_string()),
    ]
}

fn pattern_text() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..4), any::<bool>()).prop_map(|(segs, subtree)| {
        let mut segs: Vec<String> = segs;
        if let Some(i) = segs.iter().position(|s| s.ends_with("+}")) {
            segs.truncate(i + 1);
        }
        let greedy_last = segs.last().is_some_and(|s| s.ends_with("+}"));
        let mut text = format!("/{}", segs.join("/"));
        if subtree && !greedy_last {
            text = if text == "/" {
                "/*".into()
            } else {
                format!("{text}/*")
            };
        }
        text
    })
}

fn concrete_path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 0..5)
        .prop_map(|segs| format!("/{}", segs.join("/")))
}

/// The reference: the pattern as a regular expression over the concrete path.
fn reference(pattern: &str, path: &str) -> bool {
    let (body, subtree) = match pattern.strip_suffix("/*") {
        Some(b) => (b, true),
        None => (pattern, false),
    };
    let mut re = String::from("^");
    for s in body.split('/').filter(|s| !s.is_empty()) {
        let part = match s {
            "{id}" => "/[^/]+".to_string(),
            "{rest+}" => "(/[^/]+)+".to_string(),
            lit => format!("/{lit}"),
        };
        re.push_str(&part);
    }
    if subtree {
        re.push_str("(/[^/]+)+");
    }
    re.push('$');
    let path = if path == "/" { "" } else { path };
    regex::Regex::new(&re).unwrap().is_match(path)
}

proptest! {
    #[test]
    fn concrete_matching_agrees_with_the_reference(pattern in pattern_text(), path in concrete_path()) {
        prop_assert_eq!(p(&pattern).matches_path(&path), reference(&pattern, &path), "{} vs {}", pattern, path);
    }

    /// Covering a template means covering every concrete path the template serves.
    #[test]
    fn covering_a_template_covers_its_paths(grant in pattern_text(), resource in pattern_text(), path in concrete_path()) {
        prop_assume!(!resource.ends_with("/*"));
        let resource_t = t(&resource);
        if p(&grant).covers_template(&resource_t) && template_matches(&resource_t, &path) {
            prop_assert!(p(&grant).matches_path(&path), "{} covers {} but not {}", grant, resource, path);
        }
    }

    #[test]
    fn a_grant_on_a_template_covers_that_template(resource in pattern_text()) {
        prop_assume!(!resource.ends_with("/*"));
        prop_assert!(p(&resource).covers_template(&t(&resource)));
    }
}
