//! Reading a state file at boot, bounded and checked: only a regular file is ever opened for
//! reading, and never more than `max_state_bytes` of it is read. A FIFO, a device, a socket, a
//! directory or a symbolic link at a state's path is not opened at all (opening a FIFO blocks
//! until a writer comes; reading `/dev/zero` never ends), so boot cannot hang on one.

use std::fs::{self, Metadata};
use std::io::{self, Read as _};
use std::path::Path;

/// What a bounded read found.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Nothing at that path.
    Missing,
    /// The whole file, at most the limit.
    Bytes(Vec<u8>),
    /// A file that must not be read; archive it with this reason.
    Unusable(String),
}

/// Reads `path` whole if it is a regular file of at most `max` bytes; anything else but a
/// directory (a FIFO, a device, a socket, a symbolic link, a file over the limit) is
/// [`ReadOutcome::Unusable`], to archive.
///
/// The type is checked twice: on the path without following links (`symlink_metadata`), and
/// on the opened descriptor (`O_NOFOLLOW | O_NONBLOCK`, then `fstat`), so a file swapped in
/// between is caught too; the read itself is bounded by `max`, so a file that grows meanwhile
/// is refused rather than read without end.
///
/// # Errors
/// An I/O error other than absence (permission denied, …); a directory at `path`.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<ReadOutcome> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ReadOutcome::Missing),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        // Nobody's state file, and reading it cannot hang: the error it always was.
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        ));
    }
    if let Some(why) = refusal(&meta, max) {
        return Ok(ReadOutcome::Unusable(why));
    }
    let file = match crate::files::open_read_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ReadOutcome::Missing),
        Err(e) if is_symlink_refusal(&e) => {
            return Ok(ReadOutcome::Unusable(kind_text("a symbolic link")));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if let Some(why) = refusal(&meta, max) {
        return Ok(ReadOutcome::Unusable(why));
    }
    // The size is known: one allocation of exactly that size (the end-of-file probe of
    // `read_to_end` does not grow a full buffer).
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(ReadOutcome::Unusable(over_limit(bytes.len() as u64, max)));
    }
    Ok(ReadOutcome::Bytes(bytes))
}

/// Why a file with this metadata must not be read, if it must not.
fn refusal(meta: &Metadata, max: u64) -> Option<String> {
    let file_type = meta.file_type();
    if file_type.is_file() {
        return (meta.len() > max).then(|| over_limit(meta.len(), max));
    }
    Some(kind_text(describe(&file_type)))
}

fn over_limit(len: u64, max: u64) -> String {
    format!("it is {len} bytes, over max_state_bytes ({max} bytes); raise the limit to load it")
}

fn kind_text(kind: &str) -> String {
    format!("it is {kind}, not a regular file; it was not opened")
}

/// A few words for a file type that is not a regular file.
fn describe(file_type: &fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        return "a symbolic link";
    }
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// `O_NOFOLLOW` on a symbolic link fails with `ELOOP`.
fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}
