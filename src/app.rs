//! Starting and stopping the service.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::{clock::SystemClock, config::Config, db, demo, events, graphql, http, jobs, metrics, rollout, state::AppState};

/// Connects, migrates, optionally loads the demo data, and serves until SIGINT
/// or SIGTERM. Then it drains: `/ready` answers 503 and WebSockets close with
/// 1001 at once, accepting stops after `shutdown_delay`, and requests in
/// flight and a running job get until `shutdown_grace_period` to finish.
pub async fn serve(config: Config, load_demo: bool) -> anyhow::Result<()> {
    let bind = config.bind;
    let db = db::connect(&config)
        .await
        .with_context(|| format!("connecting to the database at {} failed", redact_url(&config.database_url)))?;
    db::migrate(&db).await.context("applying database migrations failed")?;
    let state = AppState::new(db, config, Arc::new(SystemClock)).context("building the service state failed")?;
    // Listening starts before the demo data loads, so a client that reads the
    // printed credentials can connect at once.
    let listener = TcpListener::bind(bind).await.with_context(|| format!("listening on {bind} failed"))?;
    if load_demo {
        demo::load_if_empty(&state).await.context("loading the demo data failed")?;
    }
    start_up(&state).await?;
    let mut scheduler = jobs::start(&state).await.context("starting the scheduled jobs failed")?;
    tracing::info!(address = %bind, "seatwarden listening; GraphiQL at http://{bind}/graphiql");

    let lifecycle = state.lifecycle.clone();
    let delay = state.config.shutdown_delay;
    // The runtime's own shutdown takes up to 200 ms after `serve` returns.
    let grace = state.config.shutdown_grace_period.saturating_sub(std::time::Duration::from_millis(300));
    let stop_accepting = {
        let lifecycle = lifecycle.clone();
        async move {
            shutdown_signal().await;
            lifecycle.begin_drain();
            tracing::info!(delay_ms = delay.as_millis() as u64, "draining: /ready answers 503 and WebSockets close with 1001; accepting stops after the delay");
            tokio::time::sleep(delay).await;
        }
    };
    let server = tokio::spawn(run(listener, state, stop_accepting));
    tokio::pin!(server);
    // Before a signal, the server task ends only if serving fails.
    let deadline = tokio::select! {
        joined = &mut server => {
            joined.context("the HTTP server task failed")?.context("the HTTP server failed")?;
            tokio::time::Instant::now() + grace
        }
        () = lifecycle.draining() => tokio::time::Instant::now() + grace,
    };
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(joined) => joined.context("the HTTP server task failed")?.context("the HTTP server failed")?,
        Err(_) => tracing::warn!(grace_ms = grace.as_millis() as u64, "requests were still in flight when the grace period ended"),
    }
    if let Err(error) = scheduler.shutdown().await {
        tracing::warn!(%error, "stopping the scheduled jobs failed");
    }
    if tokio::time::timeout_at(deadline, lifecycle.jobs_finished()).await.is_err() {
        tracing::warn!("a scheduled job was still running when the grace period ended");
    }
    tracing::info!("seatwarden stopped");
    Ok(())
}

/// Runs what must happen before the service serves: on PostgreSQL the event
/// listener starts, then rollout steps that fell due while it was stopped apply.
pub async fn start_up(state: &AppState) -> anyhow::Result<()> {
    events::listener::start(&state.db, &state.events, state.clock.clone())
        .await
        .context("listening for events on the database failed")?;
    metrics::start(state);
    rollout::apply(&state.db, state.clock.as_ref(), &state.events, &state.config)
        .await
        .context("applying the rollout schedule at start-up failed")?;
    Ok(())
}

/// Serves HTTP on `listener` until `shutdown` completes, then finishes requests in flight.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let schema = graphql::build_schema(state.clone());
    let router = http::router(state, schema);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for SIGINT failed");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}

/// Hides the password of a database URL for log and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_url_hides_password() {
        assert_eq!(super::redact_url("postgres://sw:secret@db:5432/sw"), "postgres://sw:***@db:5432/sw");
        assert_eq!(super::redact_url("sqlite://seatwarden.db?mode=rwc"), "sqlite://seatwarden.db?mode=rwc");
    }
}
