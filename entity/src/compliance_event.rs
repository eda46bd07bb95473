//! A recorded compliance decision or level change of a slice.

use sea_orm::entity::prelude::*;

use crate::enums::{ComplianceEventKind, EmailStatus, EnforcementMode, LicenseType, UsageLevel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "compliance_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slice_id: Uuid,
    pub kind: ComplianceEventKind,
    pub license_type: Option<LicenseType>,
    /// For level events, the level reached.
    pub level: Option<UsageLevel>,
    /// Licenses in use when the decision was made.
    pub in_use: Option<i32>,
    pub owned: Option<i32>,
    /// The user the decision was about.
    pub user_id: Option<Uuid>,
    /// Account that caused it; null for the service itself.
    pub actor_id: Option<Uuid>,
    pub from_mode: Option<EnforcementMode>,
    pub to_mode: Option<EnforcementMode>,
    pub message: String,
    pub occurred_at: DateTimeUtc,
    pub email_status: EmailStatus,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::slice::Entity",
        from = "Column::SliceId",
        to = "super::slice::Column::Id",
        on_delete = "Cascade"
    )]
    Slice,
}

impl Related<super::slice::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Slice.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
