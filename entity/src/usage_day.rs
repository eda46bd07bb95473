//! One slice's usage on one UTC day. A day without a row had no change: its
//! named and seat counts are the previous row's counts at the end of its day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slice_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The most NAMED users assigned at any moment of the day.
    pub named_assigned: i32,
    /// NAMED users assigned after the day's last change.
    pub named_at_end: i32,
    /// The most concurrent seats in use at any moment of the day.
    pub concurrent_peak: i32,
    /// Concurrent seats in use after the day's last change.
    pub seats_at_end: i32,
    pub sessions_started: i32,
    pub logins_blocked: i32,
    /// Logins that ENFORCE would have refused while the slice was in WARN.
    pub logins_would_be_blocked: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
