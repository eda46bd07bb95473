//! When each rollout step was applied, for the instant it was applied at.

use sea_orm::entity::prelude::*;

use crate::enums::RolloutPhase;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rollout_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub phase: RolloutPhase,
    /// The step's instant when it was applied; a schedule change makes it stale.
    pub effective_at: DateTimeUtc,
    pub applied_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
