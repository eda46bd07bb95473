use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{slice, user};
use sea_orm::EntityTrait;

use super::{SessionNode, SliceNode};
use crate::{
    error::AppError,
    graphql::{
        context::state,
        enums::{LicenseType, Role},
        error::ApiResult,
    },
    sessions,
};

/// An account: an operator or a user of one slice.
pub struct UserNode(pub user::Model);

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Null for operators, who belong to no slice.
    async fn slice(&self, ctx: &Context<'_>) -> ApiResult<Option<SliceNode>> {
        let Some(slice_id) = self.0.slice_id else {
            return Ok(None);
        };
        let state = state(ctx)?;
        let slice = slice::Entity::find_by_id(slice_id).one(&state.db).await.map_err(AppError::from)?;
        Ok(slice.map(SliceNode))
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// Null for operators, who hold no license.
    async fn license_type(&self) -> Option<LicenseType> {
        self.0.license_type.map(Into::into)
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    async fn active(&self) -> bool {
        self.0.active
    }

    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
    }

    /// Set while failed logins keep the account locked.
    async fn locked_until(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        let state = state(ctx)?;
        Ok(sessions::locked_until(&state.db, state.clock.as_ref(), &self.0).await?)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Newest first.
    #[graphql(complexity = "first.clamp(0, 100) as usize * child_complexity")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] live_only: bool,
        #[graphql(default = 50)] first: i32,
    ) -> ApiResult<Vec<SessionNode>> {
        let state = state(ctx)?;
        let limit = crate::pagination::page_size(Some(first), state.config.max_page_size)?;
        let rows = sessions::list_for_user(&state.db, self.0.id, live_only, limit, state.clock.now()).await?;
        Ok(rows.into_iter().map(SessionNode).collect())
    }
}
