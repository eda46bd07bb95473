//! Integration tests: the real service over HTTP, on SQLite and on PostgreSQL.
//! All test files are modules of this one crate so the stack is linked once.

mod harness;

mod authorization;
mod cli;
mod http;
mod login;
mod schema;
mod slices;
mod users;
