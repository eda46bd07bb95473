//! SeaORM entities of seatwarden: table shapes only, no business rules.

pub mod alert_state;
pub mod compliance_event;
pub mod enums;
pub mod login_throttle;
pub mod session;
pub mod slice;
pub mod user;

pub use enums::*;
