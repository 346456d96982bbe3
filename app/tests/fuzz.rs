//! Property-based fuzzing (cargo-fuzz needs a nightly toolchain these machines do not have) of
//! what takes hostile text: names and ARNs, the history filter, the sign-in `next` parameter and
//! the offline export verifier. Each target runs a bounded number of cases
//! (GATEHOUSE_FUZZ_CASES, default 2000) and must never panic; what parses must round-trip.
#![cfg(feature = "ssr")]

use app::{
    backend::{
        auth::safe_next,
        history::{export::Exporter, export::Format, offline},
    },
    domain::names::{ApiId, HttpMethod, ResourcePath, RoleArn, StageName},
    history::HistoryFilter,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("GATEHOUSE_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that looks like what it attacks: ARN and path pieces, separators, control characters,
/// non-ASCII, and plain noise.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("arn".to_string()),
                Just(":".to_string()),
                Just("aws".to_string()),
                Just("iam".to_string()),
                Just("::".to_string()),
                Just("role/".to_string()),
                Just("/".to_string()),
                Just("//".to_string()),
                Just("{".to_string()),
                Just("}".to_string()),
                Just("\\".to_string()),
                Just("\t".to_string()),
                Just("\r\n".to_string()),
                Just("%2F".to_string()),
                Just("..".to_string()),
                Just("123456789012".to_string()),
                Just("é".to_string()),
                Just("\u{202e}".to_string()),
                "[a-zA-Z0-9_.+=,@-]{0,12}",
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn names_and_arns_never_panic_and_round_trip(text in hostile()) {
        if let Ok(arn) = RoleArn::parse(&text) {
            prop_assert_eq!(RoleArn::parse(&arn.to_string()).unwrap(), arn);
        }
        if let Ok(path) = ResourcePath::parse(&text) {
            prop_assert!(path.as_str().starts_with('/'));
            prop_assert_eq!(ResourcePath::parse(path.as_str()).unwrap(), path);
        }
        if let Ok(stage) = StageName::parse(&text) {
            prop_assert_eq!(StageName::parse(stage.as_str()).unwrap(), stage);
        }
        if let Ok(api) = ApiId::parse(&text) {
            prop_assert_eq!(ApiId::parse(api.as_str()).unwrap(), api);
        }
        let _ = HttpMethod::parse(&text);
    }

    #[test]
    fn the_history_filter_never_panics_and_bounds_what_it_passes_on(
        from in hostile(), to in hostile(), actor in hostile(), action in hostile(),
        change_set in hostile(), mentions in hostile(), campaign in hostile(),
    ) {
        let f = HistoryFilter { from, to, actor, action, change_set, mentions, campaign };
        if let Ok(c) = f.check() {
            for text in [&c.actor, &c.action, &c.mentions].into_iter().flatten() {
                prop_assert!(text.chars().count() <= 200);
            }
        }
    }

    #[test]
    fn next_never_leaves_the_site(next in hostile()) {
        let base = url::Url::parse("https://gatehouse.example/").unwrap();
        let target = safe_next(&base, Some(&next));
        prop_assert!(target.starts_with('/') && !target.starts_with("//"), "{:?}", target);
        prop_assert!(!target.contains(|c: char| c.is_control() || c == '\\'), "{:?}", target);
        // What the browser would do with it: stay on our origin.
        let followed = base.join(&target).unwrap();
        prop_assert_eq!(followed.origin(), base.origin());
        prop_assert!(!followed.path().starts_with("/auth/"));
    }

    #[test]
    fn the_offline_verifier_never_panics_on_any_file(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        jsonl in any::<bool>(),
    ) {
        let dir = std::env::temp_dir().join(format!("gh-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let format = if jsonl { Format::Jsonl } else { Format::Csv };
        let manifest = Exporter::new(format).finish(serde_json::json!({}), false, "now".into());
        let (file, mpath) = (dir.join(format!("f-{jsonl}")), dir.join(format!("m-{jsonl}")));
        std::fs::write(&file, &bytes).unwrap();
        std::fs::write(&mpath, serde_json::to_vec(&manifest).unwrap()).unwrap();
        let _ = offline::verify(&file, &mpath, None);
        // The manifest itself as noise.
        std::fs::write(&mpath, &bytes).unwrap();
        let noise: Result<serde_json::Value, _> = serde_json::from_slice(&bytes);
        if noise.is_err() {
            prop_assert!(offline::verify(&file, &mpath, None).is_err());
        }
    }
}
