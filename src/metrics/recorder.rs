//! The process-wide Prometheus recorder.
//!
//! The `metrics` facade takes one global recorder per process, and the
//! integration tests start many service instances in one process, so the
//! recorder is installed once and every instance shares it.

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use super::names;

/// Handle of the installed recorder; `None` when installing it failed.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Bucket upper bounds of the GraphQL request histogram, in seconds: the
/// default buckets of the official Prometheus client libraries.
const REQUEST_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Bucket upper bounds of the job histogram, in seconds. A run takes
/// milliseconds, and up to minutes when a mail dispatch waits on a slow SMTP server.
const JOB_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0];

/// How often histogram samples are moved into their buckets between scrapes,
/// so that they do not pile up in memory while no scraper reads them.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Installs the recorder on the first call and returns its handle, or `None`
/// when installing failed; the failure is logged once.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get_or_init(install).as_ref()
}

/// Builds a recorder with the service's histogram buckets.
pub fn build() -> Result<PrometheusRecorder, BuildError> {
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(names::GRAPHQL_DURATION.to_owned()), &REQUEST_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(names::JOB_DURATION.to_owned()), &JOB_BUCKETS)?
        .build_recorder())
}

fn install() -> Option<PrometheusHandle> {
    let recorder = match build() {
        Ok(recorder) => recorder,
        Err(error) => {
            tracing::error!(%error, "building the Prometheus recorder failed; /metrics returns HTTP 500");
            return None;
        }
    };
    let handle = recorder.handle();
    if let Err(error) = metrics::set_global_recorder(recorder) {
        tracing::error!(%error, "installing the Prometheus recorder failed; /metrics returns HTTP 500");
        return None;
    }
    names::describe();
    start_upkeep(handle.clone());
    Some(handle)
}

/// Runs the recorder's upkeep on a thread of its own, so that it does not
/// depend on the Tokio runtime of whichever service instance came first.
fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "starting the metrics upkeep thread failed; histogram samples are drained only by scrapes");
    }
}
