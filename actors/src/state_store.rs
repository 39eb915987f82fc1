//! Reading state back at boot: the envelope every state file is wrapped in, typed loading,
//! and archiving of corrupt, oversized or non-regular files as `<file>.broken.<UTC timestamp>`.
//!
//! A state file is read once, bounded by `max_state_bytes`, from a descriptor checked to be a
//! regular file ([`bounded_read`]), and parsed straight into the caller's type ([`parse`]).

mod bounded_read;
mod parse;

pub use bounded_read::{ReadOutcome, read_bounded};

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::errors::PersistError;
use crate::files;

/// Schema version of the state-file envelope written by this crate.
pub const SCHEMA_VERSION: u32 = 1;

/// File names in the state directory that are not states.
pub const RESERVED_NAMES: &[&str] = &["last_shutdown", "bot", "exit_code", "logs"];

/// Default bound on a state file's size at boot: 256 MiB. Larger files are archived, not read.
pub const DEFAULT_MAX_STATE_BYTES: u64 = crate::defaults::MAX_STATE_BYTES;

/// The envelope around every state file: `{"schema", "name", "saved_at", "data"}`. `T` is the
/// data's type: a load parses the file straight into `Envelope<YourState>`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T = serde_json::Value> {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema: u32,
    /// The state's name.
    pub name: String,
    /// When it was written (RFC 3339 UTC).
    pub saved_at: String,
    /// The snapshot.
    pub data: T,
}

/// Encodes a state file around `data`, borrowing it (no copy into a `serde_json::Value`).
pub(crate) fn encode_envelope<T: Serialize>(
    name: &str,
    saved_at: &str,
    data: &T,
) -> Result<Vec<u8>, PersistError> {
    #[derive(Serialize)]
    struct EnvelopeRef<'a, T> {
        schema: u32,
        name: &'a str,
        saved_at: &'a str,
        data: &'a T,
    }
    serde_json::to_vec(&EnvelopeRef {
        schema: SCHEMA_VERSION,
        name,
        saved_at,
        data,
    })
    .map_err(|source| PersistError::Serialize {
        what: format!("state {name:?}"),
        source,
    })
}

/// Checks that a state name is a plain file stem inside the state directory.
///
/// # Errors
/// [`PersistError::InvalidName`] naming the rule broken.
pub fn validate_name(name: &str) -> Result<(), PersistError> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.contains("..") {
        Some("it contains '..'")
    } else if name.starts_with('.') {
        Some("it starts with '.'")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("it contains a path separator or another character outside [A-Za-z0-9._-]")
    } else if RESERVED_NAMES.contains(&name) {
        Some("it is reserved for the library's own files")
    } else {
        None
    };
    match why {
        Some(why) => Err(PersistError::InvalidName {
            name: name.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// A file that was archived because it could not be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedFile {
    /// The original file.
    pub file: PathBuf,
    /// Where it is now.
    pub archived_as: PathBuf,
    /// Why it could not be used.
    pub why: String,
}

/// A state found on disk at boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundState {
    /// Its name.
    pub name: String,
    /// Entries in its data: array length, object size, or 1 for a scalar.
    pub entries: usize,
    /// When it was saved.
    pub saved_at: String,
}

/// What a typed load found.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded<T> {
    /// No file: a first start, or the state was never saved.
    Missing,
    /// The state as saved.
    Restored {
        /// The data.
        value: T,
        /// When it was saved.
        saved_at: String,
    },
    /// The file was unusable and has been archived; start empty.
    Archived(ArchivedFile),
}

impl<T> Loaded<T> {
    /// The restored value, if any.
    pub fn into_value(self) -> Option<T> {
        match self {
            Self::Restored { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// Reads the state directory: `<dir>/<name>.json` per state.
#[derive(Clone, Debug)]
pub struct StateStore {
    dir: PathBuf,
    max_bytes: u64,
}

impl StateStore {
    /// A store over `dir`, reading files up to [`DEFAULT_MAX_STATE_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_STATE_BYTES,
        }
    }

    /// Files larger than `max_bytes` are archived with their size as the reason, not read.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The file of a state.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Loads a state as `T`: the file is read once (bounded by the store's limit) and parsed
    /// straight into `T`. A file that does not parse, has an unknown schema version, whose
    /// data does not fit `T`, that is larger than the limit or that is not a regular file (a
    /// FIFO, a device, a symbolic link: never opened) is archived byte-identical and reported
    /// as [`Loaded::Archived`].
    ///
    /// # Errors
    /// An invalid name, a read error other than absence, or a failure to archive (the file is
    /// then left where it is, untouched).
    pub fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Loaded<T>, PersistError> {
        validate_name(name)?;
        let path = self.path_of(name);
        let bytes = match self.read(&path)? {
            bounded_read::ReadOutcome::Missing => return Ok(Loaded::Missing),
            bounded_read::ReadOutcome::Unusable(why) => {
                return self.archive(&path, why).map(Loaded::Archived);
            }
            bounded_read::ReadOutcome::Bytes(bytes) => bytes,
        };
        let parsed = parse::parse_typed::<T>(&bytes);
        drop(bytes);
        match parsed {
            Ok((value, saved_at)) => Ok(Loaded::Restored { value, saved_at }),
            Err(why) => self.archive(&path, why).map(Loaded::Archived),
        }
    }

    fn read(&self, path: &Path) -> Result<bounded_read::ReadOutcome, PersistError> {
        bounded_read::read_bounded(path, self.max_bytes).map_err(|source| PersistError::Read {
            path: path.to_owned(),
            source,
        })
    }

    /// Checks every state file in the directory (`*.json` except `last_shutdown.json`);
    /// archives the unusable ones.
    ///
    /// # Errors
    /// A failure to read the directory.
    pub fn scan(&self) -> Result<(Vec<FoundState>, Vec<ArchivedFile>), PersistError> {
        self.scan_excluding(&[])
    }

    /// As [`scan`](Self::scan), passing over the file stems in `exclude` (the configured
    /// summary, lock and marker names). Valid JSON that is not a state envelope (no `schema`
    /// field) belongs to someone else and is left alone; what looks like ours but cannot be
    /// used (truncated, unknown schema version) is archived, and so is a file over the limit or
    /// one that is not a regular file (never opened). The data is counted, not built.
    ///
    /// # Errors
    /// A failure to read the directory.
    pub fn scan_excluding(
        &self,
        exclude: &[&str],
    ) -> Result<(Vec<FoundState>, Vec<ArchivedFile>), PersistError> {
        let mut found = Vec::new();
        let mut archived = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(|source| PersistError::Read {
            path: self.dir.clone(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if RESERVED_NAMES.contains(&stem)
                || exclude.contains(&stem)
                || validate_name(stem).is_err()
                // A folder is nobody's state file and cannot hang a read: left alone.
                || fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
            {
                continue;
            }
            let verdict = match self.read(&path)? {
                bounded_read::ReadOutcome::Missing => None,
                bounded_read::ReadOutcome::Unusable(why) => Some(Err(why)),
                bounded_read::ReadOutcome::Bytes(bytes) => parse::parse_scan(&bytes),
            };
            match verdict {
                None => tracing::debug!(file = %path.display(), "not a state file; left alone"),
                Some(Ok(scanned)) => found.push(FoundState {
                    name: stem.to_owned(),
                    entries: scanned.entries,
                    saved_at: scanned.saved_at,
                }),
                Some(Err(why)) => match self.archive(&path, why) {
                    Ok(a) => archived.push(a),
                    Err(e) => tracing::error!("{e}"),
                },
            }
        }
        Ok((found, archived))
    }

    fn archive(&self, path: &Path, why: String) -> Result<ArchivedFile, PersistError> {
        let archived_as = files::archive_broken(path).map_err(|source| PersistError::Write {
            path: path.to_owned(),
            source,
        })?;
        tracing::warn!(file = %path.display(), archived_as = %archived_as.display(), "unusable state file archived: {why}");
        Ok(ArchivedFile {
            file: path.to_owned(),
            archived_as,
            why,
        })
    }
}
