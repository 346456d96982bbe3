pub mod guards;
pub mod headers;
pub mod health;
pub mod page;
