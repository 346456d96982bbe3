pub mod layout;
pub mod search;
