//! Gatehouse's authorizer. The core (route patterns, the access bundle, decisions, the policies
//! API Gateway is answered with) is pure and shared with Gatehouse itself; the `runtime`
//! feature adds token validation, the S3 bundle source and the Lambda handler.

pub mod bundle;
#[cfg(feature = "runtime")]
pub mod config;
pub mod decide;
pub mod policy;
pub mod route;

#[cfg(feature = "runtime")]
pub mod handler;
#[cfg(feature = "runtime")]
pub mod jwks;
#[cfg(feature = "runtime")]
pub mod source;
#[cfg(feature = "runtime")]
pub mod token;
