//! The file end of the log queue: writes, syncs and rotates `log.txt`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::files;

/// Through the crate's one opener: never through a link, owner-only, one link.
pub(super) fn open_log_file(path: &Path) -> io::Result<File> {
    files::open_append(path)
}

/// The file end of the queue: writes, syncs and rotates. tracing-appender's
/// `RollingFileAppender` rotates by time only and cannot be flushed on demand, so size-based
/// rotation with a retention count is done here.
pub(super) struct Sink {
    pub(super) out: BufWriter<File>,
    pub(super) path: PathBuf,
    pub(super) bytes: u64,
    pub(super) rotate_bytes: Option<u64>,
    pub(super) retain: usize,
    pub(super) fsync: bool,
    pub(super) error: Option<String>,
    /// Records written since the last successful sync: a sync with none to make durable
    /// skips its flush and fsync.
    pub(super) dirty: bool,
}

impl Sink {
    pub(super) fn write(&mut self, record: &[u8]) -> bool {
        match self.out.write_all(record) {
            Ok(()) => {
                self.dirty = true;
                self.bytes += record.len() as u64;
                if self.rotate_bytes.is_some_and(|max| self.bytes >= max) {
                    self.rotate();
                }
                true
            }
            Err(e) => {
                self.error.get_or_insert_with(|| e.to_string());
                false
            }
        }
    }

    /// Flushes to the OS and fsyncs; reports the first error seen since the last sync.
    pub(super) fn sync(&mut self) -> Result<(), String> {
        let fsync = self.fsync;
        let result = if self.dirty {
            self.out.flush().and_then(|()| {
                if fsync {
                    self.out.get_ref().sync_data()
                } else {
                    Ok(())
                }
            })
        } else {
            Ok(())
        };
        if result.is_ok() {
            self.dirty = false;
        }
        match (result, self.error.take()) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(e.to_string()),
            (Ok(()), None) => Ok(()),
        }
    }

    pub(super) fn hand_to_os(&mut self) {
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert_with(|| e.to_string());
        }
    }

    /// `log.txt` becomes `log.txt.1`, `.1` becomes `.2`, …; at most `retain` old files stay.
    fn rotate(&mut self) {
        if let Err(e) = self.sync() {
            self.error = Some(e);
        }
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        let _ = std::fs::remove_file(numbered(self.retain.max(1)));
        for n in (1..self.retain).rev() {
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        let moved = if self.retain == 0 {
            std::fs::remove_file(&self.path)
        } else {
            std::fs::rename(&self.path, numbered(1))
        };
        let reopened = moved.and_then(|()| open_log_file(&self.path));
        match reopened {
            Ok(file) => {
                self.out = BufWriter::with_capacity(256 * 1024, file);
                self.bytes = 0;
            }
            Err(e) => {
                self.error
                    .get_or_insert_with(|| format!("log rotation failed: {e}"));
            }
        }
    }
}
