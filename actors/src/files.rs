//! File-system primitives every actor relies on: the one way to open what the library writes
//! in the state directory ([`open_append`], [`open_read_write`], [`ensure_private_dir`]: never
//! through a link, owner-only, a regular file with one link), the state directory's check at
//! start ([`prepare_state_dir`]), atomic writes (temp file in the same directory, write, fsync,
//! rename, fsync the directory), archiving of broken files and UTC timestamps.

mod open;
mod refusal;
mod state_dir;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(crate) use open::open_read_no_follow;
pub use open::{
    check_dir, create_temp_in, effective_uid, ensure_private_dir, open_append, open_for_reading,
    open_read_write,
};
pub use refusal::{Problem, UnsafePath};
pub use state_dir::prepare_state_dir;

/// Prefix of the temp files an atomic write leaves behind when it is interrupted; boot removes
/// files that start with it.
pub const TEMP_PREFIX: &str = ".tmp-actix-shutdown-";

/// Writes `bytes` to a temp file beside `path` and fsyncs it, then renames it over `path`.
/// The directory is *not* fsynced: call [`sync_dir`] once after a batch of renames.
///
/// The temp file is created exclusively, never through a link, owner-only (0600). Until the
/// rename, the previous content of `path` is intact; a crash leaves either the old or the new
/// version, never a torn one. The rename replaces the name `path` whatever it is: a symbolic
/// link there is replaced by the file (what it pointed to is untouched), and so is one name of
/// a hard-linked file (the other names keep the old content).
///
/// # Errors
/// Any I/O error of the create, write, fsync or rename; `path` is then unchanged.
pub fn write_and_rename(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let (mut file, tmp) = open::create_temp_in(dir, TEMP_PREFIX)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// [`write_and_rename`] followed by an fsync of the directory: one complete durable write.
///
/// # Errors
/// As [`write_and_rename`], plus the directory fsync.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_and_rename(path, bytes)?;
    sync_dir(parent_dir(path))
}

/// Fsyncs a directory so that renames and unlinks in it are durable. A no-op where the
/// platform cannot open directories (Windows).
///
/// # Errors
/// The open or fsync error.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Renames `path` to `<path>.broken.<UTC timestamp>` (never overwriting an earlier archive) and
/// returns the new path.
///
/// # Errors
/// The rename error; `path` is then untouched.
pub fn archive_broken(path: &Path) -> io::Result<PathBuf> {
    let stamp = compact_utc(SystemTime::now());
    let mut target = PathBuf::from(format!("{}.broken.{stamp}", path.display()));
    let mut n = 1;
    while target.exists() {
        target = PathBuf::from(format!("{}.broken.{stamp}-{n}", path.display()));
        n += 1;
    }
    fs::rename(path, &target)?;
    sync_dir(parent_dir(path))?;
    Ok(target)
}

/// Removes leftover temp files of interrupted atomic writes in `dir`; returns their names.
///
/// # Errors
/// A failure to read the directory; a file that cannot be removed is skipped.
pub fn remove_leftover_temp_files(dir: &Path) -> io::Result<Vec<String>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) && fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    Ok(removed)
}

/// An RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-25T08:03:10.123Z`.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// A compact UTC timestamp for file names, e.g. `20261125T080310Z`.
pub fn compact_utc(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
