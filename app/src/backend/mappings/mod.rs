//! Mappings: the desired state and the change sets that alone may change it.

pub mod cache;
#[cfg(test)]
mod conflict_props;
pub mod matrix;
pub mod queries;
pub mod requests;
pub mod routes;
pub mod service;
pub mod store;
pub mod views;
pub mod workflow;
