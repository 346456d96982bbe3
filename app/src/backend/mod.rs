//! Everything the server does for a request or a job, compiled into the server only (`ssr`):
//! database access (each area's `store.rs`), AWS and directory adapters, background jobs,
//! sign-in and sessions. Server functions in `crate::<area>` call into these modules directly;
//! the browser's WASM bundle never sees them.

pub mod access_limits;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod aws_calls;
pub mod callers;
pub mod campaigns;
pub mod catalog;
pub mod clock;
pub mod compute;
pub mod config;
pub mod db;
pub mod directory;
pub mod expiry;
pub mod history;
pub mod mappings;
pub mod memberships;
pub mod notices;
pub mod owners;
pub mod page;
pub mod person_access;
pub mod progress;
pub mod push;
pub mod schedule;
pub mod session;
pub mod signals;
pub mod state;
pub mod tokens;
pub mod tryit;
pub mod users;
pub mod webhooks;
