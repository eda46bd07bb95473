//! Shared state of a running service, handed to every request.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use uuid::Uuid;

use crate::{
    auth::PasswordHasher, clock::Clock, config::Config, events::EventBus, lifecycle::Lifecycle, mail::Mailer,
    sessions::SessionPolicy,
};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub sessions: SessionPolicy,
    pub events: EventBus,
    /// The email transport that the `mail_dispatch` job delivers through.
    pub mail: Mailer,
    /// Draining on shutdown, and the job runs still going.
    pub lifecycle: Lifecycle,
    /// Identifies this process among the instances sharing the database, e.g. as a job lease holder.
    pub instance_id: Uuid,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config, clock: Arc<dyn Clock>) -> crate::error::AppResult<Self> {
        let hasher = PasswordHasher::new(config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism)?;
        let sessions = SessionPolicy::from_config(&config);
        let mail = Mailer::from_config(&config).map_err(|problem| crate::error::AppError::internal(anyhow::anyhow!(problem)))?;
        let events = EventBus::new(&config.public_base_url, !config.is_sqlite());
        Ok(Self {
            db,
            config: Arc::new(config),
            clock,
            hasher,
            sessions,
            events,
            mail,
            lifecycle: Lifecycle::new(),
            instance_id: Uuid::new_v4(),
        })
    }
}
