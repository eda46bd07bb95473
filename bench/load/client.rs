//! HTTP and GraphQL requests, and the closed-loop load generator.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

/// Builds an HTTP client that keeps up to `connections` idle connections.
pub fn http_client(connections: usize) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Sends one GraphQL operation and returns its `data`; fails on an HTTP error or a GraphQL error.
pub async fn graphql(client: &reqwest::Client, url: &str, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
    let mut request = client.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.with_context(|| format!("the response ({status}) is not JSON"))?;
    if !status.is_success() || body.get("errors").is_some() {
        bail!("GraphQL request failed with {status}: {body}");
    }
    body.get("data").cloned().context("the response has no `data`")
}

/// Sends a GET with a bearer token and returns the JSON body; fails unless the status is 200.
pub async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Result<Value> {
    let response = client.get(url).bearer_auth(token).send().await?;
    let status = response.status();
    let body: Value = response.json().await.with_context(|| format!("the response ({status}) is not JSON"))?;
    if status != reqwest::StatusCode::OK {
        bail!("GET {url} failed with {status}: {body}");
    }
    Ok(body)
}

pub const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename ... on LoginSuccess { token session { id } } } }";

/// The outcome of one login: its `__typename`, and the token and session id on success.
#[derive(Debug, Clone)]
pub struct Login {
    pub typename: String,
    pub token: Option<String>,
    pub session_id: Option<String>,
}

/// Logs in on the WEB channel.
pub async fn login(client: &reqwest::Client, url: &str, slice: &str, username: &str, password: &str) -> Result<Login> {
    let input = json!({ "slice": slice, "username": username, "password": password, "channel": "WEB" });
    let data = graphql(client, url, None, LOGIN, json!({ "input": input })).await?;
    let result = &data["login"];
    Ok(Login {
        typename: result["__typename"].as_str().unwrap_or_default().to_owned(),
        token: result["token"].as_str().map(str::to_owned),
        session_id: result["session"]["id"].as_str().map(str::to_owned),
    })
}

/// Logs in and returns the token; fails on any outcome but `LoginSuccess`.
pub async fn login_token(client: &reqwest::Client, url: &str, slice: &str, username: &str, password: &str) -> Result<String> {
    let outcome = login(client, url, slice, username, password).await?;
    match outcome.token {
        Some(token) if outcome.typename == "LoginSuccess" => Ok(token),
        _ => bail!("the login of {username} in {slice} returned {}", outcome.typename),
    }
}

/// Counts and latencies of a closed-loop run, within its window.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Operations that completed successfully within the window.
    pub completed: usize,
    pub failed: usize,
    pub window: Duration,
    pub latencies: Vec<Duration>,
    /// When each successful operation finished, counted from the start of the window.
    pub finished_at: Vec<Duration>,
    pub first_error: Option<String>,
}

impl LoadResult {
    pub fn throughput(&self) -> f64 {
        crate::stats::rate(self.completed, self.window)
    }

    /// Returns the throughput within each of `parts` equal slices of the window, to show a trend.
    pub fn throughput_by_part(&self, parts: u32) -> Vec<f64> {
        let part = self.window / parts;
        (0..parts)
            .map(|index| {
                let (from, to) = (part * index, part * (index + 1));
                let count = self.finished_at.iter().filter(|at| **at >= from && **at < to).count();
                crate::stats::rate(count, part)
            })
            .collect()
    }
}

/// Runs `concurrency` workers that each send one operation after the other.
///
/// Operations that finish during the first `warmup` are not counted; the
/// window is the `duration` after it. `operation` gets a sequence number
/// that grows by one per operation across all workers.
pub async fn closed_loop<F, Fut>(concurrency: usize, warmup: Duration, duration: Duration, operation: F) -> LoadResult
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let operation = Arc::new(operation);
    let sequence = Arc::new(AtomicUsize::new(0));
    let result = Arc::new(Mutex::new(LoadResult { window: duration, ..LoadResult::default() }));
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (operation, sequence, result) = (operation.clone(), sequence.clone(), result.clone());
            tokio::spawn(async move {
                while Instant::now() < window_end {
                    let number = sequence.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    let outcome = operation(number).await;
                    let done = Instant::now();
                    if done < window_start || done > window_end {
                        continue;
                    }
                    let mut result = result.lock().expect("the result lock is never poisoned");
                    match outcome {
                        Ok(()) => {
                            result.completed += 1;
                            result.latencies.push(done - sent);
                            result.finished_at.push(done - window_start);
                        }
                        Err(error) => {
                            result.failed += 1;
                            result.first_error.get_or_insert_with(|| format!("{error:#}"));
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a load worker panicked");
    }
    let mut result = result.lock().expect("the result lock is never poisoned");
    std::mem::take(&mut *result)
}
