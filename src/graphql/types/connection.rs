//! Relay connections of the list queries.

use async_graphql::SimpleObject;

use super::{SessionNode, SliceNode, UserNode, to_int};
use crate::pagination::Page;

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Splits a page into encoded edges, page info and the total count.
pub(crate) fn parts<T, N>(page: Page<T>, wrap: impl Fn(T) -> N) -> (Vec<(String, N)>, PageInfo, i32) {
    let edges: Vec<(String, N)> = page.items.into_iter().map(|(cursor, item)| (cursor.encode(), wrap(item))).collect();
    let page_info = PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
        end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
    };
    (edges, page_info, to_int(page.total_count))
}

#[derive(SimpleObject)]
pub struct SliceEdge {
    pub cursor: String,
    pub node: SliceNode,
}

#[derive(SimpleObject)]
pub struct SliceConnection {
    pub edges: Vec<SliceEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<Page<entity::slice::Model>> for SliceConnection {
    fn from(page: Page<entity::slice::Model>) -> Self {
        let (edges, page_info, total_count) = parts(page, SliceNode);
        let edges = edges.into_iter().map(|(cursor, node)| SliceEdge { cursor, node }).collect();
        Self { edges, page_info, total_count }
    }
}

#[derive(SimpleObject)]
pub struct UserEdge {
    pub cursor: String,
    pub node: UserNode,
}

#[derive(SimpleObject)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<Page<entity::user::Model>> for UserConnection {
    fn from(page: Page<entity::user::Model>) -> Self {
        let (edges, page_info, total_count) = parts(page, UserNode);
        let edges = edges.into_iter().map(|(cursor, node)| UserEdge { cursor, node }).collect();
        Self { edges, page_info, total_count }
    }
}

#[derive(SimpleObject)]
pub struct SessionEdge {
    pub cursor: String,
    pub node: SessionNode,
}

#[derive(SimpleObject)]
pub struct SessionConnection {
    pub edges: Vec<SessionEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<Page<entity::session::Model>> for SessionConnection {
    fn from(page: Page<entity::session::Model>) -> Self {
        let (edges, page_info, total_count) = parts(page, SessionNode);
        let edges = edges.into_iter().map(|(cursor, node)| SessionEdge { cursor, node }).collect();
        Self { edges, page_info, total_count }
    }
}
