//! Database migrations of seatwarden, one module per change, applied in order.

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_create_slices_users_sessions;
mod m20261204_000002_create_login_throttles;
mod m20261204_000003_usage_indexes;
mod m20261204_000004_create_compliance_events;
mod m20261204_000005_create_mail_outbox;
mod m20261204_000006_create_rollout;
mod m20261204_000007_create_usage_history;
mod m20261204_000008_create_job_leases;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_create_slices_users_sessions::Migration),
            Box::new(m20261204_000002_create_login_throttles::Migration),
            Box::new(m20261204_000003_usage_indexes::Migration),
            Box::new(m20261204_000004_create_compliance_events::Migration),
            Box::new(m20261204_000005_create_mail_outbox::Migration),
            Box::new(m20261204_000006_create_rollout::Migration),
            Box::new(m20261204_000007_create_usage_history::Migration),
            Box::new(m20261204_000008_create_job_leases::Migration),
        ]
    }
}
