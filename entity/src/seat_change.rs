//! A change of a slice's concurrent seats in use, with the count after it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_changes")]
pub struct Model {
    /// A UUIDv7, so ids sort in insertion order within one instant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slice_id: Uuid,
    pub at: DateTimeUtc,
    pub seats_in_use: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
