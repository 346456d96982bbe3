pub mod assets;
pub mod guards;
pub mod headers;
pub mod health;
pub mod limits;
pub mod observe;
pub use app::backend::page;
pub mod status;
