//! The rules of mappings, with no IO: values and their validation, bindings and grants, invoke
//! ARNs, the policy documents grants yield, the desired state and what change sets do to it, and
//! the change-set state machine. Shared by the server and the browser (forms check the same way).

#[cfg(feature = "ssr")]
pub mod access_bundle;
#[cfg(feature = "ssr")]
pub mod access_limit;
pub mod api_token;
pub mod attach;
pub mod aws_policy;
pub mod call;
pub mod callers;
#[cfg(feature = "ssr")]
pub mod campaign;
pub mod change_set;
pub mod desired;
pub mod diff;
pub mod drift;
pub mod effective;
pub mod enforcement;
pub mod exact;
pub mod expiry;
pub mod explain;
#[cfg(test)]
pub mod fixtures;
pub mod grant;
pub mod iam_eval;
pub mod identity_center;
pub mod method_access;
pub mod names;
pub mod owners;
pub mod paging;
pub mod pending;
pub mod plan;
pub mod policy;
pub mod request;
pub mod resource_policy;
pub mod route_key;
pub mod saml;
pub mod webhook;
