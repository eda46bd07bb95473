//! Scenario 6: time from process start until `/ready` returns 200 on an empty
//! SQLite database (migrations included), and resident memory when idle
//! after start-up, against the same binary's `--version` process.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::{
    Context,
    report::{Finding, Section, Verdict, table},
    server::Server,
    stats::{Summary, mib, ms, ratio},
};

/// Ready within this long (p99) …
const READY_TARGET: Duration = Duration::from_millis(300);
/// … and idle below this resident memory (the largest sample).
const MEMORY_TARGET_KIB: u64 = 30 * 1024;
/// How long the server idles after `/ready` before its memory is read.
const SETTLE: Duration = Duration::from_secs(1);

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let repeats = ctx.pick(10, 20);
    let mut ready = Vec::with_capacity(repeats);
    let mut memory = Vec::with_capacity(repeats);
    for round in 0..repeats {
        let folder = ctx.workdir.join("db");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("startup-{round}.sqlite"));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let started = Instant::now();
        let mut server = Server::spawn(ctx, &format!("startup-{round}"), &url, &[])?;
        server.wait_ready(Duration::from_secs(60)).await?;
        ready.push(started.elapsed());
        tokio::time::sleep(SETTLE).await;
        memory.push(server.process.vm_rss_kib()?);
        server.stop().await?;
    }

    let mut version = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let started = Instant::now();
        let status = tokio::process::Command::new(&ctx.seatwarden).arg("--version").output().await?.status;
        version.push(started.elapsed());
        if !status.success() {
            bail!("`seatwarden --version` exited with {status}");
        }
    }

    let ready_summary = Summary::of(&ready).expect("at least one round");
    let version_summary = Summary::of(&version).expect("at least one round");
    let memory_max = memory.iter().copied().max().unwrap_or(0);
    let mut sorted_memory = memory.clone();
    sorted_memory.sort_unstable();
    let memory_median = sorted_memory[sorted_memory.len() / 2];

    let mut section = Section::new(title);
    section.findings.push(Finding {
        measure: "start → `/ready` 200 (empty SQLite, migrations) median / p99".to_owned(),
        figure: ready_summary.median_p99(),
        baseline: format!("`--version` {}", version_summary.median_p99()),
        ratio: format!("{} (median)", ratio(ready_summary.median.as_secs_f64() / version_summary.median.as_secs_f64())),
        target: format!("p99 < {} ms", READY_TARGET.as_millis()),
        verdict: Verdict::from_check(ready_summary.p99 < READY_TARGET),
    });
    section.findings.push(Finding {
        measure: "idle resident memory after start-up, median (max)".to_owned(),
        figure: format!("{} ({})", mib(memory_median), mib(memory_max)),
        baseline: "–".to_owned(),
        ratio: "–".to_owned(),
        target: format!("max < {}", mib(MEMORY_TARGET_KIB)),
        verdict: Verdict::from_check(memory_max < MEMORY_TARGET_KIB),
    });
    section.details.push(format!(
        "{repeats} rounds: each starts `seatwarden serve` on a new, empty SQLite file with the defaults \
         (besides its address and mail folder), polls `GET /ready` every 2 ms from the load process until it \
         returns 200, waits {} s, reads VmRSS from /proc/PID/status and stops the server with SIGTERM. The \
         baseline is the time from starting `seatwarden --version` until it exits, {repeats} times.",
        SETTLE.as_secs()
    ));
    let rows: Vec<Vec<String>> = ready
        .iter()
        .zip(&memory)
        .zip(&version)
        .enumerate()
        .map(|(round, ((ready, memory), version))| vec![(round + 1).to_string(), ms(*ready), mib(*memory), ms(*version)])
        .collect();
    section.details.push(table(&["round", "ready ms", "idle VmRSS", "`--version` ms"], &rows));
    Ok(section)
}
