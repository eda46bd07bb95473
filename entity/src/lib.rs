//! SeaORM entities of seatwarden: table shapes only, no business rules.

pub mod alert_state;
pub mod compliance_event;
pub mod enums;
pub mod job_lease;
pub mod login_throttle;
pub mod notice_sent;
pub mod outbox_email;
pub mod rollout_schedule;
pub mod rollout_step;
pub mod seat_change;
pub mod session;
pub mod slice;
pub mod usage_day;
pub mod user;

pub use enums::*;
