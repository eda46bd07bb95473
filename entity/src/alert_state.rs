//! The last level seen for one slice and limited license type, and the UTC
//! day each level was last recorded, which together deduplicate level events.

use sea_orm::entity::prelude::*;

use crate::enums::{LicenseType, UsageLevel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slice_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub license_type: LicenseType,
    /// Level at the last evaluation; a rise above it is a new level event.
    pub level: UsageLevel,
    pub approaching_on: Option<Date>,
    pub limit_reached_on: Option<Date>,
    pub over_limit_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
