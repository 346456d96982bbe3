//! The audit history as an auditor's tool: the hash chain and its checks, filtered pages,
//! streamed exports with a manifest, and the offline check of an export.

pub mod anchor;
pub mod chain;
pub mod cli;
pub mod export;
pub mod exports;
pub mod offline;
pub mod person_report;
pub mod reports;
pub mod routes;
pub mod service;
pub mod store;
