//! The slice list: filters, scope and keyset pagination by name.

use entity::{SliceKind, slice};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

use crate::{
    auth::Principal,
    error::AppResult,
    pagination::{Cursor, Page, page_size},
    search::like_pattern,
    validation,
};

const ORDERING: &str = "NAME_ASC";

/// Filters of the slice list; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct SliceFilter {
    pub kinds: Option<Vec<SliceKind>>,
    /// Exact customer, regardless of letter case.
    pub customer: Option<String>,
    /// Part of the name or display name, regardless of letter case.
    pub search: Option<String>,
}

/// Lists the slices the caller sees (all for operators, their own for others), by name.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    filter: SliceFilter,
    first: Option<i32>,
    after: Option<&str>,
    max_page_size: u32,
) -> AppResult<Page<slice::Model>> {
    let limit = page_size(first, max_page_size)?;
    let after = after.map(|raw| Cursor::decode(raw, ORDERING)).transpose()?;

    let mut condition = Condition::all();
    if !principal.is_operator() {
        match principal.user.slice_id {
            Some(slice_id) => condition = condition.add(slice::Column::Id.eq(slice_id)),
            None => condition = condition.add(Expr::val(1).eq(0)),
        }
    }
    if let Some(kinds) = filter.kinds {
        condition = condition.add(slice::Column::Kind.is_in(kinds));
    }
    if let Some(customer) = filter.customer {
        condition = condition.add(
            Expr::expr(Func::lower(Expr::col(slice::Column::Customer))).eq(validation::name_key(customer.trim())),
        );
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like_pattern(search);
        condition = condition.add(
            Condition::any()
                .add(Expr::col(slice::Column::NameKey).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(Expr::expr(Func::lower(Expr::col(slice::Column::DisplayName))).like(LikeExpr::new(pattern).escape('\\'))),
        );
    }

    let total_count = slice::Entity::find().filter(condition.clone()).count(db).await?;
    let mut query = slice::Entity::find().filter(condition);
    if let Some(cursor) = &after {
        let key = cursor.key.clone().unwrap_or_default();
        query = query.filter(
            Condition::any()
                .add(slice::Column::NameKey.gt(key.clone()))
                .add(Condition::all().add(slice::Column::NameKey.eq(key)).add(slice::Column::Id.gt(cursor.id))),
        );
    }
    let rows = query
        .order_by_asc(slice::Column::NameKey)
        .order_by_asc(slice::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, after.is_some(), total_count, |row| Cursor {
        ordering: ORDERING.to_owned(),
        key: Some(row.name_key.clone()),
        id: row.id,
    }))
}
