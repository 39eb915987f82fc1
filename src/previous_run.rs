//! How the previous run ended, read from the three things it leaves — `last_shutdown.json`, the
//! `exit_code` marker and the lock file — together, so that boot and `demo-bot report` never
//! present an older run's summary as the last run's. The one reader of the summary file.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use actix_shutdown_actors::{ArchivedFile, LockInfo, PreviousLock, ShutdownReport, escape, files};

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
    /// No lock file, but the summary on disk could not be used (corrupt, or not a regular
    /// file): it was archived, and how the previous run ended is unknown.
    Unknown {
        /// What was wrong with the summary.
        why: String,
        /// What the exit marker says, when there is a readable one.
        exit_code: Option<i32>,
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
                last_summary: summary.ok().map(|(s, _)| Box::new(s)),
            };
        }
        let marker = read_marker(&config.exit_marker_path());
        let summary = match summary {
            Ok(summary) => Some(summary),
            Err(Some(why)) => {
                return Self::Unknown {
                    why,
                    exit_code: marker.and_then(|(code, _)| code),
                };
            }
            Err(None) => None,
        };
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
                escape(&s.finished_at),
                escape(&s.reason),
                s.exit_code
            ),
            Self::Finished(s) => write!(
                f,
                "previous run shut down at {} ({}, exit code {}) and lost: {}",
                escape(&s.finished_at),
                escape(&s.reason),
                s.exit_code,
                if s.lost.is_empty() {
                    "(not listed)".to_owned()
                } else {
                    escape(&s.lost.join("; ")).into_owned()
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
            Self::Unknown { why, exit_code } => {
                write!(f, "the previous run's outcome is unknown: {}", escape(why))?;
                match exit_code {
                    Some(code) => write!(f, "; its exit marker says {code}"),
                    None => Ok(()),
                }
            }
            Self::Crashed { stale_lock, .. } => {
                match stale_lock {
                    Some(info) => write!(f, "stale lock from {info}")?,
                    None => f.write_str("unreadable stale lock")?,
                }
                f.write_str(": the previous run did not finish its shutdown (it crashed, or could not record its end)")
            }
        }
    }
}

/// Reads `last_shutdown.json` and when it was written: `Err(None)` when there is none. One
/// that cannot be used (corrupt, a symbolic link, not a regular file, oversized) is archived
/// (listed in `archived` with the detail) and `Err(Some(why))` says so in a few words.
fn read_summary(
    config: &Config,
    archived: &mut Vec<ArchivedFile>,
) -> Result<(ShutdownReport, SystemTime), Option<String>> {
    let path = config.summary_path();
    let shown = path.display();
    // `short` for the line on the previous run, `why` with the detail for the archive line.
    let (short, why) = match read_regular(&path, MAX_SUMMARY_BYTES) {
        Ok(None) => return Err(None),
        // A directory in its place is no summary (its write failed), not a file to archive.
        Err(e) if is_directory(&e) => return Err(None),
        Ok(Some((bytes, written))) => match serde_json::from_slice::<ShutdownReport>(&bytes) {
            Ok(summary) => return Ok((summary, written)),
            Err(e) => (
                format!("its summary {shown} is corrupt"),
                format!("the previous shutdown summary is corrupt: {e}"),
            ),
        },
        Err(e) => {
            let what = match files::UnsafePath::find(&e) {
                Some(refusal) => refusal.what(),
                None => format!("it cannot be read: {e}"),
            };
            (
                format!("its summary {shown} cannot be used"),
                format!("the previous shutdown summary cannot be used: {what}"),
            )
        }
    };
    match files::archive_broken(&path) {
        Ok(archived_as) => {
            archived.push(ArchivedFile {
                file: path,
                archived_as,
                why,
            });
            Err(Some(format!("{short} (archived)")))
        }
        Err(err) => {
            tracing::error!("{why}; archiving it failed: {err}");
            Err(Some(format!("{short}: {why}; archiving it failed: {err}")))
        }
    }
}

/// True when `error` is the refusal of a directory where a file was expected.
fn is_directory(error: &std::io::Error) -> bool {
    files::UnsafePath::find(error).is_some_and(|refusal| {
        matches!(
            refusal.problem,
            files::Problem::NotRegular { kind: "directory" }
        )
    })
}

/// A summary is a few kilobytes; anything far larger is not one.
const MAX_SUMMARY_BYTES: u64 = 64 * 1024 * 1024;
/// The exit marker is a number and a newline.
const MAX_MARKER_BYTES: u64 = 64;

/// The bytes of `path` and when it was written; `None` when it does not exist. Never through
/// a symbolic link, never a FIFO or device (refused without blocking), at most `max` bytes.
fn read_regular(path: &Path, max: u64) -> std::io::Result<Option<(Vec<u8>, SystemTime)>> {
    use std::io::Read as _;
    let file = match files::open_for_reading(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let written = file
        .metadata()
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "it is larger than {max} bytes"
        )));
    }
    Ok(Some((bytes, written)))
}

/// The exit marker's code (`None` when unreadable) and when it was written; `None` when
/// there is no marker.
fn read_marker(path: &Path) -> Option<(Option<i32>, SystemTime)> {
    match read_regular(path, MAX_MARKER_BYTES) {
        Ok(None) => None,
        Ok(Some((bytes, written))) => Some((
            std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| t.trim().parse().ok()),
            written,
        )),
        Err(_) => Some((None, modified(path))),
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::symlink_metadata(path)
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
    let dir = config.get().state_dir();
    std::fs::metadata(dir)?;
    let lock = match files::open_for_reading(&config.lock_path()) {
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
    // What boot would archive is reported here and left in place.
    let path = config.summary_path();
    match read_regular(&path, MAX_SUMMARY_BYTES) {
        Ok(None) => {}
        Err(e) if is_directory(&e) => {}
        Ok(Some((bytes, _))) if serde_json::from_slice::<ShutdownReport>(&bytes).is_ok() => {}
        Ok(Some(_)) => {
            return Err(std::io::Error::other(format!(
                "{} is not a valid summary; the next boot archives it",
                path.display()
            )));
        }
        Err(e) => {
            return Err(std::io::Error::other(format!(
                "{} cannot be used ({e}); the next boot archives it",
                path.display()
            )));
        }
    }
    let mut unused = Vec::new();
    Ok(PreviousRun::read(config, lock, &mut unused))
}

#[cfg(test)]
mod tests;
