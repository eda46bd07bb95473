//! SeaORM entities of seatwarden: table shapes only, no business rules.

pub mod alert_state;
pub mod compliance_event;
pub mod enums;
pub mod login_throttle;
pub mod outbox_email;
pub mod rollout_schedule;
pub mod rollout_step;
pub mod session;
pub mod slice;
pub mod user;

pub use enums::*;
