//! Integration tests: the real service over HTTP, on SQLite and on PostgreSQL.
//! All test files are modules of this one crate so the stack is linked once.

mod harness;

mod alerts;
mod authorization;
mod bench_routes;
mod browser;
mod cli;
mod compliance;
mod compliance_events;
mod contracts;
mod enforcement;
mod history;
mod http;
mod jobs;
mod lockout;
mod login;
mod mail;
mod metrics;
mod notices;
mod outage;
mod races;
mod rollout;
mod scale;
mod schema;
mod sessions;
mod slices;
mod subscriptions;
mod users;
mod websocket;
mod ws_client;
