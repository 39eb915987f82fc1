//! demo-bot: a small chat bot built on actix-shutdown. It produces jobs, works them off in two
//! workers, fires reminders, keeps its state (queue cache, reminder tracking, DM schedule,
//! command cache) in the state directory and its finished jobs in a SQLite database.
//!
//! Ctrl+C (SIGINT) or SIGTERM shuts it down step by step and prints a summary; a second signal
//! forces the shutdown; a third exits at once. `demo-bot report` prints the last summary.

use std::process::ExitCode;

use clap::Parser;

/// Prints a line on stdout, ignoring a closed pipe (`demo-bot | head`, a terminal gone after
/// Ctrl+C): the shutdown must not fail because nobody reads its progress.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[cfg(feature = "http")]
mod api;
#[cfg(feature = "botica")]
mod botica;
mod cli;
mod early_signals;
mod heartbeat;
mod jobs;
mod output;
mod report;
mod state;
mod store;
mod wiring;
mod workload;

fn main() -> ExitCode {
    // Signals that come before the handlers are held back by `early_signals` (blocked before
    // `main`), then delivered to the handlers, or to their default action for `report`.
    let cli = cli::Cli::parse();
    match cli.command {
        Some(cli::Command::Report { state_dir, json }) => {
            early_signals::release();
            report::print_last(&state_dir, json)
        }
        None => {
            // A signal from here on starts a clean shutdown once the bot has booted, never the
            // default action that would leave the lock behind.
            let caught = actix_shutdown::catch_signals();
            early_signals::release();
            if let Err(e) = caught {
                eprintln!("demo-bot: cannot install the signal handlers: {e}");
                return ExitCode::from(1);
            }
            if let Err(e) = cli.run.validate() {
                eprintln!("demo-bot: {e}");
                return ExitCode::from(2);
            }
            actix::System::new().block_on(wiring::run(cli.run))
        }
    }
}
