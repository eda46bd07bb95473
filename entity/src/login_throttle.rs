//! Failed-login counter of one account or one client address.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    /// `account:SLICE/USERNAME` (lower-cased; an empty slice for operators) or `address:IP`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Wrong passwords since `window_started_at`.
    pub failures: i32,
    pub window_started_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
