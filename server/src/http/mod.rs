pub mod guards;
pub mod headers;
pub mod health;
pub use app::backend::page;
pub mod status;
