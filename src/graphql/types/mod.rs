//! GraphQL output types; each wraps a stored model and resolves its fields.

mod compliance;
mod compliance_event;
mod connection;
mod event;
mod login;
mod rollout;
mod session;
mod slice;
mod subscription_center;
mod user;

pub use compliance::{ComplianceReportNode, LicenseUsageNode};
pub use compliance_event::{ComplianceEventConnection, ComplianceEventEdge, ComplianceEventNode};
pub(crate) use connection::parts as connection_parts;
pub use connection::{PageInfo, SessionConnection, SliceConnection, UserConnection};
pub use event::SessionEventNode;
pub use login::{LicenseUnavailable, LoginRejected, LoginResult, LoginSuccess, LoginWarning, SessionLimitReached};
pub use rollout::RolloutStep;
pub use session::SessionNode;
pub use slice::SliceNode;
pub use subscription_center::{SeatPointNode, SubscriptionCenterNode, UsagePointNode};
pub use user::UserNode;

/// Converts a stored count or version to GraphQL's 32-bit `Int`, saturating.
pub(crate) fn to_int(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}
