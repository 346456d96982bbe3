//! The integration tests, one test binary (a binary per file compiled and linked the server
//! and its dependencies' generic code ~30 times). `cargo test -p server --test integration
//! push::` runs one file's tests. `observability` and `webhooks` are binaries of their own:
//! they count the process's metrics, which the other tests here would move.

mod common;

mod access;
mod access_limits;
mod access_matrix;
mod audit_anchor;
mod audit_history;
mod audit_table;
mod auth;
mod authorizer;
mod aws_policy;
// The scale benchmark's verdict, tested here: benches are not built by `cargo test` (the
// benchmark uses every item; these tests not all).
#[allow(dead_code)]
#[path = "../benches/support/goals.rs"]
mod bench_goals;
mod bench_goals_tests;
mod campaigns;
mod catalog;
mod change_sets;
mod db_pool;
mod directory_graph;
mod directory_ldap;
mod enforcement;
mod forms;
mod hostile_input;
mod overage;
mod push;
mod push_integrity;
mod replicas;
mod requests;
mod rest_api;
mod scale;
mod schema_version;
mod seed_demo;
mod shutdown;
mod webhook_claims;
