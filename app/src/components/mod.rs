pub mod empty;
pub mod layout;
pub mod search;
pub mod state;
