pub mod guards;
pub mod health;
pub mod headers;
pub mod page;
