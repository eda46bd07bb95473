//! A login session and its deadlines.

use sea_orm::entity::prelude::*;

use crate::enums::{Channel, SessionEndReason};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The user's slice, copied so that slice-wide session queries need no join; null for operators.
    pub slice_id: Option<Uuid>,
    pub channel: Channel,
    /// Hex SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: String,
    pub started_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// The session ends when no request arrives before this instant.
    pub idle_expires_at: DateTimeUtc,
    /// The session ends at this instant whatever its activity.
    pub absolute_expires_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<SessionEndReason>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::slice::Entity",
        from = "Column::SliceId",
        to = "super::slice::Column::Id",
        on_delete = "Cascade"
    )]
    Slice,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::slice::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Slice.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
