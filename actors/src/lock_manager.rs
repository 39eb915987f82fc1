//! LockManager: the singleton lock. A file (`bot.lock`) whose body says who holds it (pid,
//! start time, host, executable, version), held with an OS file lock for the life of the process.
//! A lock file that exists but is not locked was left by a process that died without a clean
//! shutdown: it is reported as stale and taken over.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use actix::prelude::*;
use serde::{Deserialize, Serialize};

use crate::files;

/// What the lock file says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Process id.
    pub pid: u32,
    /// When that process started (RFC 3339 UTC).
    pub started_at: String,
    /// The host it runs on.
    pub hostname: String,
    /// Its executable.
    pub exe: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
}

impl LockInfo {
    /// Describes this process.
    pub fn current(version: &str) -> Self {
        Self {
            pid: std::process::id(),
            started_at: files::rfc3339(SystemTime::now()),
            hostname: hostname(),
            exe: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            version: version.to_owned(),
        }
    }
}

/// `pid 4242 (started 2026-…Z on host, exe /usr/bin/bot, version 1.2.0)`, outside strings
/// escaped: what an operator reads.
impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::escape::escape;
        write!(
            f,
            "pid {} (started {} on {}, exe {}",
            self.pid,
            escape(&self.started_at),
            escape(&self.hostname),
            escape(&self.exe)
        )?;
        if !self.version.is_empty() {
            write!(f, ", version {}", escape(&self.version))?;
        }
        f.write_str(")")
    }
}

/// What [`LockManager::acquire`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreviousLock {
    /// No lock file: the previous run (if any) shut down cleanly.
    None,
    /// A lock file nobody held: the previous run died without a clean shutdown.
    Stale(Option<LockInfo>),
}

/// Holds the singleton lock; answers [`ReleaseLock`].
#[derive(Debug)]
pub struct LockManager {
    path: PathBuf,
    file: Option<File>,
}

impl LockManager {
    /// Takes the lock at `path` (creating the file 0600, never following a symlink) and writes
    /// this process's [`LockInfo`] into it.
    ///
    /// # Errors
    /// [`LockError::AlreadyRunning`] when a live process holds it (that process is untouched),
    /// [`LockError::Symlink`] when `path` is a symlink, [`LockError::Unsafe`] when it is not a
    /// regular file of ours with one link, [`LockError::Io`] otherwise (a lock file this call
    /// created is then removed).
    pub fn acquire(
        path: impl Into<PathBuf>,
        version: &str,
    ) -> Result<(Self, PreviousLock), LockError> {
        let path = path.into();
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // A holder that releases removes the file before it unlocks: a file we locked after
        // it was unlinked is not the lock any more. Open again until the locked file is the one
        // at the path.
        let mut attempts = 0;
        let (mut file, existed) = loop {
            let existed = fs::symlink_metadata(&path).is_ok();
            let mut file = files::open_read_write(&path).map_err(|e| refusal(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = identify_holder(&mut file);
                    return Err(LockError::AlreadyRunning { path, holder });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(e)),
            }
            attempts += 1;
            if is_still_at(&file, &path) || attempts >= 10 {
                break (file, existed);
            }
        };
        // A clean shutdown removes the file: one that exists, even empty (a process that died
        // between creating and writing it), unreadable or oversized, was left by a run that did
        // not finish.
        let previous = if existed {
            PreviousLock::Stale(read_info(&mut file))
        } else {
            PreviousLock::None
        };
        let info = LockInfo::current(version);
        let json = serde_json::to_vec_pretty(&info).expect("LockInfo serializes");
        if let Err(e) = write_info(&mut file, &json, &path) {
            // A lock file this boot created says nothing true once the boot failed: remove it
            // (while still holding it), so that the next boot does not take it for a crash. A
            // stale one stays: the run that left it did crash.
            if !existed {
                let _ = fs::remove_file(&path);
            }
            return Err(io_err(e));
        }
        Ok((
            Self {
                path,
                file: Some(file),
            },
            previous,
        ))
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while the lock is held.
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }

    /// Removes the lock file, then releases the OS lock. Idempotent.
    ///
    /// # Errors
    /// The removal error; the OS lock is released anyway.
    pub fn release(&mut self) -> Result<LockReleased, LockError> {
        let Some(file) = self.file.take() else {
            return Ok(LockReleased { removed: false });
        };
        let removed = fs::remove_file(&self.path);
        drop(file);
        match removed {
            Ok(()) => Ok(LockReleased { removed: true }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LockReleased { removed: false }),
            Err(source) => Err(LockError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

impl Actor for LockManager {
    type Context = Context<Self>;
}

impl Handler<ReleaseLock> for LockManager {
    type Result = Result<LockReleased, LockError>;

    fn handle(&mut self, _: ReleaseLock, _: &mut Context<Self>) -> Self::Result {
        self.release()
    }
}

/// Replaces the lock file's body with `json`, fsyncs it and its directory.
fn write_info(file: &mut File, json: &[u8], path: &Path) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(json)?;
    file.sync_all()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::sync_dir(dir)?;
    }
    Ok(())
}

/// An open refusal as the lock's error: a symbolic link keeps its own variant.
fn refusal(path: &Path, error: io::Error) -> LockError {
    match files::UnsafePath::take(error) {
        Ok(refusal) if matches!(refusal.problem, files::Problem::Symlink { .. }) => {
            LockError::Symlink {
                path: path.to_owned(),
            }
        }
        Ok(refusal) => LockError::Unsafe(refusal),
        Err(source) => LockError::Io {
            path: path.to_owned(),
            source,
        },
    }
}

/// Who holds a lock we could not take. The file names its holder only once the holder has
/// written it: until then it is empty or still names a previous, dead holder. So it is read
/// again for a short while until it names a live process that is not this one; a holder that
/// cannot be identified that way is reported as unidentified rather than named wrongly.
fn identify_holder(file: &mut File) -> LockHolder {
    for attempt in 0..HOLDER_READS {
        if attempt > 0 {
            std::thread::sleep(HOLDER_READ_PAUSE);
        }
        if let Some(info) = read_info(file)
            && is_other_live_process(info.pid, &info.hostname)
        {
            return LockHolder(Some(Box::new(info)));
        }
    }
    LockHolder(None)
}

/// Reads of the holder's file before giving up on naming it (about 200 ms in all).
const HOLDER_READS: u32 = 40;
const HOLDER_READ_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// True when `pid` runs on this host, is alive, and is not this process.
fn is_other_live_process(pid: u32, host: &str) -> bool {
    if pid == std::process::id() || pid == 0 || host != hostname() {
        return false;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The most of a lock file that is read: its JSON is a few hundred bytes; a larger file is
/// not ours (or was tampered with) and names no holder.
const MAX_LOCK_BYTES: u64 = 64 * 1024;

/// Reads the holder's [`LockInfo`] from a lock file without locking it: opened as every file
/// the library reads (no symbolic link followed, a regular file only: a FIFO is never waited
/// on) and read up to 64 KiB. `None` when it cannot be read or does not name a holder.
pub fn read_lock_info(path: &Path) -> Option<LockInfo> {
    read_info(&mut files::open_for_reading(path).ok()?)
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut body = Vec::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(MAX_LOCK_BYTES + 1).read_to_end(&mut body).ok()?;
    if body.len() as u64 > MAX_LOCK_BYTES {
        return None;
    }
    serde_json::from_slice(&body).ok()
}

/// True when `file` is the file at `path` (not one unlinked since it was opened).
fn is_still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".to_owned())
}

mod error;
mod messages;
pub use error::{LockError, LockHolder};
pub use messages::{LockReleased, ReleaseLock};
