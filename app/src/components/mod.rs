pub mod copy;
pub mod empty;
pub mod layout;
pub mod refresh;
pub mod search;
pub mod state;
pub mod two_sides;
pub mod when;
