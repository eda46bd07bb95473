//! The addresses that notices to a slice's administrators go to.

use entity::{Role, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{error::AppResult, mail};

/// Returns the email addresses of the slice's active administrators, oldest
/// account first. An address the mail transport cannot use is left out
/// rather than failing the change that caused the notice.
pub async fn admin_addresses(db: &impl ConnectionTrait, slice_id: Uuid) -> AppResult<Vec<String>> {
    Ok(user::Entity::find()
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|admin| admin.email)
        .filter(|email| mail::parse_address(email).is_some())
        .collect())
}
