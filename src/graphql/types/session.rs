use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{LicenseType as StoredLicenseType, session};

use super::UserNode;
use crate::{
    graphql::{
        context::{request, state},
        enums::{Channel, SessionEndReason},
        error::ApiResult,
    },
    sessions,
};

/// A login session.
pub struct SessionNode(pub session::Model);

#[Object(name = "Session")]
impl SessionNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn user(&self, ctx: &Context<'_>) -> ApiResult<UserNode> {
        Ok(UserNode(sessions::owner(&state(ctx)?.db, &self.0).await?))
    }

    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }

    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }

    /// The earlier of the idle deadline and the absolute deadline.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.idle_expires_at.min(self.0.absolute_expires_at)
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }

    async fn end_reason(&self) -> Option<SessionEndReason> {
        self.0.end_reason.map(Into::into)
    }

    async fn live(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(sessions::is_live(&self.0, state(ctx)?.clock.now()))
    }

    /// True while this live WEB session gives an active CONCURRENT user their seat.
    async fn holds_concurrent_seat(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let state = state(ctx)?;
        if self.0.channel != entity::Channel::Web || !sessions::is_live(&self.0, state.clock.now()) {
            return Ok(false);
        }
        let owner = sessions::owner(&state.db, &self.0).await?;
        Ok(owner.active && owner.license_type == Some(StoredLicenseType::Concurrent))
    }

    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }

    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }

    /// True for the session that sent this request.
    async fn current(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(request(ctx)?.auth.session_id() == Some(self.0.id))
    }
}
