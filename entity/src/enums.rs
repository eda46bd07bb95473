//! Enumerations stored as upper-case text, spelled as the public API spells them.

use sea_orm::entity::prelude::*;

/// Whether a slice is a customer's staging or production environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SliceKind {
    #[sea_orm(string_value = "STAGING")]
    Staging,
    #[sea_orm(string_value = "PRODUCTION")]
    Production,
}

/// Product edition of a slice; concurrent licenses exist only in SERVICE_MANAGEMENT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Edition {
    #[sea_orm(string_value = "SERVICE_DESK")]
    ServiceDesk,
    #[sea_orm(string_value = "SERVICE_MANAGEMENT")]
    ServiceManagement,
}

/// License held by a slice user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LicenseType {
    #[sea_orm(string_value = "NAMED")]
    Named,
    #[sea_orm(string_value = "CONCURRENT")]
    Concurrent,
    #[sea_orm(string_value = "SELF_SERVICE")]
    SelfService,
    #[sea_orm(string_value = "WEB_SERVICES")]
    WebServices,
}

/// Role of an account: vendor operator, slice administrator or slice member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "OPERATOR")]
    Operator,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// Enforcement level of a slice's license limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EnforcementMode {
    #[sea_orm(string_value = "OFF")]
    Off,
    #[sea_orm(string_value = "WARN")]
    Warn,
    #[sea_orm(string_value = "ENFORCE")]
    Enforce,
}

/// Client kind a session was opened from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Channel {
    #[sea_orm(string_value = "WEB")]
    Web,
    #[sea_orm(string_value = "MOBILE")]
    Mobile,
    #[sea_orm(string_value = "API")]
    Api,
}

/// Reason a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum SessionEndReason {
    #[sea_orm(string_value = "LOGOUT")]
    Logout,
    #[sea_orm(string_value = "ENDED_BY_USER")]
    EndedByUser,
    #[sea_orm(string_value = "ENDED_BY_ADMIN")]
    EndedByAdmin,
    #[sea_orm(string_value = "REPLACED")]
    Replaced,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "USER_INACTIVATED")]
    UserInactivated,
    #[sea_orm(string_value = "LICENSE_CHANGED")]
    LicenseChanged,
    #[sea_orm(string_value = "PASSWORD_CHANGED")]
    PasswordChanged,
}

/// Level of a slice's use of a limited license type, compared with what it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UsageLevel {
    #[sea_orm(string_value = "WITHIN")]
    Within,
    #[sea_orm(string_value = "APPROACHING")]
    Approaching,
    #[sea_orm(string_value = "AT_LIMIT")]
    AtLimit,
    #[sea_orm(string_value = "OVER")]
    Over,
}

/// Kind of a compliance event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ComplianceEventKind {
    #[sea_orm(string_value = "APPROACHING_LIMIT")]
    ApproachingLimit,
    #[sea_orm(string_value = "LIMIT_REACHED")]
    LimitReached,
    #[sea_orm(string_value = "OVER_LIMIT")]
    OverLimit,
    #[sea_orm(string_value = "LOGIN_BLOCKED")]
    LoginBlocked,
    #[sea_orm(string_value = "ASSIGNMENT_BLOCKED")]
    AssignmentBlocked,
    #[sea_orm(string_value = "LOGIN_WOULD_BE_BLOCKED")]
    LoginWouldBeBlocked,
    #[sea_orm(string_value = "ASSIGNMENT_WOULD_BE_BLOCKED")]
    AssignmentWouldBeBlocked,
    #[sea_orm(string_value = "MODE_CHANGED")]
    ModeChanged,
}

/// Delivery state of the alert email for a compliance event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EmailStatus {
    #[sea_orm(string_value = "NOT_REQUIRED")]
    NotRequired,
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "SUPPRESSED")]
    Suppressed,
}

/// A step of the license-enforcement rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RolloutPhase {
    #[sea_orm(string_value = "VISIBLE")]
    Visible,
    #[sea_orm(string_value = "WARN")]
    Warn,
    #[sea_orm(string_value = "ENFORCE")]
    Enforce,
}
