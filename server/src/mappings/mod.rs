//! Mappings: the desired state and the change sets that alone may change it.

pub mod store;
pub mod workflow;
