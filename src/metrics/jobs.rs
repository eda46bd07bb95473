//! Scheduled job runs and their durations.

use std::time::Duration;

use metrics::{counter, histogram};

use super::names::{JOB_DURATION, JOB_RUNS};

/// Records one run of the scheduled job `job`, which took `duration`.
pub fn record_job_run(job: &'static str, duration: Duration, succeeded: bool) {
    let outcome = if succeeded { "ok" } else { "error" };
    counter!(JOB_RUNS, "job" => job, "outcome" => outcome).increment(1);
    histogram!(JOB_DURATION, "job" => job).record(duration.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_by_job_and_outcome() {
        let recorder = super::super::recorder::build().unwrap();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            record_job_run("session_sweep", Duration::from_millis(20), true);
            record_job_run("session_sweep", Duration::from_millis(30), true);
            record_job_run("mail_dispatch", Duration::from_secs(2), false);
        });
        let rendered = handle.render();
        for expected in [
            r#"seatwarden_job_runs_total{job="session_sweep",outcome="ok"} 2"#,
            r#"seatwarden_job_runs_total{job="mail_dispatch",outcome="error"} 1"#,
            r#"seatwarden_job_duration_seconds_count{job="session_sweep"} 2"#,
            r#"seatwarden_job_duration_seconds_bucket{job="session_sweep",le="0.05"} 2"#,
            r#"seatwarden_job_duration_seconds_bucket{job="mail_dispatch",le="1"} 0"#,
            r#"seatwarden_job_duration_seconds_bucket{job="mail_dispatch",le="5"} 1"#,
        ] {
            assert!(rendered.contains(expected), "missing {expected} in:\n{rendered}");
        }
        assert!(!rendered.contains(r#"job="session_sweep",outcome="error""#), "{rendered}");
    }
}
