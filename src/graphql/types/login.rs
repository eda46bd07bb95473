//! Members of the `LoginResult` union.

use async_graphql::{SimpleObject, Union};

use super::SessionNode;
use crate::graphql::enums::{LicenseType, LoginRejectReason, LoginWarningCode};

#[derive(Union)]
pub enum LoginResult {
    LoginSuccess(LoginSuccess),
    SessionLimitReached(SessionLimitReached),
    LicenseUnavailable(LicenseUnavailable),
    LoginRejected(LoginRejected),
}

/// ENFORCE mode refused a CONCURRENT seat because all owned seats are in use.
#[derive(SimpleObject)]
pub struct LicenseUnavailable {
    pub message: String,
    pub license_type: LicenseType,
    pub owned: i32,
    pub in_use: i32,
}

#[derive(SimpleObject)]
pub struct LoginSuccess {
    /// Bearer token of the new session; shown once, send it as `Authorization: Bearer TOKEN`.
    pub token: String,
    pub session: SessionNode,
    pub warnings: Vec<LoginWarning>,
}

#[derive(SimpleObject)]
pub struct LoginWarning {
    pub code: LoginWarningCode,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct LoginRejected {
    pub message: String,
    pub reason: LoginRejectReason,
}

/// The user already holds the maximum of live WEB sessions: repeat the login
/// with `endSessionIds` naming sessions to end.
#[derive(SimpleObject)]
pub struct SessionLimitReached {
    pub message: String,
    pub max_web_sessions: i32,
    /// The user's live WEB sessions, oldest first.
    pub active_sessions: Vec<SessionNode>,
}
