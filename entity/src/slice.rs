//! A customer environment and the licenses it owns.

use sea_orm::entity::prelude::*;

use crate::enums::{Edition, EnforcementMode, SliceKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "slices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Code typed at login, as entered.
    pub name: String,
    /// Lower-cased `name`; a unique index on it makes names unique regardless of case.
    pub name_key: String,
    pub display_name: String,
    pub customer: Option<String>,
    pub kind: SliceKind,
    pub edition: Edition,
    pub owned_named_licenses: i32,
    pub owned_concurrent_licenses: i32,
    pub renewal_date: Option<Date>,
    pub enforcement_mode: EnforcementMode,
    pub mode_pinned: bool,
    pub alert_threshold_percent: i32,
    /// Grows with every committed change of the slice's sessions, usage, owned counts or mode.
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    User,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
