//! Members of the `LoginResult` union.

use async_graphql::{SimpleObject, Union};

use super::SessionNode;
use crate::graphql::enums::{LoginRejectReason, LoginWarningCode};

#[derive(Union)]
pub enum LoginResult {
    LoginSuccess(LoginSuccess),
    LoginRejected(LoginRejected),
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
