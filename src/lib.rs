//! seatwarden: license compliance and session management for a multi-tenant
//! service-management SaaS, served as a GraphQL API.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod alerts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contracts;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod graphql;
pub mod history;
pub mod jobs;
pub mod http;
pub mod licensing;
pub mod lifecycle;
pub mod mail;
pub mod metrics;
pub mod notices;
pub mod pagination;
pub mod rollout;
pub mod search;
pub mod sessions;
pub mod slices;
pub mod state;
pub mod users;
pub mod validation;
