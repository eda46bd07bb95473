//! The PostgreSQL listener that turns notices from every instance into
//! published events.
//!
//! PostgreSQL delivers notifications once their transaction commits, in
//! commit order, to every connection that listens on the channel. The
//! listener tracks the last version it published for each slice. A version
//! more than one above it means a notice was missed, and a lost connection
//! may have missed any. In both cases the listener publishes the slice's
//! current usage after what it received, so subscribers catch up instead of
//! silently missing a change.

use std::{collections::HashMap, sync::Arc, time::Duration};

use entity::slice;
use sea_orm::{
    DatabaseConnection, DbBackend, EntityTrait,
    sqlx::postgres::{PgListener, PgPoolOptions},
};
use uuid::Uuid;

use super::{Event, EventBus, notice};
use crate::{clock::Clock, error::AppResult, licensing};

/// First wait before reconnecting a lost listener; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// Starts listening on PostgreSQL and returns once the listener is
/// registered, so every commit after this call reaches this instance's
/// subscribers. Does nothing on SQLite, where the bus publishes in-process.
pub async fn start(db: &DatabaseConnection, bus: &EventBus, clock: Arc<dyn Clock>) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let listener = connect(db).await?;
    let db = db.clone();
    let bus = bus.clone();
    tokio::spawn(async move { run(Context { db, bus, clock }, listener).await });
    tracing::info!(channel = notice::CHANNEL, "listening for events of every instance");
    Ok(())
}

async fn connect(db: &DatabaseConnection) -> AppResult<PgListener> {
    // A pool of its own keeps the listening connection out of the service's pool.
    let options = db.get_postgres_connection_pool().connect_options();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(MAX_RETRY)
        .connect_lazy_with((*options).clone());
    let mut listener = PgListener::connect_with(&pool).await.map_err(sqlx_error)?;
    // A lost connection makes `try_recv` return at once; `run` reconnects with a growing wait.
    listener.eager_reconnect(false);
    listener.listen(notice::CHANNEL).await.map_err(sqlx_error)?;
    Ok(listener)
}

fn sqlx_error(error: sea_orm::sqlx::Error) -> crate::error::AppError {
    sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error))).into()
}

/// Last published version per slice.
#[derive(Default)]
struct Versions(HashMap<Uuid, i64>);

impl Versions {
    /// Records `version` for the slice and returns whether versions were skipped before it.
    fn skipped_before(&mut self, slice_id: Uuid, version: i64) -> bool {
        let last = self.0.insert(slice_id, version);
        match last {
            Some(last) if version < last => {
                // An older report than one already published: keep the newer mark.
                self.0.insert(slice_id, last);
                false
            }
            Some(last) => version > last + 1,
            None => false,
        }
    }
}

/// Handles of the listener task.
struct Context {
    db: DatabaseConnection,
    bus: EventBus,
    /// The service clock, which dates resent reports.
    clock: Arc<dyn Clock>,
}

async fn run(context: Context, mut listener: PgListener) {
    let mut versions = Versions::default();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Err(error) = deliver(&context, &mut versions, notification.payload()).await {
                    tracing::error!(error = format!("{error:#}"), "publishing received events failed");
                }
            }
            Ok(None) => {
                tracing::warn!("the event listener lost its database connection; reconnecting");
                listener = reconnect(&context.db).await;
                versions = Versions::default();
                resync_all(&context, &mut versions).await;
            }
            Err(error) => {
                tracing::warn!(%error, "the event listener failed; reconnecting");
                listener = reconnect(&context.db).await;
                versions = Versions::default();
                resync_all(&context, &mut versions).await;
            }
        }
    }
}

/// Connects a new listener, retrying with a growing wait until it succeeds.
async fn reconnect(db: &DatabaseConnection) -> PgListener {
    let mut wait = FIRST_RETRY;
    loop {
        match connect(db).await {
            Ok(listener) => {
                tracing::info!("the event listener is connected again");
                return listener;
            }
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), retry_in_ms = wait.as_millis() as u64, "reconnecting the event listener failed");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Publishes the events of one notification, then the current usage of each
/// slice whose versions skipped.
async fn deliver(context: &Context, versions: &mut Versions, payload: &str) -> AppResult<()> {
    let notices = match notice::decode(payload) {
        Ok(notices) => notices,
        Err(error) => {
            tracing::error!(%error, "a notice on the event channel is not valid; it was dropped");
            return Ok(());
        }
    };
    let events = notice::load(&context.db, notices).await?;
    let mut gaps = Vec::new();
    for event in &events {
        if let Some(usage) = event.usage()
            && versions.skipped_before(usage.slice_id, usage.version)
            && !gaps.contains(&usage.slice_id)
        {
            gaps.push(usage.slice_id);
        }
    }
    context.bus.publish(events);
    for slice_id in gaps {
        tracing::warn!(slice_id = %slice_id, "versions of the slice skipped; resending its current usage");
        resync(context, versions, slice_id).await?;
    }
    Ok(())
}

/// Publishes one slice's current usage.
async fn resync(context: &Context, versions: &mut Versions, slice_id: Uuid) -> AppResult<()> {
    let Some(report) = licensing::current_report(&context.db, slice_id, context.clock.now()).await? else {
        return Ok(());
    };
    versions.skipped_before(slice_id, report.version);
    context.bus.publish(vec![Event::Usage(report)]);
    Ok(())
}

/// Publishes every slice's current usage after the listener was reconnected.
async fn resync_all(context: &Context, versions: &mut Versions) {
    let ids: Vec<Uuid> = match slice::Entity::find().all(&context.db).await {
        Ok(slices) => slices.into_iter().map(|slice| slice.id).collect(),
        Err(error) => {
            tracing::error!(%error, "listing slices to resend their usage failed");
            return;
        }
    };
    for slice_id in ids {
        if let Err(error) = resync(context, versions, slice_id).await {
            tracing::error!(slice_id = %slice_id, error = format!("{error:#}"), "resending a slice's usage failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_versions_are_detected() {
        let slice = Uuid::now_v7();
        let mut versions = Versions::default();
        assert!(!versions.skipped_before(slice, 7), "the first version seen sets the mark");
        assert!(!versions.skipped_before(slice, 7), "events of one transaction share a version");
        assert!(!versions.skipped_before(slice, 8));
        assert!(versions.skipped_before(slice, 10));
        assert!(!versions.skipped_before(slice, 9), "an older report keeps the newer mark");
        assert!(!versions.skipped_before(slice, 11));
    }
}
