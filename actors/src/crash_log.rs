//! The crash log (`logs/crash.log`): ERROR records and panics, written and fsynced
//! synchronously on the caller's thread, so that what took the process down is on disk even if
//! the process dies the next instant. Errors are rare; the cost of a synchronous write is paid
//! only by them.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::files;

/// The crash log; cheap to clone, a `MakeWriter` for a `tracing_subscriber::fmt` layer
/// filtered to ERROR.
#[derive(Clone, Debug)]
pub struct CrashLog {
    file: Arc<Mutex<File>>,
    path: Arc<PathBuf>,
}

impl CrashLog {
    /// Opens (appends to) `path` through [`files::open_append`]: never through a link,
    /// owner-only, one link; its directory is created 0700 or checked.
    ///
    /// # Errors
    /// The open error, or an [`UnsafePath`](crate::files::UnsafePath) refusal.
    pub fn open(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::ensure_private_dir(dir)?;
        }
        Ok(Self {
            file: Arc::new(Mutex::new(files::open_append(path)?)),
            path: Arc::new(path.to_owned()),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes` and fsyncs.
    pub fn write_synced(&self, bytes: &[u8]) -> io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(bytes)?;
        file.sync_data()
    }

    /// Installs a panic hook that writes every panic (message, location, thread, and a
    /// backtrace when `RUST_BACKTRACE` asks for one) to the crash log and fsyncs it, then calls
    /// the previous hook.
    pub fn install_panic_hook(&self) {
        let log = self.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-text panic payload".to_owned());
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            let thread = std::thread::current();
            let backtrace = std::backtrace::Backtrace::capture();
            // One line per panic: the message may carry outside text (a reason, a name).
            let message = crate::escape::escape(&message);
            let mut text = format!(
                "{} PANIC thread {:?} at {}: {message}\n",
                files::rfc3339(SystemTime::now()),
                thread.name().unwrap_or("<unnamed>"),
                location.as_deref().unwrap_or("<unknown>"),
            );
            if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
                text.push_str(&format!("{backtrace}\n"));
            }
            let _ = log.write_synced(text.as_bytes());
            previous(info);
        }));
    }
}

/// One record's writer for the crash log.
#[derive(Debug)]
pub struct CrashWriter<'a> {
    log: &'a CrashLog,
}

impl Write for CrashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.log.write_synced(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CrashLog {
    type Writer = CrashWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        CrashWriter { log: self }
    }
}
