//! The one way the library opens or creates what it writes in the state directory. Every
//! file is opened with `O_NOFOLLOW` (a symbolic link, dangling or not, is refused, never
//! followed), without blocking (a FIFO never stalls the open), created owner-only (0600), and
//! then checked through its open descriptor: a regular file, with one link, owned by this
//! process's user (group or other permission bits left by someone else are removed).
//! Directories (`logs/`) are checked likewise: not a link, a directory, ours, not writable by
//! others; created 0700. A refusal is an `io::Error` carrying an [`UnsafePath`].
//!
//! Atomic writes create their temp file exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`), so that
//! a name planted in advance is never written through; the rename that follows replaces
//! whatever the target name is (a file, a symbolic link, one name of a hard-linked file)
//! without touching what a link pointed to.
//!
//! The checks of a parent directory and the open of a file in it are two steps: someone who
//! can write in the state directory could swap the directory between them. That is why the
//! state directory itself must not be writable by others ([`prepare_state_dir`]).
//!
//! [`prepare_state_dir`]: super::prepare_state_dir

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::refusal::{Problem, UnsafePath};

/// Opens `path` for appending, creating it 0600 when missing.
///
/// # Errors
/// An [`UnsafePath`] refusal (a symbolic link, not a regular file, several hard links, another
/// owner), or the OS error of the open.
pub fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    open_checked(path, &mut options)
}

/// Opens `path` for reading and writing without truncating it, creating it 0600 when missing
/// (the lock file).
///
/// # Errors
/// As [`open_append`].
pub fn open_read_write(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    open_checked(path, &mut options)
}

/// Opens an existing `path` for reading, refusing a symbolic link and anything that is not a
/// regular file (a FIFO is never waited on). Hard links are allowed: reading changes nothing.
///
/// # Errors
/// As [`open_append`]; `NotFound` when it does not exist.
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    let file = open_raw(path, &mut options)?;
    check_file(&file, path, Check::Read)?;
    Ok(file)
}

/// Creates a new temp file in `dir` for an atomic write: exclusively, never through a link,
/// 0600. Returns it with its path.
///
/// # Errors
/// The OS error of the create.
pub fn create_temp_in(dir: &Path, prefix: &str) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{prefix}{}-{n}-{nanos:x}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        match open_raw(&path, &mut options) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Creates `dir` (and its parents) 0700 when missing; refuses it when it is a symbolic link,
/// not a directory, owned by another user or writable by others.
///
/// # Errors
/// An [`UnsafePath`] refusal, or the OS error of the create.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_private_dir(dir)?,
        Err(e) => return Err(e),
    }
    check_dir(dir)
}

/// Creates `dir` and its missing parents, owner-only (0700).
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Checks an existing directory as [`ensure_private_dir`] does, without creating it.
///
/// # Errors
/// As [`ensure_private_dir`].
pub fn check_dir(dir: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(symlink_refusal(dir).into());
    }
    if !meta.is_dir() {
        return Err(UnsafePath::new(
            dir,
            Problem::NotDirectory {
                kind: kind_of(&meta.file_type()),
            },
        )
        .into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let us = effective_uid();
        if meta.uid() != us {
            return Err(UnsafePath::new(
                dir,
                Problem::ForeignOwner {
                    owner: meta.uid(),
                    us,
                },
            )
            .into());
        }
        if meta.mode() & 0o002 != 0 {
            return Err(UnsafePath::new(
                dir,
                Problem::WritableByOthers {
                    mode: meta.mode() & 0o7777,
                },
            )
            .into());
        }
    }
    Ok(())
}

/// This process's effective user id (0 where there is none).
pub fn effective_uid() -> u32 {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }
    #[cfg(not(unix))]
    {
        0
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Read,
    Write,
}

fn open_checked(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = open_raw(path, options)?;
    check_file(&file, path, Check::Write)?;
    Ok(file)
}

/// Opens with `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` and mode 0600, clears `O_NONBLOCK` once
/// open, and explains a failure caused by what the path is.
/// Opens `path` for reading without following a final symbolic link (`ELOOP` then) and
/// without waiting on a FIFO; the OS error as it is, for callers that tell the cases apart
/// themselves (the bounded reads at boot).
pub(crate) fn open_read_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    options.open(path)
}

fn open_raw(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = options.open(path).map_err(|e| explain(path, e))?;
    #[cfg(unix)]
    clear_nonblocking(&file)?;
    Ok(file)
}

#[cfg(unix)]
fn clear_nonblocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fd is an open descriptor owned by `file` for the duration of these calls.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// An open that failed because of what the path is (a link: `ELOOP`; a FIFO without reader:
/// `ENXIO`; …) becomes a refusal naming it; other errors are returned as they are.
fn explain(path: &Path, error: io::Error) -> io::Error {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => symlink_refusal(path).into(),
        Ok(meta) if !meta.is_file() && error.kind() != io::ErrorKind::AlreadyExists => {
            UnsafePath::new(
                path,
                Problem::NotRegular {
                    kind: kind_of(&meta.file_type()),
                },
            )
            .into()
        }
        _ => error,
    }
}

fn symlink_refusal(path: &Path) -> UnsafePath {
    UnsafePath::new(
        path,
        Problem::Symlink {
            target: fs::read_link(path).ok(),
        },
    )
}

/// Checks what was opened, through its descriptor (no race with the name).
fn check_file(file: &File, path: &Path, check: Check) -> io::Result<()> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(UnsafePath::new(
            path,
            Problem::NotRegular {
                kind: kind_of(&meta.file_type()),
            },
        )
        .into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if check == Check::Read {
            return Ok(());
        }
        if meta.nlink() > 1 {
            return Err(UnsafePath::new(
                path,
                Problem::HardLinked {
                    links: meta.nlink(),
                },
            )
            .into());
        }
        let us = effective_uid();
        if meta.uid() != us {
            return Err(UnsafePath::new(
                path,
                Problem::ForeignOwner {
                    owner: meta.uid(),
                    us,
                },
            )
            .into());
        }
        if meta.mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = check;
    Ok(())
}

fn kind_of(file_type: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_char_device() {
            return "character device";
        }
    }
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_symlink() {
        "symbolic link"
    } else if file_type.is_file() {
        "regular file"
    } else {
        "special file"
    }
}
