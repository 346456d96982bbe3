//! The authorizer's costs with a large bundle: 5,000 groups × 2,000 routes (20 APIs of 100
//! routes, 1,000 roles of 5 groups with 4 grants each). Prints the bundle's size (JSON and
//! gzip), the cold start (decode, parse and index the published bytes, then the first
//! decision), decisions per second on one core, and the p50/p99 of one decision and of one
//! decision with its policy. `cargo bench -p gatehouse-authorizer`.

use std::time::{Duration, Instant};

use authorizer::{
    bundle::{Bundle, BundleApi, BundleGrant, BundleRole, FORMAT},
    decide::{decide, Membership, RequestPath, RouteRequest},
    policy::rest_policy,
    source::{decode, encode},
};

const GROUPS: usize = 5_000;
const APIS: usize = 20;
const ROUTES_PER_API: usize = 100;
const ROLES: usize = 1_000;
const GROUPS_PER_ROLE: usize = 5;
const GRANTS_PER_ROLE: usize = 4;
const CALLER_GROUPS: usize = 150;
const DECISIONS: usize = 200_000;

/// xorshift: the same figures on every run, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

fn group_id(i: usize) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        i * 2654435761 % 0xffff_ffff,
        i
    )
}

fn api_id(a: usize) -> String {
    format!("api{a:07}")
}

/// Route `r` of an API: `/resource{r/2}` or `/resource{r/2}/{id}`, GET or POST.
fn route(r: usize) -> (String, String) {
    let method = if r % 4 < 2 { "GET" } else { "POST" };
    let path = if r.is_multiple_of(2) {
        format!("/resource{}", r / 2)
    } else {
        format!("/resource{}/{{id}}", r / 2)
    };
    (method.into(), path)
}

fn bundle() -> Bundle {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let roles = (0..ROLES)
        .map(|r| BundleRole {
            arn: format!("arn:aws:iam::123456789012:role/team-{r}"),
            groups: (0..GROUPS_PER_ROLE)
                .map(|k| ((r * GROUPS_PER_ROLE + k) % GROUPS) as u32)
                .collect(),
        })
        .collect();
    let mut apis: Vec<BundleApi> = (0..APIS)
        .map(|a| BundleApi {
            api_id: api_id(a),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            kind: "rest".into(),
            grants: vec![],
            routes: (0..ROUTES_PER_API).map(route).collect(),
        })
        .collect();
    for role in 0..ROLES {
        for _ in 0..GRANTS_PER_ROLE {
            let a = rng.next() % APIS;
            let (method, path) = route(rng.next() % ROUTES_PER_API);
            apis[a].grants.push(BundleGrant {
                role: role as u32,
                stage: if rng.next().is_multiple_of(5) {
                    "*".into()
                } else {
                    "prod".into()
                },
                method,
                path,
            });
        }
    }
    Bundle {
        format: FORMAT.into(),
        version: 1,
        generated_at: "2026-12-03T00:00:00Z".into(),
        groups: (0..GROUPS).map(group_id).collect(),
        nested: (0..200)
            .map(|i| ((GROUPS - 1 - i) as u32, i as u32))
            .collect(),
        roles,
        apis,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    let built = bundle();
    let json = built.to_json();
    let published = encode(&built);
    println!(
        "bundle: {GROUPS} groups, {} routes, {} grants; JSON {:.1} KiB, gzip {:.1} KiB (goal < 1024 KiB)",
        APIS * ROUTES_PER_API,
        ROLES * GRANTS_PER_ROLE,
        json.len() as f64 / 1024.0,
        published.len() as f64 / 1024.0
    );

    let mut rng = Rng(42);
    let callers: Vec<Vec<String>> = (0..64)
        .map(|_| {
            (0..CALLER_GROUPS)
                .map(|_| group_id(rng.next() % GROUPS))
                .collect()
        })
        .collect();
    let asks: Vec<(String, String, String)> = (0..DECISIONS)
        .map(|_| {
            let (method, path) = route(rng.next() % ROUTES_PER_API);
            let concrete = path.replace("{id}", "42");
            (api_id(rng.next() % APIS), method, concrete)
        })
        .collect();

    let cold = Instant::now();
    let compiled = decode(&published).unwrap().compile().unwrap();
    let membership = Membership::of(&compiled, &callers[0]);
    let first = RouteRequest {
        api_id: &asks[0].0,
        stage: "prod",
        method: &asks[0].1,
        path: RequestPath::Concrete(&asks[0].2),
    };
    let _ = decide(&compiled, &membership, CALLER_GROUPS, &first);
    let cold = cold.elapsed();
    println!(
        "cold start (gunzip, parse, index, first decision): {:.1} ms",
        cold.as_secs_f64() * 1e3
    );

    // Throughput: each decision includes reading the caller's groups (as each request does).
    let start = Instant::now();
    let mut allowed = 0usize;
    for (i, (api, method, path)) in asks.iter().enumerate() {
        let membership = Membership::of(&compiled, &callers[i % callers.len()]);
        let req = RouteRequest {
            api_id: api,
            stage: "prod",
            method,
            path: RequestPath::Concrete(path),
        };
        allowed += decide(&compiled, &membership, CALLER_GROUPS, &req).is_allowed() as usize;
    }
    let elapsed = start.elapsed();
    println!(
        "decisions: {:.0} per second on one core ({} of {DECISIONS} allowed)",
        DECISIONS as f64 / elapsed.as_secs_f64(),
        allowed
    );

    let mut one = Vec::with_capacity(20_000);
    let mut with_policy = Vec::with_capacity(20_000);
    for (i, (api, method, path)) in asks.iter().take(20_000).enumerate() {
        let caller = &callers[i % callers.len()];
        let req = RouteRequest {
            api_id: api,
            stage: "prod",
            method,
            path: RequestPath::Concrete(path),
        };
        let t = Instant::now();
        let membership = Membership::of(&compiled, caller);
        let decision = decide(&compiled, &membership, CALLER_GROUPS, &req);
        one.push(t.elapsed());
        let arn = format!("arn:aws:execute-api:eu-west-1:123456789012:{api}/prod/{method}{path}");
        let _ = rest_policy(&compiled, &membership, api, "prod", &arn, &decision).document();
        with_policy.push(t.elapsed());
    }
    one.sort();
    with_policy.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "one decision: p50 {:.1} µs, p99 {:.1} µs (goal p99 < 1000 µs); with its REST policy: p50 {:.1} µs, p99 {:.1} µs",
        us(percentile(&one, 0.5)),
        us(percentile(&one, 0.99)),
        us(percentile(&with_policy, 0.5)),
        us(percentile(&with_policy, 0.99))
    );
}
