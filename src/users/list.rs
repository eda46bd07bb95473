//! The user list of a slice: filters, three orderings and keyset pagination.

use chrono::{DateTime, Utc};
use entity::{LicenseType, Role, slice, user};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Value,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, NullOrdering},
};

use crate::{
    access::Administered,
    error::{AppError, AppResult},
    pagination::{Cursor, Page, page_size},
    search::like_pattern,
};

/// Filters of the user list; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub license_types: Option<Vec<LicenseType>>,
    pub active: Option<bool>,
    pub role: Option<Role>,
    /// Part of the username, email or display name, regardless of letter case.
    pub search: Option<String>,
    /// Last login before this instant, or never.
    pub last_login_before: Option<DateTime<Utc>>,
    pub never_logged_in: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrderField {
    #[default]
    Username,
    LastLoginAt,
    CreatedAt,
}

/// Sort order of the user list. Ties are broken by id in the same direction,
/// and users who never logged in come first in ascending last-login order and
/// last in descending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserOrder {
    pub field: UserOrderField,
    pub descending: bool,
}

impl UserOrder {
    fn tag(self) -> String {
        let field = match self.field {
            UserOrderField::Username => "USERNAME",
            UserOrderField::LastLoginAt => "LAST_LOGIN_AT",
            UserOrderField::CreatedAt => "CREATED_AT",
        };
        format!("{field}_{}", if self.descending { "DESC" } else { "ASC" })
    }

    fn column(self) -> user::Column {
        match self.field {
            UserOrderField::Username => user::Column::UsernameKey,
            UserOrderField::LastLoginAt => user::Column::LastLoginAt,
            UserOrderField::CreatedAt => user::Column::CreatedAt,
        }
    }

    fn key_of(self, row: &user::Model) -> Option<String> {
        match self.field {
            UserOrderField::Username => Some(row.username_key.clone()),
            UserOrderField::LastLoginAt => row.last_login_at.map(|at| at.to_rfc3339()),
            UserOrderField::CreatedAt => Some(row.created_at.to_rfc3339()),
        }
    }

    /// Turns a cursor's key back into a value of the sort column.
    fn key_value(self, key: &str) -> AppResult<Value> {
        match self.field {
            UserOrderField::Username => Ok(Value::from(key.to_owned())),
            UserOrderField::LastLoginAt | UserOrderField::CreatedAt => DateTime::parse_from_rfc3339(key)
                .map(|at| Value::from(at.with_timezone(&Utc)))
                .map_err(|_| AppError::bad_input("after", "is not a cursor of this list; leave it out to start over")),
        }
    }
}

/// Lists the users of a slice the caller administers.
pub async fn list(
    db: &impl ConnectionTrait,
    slice: &Administered<slice::Model>,
    filter: UserFilter,
    order: UserOrder,
    first: Option<i32>,
    after: Option<&str>,
    max_page_size: u32,
) -> AppResult<Page<user::Model>> {
    let limit = page_size(first, max_page_size)?;
    let tag = order.tag();
    let after = after.map(|raw| Cursor::decode(raw, &tag)).transpose()?;
    let condition = filter_condition(slice.id, filter);

    let total_count = user::Entity::find().filter(condition.clone()).count(db).await?;
    let mut query = user::Entity::find().filter(condition);
    if let Some(cursor) = &after {
        query = query.filter(after_condition(order, cursor)?);
    }
    let direction = if order.descending { Order::Desc } else { Order::Asc };
    query = match order.field {
        UserOrderField::LastLoginAt => {
            let nulls = if order.descending { NullOrdering::Last } else { NullOrdering::First };
            query.order_by_with_nulls(user::Column::LastLoginAt, direction.clone(), nulls)
        }
        _ => query.order_by(order.column(), direction.clone()),
    };
    let rows = query.order_by(user::Column::Id, direction).limit(limit + 1).all(db).await?;
    Ok(Page::from_rows(rows, limit, after.is_some(), total_count, |row| Cursor { ordering: tag.clone(), key: order.key_of(row), id: row.id }))
}

fn filter_condition(slice_id: uuid::Uuid, filter: UserFilter) -> Condition {
    let mut condition = Condition::all().add(user::Column::SliceId.eq(slice_id));
    if let Some(types) = filter.license_types {
        condition = condition.add(user::Column::LicenseType.is_in(types));
    }
    if let Some(active) = filter.active {
        condition = condition.add(user::Column::Active.eq(active));
    }
    if let Some(role) = filter.role {
        condition = condition.add(user::Column::Role.eq(role));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like_pattern(search);
        let like = |column: user::Column| {
            Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(Expr::col(user::Column::UsernameKey).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(like(user::Column::Email))
                .add(like(user::Column::DisplayName)),
        );
    }
    if let Some(before) = filter.last_login_before {
        condition = condition.add(
            Condition::any()
                .add(user::Column::LastLoginAt.lt(before))
                .add(user::Column::LastLoginAt.is_null()),
        );
    }
    match filter.never_logged_in {
        Some(true) => condition = condition.add(user::Column::LastLoginAt.is_null()),
        Some(false) => condition = condition.add(user::Column::LastLoginAt.is_not_null()),
        None => {}
    }
    condition
}

/// Rows strictly after the cursor in the given order. A null last login sorts
/// before every instant, which matches NULLS FIRST ascending and NULLS LAST descending.
fn after_condition(order: UserOrder, cursor: &Cursor) -> AppResult<Condition> {
    let column = order.column();
    let id_after = |c: Condition| {
        if order.descending { c.add(user::Column::Id.lt(cursor.id)) } else { c.add(user::Column::Id.gt(cursor.id)) }
    };
    let condition = match (&cursor.key, order.descending) {
        (Some(key), false) => {
            let value = order.key_value(key)?;
            Condition::any()
                .add(column.gt(value.clone()))
                .add(id_after(Condition::all().add(column.eq(value))))
        }
        (Some(key), true) => {
            let value = order.key_value(key)?;
            let mut any = Condition::any()
                .add(column.lt(value.clone()))
                .add(id_after(Condition::all().add(column.eq(value))));
            if order.field == UserOrderField::LastLoginAt {
                any = any.add(column.is_null());
            }
            any
        }
        (None, false) if order.field == UserOrderField::LastLoginAt => Condition::any()
            .add(id_after(Condition::all().add(column.is_null())))
            .add(column.is_not_null()),
        (None, true) if order.field == UserOrderField::LastLoginAt => id_after(Condition::all().add(column.is_null())),
        (None, _) => {
            return Err(AppError::bad_input("after", "is not a cursor of this list; leave it out to start over"));
        }
    };
    Ok(condition)
}
