use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, request, state},
        enums::{LicenseType, LoginRejectReason, LoginWarningCode},
        error::ApiResult,
        inputs::LoginInput,
        types::{
            LicenseUnavailable, LoginRejected, LoginResult, LoginSuccess, LoginWarning, SessionLimitReached, SessionNode,
            UserNode, to_int,
        },
    },
    sessions::{self, LoginOutcome, LoginRequest, RejectReason},
};

#[derive(Default)]
pub struct SessionMutations;

fn rejection(reason: RejectReason) -> LoginRejected {
    let (reason, message) = match reason {
        RejectReason::InvalidCredentials => {
            (LoginRejectReason::InvalidCredentials, "The slice, username or password is incorrect.")
        }
        RejectReason::UserInactive => {
            (LoginRejectReason::UserInactive, "This account is inactive; ask an administrator of your slice to activate it.")
        }
        RejectReason::ChannelNotAllowed => (
            LoginRejectReason::ChannelNotAllowed,
            "WEB_SERVICES accounts log in on the API channel only; set channel: API.",
        ),
        RejectReason::AccountLocked => (
            LoginRejectReason::AccountLocked,
            "This account is locked after repeated failed logins; try again later or ask an administrator to unlock it.",
        ),
        RejectReason::TooManyAttempts => (
            LoginRejectReason::TooManyAttempts,
            "Too many failed logins from this address; try again later.",
        ),
    };
    LoginRejected { message: message.to_owned(), reason }
}

fn warning(warning: sessions::LoginWarning) -> LoginWarning {
    match warning {
        sessions::LoginWarning::WouldBeBlockedWhenEnforced { in_use, owned } => LoginWarning {
            code: LoginWarningCode::WouldBeBlockedWhenEnforced,
            message: format!(
                "All {owned} CONCURRENT licenses were in use ({in_use}); this login was let in because the slice is in WARN mode, and will be refused once it enforces its limits."
            ),
        },
        sessions::LoginWarning::SliceOverLicenseLimit => LoginWarning {
            code: LoginWarningCode::SliceOverLicenseLimit,
            message: "This slice uses more NAMED or CONCURRENT licenses than it owns; see compliance for the counts.".to_owned(),
        },
    }
}

#[Object]
impl SessionMutations {
    /// Starts a session. Outcomes users meet in normal work are members of the union;
    /// malformed input is a BAD_USER_INPUT error.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<LoginResult> {
        let state = state(ctx)?;
        let request = LoginRequest {
            slice: input.slice,
            username: input.username,
            password: input.password,
            channel: input.channel.into(),
            user_agent: input.user_agent,
            client_address: request(ctx)?.client_address.clone(),
            end_session_ids: input.end_session_ids.into_iter().map(|id| id.0).collect(),
        };
        let outcome = sessions::login(&state.db, state.clock.as_ref(), &state.hasher, &state.sessions, &state.events, request).await?;
        crate::metrics::record_login(&outcome);
        Ok(match outcome {
            LoginOutcome::Success { token, session, warnings, .. } => LoginResult::LoginSuccess(LoginSuccess {
                token: token.token,
                session: SessionNode(session),
                warnings: warnings.into_iter().map(warning).collect(),
            }),
            LoginOutcome::LicenseUnavailable { owned, in_use } => LoginResult::LicenseUnavailable(LicenseUnavailable {
                message: format!(
                    "All {owned} CONCURRENT licenses of this slice are in use ({in_use}); try again when a colleague logs out."
                ),
                license_type: LicenseType::Concurrent,
                owned: to_int(owned),
                in_use: to_int(in_use),
            }),
            LoginOutcome::SessionLimitReached { sessions, max_web_sessions } => {
                LoginResult::SessionLimitReached(SessionLimitReached {
                    message: format!(
                        "You already have {} live web sessions, the maximum; log in again with endSessionIds naming the sessions to end.",
                        sessions.len()
                    ),
                    max_web_sessions: to_int(max_web_sessions),
                    active_sessions: sessions.into_iter().map(SessionNode).collect(),
                })
            }
            LoginOutcome::Rejected(reason) => LoginResult::LoginRejected(rejection(reason)),
        })
    }

    /// Own session, or any session of the slice for its administrators.
    async fn end_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SessionNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        Ok(SessionNode(sessions::end_session(&state.db, state.clock.as_ref(), &state.events, principal, &id).await?))
    }

    /// Administrators: ends every live session of the user; returns how many ended.
    async fn end_user_sessions(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<i32> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &user_id).await?;
        let ended = sessions::end_user_sessions(&state.db, state.clock.as_ref(), &state.events, principal, target).await?;
        Ok(to_int(ended))
    }

    /// Ends the caller's other sessions.
    async fn change_password(&self, ctx: &Context<'_>, current_password: String, new_password: String) -> ApiResult<bool> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        sessions::change_password(
            &state.db,
            state.clock.as_ref(),
            &state.hasher,
            &state.sessions,
            &state.events,
            principal,
            &current_password,
            &new_password,
        )
            .await?;
        Ok(true)
    }

    /// Administrators: lifts a lockout caused by failed logins.
    async fn unlock_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &id).await?;
        sessions::unlock(&state.db, &target).await?;
        Ok(UserNode(target.into_inner()))
    }

    /// Ends the session that sent the request.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        Ok(sessions::logout(&state.db, state.clock.as_ref(), &state.events, principal).await?)
    }
}
