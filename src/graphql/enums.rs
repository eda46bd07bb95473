//! GraphQL enums mirroring the stored ones, spelled as the contract spells them.

use async_graphql::Enum;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::SliceKind")]
pub enum SliceKind {
    Staging,
    Production,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Edition")]
pub enum Edition {
    ServiceDesk,
    ServiceManagement,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::LicenseType")]
pub enum LicenseType {
    Named,
    Concurrent,
    SelfService,
    WebServices,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    Operator,
    Admin,
    Member,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::EnforcementMode")]
pub enum EnforcementMode {
    Off,
    Warn,
    Enforce,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Channel")]
pub enum Channel {
    Web,
    Mobile,
    Api,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::SessionEndReason")]
pub enum SessionEndReason {
    Logout,
    EndedByUser,
    EndedByAdmin,
    Replaced,
    Expired,
    UserInactivated,
    LicenseChanged,
    PasswordChanged,
}

/// Reason a login did not start a session.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRejectReason {
    InvalidCredentials,
    UserInactive,
    ChannelNotAllowed,
    AccountLocked,
    TooManyAttempts,
}

/// Conditions a successful login reports to the user.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginWarningCode {
    /// This login was let in by WARN mode.
    WouldBeBlockedWhenEnforced,
    /// The slice uses more NAMED or CONCURRENT licenses than it owns (told to administrators).
    SliceOverLicenseLimit,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::events::SessionEventKind")]
pub enum SessionEventKind {
    Started,
    Ended,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrderField {
    #[default]
    Username,
    LastLoginAt,
    CreatedAt,
}

/// Level of a limited license type's usage (NAMED or CONCURRENT) relative to what the slice owns.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::licensing::UsageLevel")]
pub enum UsageLevel {
    /// Below the slice's alert threshold.
    Within,
    /// At or above the alert threshold, below what is owned.
    Approaching,
    /// Exactly what is owned.
    AtLimit,
    /// More than what is owned.
    Over,
}

/// Kind of a compliance event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ComplianceEventKind")]
pub enum ComplianceEventKind {
    ApproachingLimit,
    LimitReached,
    OverLimit,
    LoginBlocked,
    AssignmentBlocked,
    /// Recorded in WARN mode where ENFORCE would have blocked.
    LoginWouldBeBlocked,
    /// Recorded in WARN mode where ENFORCE would have blocked.
    AssignmentWouldBeBlocked,
    ModeChanged,
}

/// Delivery state of the alert email for a compliance event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::EmailStatus")]
pub enum EmailStatus {
    /// This kind of event, in this mode, sends no email.
    NotRequired,
    Pending,
    /// The mail server accepted the email.
    Sent,
    /// Rejected for good or out of retries.
    Failed,
    /// An email was due but the slice has no administrator with an address.
    Suppressed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::RolloutPhase")]
pub enum RolloutPhase {
    Visible,
    Warn,
    Enforce,
}
