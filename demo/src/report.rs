//! `demo-bot report`: prints the last shutdown summary of a state directory.

use std::path::Path;
use std::process::ExitCode;

use actix_shutdown::{Config, PreviousRun};

use crate::output::print_report;

/// Prints `last_shutdown.json` of `state_dir` as the bot's summary table, or as JSON. The
/// summary, the exit marker and the lock are read together: an older run's summary is never
/// shown as the last run's.
pub(crate) fn print_last(state_dir: &Path, json: bool) -> ExitCode {
    let config = Config::default().state_dir(state_dir);
    match actix_shutdown::inspect_previous_run(&config) {
        Ok(PreviousRun::Finished(report)) if json => {
            say!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(PreviousRun::Finished(report)) => {
            print_report(&report);
            ExitCode::SUCCESS
        }
        Ok(PreviousRun::Fresh) => {
            eprintln!(
                "demo-bot report: no shutdown recorded: {} does not exist",
                config.summary_path().display()
            );
            ExitCode::from(1)
        }
        Ok(previous) => {
            eprintln!("demo-bot report: {previous}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!(
                "demo-bot report: cannot read {}: {e}",
                config.summary_path().display()
            );
            ExitCode::from(1)
        }
    }
}
