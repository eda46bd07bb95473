//! BENCHMARKS.md: the machine, the run, a summary table of every target and
//! one section per scenario.

use std::{fmt::Write as _, path::Path};

use anyhow::Result;

/// Whether a figure meets its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure reported for context, without a target.
    Context,
    /// The measurement failed or could not run; the text gives the reason.
    NotMeasured(String),
}

impl Verdict {
    pub fn from_check(met: bool) -> Verdict {
        if met { Verdict::Met } else { Verdict::Missed }
    }

    fn label(&self) -> String {
        match self {
            Verdict::Met => "met".to_owned(),
            Verdict::Missed => "**missed**".to_owned(),
            Verdict::Context => "–".to_owned(),
            Verdict::NotMeasured(reason) => format!("not measured: {reason}"),
        }
    }
}

/// One row of the summary: a figure beside its baseline and target.
#[derive(Debug, Clone)]
pub struct Finding {
    pub measure: String,
    pub figure: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub findings: Vec<Finding>,
    /// Markdown paragraphs and tables with the method and every measured value.
    pub details: Vec<String>,
}

impl Section {
    pub fn new(title: &str) -> Section {
        Section { title: title.to_owned(), findings: Vec::new(), details: Vec::new() }
    }

    /// Builds the section of a scenario that failed, with the error as its finding.
    pub fn failed(title: &str, error: &anyhow::Error) -> Section {
        let mut section = Section::new(title);
        let reason = format!("{error:#}").replace('\n', " ").replace('|', "\\|");
        section.findings.push(Finding {
            measure: "scenario".to_owned(),
            figure: "–".to_owned(),
            baseline: "–".to_owned(),
            ratio: "–".to_owned(),
            target: "–".to_owned(),
            verdict: Verdict::NotMeasured(format!("failed: {reason}")),
        });
        section
    }

    /// Prints the findings to standard output.
    pub fn print(&self) {
        println!("== {}", self.title);
        for finding in &self.findings {
            println!(
                "   {}: {} | baseline {} | ratio {} | target {} | {}",
                finding.measure,
                finding.figure,
                finding.baseline,
                finding.ratio,
                finding.target,
                finding.verdict.label()
            );
        }
    }
}

/// Facts about the run that the report starts with.
pub struct RunInfo {
    pub command: String,
    pub commit: String,
    /// When the load process started, in UTC.
    pub date: String,
    pub quick: bool,
    /// Versions of the software involved, as (name, version).
    pub software: Vec<(String, String)>,
    pub duration: std::time::Duration,
    /// The 1-, 5- and 15-minute load averages (/proc/loadavg) when the run started and when it ended.
    pub load_average: (String, String),
}

/// Writes the report to `path`.
pub fn write(path: &Path, run: &RunInfo, sections: &[Section]) -> Result<()> {
    let mut out = String::new();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Written by `bench/run`, which builds the release binary, starts every server and \
         PostgreSQL cluster it needs on 127.0.0.1, and drives them from a separate load process \
         (`bench/load`, the `load` bench target built by `cargo bench`). Server, database and \
         load share this machine's cores, so every figure includes the load process's own CPU \
         use. Other work may run on the machine at the same time (the load averages below show \
         how busy it was), so figures vary from run to run.\n"
    )?;
    writeln!(out, "- Command: `{}`", run.command)?;
    writeln!(out, "- Mode: {}", if run.quick { "quick (`--quick`: shorter windows, fewer rounds)" } else { "full" })?;
    writeln!(out, "- Commit: {}", run.commit)?;
    writeln!(out, "- Started: {}", run.date)?;
    writeln!(out, "- Run time of the load process: {:.0} s", run.duration.as_secs_f64())?;
    writeln!(
        out,
        "- Load average (1, 5, 15 min, /proc/loadavg): {} at the start, {} at the end",
        run.load_average.0, run.load_average.1
    )?;
    for (name, value) in machine() {
        writeln!(out, "- {name}: {value}")?;
    }
    for (name, version) in &run.software {
        writeln!(out, "- {name}: {version}")?;
    }

    writeln!(out, "\n## Summary\n")?;
    writeln!(out, "| scenario | measure | figure | baseline | ratio | target | result |")?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |")?;
    for section in sections {
        for finding in &section.findings {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                section.title,
                finding.measure,
                finding.figure,
                finding.baseline,
                finding.ratio,
                finding.target,
                finding.verdict.label()
            )?;
        }
    }
    writeln!(out, "\nLatencies are client-side times from sending a request to reading the whole response; \"median / p99\" use the nearest-rank method. A ratio is figure ÷ baseline; where both are latencies, the ratio column names the percentile it compares.")?;

    for section in sections {
        writeln!(out, "\n## {}\n", section.title)?;
        for paragraph in &section.details {
            writeln!(out, "{paragraph}\n")?;
        }
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// Returns the three load averages of /proc/loadavg, such as `0.52 0.61 0.70`.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Reads the CPU model, core count, memory and kernel from /proc.
fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, value)| value.trim().to_owned());
    let cores = cpuinfo.lines().filter(|line| line.starts_with("processor")).count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|line| line.starts_with("MemTotal:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(|| "unknown".to_owned(), |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    vec![
        ("CPU".to_owned(), model),
        ("Cores (logical, /proc/cpuinfo)".to_owned(), cores.to_string()),
        ("Memory (MemTotal)".to_owned(), memory),
        ("Kernel (/proc/sys/kernel/osrelease)".to_owned(), kernel),
    ]
}

/// Builds a markdown table from a header and rows.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), " --- |".repeat(header.len()));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.trim_end().to_owned()
}
