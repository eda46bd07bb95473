//! The command line: `serve`, `migrate`, `export-schema`, `create-operator`
//! and `import-contracts`.

use std::{io::BufRead, path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::{
    app,
    clock::SystemClock,
    config::{Config, LogFormat},
    contracts, db, graphql,
    state::AppState,
    users,
};

/// License compliance and session management over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "seatwarden", version, about)]
pub struct Cli {
    /// TOML configuration file; its keys are overridden by SEATWARDEN_* environment variables.
    #[arg(long, global = true, env = "SEATWARDEN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API until SIGINT or SIGTERM.
    Serve {
        /// On an empty database, load demo data and print how to log in.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) on standard output.
    ExportSchema,
    /// Create an operator account, reading its password from standard input.
    CreateOperator {
        /// Login name, unique among operators regardless of letter case.
        #[arg(long)]
        username: String,
        /// Email address of the operator.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (the line end is not part of it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Import customer contracts from a CSV file into slices, in one transaction.
    ///
    /// The header names the columns slice, named (or fixed), concurrent (or
    /// floater), renewal_date (YYYY-MM-DD; an empty cell clears it) and edition,
    /// and optionally kind, display_name and customer (an empty cell keeps the
    /// current value), in any order and letter case. Every line is checked with the rules of updateSlice and createSlice;
    /// any error fails the whole import, and nothing is written.
    ImportContracts {
        /// CSV file to import (UTF-8, with or without a byte-order mark).
        file: PathBuf,
        /// Check every line and print the changes, then roll back and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Create the slices that do not exist. Their lines need a kind (PRODUCTION or STAGING).
        #[arg(long)]
        create_missing: bool,
    },
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::ExportSchema = cli.command {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("seatwarden: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("seatwarden: starting the async runtime failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    // Dropping the runtime would wait for every blocking task and idle
    // connection; `serve` has already finished its work within the grace period.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seatwarden: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => app::serve(config, demo).await,
        Command::Migrate => {
            let db = db::connect(&config).await.context("connecting to the database failed")?;
            db::migrate(&db).await.context("applying migrations failed")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ExportSchema => Ok(()),
        Command::CreateOperator { username, email, password_stdin: _ } => {
            let password = read_password_line(std::io::stdin().lock())?;
            let db = db::connect(&config).await.context("connecting to the database failed")?;
            db::migrate(&db).await.context("applying migrations failed")?;
            let state = AppState::new(db, config, Arc::new(SystemClock))?;
            let operator =
                users::create_operator(&state.db, state.clock.as_ref(), &state.hasher, &username, &email, &password)
                    .await?;
            println!("operator `{}` created with id {}", operator.username, operator.id);
            Ok(())
        }
        Command::ImportContracts { file, dry_run, create_missing } => {
            let failed = || format!("importing {} failed", file.display());
            let parsed = contracts::read(&file).with_context(failed)?;
            let db = if dry_run {
                // A dry run writes nothing: it neither creates a missing SQLite
                // file nor applies migrations.
                let db = db::connect_existing(&config).await.context("connecting to the database failed")?;
                let pending = db::pending_migrations(&db).await.context("reading the applied migrations failed")?;
                if pending > 0 {
                    anyhow::bail!(
                        "the database lacks {pending} migration(s), and a dry run applies none; run `seatwarden migrate` first"
                    );
                }
                db
            } else {
                let db = db::connect(&config).await.context("connecting to the database failed")?;
                db::migrate(&db).await.context("applying migrations failed")?;
                db
            };
            let state = AppState::new(db, config, Arc::new(SystemClock))?;
            let options = contracts::ImportOptions { dry_run, create_missing };
            let report = contracts::import(&state, parsed, options).await.with_context(failed)?;
            print!("{report}");
            Ok(())
        }
    }
}

/// Reads the first line of `input`, without its line end (`\n` or `\r\n`).
pub fn read_password_line(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    let read = input.read_line(&mut line).context("reading the password from standard input failed")?;
    if read == 0 {
        anyhow::bail!("no password on standard input; pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | seatwarden create-operator …`");
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(line)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log_filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_line_drops_line_end_only() {
        assert_eq!(read_password_line(&b"p@ss word\r\nnext"[..]).unwrap(), "p@ss word");
        assert_eq!(read_password_line(&b" spaced \n"[..]).unwrap(), " spaced ");
        assert_eq!(read_password_line(&b"no newline"[..]).unwrap(), "no newline");
        assert!(read_password_line(&b""[..]).is_err());
    }

    #[test]
    fn every_command_has_help() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
