//! The load client of `bench/run`: it starts `seatwarden serve` (and
//! PostGraphile) as separate processes on 127.0.0.1, loads data sets with SQL,
//! runs each scenario against its baseline and writes BENCHMARKS.md.
//!
//! Run it through `bench/run`, which builds the release binary and starts a
//! throwaway PostgreSQL cluster; `cargo bench --bench load -- --help` lists
//! the options.

mod client;
mod report;
mod scenarios;
mod seed;
mod server;
mod stats;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::{Parser, ValueEnum};

/// A scenario of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Login,
    Reads,
    SeatRace,
    Fanout,
    Compliance,
    Startup,
}

/// Runs the benchmark scenarios against a release build of seatwarden and writes the report.
#[derive(Debug, Parser)]
#[command(name = "load")]
struct Cli {
    /// Shorter windows and fewer rounds; finishes within five minutes on a 2-core machine.
    #[arg(long)]
    quick: bool,
    /// Run only this scenario (repeat the option for several).
    #[arg(long, value_enum)]
    scenario: Vec<Scenario>,
    /// Path of the report to write.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// The seatwarden binary to start.
    #[arg(long, default_value = "target/release/seatwarden")]
    seatwarden: PathBuf,
    /// Folder for databases, logs and pid files; it must exist.
    #[arg(long)]
    workdir: PathBuf,
    /// URL of a PostgreSQL cluster whose user may create databases, e.g.
    /// postgres://postgres@127.0.0.1:5433/postgres; without it the PostgreSQL parts are not measured.
    #[arg(long)]
    postgres_url: Option<String>,
    /// The `postgraphile` executable (version 4.14.1); without it that baseline is not measured.
    #[arg(long)]
    postgraphile: Option<PathBuf>,
    /// The command line to record in the report.
    #[arg(long, default_value = "cargo bench --bench load")]
    command: String,
    /// The git commit to record in the report.
    #[arg(long, default_value = "unknown")]
    commit: String,
    /// Software versions to record, as NAME=VERSION (repeatable).
    #[arg(long = "software", value_name = "NAME=VERSION")]
    software: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The options and paths of the run, shared by every scenario.
pub struct Context {
    pub quick: bool,
    pub seatwarden: PathBuf,
    pub workdir: PathBuf,
    pub postgres_url: Option<String>,
    pub postgraphile: Option<PathBuf>,
}

impl Context {
    /// Picks the quick or the full value of a setting.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }

    /// Picks a duration in seconds.
    pub fn seconds(&self, quick: u64, full: u64) -> Duration {
        Duration::from_secs(self.pick(quick, full))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the tokio runtime");
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let ctx = Context {
        quick: cli.quick,
        seatwarden: std::fs::canonicalize(&cli.seatwarden).unwrap_or(cli.seatwarden.clone()),
        workdir: cli.workdir.clone(),
        postgres_url: cli.postgres_url.clone(),
        postgraphile: cli.postgraphile.clone(),
    };
    let chosen = if cli.scenario.is_empty() { Scenario::value_variants().to_vec() } else { cli.scenario.clone() };
    let started = Instant::now();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let load_at_start = report::load_average();

    let mut sections = Vec::new();
    let mut failed = false;
    for scenario in chosen {
        let title = scenarios::title(scenario);
        println!("bench: running {title}");
        let section = match scenarios::run(&ctx, scenario).await {
            Ok(section) => section,
            Err(error) => {
                eprintln!("bench: {title} failed: {error:#}");
                failed = true;
                report::Section::failed(title, &error)
            }
        };
        section.print();
        sections.push(section);
    }

    let mut software: Vec<(String, String)> = cli
        .software
        .iter()
        .filter_map(|entry| entry.split_once('=').map(|(name, version)| (name.to_owned(), version.to_owned())))
        .collect();
    if let Ok(version) = std::process::Command::new(&ctx.seatwarden).arg("--version").output() {
        software.push(("seatwarden".to_owned(), String::from_utf8_lossy(&version.stdout).trim().to_owned()));
    }
    let info = report::RunInfo {
        command: cli.command.clone(),
        commit: cli.commit.clone(),
        date,
        quick: cli.quick,
        software,
        duration: started.elapsed(),
        load_average: (load_at_start, report::load_average()),
    };
    if let Err(error) = report::write(&cli.out, &info, &sections) {
        eprintln!("bench: writing {} failed: {error:#}", cli.out.display());
        return ExitCode::FAILURE;
    }
    println!("bench: wrote {} in {:.0} s", cli.out.display(), started.elapsed().as_secs_f64());
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
