//! The command line: `demo-bot [options]` runs the bot, `demo-bot report` prints the last
//! shutdown summary.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    args_conflicts_with_subcommands = true,
    name = "demo-bot",
    version,
    about = "A demo bot that shuts down gracefully on Ctrl+C"
)]
pub(crate) struct Cli {
    /// A subcommand; none runs the bot.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// The options of a run.
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the last shutdown summary.
    Report {
        /// The bot's state directory.
        #[arg(long, default_value = "state")]
        state_dir: PathBuf,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The options of a run.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The state directory (lock, state files, summary, logs, database).
    #[arg(long, default_value = "state")]
    pub(crate) state_dir: PathBuf,
    /// Overall deadline of a graceful shutdown, in seconds.
    #[arg(long, default_value = "10", value_parser = positive_secs)]
    pub(crate) grace: Duration,
    /// Deadline once the shutdown is forced (second signal), in seconds [default: 3, or the
    /// grace when shorter].
    #[arg(long, value_parser = positive_secs)]
    pub(crate) forced_budget: Option<Duration>,
    /// The orchestrator's SIGKILL deadline, in seconds (docker stop: 10, systemd
    /// TimeoutStopSec, Kubernetes terminationGracePeriodSeconds): a signal deferred by a veto
    /// is forced early enough to end before it. Refused (exit 2) when the forced budget and the
    /// hard margin cannot fit in it.
    #[arg(long, value_parser = positive_secs)]
    pub(crate) stop_timeout: Option<Duration>,
    /// Jobs produced per second (0: none).
    #[arg(long, default_value_t = 5.0)]
    pub(crate) jobs_per_sec: f64,
    /// Time a worker spends on one job, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) job_ms: u64,
    /// Autosave period in milliseconds (0: only at shutdown).
    #[arg(long, default_value_t = 5000)]
    pub(crate) persist_every: u64,
    /// A hook cancels graceful shutdown requests while jobs are in flight.
    #[arg(long)]
    pub(crate) busy_veto: bool,
    /// Run a task that ignores cancellation (it is aborted at its deadline).
    #[arg(long)]
    pub(crate) hang_task: bool,
    /// Register a resource whose close fails (the exit code becomes 1).
    #[arg(long)]
    pub(crate) fail_close: bool,
    /// Register a resource whose close blocks the actor thread for this many seconds (the
    /// hard-deadline thread ends the process at grace + 2 s with exit code 1).
    #[arg(long, value_parser = positive_secs)]
    pub(crate) block_close: Option<Duration>,
    /// Register a shutdown hook that panics (the panic is contained and reported).
    #[arg(long)]
    pub(crate) panic_hook: bool,
    /// Register a shutdown hook that blocks its thread for this many seconds (it prints
    /// `slow-hook: ...` as it starts).
    #[arg(long, value_parser = positive_secs)]
    pub(crate) slow_hook: Option<Duration>,
    /// Ask for a restart (exit code 75) after this many seconds.
    #[arg(long, value_parser = positive_secs)]
    pub(crate) restart_after: Option<Duration>,
    /// Ask for a graceful shutdown after this many seconds.
    #[arg(long, value_parser = positive_secs)]
    pub(crate) shutdown_after: Option<Duration>,
    /// Serve the HTTP control plane on this address (e.g. 127.0.0.1:8080; port 0 picks one):
    /// GET /healthz, /readyz, /status and POST /shutdown. The bearer token comes from
    /// SHUTDOWN_TOKEN, required for an address that is not loopback.
    #[cfg(feature = "http")]
    #[arg(long, value_name = "ADDR")]
    pub(crate) http: Option<String>,
    /// Serve the bot's own API on this address (port 0 picks one): POST /jobs {"work_ms": N}
    /// runs a job inside the request and stores it in api_jobs.json; GET /jobs/{id}. Its
    /// requests in flight are drained before the state is persisted.
    #[cfg(feature = "http")]
    #[arg(long, value_name = "ADDR")]
    pub(crate) api: Option<String>,
    /// Answer the Botica director over RabbitMQ: identity from BOTICA_BOT_ID and
    /// BOTICA_BOT_TYPE, broker from AMQP_URL.
    #[cfg(feature = "botica")]
    #[arg(long)]
    pub(crate) botica: bool,
}

impl RunArgs {
    /// The time a task (or a server's requests in flight) gets to finish once cancelled: 5 s,
    /// or less when the grace is short (a shutdown gives tasks at most half of it).
    pub(crate) fn task_grace(&self) -> Duration {
        Duration::from_secs(5).min(self.grace / 2)
    }

    /// Checks what clap cannot: a job rate that is zero or gives a representable period.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let rate = self.jobs_per_sec;
        if !(rate.is_finite() && rate >= 0.0)
            || (rate > 0.0 && Duration::try_from_secs_f64(1.0 / rate).is_err())
        {
            return Err(format!(
                "--jobs-per-sec must be zero or a positive number of jobs a second (at least one a century), not {rate}"
            ));
        }
        Ok(())
    }
}

/// Parses a positive number of seconds (fractions allowed).
fn positive_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{s} must be a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}
