//! An account: an operator (no slice) or a user of one slice.

use sea_orm::entity::prelude::*;

use crate::enums::{LicenseType, Role};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Null for operators.
    pub slice_id: Option<Uuid>,
    pub username: String,
    /// Lower-cased `username`, unique within a slice and among operators.
    pub username_key: String,
    pub email: String,
    pub display_name: String,
    /// Null for operators, who hold no license.
    pub license_type: Option<LicenseType>,
    pub role: Role,
    pub active: bool,
    /// Argon2id hash in PHC string format.
    pub password_hash: String,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::slice::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Slice.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
