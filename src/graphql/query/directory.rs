//! Query fields for the caller, slices and users.

use async_graphql::{Context, ID, Object};

use crate::graphql::{
    context::{principal, state},
    error::ApiResult,
    inputs::{SliceFilter, UserFilter, UserOrder},
    types::{SessionNode, SliceConnection, SliceNode, UserConnection, UserNode},
};
use crate::{access, slices, users};

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The caller's own account.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<UserNode> {
        Ok(UserNode(principal(ctx)?.user.clone()))
    }

    /// The session that sent this request.
    async fn current_session(&self, ctx: &Context<'_>) -> ApiResult<SessionNode> {
        Ok(SessionNode(principal(ctx)?.session.clone()))
    }

    /// Operators see every slice, everyone else their own.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn slices(
        &self,
        ctx: &Context<'_>,
        filter: Option<SliceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<SliceConnection> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let filter = filter.unwrap_or_default().into();
        let page = slices::list(&state.db, principal, filter, first, after.as_deref(), state.config.max_page_size).await?;
        Ok(page.into())
    }

    /// A missing, foreign or malformed id answers NOT_FOUND.
    async fn slice(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<SliceNode>> {
        let principal = principal(ctx)?;
        Ok(Some(SliceNode(access::visible_slice(&state(ctx)?.db, principal, &id).await?)))
    }

    /// The users of a slice, for its administrators and operators.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        slice_id: ID,
        filter: Option<UserFilter>,
        order_by: Option<UserOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<UserConnection> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let filter = filter.unwrap_or_default().into();
        let order = order_by.map(Into::into).unwrap_or_default();
        let page =
            users::list(&state.db, &slice, filter, order, first, after.as_deref(), state.config.max_page_size).await?;
        Ok(page.into())
    }

    /// A missing, foreign or malformed id answers NOT_FOUND.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<UserNode>> {
        let principal = principal(ctx)?;
        Ok(Some(UserNode(access::visible_user(&state(ctx)?.db, principal, &id).await?)))
    }
}
