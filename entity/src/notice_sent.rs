//! A notice emailed to a slice's administrators, keyed so that each is sent
//! once however many times or on however many instances its job runs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices_sent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slice_id: Uuid,
    /// Kind of notice, such as `RENEWAL_REMINDER` or `UNUSED_DIGEST`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// Key of the notice within its kind, such as `2027-03-01/30` for the 30-day reminder of that renewal date.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
