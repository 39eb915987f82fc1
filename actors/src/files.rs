//! File-system primitives every actor relies on: owner-only directories, atomic writes
//! (temp file in the same directory, write, fsync, rename, fsync the directory), archiving of
//! broken files and UTC timestamps.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Prefix of the temp files an atomic write leaves behind when it is interrupted; boot removes
/// files that start with it.
pub const TEMP_PREFIX: &str = ".tmp-actix-shutdown-";

/// Creates `dir` (and its parents) if needed, owner-only (0700 on Unix).
///
/// # Errors
/// Fails when the path exists and is not a directory, or cannot be created.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", dir.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `bytes` to a temp file beside `path` and fsyncs it, then renames it over `path`.
/// The directory is *not* fsynced: call [`sync_dir`] once after a batch of renames.
///
/// The file is owner-only (0600). Until the rename, the previous content of `path` is intact;
/// a crash leaves either the old or the new version, never a torn one.
///
/// # Errors
/// Any I/O error of the create, write, fsync or rename; `path` is then unchanged.
pub fn write_and_rename(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
