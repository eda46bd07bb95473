//! Database migrations of seatwarden, one module per change, applied in order.

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_create_slices_users_sessions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261204_000001_create_slices_users_sessions::Migration)]
    }
}
