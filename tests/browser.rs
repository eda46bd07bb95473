//! GraphiQL and the license dashboard in headless Chromium: each test starts
//! `seatwarden serve --demo` on a fresh SQLite file and runs one Node script
//! of `tests/browser/` against it, with playwright-core driving Debian's
//! Chromium. The scripts write screenshots to `target/browser-screenshots/`.
//!
//! Without node, npm or Chromium the tests print a SKIPPED line, and with
//! `CI=true` they fail instead.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, mpsc},
    time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_seatwarden");

/// Chromium from Debian's `chromium` package; `SEATWARDEN_TEST_CHROMIUM` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// Maximum time one Node script may run before the test kills it.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Only one browser runs at a time, because two Chromium instances on a small
/// machine would slow each other down past the dashboard's one-second update
/// check. The lock also keeps two `npm ci` runs apart.
static BROWSER: Mutex<()> = Mutex::new(());

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser")
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("browser-screenshots")
}

/// Returns `None` after printing a SKIPPED line when `reason` is set outside
/// CI; panics with the reason under `CI=true`.
fn skip_or_fail(reason: &str) -> Option<()> {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}, and CI=true forbids skipping the browser tests");
    eprintln!("SKIPPED: browser test ({reason})");
    None
}

fn tool_runs(program: &str, argument: &str) -> bool {
    Command::new(program).arg(argument).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|status| status.success())
}

/// Checks for node, npm and Chromium and installs `tests/browser/node_modules`
/// with `npm ci` when it is missing. Returns Chromium's path.
fn prepare() -> Option<String> {
    let chromium = std::env::var("SEATWARDEN_TEST_CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.to_owned());
    if !Path::new(&chromium).exists() {
        skip_or_fail(&format!("{chromium} is missing; install Debian's chromium package"))?;
    }
    if !tool_runs("node", "--version") {
        skip_or_fail("node is missing; install Debian's nodejs package")?;
    }
    let dir = browser_dir();
    if !dir.join("node_modules").join("playwright-core").exists() {
        if !tool_runs("npm", "--version") {
            skip_or_fail("npm is missing; install Debian's npm package")?;
        }
        let output = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert!(
            output.status.success(),
            "`npm ci` in {} failed ({}):\n{}{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    Some(chromium)
}

/// `seatwarden serve --demo` on a free port of 127.0.0.1, killed on drop.
struct DemoServer {
    child: Child,
    url: String,
    password: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl DemoServer {
    /// Starts the service and waits for the demo banner with the password.
    fn start() -> DemoServer {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.path().join("seatwarden.log");
        let mut command = Command::new(BINARY);
        for (key, _) in std::env::vars() {
            if key.starts_with("SEATWARDEN_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(["serve", "--demo"])
            .env("SEATWARDEN_DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("seatwarden.db").display()))
            .env("SEATWARDEN_BIND", format!("127.0.0.1:{port}"))
            .env("SEATWARDEN_MAIL_DIR", dir.path().join("mail"))
            .env("SEATWARDEN_ARGON2_MEMORY_KIB", "8")
            .env("SEATWARDEN_ARGON2_ITERATIONS", "1")
            .env("SEATWARDEN_LOG_FILTER", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();

        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if line.contains("printed only now") {
                    break;
                }
            }
            let _ = sender.send(banner);
        });
        let mut server = DemoServer { child, url: format!("http://127.0.0.1:{port}"), password: String::new(), log, _dir: dir };
        let banner = receiver
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no demo banner within 60 s; service log:\n{}", server.log_text()));
        server.password = banner
            .split("log in with the password ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no password in the demo banner:\n{banner}\nservice log:\n{}", server.log_text()))
            .to_owned();
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `node --test SCRIPT` against a fresh demo service and panics with
/// its output when it fails.
fn run_script(script: &str) {
    let _browser = BROWSER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(chromium) = prepare() else {
        return;
    };
    let server = DemoServer::start();
    let screenshots = screenshot_dir();

    let mut child = Command::new("node")
        .args(["--test", "--test-reporter=spec", script])
        .current_dir(browser_dir())
        .env("SEATWARDEN_URL", &server.url)
        .env("SEATWARDEN_DEMO_PASSWORD", &server.password)
        .env("SEATWARDEN_SCREENSHOT_DIR", &screenshots)
        .env("SEATWARDEN_CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let output = collect_output(&mut child);
    let status = child.wait().unwrap();

    assert!(
        status.success(),
        "{script} failed ({status}):\n{output}\nservice log:\n{}",
        server.log_text()
    );
    println!("{output}");
    println!("browser screenshots: {}", screenshots.display());
}

/// Reads the child's standard output and error, killing it after
/// [`SCRIPT_TIMEOUT`].
fn collect_output(child: &mut Child) -> String {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let mut timed_out = false;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut output = out.join().unwrap();
    output.push_str(&err.join().unwrap());
    if timed_out {
        output.push_str(&format!("\nkilled after {} s", SCRIPT_TIMEOUT.as_secs()));
    }
    output
}

#[test]
fn graphiql_in_chromium() {
    run_script("graphiql.test.mjs");
}

#[test]
fn dashboard_in_chromium() {
    run_script("dashboard.test.mjs");
}
