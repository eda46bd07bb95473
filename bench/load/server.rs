//! Child processes of the benchmark: `seatwarden serve` and PostGraphile.
//!
//! Each process writes its output to `WORKDIR/logs/NAME.log` and its id to
//! `WORKDIR/pids/NAME.pid`, which `bench/run` reads to stop what is left
//! running if this program dies. Dropping a process kills it.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail};
use tokio::process::{Child, Command};

use crate::Context;

/// A running child process with its log and pid file.
pub struct Process {
    child: Child,
    pub pid: u32,
    pub name: String,
    log: PathBuf,
    pid_file: PathBuf,
}

impl Process {
    /// Starts `program` with `args` and `env` in the work folder.
    pub fn spawn(ctx: &Context, name: &str, program: &Path, args: &[&str], env: &[(String, String)]) -> Result<Process> {
        let logs = ctx.workdir.join("logs");
        let pids = ctx.workdir.join("pids");
        std::fs::create_dir_all(&logs)?;
        std::fs::create_dir_all(&pids)?;
        let log = logs.join(format!("{name}.log"));
        let output = std::fs::File::create(&log).with_context(|| format!("creating {} failed", log.display()))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(env.iter().map(|(key, value)| (key.as_str(), value.as_str())))
            .current_dir(&ctx.workdir)
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            // Its own process group, so stopping it also stops its workers.
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("starting {} failed", program.display()))?;
        let pid = child.id().context("the child process has no id")?;
        let pid_file = pids.join(format!("{name}.pid"));
        std::fs::write(&pid_file, pid.to_string())?;
        Ok(Process { child, pid, name: name.to_owned(), log, pid_file })
    }

    /// Fails with the end of the log when the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}; the end of {}:\n{}", self.name, self.log.display(), self.log_tail());
        }
        Ok(())
    }

    /// Returns the last lines of the process's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Returns the resident memory (VmRSS) in KiB, from `/proc/PID/status`.
    pub fn vm_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("no VmRSS line in /proc/PID/status")?;
        let kib = line.split_whitespace().nth(1).context("malformed VmRSS line")?;
        Ok(kib.parse()?)
    }

    /// Sends SIGTERM to the process group and waits up to 20 seconds, then kills the group.
    pub async fn stop(mut self) -> Result<()> {
        if self.child.try_wait()?.is_none() {
            let _ = std::process::Command::new("kill").args(["-TERM", "--", &format!("-{}", self.pid)]).status();
            if tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await.is_err() {
                eprintln!("bench: {} did not stop within 20 s of SIGTERM; killing it", self.name);
                let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{}", self.pid)]).status();
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// A `seatwarden serve` process listening on 127.0.0.1.
pub struct Server {
    pub process: Process,
    pub base_url: String,
}

impl Server {
    /// Starts `seatwarden serve` on `database_url` and waits until `/ready` returns 200.
    ///
    /// The server gets the defaults except its address, `mail_dir` in the
    /// work folder, no shutdown delay and the entries of `env`.
    pub async fn start(ctx: &Context, name: &str, database_url: &str, env: &[(&str, &str)]) -> Result<Server> {
        let mut server = Server::spawn(ctx, name, database_url, env)?;
        server.wait_ready(Duration::from_secs(120)).await?;
        Ok(server)
    }

    /// Starts `seatwarden serve` without waiting for it.
    pub fn spawn(ctx: &Context, name: &str, database_url: &str, env: &[(&str, &str)]) -> Result<Server> {
        let port = free_port()?;
        let mut variables = vec![
            ("SEATWARDEN_DATABASE_URL".to_owned(), database_url.to_owned()),
            ("SEATWARDEN_BIND".to_owned(), format!("127.0.0.1:{port}")),
            ("SEATWARDEN_MAIL_DIR".to_owned(), ctx.workdir.join("mail").display().to_string()),
            ("SEATWARDEN_SHUTDOWN_DELAY".to_owned(), "0s".to_owned()),
        ];
        variables.extend(env.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())));
        let process = Process::spawn(ctx, name, &ctx.seatwarden, &["serve"], &variables)?;
        Ok(Server { process, base_url: format!("http://127.0.0.1:{port}") })
    }

    /// Polls `/ready` every 2 ms until it returns 200.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("{}/ready", self.base_url);
        let deadline = Instant::now() + timeout;
        loop {
            self.process.check_running()?;
            if let Ok(response) = client.get(&url).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{} did not become ready within {timeout:?}:\n{}", self.process.name, self.process.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    pub async fn stop(self) -> Result<()> {
        self.process.stop().await
    }
}

/// Returns a port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
