//! How the previous run ended, read from the three things it leaves — `last_shutdown.json`, the
//! `exit_code` marker and the lock file — together, so that boot and `demo-bot report` never
//! present an older run's summary as the last run's. The one reader of the summary file.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use actix_shutdown_actors::{ArchivedFile, LockInfo, PreviousLock, ShutdownReport, files};

use crate::config::Config;

/// How far the exit marker's last write may trail the summary's in one run: the marker is
/// rewritten at the very end, after `release_lock` and `stop_logging` (seconds at most).
const MARKER_TRAILS_SUMMARY: Duration = Duration::from_secs(30);

/// How the previous run ended, as far as the state directory tells.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PreviousRun {
    /// No lock file, no summary, no exit marker: a first start.
    Fresh,
    /// The previous run finished its shutdown and left its summary: clean or not, as the
    /// summary's `clean` and `lost` say.
    Finished(Box<ShutdownReport>),
    /// The previous run ended without a summary of its own: writing it failed, or the process
    /// ended during its shutdown. Its exit marker is the last word.
    Unrecorded {
        /// What the exit marker says, when it is readable.
        exit_code: Option<i32>,
        /// A summary on disk from an earlier run, if any (not the last run's).
        earlier_summary: Option<Box<ShutdownReport>>,
    },
    /// A lock file nobody held: the previous run died without finishing its shutdown.
    Crashed {
        /// What the stale lock said (pid, start time), when it was readable.
        stale_lock: Option<LockInfo>,
        /// The last summary on disk (of an earlier run), if any.
        last_summary: Option<Box<ShutdownReport>>,
    },
}

impl PreviousRun {
    /// Reads the summary and the exit marker of `config`'s state directory and weighs them
    /// with what the lock said. A summary that does not parse is archived as
    /// `.broken.<UTC timestamp>` and listed in `archived`.
    pub(crate) fn read(
        config: &Config,
        lock: PreviousLock,
        archived: &mut Vec<ArchivedFile>,
    ) -> Self {
        let summary = read_summary(config, archived);
        if let PreviousLock::Stale(stale_lock) = lock {
            return Self::Crashed {
                stale_lock,
                last_summary: summary.map(|(s, _)| Box::new(s)),
            };
        }
        let marker = read_marker(&config.exit_marker_path());
        match (summary, marker) {
            (None, None) => Self::Fresh,
            (Some((summary, _)), None) => Self::Finished(Box::new(summary)),
            (None, Some((exit_code, _))) => Self::Unrecorded {
                exit_code,
                earlier_summary: None,
            },
            (Some((summary, written)), Some((exit_code, marked))) => {
                let trails = marked
                    .duration_since(written)
                    .is_ok_and(|gap| gap > MARKER_TRAILS_SUMMARY);
                if exit_code == Some(summary.exit_code) && !trails {
                    Self::Finished(Box::new(summary))
                } else {
                    Self::Unrecorded {
                        exit_code,
                        earlier_summary: Some(Box::new(summary)),
                    }
                }
            }
        }
    }

    /// The last run's own summary, when it left one.
    pub fn summary(&self) -> Option<&ShutdownReport> {
        match self {
            Self::Finished(summary) => Some(summary),
            _ => None,
        }
    }
}

impl fmt::Display for PreviousRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fresh => f.write_str("no previous run recorded"),
            Self::Finished(s) if s.clean => write!(
                f,
                "previous run shut down cleanly at {} ({}, exit code {})",
                s.finished_at, s.reason, s.exit_code
            ),
            Self::Finished(s) => write!(
                f,
                "previous run shut down at {} ({}, exit code {}) and lost: {}",
                s.finished_at,
                s.reason,
                s.exit_code,
                if s.lost.is_empty() {
                    "(not listed)".to_owned()
                } else {
                    s.lost.join("; ")
                }
            ),
            Self::Unrecorded {
                exit_code,
                earlier_summary,
            } => {
                f.write_str("the previous run left no summary of its own (writing it failed, or the process ended during its shutdown)")?;
                match exit_code {
                    Some(code) => write!(f, "; its exit marker says {code}")?,
                    None => f.write_str("; its exit marker is unreadable")?,
                }
                if let Some(earlier) = earlier_summary {
                    write!(
                        f,
                        "; the summary on disk is an earlier run's (finished {})",
                        earlier.finished_at
                    )?;
                }
                Ok(())
            }
            Self::Crashed { stale_lock, .. } => match stale_lock {
                Some(info) => write!(
                    f,
                    "stale lock from pid {} (started {}): the previous run crashed; recovering",
                    info.pid, info.started_at
                ),
                None => f.write_str("unreadable stale lock: the previous run crashed; recovering"),
            },
        }
    }
}

/// Reads `last_shutdown.json` and when it was written; one that does not parse is archived.
fn read_summary(
    config: &Config,
    archived: &mut Vec<ArchivedFile>,
) -> Option<(ShutdownReport, SystemTime)> {
    let path = config.summary_path();
    let bytes = std::fs::read(&path).ok()?;
    let written = modified(&path);
    match serde_json::from_slice::<ShutdownReport>(&bytes) {
        Ok(summary) => Some((summary, written)),
        Err(e) => {
            let why = format!("the previous shutdown summary is not readable: {e}");
            match files::archive_broken(&path) {
                Ok(archived_as) => archived.push(ArchivedFile {
                    file: path,
                    archived_as,
                    why,
                }),
                Err(err) => tracing::error!("{why}; archiving it failed: {err}"),
            }
            None
        }
    }
}

/// The exit marker's code (`None` when unreadable) and when it was written; `None` when
/// there is no marker.
fn read_marker(path: &Path) -> Option<(Option<i32>, SystemTime)> {
    let text = std::fs::read_to_string(path).ok()?;
    Some((text.trim().parse().ok(), modified(path)))
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// How the last run ended, for operators (`demo-bot report`), without taking the lock: the
/// summary and the exit marker read together, as boot reads them. A lock file that a live
/// process holds means a run is under way; one nobody holds, a crash. Archives nothing (a
/// summary that does not parse is reported, not moved).
///
/// # Errors
/// The state directory cannot be read.
pub fn inspect_previous_run(config: &Config) -> std::io::Result<PreviousRun> {
    let dir = config.state_dir_path();
    std::fs::metadata(dir)?;
    let lock = match std::fs::File::open(config.lock_path()) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => PreviousLock::None,
        Err(e) => return Err(e),
        Ok(file) => match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                PreviousLock::Stale(actix_shutdown_actors::read_lock_info(&config.lock_path()))
            }
            Err(_) => {
                return Err(std::io::Error::other(format!(
                    "a run is under way: {} is held by a live process",
                    config.lock_path().display()
                )));
            }
        },
    };
    let mut unused = Vec::new();
    let summary = std::fs::read(config.summary_path())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ShutdownReport>(&bytes).ok());
    if summary.is_none() && config.summary_path().is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a valid summary; the next boot archives it",
            config.summary_path().display()
        )));
    }
    Ok(PreviousRun::read(config, lock, &mut unused))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(exit_code: i32) -> ShutdownReport {
        let mut report = ShutdownReport::new(
            "signal:SIGTERM",
            actix_shutdown_actors::RequestSource::Signal,
        );
        report.exit_code = exit_code;
        report.clean = exit_code == 0;
        report.finished_at = "2026-11-26T10:00:00.000Z".into();
        report
    }

    fn state(summary_code: Option<i32>, marker: Option<&str>) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::default().state_dir(dir.path());
        if let Some(code) = summary_code {
            std::fs::write(
                config.summary_path(),
                serde_json::to_vec(&summary(code)).unwrap(),
            )
            .unwrap();
        }
        if let Some(marker) = marker {
            std::fs::write(config.exit_marker_path(), marker).unwrap();
        }
        (dir, config)
    }

    fn read(config: &Config) -> PreviousRun {
        PreviousRun::read(config, PreviousLock::None, &mut Vec::new())
    }

    #[test]
    fn a_summary_and_a_marker_that_agree_are_the_last_run() {
        let (_dir, config) = state(Some(0), Some("0\n"));
        let previous = read(&config);
        assert!(matches!(&previous, PreviousRun::Finished(s) if s.exit_code == 0));
        assert!(
            previous.to_string().contains("shut down cleanly"),
            "{previous}"
        );
    }

    #[test]
    fn a_marker_that_disagrees_with_the_summary_means_the_last_run_left_none() {
        let (_dir, config) = state(Some(0), Some("1\n"));
        let previous = read(&config);
        assert_eq!(
            previous,
            PreviousRun::Unrecorded {
                exit_code: Some(1),
                earlier_summary: Some(Box::new(summary(0))),
            }
        );
        let said = previous.to_string();
        assert!(!said.contains("cleanly"), "{said}");
        assert!(
            said.contains("exit marker says 1") && said.contains("earlier run"),
            "{said}"
        );
    }

    #[test]
    fn a_marker_without_a_summary_is_an_unrecorded_run() {
        let (_dir, config) = state(None, Some("garbage"));
        assert_eq!(
            read(&config),
            PreviousRun::Unrecorded {
                exit_code: None,
                earlier_summary: None,
            }
        );
    }

    #[test]
    fn a_run_that_lost_something_is_not_called_clean() {
        let (_dir, config) = state(None, None);
        let mut lossy = summary(1);
        lossy.lost = vec!["task worker-1 aborted".into()];
        std::fs::write(config.summary_path(), serde_json::to_vec(&lossy).unwrap()).unwrap();
        std::fs::write(config.exit_marker_path(), "1\n").unwrap();
        let said = read(&config).to_string();
        assert!(said.contains("lost: task worker-1 aborted"), "{said}");
        assert!(!said.contains("cleanly"), "{said}");
    }

    #[test]
    fn nothing_on_disk_is_a_fresh_start() {
        let (_dir, config) = state(None, None);
        assert_eq!(read(&config), PreviousRun::Fresh);
    }
}
