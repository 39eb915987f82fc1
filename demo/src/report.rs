//! `demo-bot report`: prints the last shutdown summary of a state directory.

use std::path::Path;
use std::process::ExitCode;

use actix_shutdown::Config;

use crate::output::print_report;

/// Prints `last_shutdown.json` of `state_dir` as the bot's summary table, or as JSON.
pub(crate) fn print_last(state_dir: &Path, json: bool) -> ExitCode {
    let config = Config::default().state_dir(state_dir);
    match actix_shutdown::read_last_shutdown(&config) {
        Ok(report) if json => {
            say!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            print_report(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo-bot report: {e}");
            ExitCode::from(1)
        }
    }
}
