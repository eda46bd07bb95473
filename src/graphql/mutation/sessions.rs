use async_graphql::{Context, Object};

use crate::{
    graphql::{
        context::{principal, request, state},
        enums::LoginRejectReason,
        error::ApiResult,
        inputs::LoginInput,
        types::{LoginRejected, LoginResult, LoginSuccess, SessionNode},
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
    };
    LoginRejected { message: message.to_owned(), reason }
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
        };
        let outcome = sessions::login(&state.db, state.clock.as_ref(), &state.hasher, &state.sessions, request).await?;
        Ok(match outcome {
            LoginOutcome::Success { token, session, .. } => LoginResult::LoginSuccess(LoginSuccess {
                token: token.token,
                session: SessionNode(session),
                warnings: Vec::new(),
            }),
            LoginOutcome::Rejected(reason) => LoginResult::LoginRejected(rejection(reason)),
        })
    }

    /// Ends the session that sent the request.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        Ok(sessions::logout(&state.db, state.clock.as_ref(), principal).await?)
    }
}
