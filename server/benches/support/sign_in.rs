//! Shared by the benches that load a running Gatehouse: a signed-in client.

use std::time::Duration;

use reqwest::{header, redirect::Policy, Client};

/// Follows the sign-in redirects through the demo provider (it signs `hint` in at once).
pub async fn signed_in(base: &str, hint: &str) -> Client {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut url =
        reqwest::Url::parse(&format!("{base}/auth/login?login_hint={hint}&next=/")).unwrap();
    for _ in 0..20 {
        let response = client.get(url.clone()).send().await.expect("sign-in hop");
        if !response.status().is_redirection() {
            assert!(
                response.status().is_success(),
                "sign-in as {hint}: {}",
                response.status()
            );
            return client;
        }
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        url = url.join(&location).unwrap();
    }
    panic!("sign-in as {hint} did not end");
}
