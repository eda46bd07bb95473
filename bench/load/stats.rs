//! Latency summaries, throughput and the number formats of the report.

use std::time::Duration;

/// Median, 99th percentile and maximum of a set of latencies.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub count: usize,
    pub median: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Summarizes the samples with the nearest-rank method; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Summary {
            count: sorted.len(),
            median: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[sorted.len() - 1],
        })
    }

    /// Formats `median / p99` in milliseconds.
    pub fn median_p99(&self) -> String {
        format!("{} / {} ms", ms(self.median), ms(self.p99))
    }
}

/// Returns the nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], percent: f64) -> Duration {
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Returns the median of a few durations, such as the rounds of a scenario.
pub fn median(values: &[Duration]) -> Duration {
    Summary::of(values).map_or(Duration::ZERO, |summary| summary.median)
}

/// Returns operations per second.
pub fn rate(operations: usize, elapsed: Duration) -> f64 {
    if elapsed.is_zero() { 0.0 } else { operations as f64 / elapsed.as_secs_f64() }
}

/// Formats a duration in milliseconds with a precision that suits its size.
pub fn ms(duration: Duration) -> String {
    let value = duration.as_secs_f64() * 1000.0;
    if value < 10.0 { format!("{value:.2}") } else if value < 100.0 { format!("{value:.1}") } else { format!("{value:.0}") }
}

/// Formats a rate with one decimal.
pub fn per_second(value: f64) -> String {
    format!("{value:.1}/s")
}

/// Formats a memory size given in KiB as MiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Formats a ratio such as `0.85×`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

