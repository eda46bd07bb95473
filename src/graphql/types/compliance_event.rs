//! `ComplianceEvent`, wrapping a stored compliance event.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{compliance_event, slice, user};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::{PageInfo, SliceNode, UserNode, connection_parts};
use crate::{
    error::AppError,
    graphql::{
        context::{principal, state},
        enums::{ComplianceEventKind, EmailStatus, EnforcementMode, LicenseType, UsageLevel},
        error::ApiResult,
    },
    pagination::Page,
};

/// A recorded compliance decision or level change of a slice.
pub struct ComplianceEventNode(pub compliance_event::Model);

#[Object(name = "ComplianceEvent")]
impl ComplianceEventNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn slice(&self, ctx: &Context<'_>) -> ApiResult<SliceNode> {
        let state = state(ctx)?;
        let slice_id = self.0.slice_id;
        let slice = slice::Entity::find_by_id(slice_id).one(&state.db).await.map_err(AppError::from)?;
        // Deleting a slice deletes its events, so a missing slice is a fault.
        let slice = slice.ok_or_else(|| AppError::internal(anyhow::anyhow!("slice {slice_id} of compliance event {} is missing", self.0.id)))?;
        Ok(SliceNode(slice))
    }

    async fn kind(&self) -> ComplianceEventKind {
        self.0.kind.into()
    }

    async fn license_type(&self) -> Option<LicenseType> {
        self.0.license_type.map(Into::into)
    }

    /// For level events, the level reached.
    async fn level(&self) -> Option<UsageLevel> {
        self.0.level.map(usage_level)
    }

    /// Licenses of `licenseType` in use when the event was recorded.
    async fn in_use(&self) -> Option<i32> {
        self.0.in_use
    }

    /// Licenses of `licenseType` the slice owned when the event was recorded.
    async fn owned(&self) -> Option<i32> {
        self.0.owned
    }

    /// The user the decision was about (the blocked login, the assigned user);
    /// null when that account was deleted.
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<UserNode>> {
        visible_account(ctx, self.0.user_id).await
    }

    /// Who caused it: the operator or administrator. Null for the service
    /// itself, for a deleted account, and for an operator when the caller is
    /// not an operator (administrators cannot see operator accounts).
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<UserNode>> {
        visible_account(ctx, self.0.actor_id).await
    }

    /// For MODE_CHANGED.
    async fn from_mode(&self) -> Option<EnforcementMode> {
        self.0.from_mode.map(Into::into)
    }

    /// For MODE_CHANGED.
    async fn to_mode(&self) -> Option<EnforcementMode> {
        self.0.to_mode.map(Into::into)
    }

    async fn message(&self) -> &str {
        &self.0.message
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// True once the alert email for this event was accepted by the mail server.
    async fn emailed(&self) -> bool {
        self.0.email_status == entity::EmailStatus::Sent
    }

    async fn email_status(&self) -> EmailStatus {
        self.0.email_status.into()
    }
}

/// Loads an account an event refers to, if it still exists and the caller may see it.
async fn visible_account(ctx: &Context<'_>, user_id: Option<Uuid>) -> ApiResult<Option<UserNode>> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let principal = principal(ctx)?;
    let state = state(ctx)?;
    let account = user::Entity::find_by_id(user_id).one(&state.db).await.map_err(AppError::from)?;
    Ok(account.filter(|account| principal.sees_user(account)).map(UserNode))
}

/// Maps a stored level onto the GraphQL enum, whose `remote` is the licensing
/// module's level type rather than the stored one.
fn usage_level(level: entity::UsageLevel) -> UsageLevel {
    match level {
        entity::UsageLevel::Within => UsageLevel::Within,
        entity::UsageLevel::Approaching => UsageLevel::Approaching,
        entity::UsageLevel::AtLimit => UsageLevel::AtLimit,
        entity::UsageLevel::Over => UsageLevel::Over,
    }
}

#[derive(SimpleObject)]
pub struct ComplianceEventEdge {
    pub cursor: String,
    pub node: ComplianceEventNode,
}

#[derive(SimpleObject)]
pub struct ComplianceEventConnection {
    pub edges: Vec<ComplianceEventEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<Page<compliance_event::Model>> for ComplianceEventConnection {
    fn from(page: Page<compliance_event::Model>) -> Self {
        let (edges, page_info, total_count) = connection_parts(page, ComplianceEventNode);
        let edges = edges.into_iter().map(|(cursor, node)| ComplianceEventEdge { cursor, node }).collect();
        Self { edges, page_info, total_count }
    }
}
