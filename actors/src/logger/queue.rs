//! The producer side of the log queue: [`LogQueue`], a `MakeWriter` whose records and
//! control commands (flush, stop) travel through one FIFO to the writer thread.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::Duration;

use tokio::sync::oneshot;

use super::LogOptions;
use super::sink::{self, Sink};
use super::writer::{self, LogWriter};
use crate::errors::LoggerError;
use crate::files;
use crate::messages::FlushAck;

/// Where the writer sends its answer to a flush or a stop.
pub(super) enum Reply {
    /// A thread waiting with a timeout (`flush_blocking`, the hard-deadline thread).
    Thread(mpsc::Sender<Result<FlushAck, String>>),
    /// The Logger actor, awaiting the answer without blocking its thread.
    Actor(oneshot::Sender<Result<FlushAck, String>>),
}

impl Reply {
    pub(super) fn send(self, answer: Result<FlushAck, String>) {
        match self {
            Self::Thread(tx) => {
                let _ = tx.send(answer);
            }
            Self::Actor(tx) => {
                let _ = tx.send(answer);
            }
        }
    }
}

/// What travels through the queue to the writer thread, in order.
pub(super) enum Command {
    Record(Vec<u8>),
    Flush(Reply),
    Stop(Reply),
}

#[derive(Debug, Default)]
/// Counters and the stopped flag, shared by the producers and the writer thread.
pub(super) struct Shared {
    pub(super) written: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) stopped: AtomicBool,
    /// Set by the last resort: no producer waits on a full queue any more (a record that does
    /// not fit goes to stderr), so that ending the process cannot hang on a stalled writer.
    pub(super) never_wait: AtomicBool,
}

/// The producer side of the log queue; cheap to clone, usable from any thread, and a
/// `MakeWriter` for `tracing_subscriber::fmt`.
#[derive(Clone, Debug)]
pub struct LogQueue {
    tx: SyncSender<Command>,
    shared: Arc<Shared>,
    lossy: bool,
    path: Arc<PathBuf>,
}

impl LogQueue {
    /// Opens (appends to) `path`, owner-only, and starts the writer thread.
    ///
    /// # Errors
    /// [`LoggerError::Open`] when the file cannot be opened.
    pub fn start(path: &Path, options: &LogOptions) -> Result<(Self, LogWriter), LoggerError> {
        let open_err = |source| LoggerError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::ensure_private_dir(dir).map_err(open_err)?;
        }
        let file = sink::open_log_file(path).map_err(open_err)?;
        let (tx, rx) = mpsc::sync_channel(options.capacity.max(1));
        let shared = Arc::new(Shared::default());
        let writer_shared = Arc::clone(&shared);
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let sink = Sink {
            out: BufWriter::with_capacity(256 * 1024, file),
            path: path.to_owned(),
            bytes,
            rotate_bytes: options.rotate_bytes,
            retain: options.retain,
            fsync: options.fsync,
            error: None,
            dirty: false,
        };
        let thread = std::thread::Builder::new()
            .name("actix-shutdown-log-writer".into())
            .spawn(move || writer::write_loop(rx, sink, &writer_shared))
            .map_err(open_err)?;
        let queue = Self {
            tx,
            shared,
            lossy: options.lossy,
            path: Arc::new(path.to_owned()),
        };
        Ok((queue, LogWriter::new(thread)))
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Enqueues one formatted record. After StopLogging the record goes to stderr instead.
    /// Lossless, it waits for room, unless [`never_wait`](Self::never_wait) was called: then a
    /// record that does not fit goes to stderr.
    pub fn enqueue(&self, record: Vec<u8>) {
        if self.shared.stopped.load(Ordering::Acquire) {
            let _ = io::stderr().write_all(&record);
            return;
        }
        let result = if !self.lossy && self.shared.never_wait.load(Ordering::Acquire) {
            self.tx
                .try_send(Command::Record(record))
                .map_err(|e| match e {
                    TrySendError::Full(cmd) | TrySendError::Disconnected(cmd) => cmd,
                })
        } else if self.lossy {
            match self.tx.try_send(Command::Record(record)) {
                Err(TrySendError::Full(_)) => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(TrySendError::Disconnected(cmd)) => Err(cmd),
                Ok(()) => Ok(()),
            }
        } else {
            self.tx.send(Command::Record(record)).map_err(|e| e.0)
        };
        if let Err(Command::Record(record)) = result {
            let _ = io::stderr().write_all(&record);
        }
    }

    /// From now on no producer waits on a full queue, whatever the mode: a record that does not
    /// fit goes to stderr instead. Called by the last resort before it logs, so that a stalled
    /// writer (a hung disk) cannot keep the process from ending.
    pub fn never_wait(&self) {
        self.shared.never_wait.store(true, Ordering::Release);
    }

    /// Records dropped so far (lossy mode).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// True after StopLogging.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Acquire)
    }

    /// Flushes from any thread, waiting at most `timeout` (used by the hard-deadline thread).
    ///
    /// # Errors
    /// The writer's error, or [`LoggerError::WriterGone`] when it is stopped or does not answer.
    pub fn flush_blocking(&self, timeout: Duration) -> Result<FlushAck, LoggerError> {
        let (reply, rx) = mpsc::channel();
        self.send_control(Command::Flush(Reply::Thread(reply)), timeout)?;
        match rx.recv_timeout(timeout) {
            Ok(ack) => ack.map_err(LoggerError::Write),
            Err(_) => Err(LoggerError::WriterGone),
        }
    }

    /// Sends a control command without waiting: `Some(cmd)` back when the queue is full.
    pub(super) fn try_control(&self, cmd: Command) -> Result<Option<Command>, LoggerError> {
        match self.tx.try_send(cmd) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(cmd)) => Ok(Some(cmd)),
            Err(TrySendError::Disconnected(_)) => Err(LoggerError::WriterGone),
        }
    }

    pub(super) fn send_control(&self, cmd: Command, timeout: Duration) -> Result<(), LoggerError> {
        let deadline = std::time::Instant::now() + timeout;
        let mut cmd = cmd;
        loop {
            match self.tx.try_send(cmd) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(LoggerError::WriterGone),
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    cmd = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Full(_)) => return Err(LoggerError::WriterGone),
            }
        }
    }

    pub(super) fn stats(&self) -> FlushAck {
        FlushAck {
            written: self.shared.written.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
        }
    }
}

/// One record's writer, handed out by [`LogQueue`] as a `MakeWriter`; the `fmt` layer writes
/// each formatted event in one call.
#[derive(Debug)]
pub struct RecordWriter<'a> {
    queue: &'a LogQueue,
}

impl Write for RecordWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.queue.enqueue(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogQueue {
    type Writer = RecordWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RecordWriter { queue: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lossless queue of one record whose writer never drains it (a hung disk).
    fn stalled_queue() -> (LogQueue, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::sync_channel(1);
        let queue = LogQueue {
            tx,
            shared: Arc::default(),
            lossy: false,
            path: Arc::new(PathBuf::from("log.txt")),
        };
        (queue, rx)
    }

    #[test]
    fn after_never_wait_a_full_lossless_queue_does_not_block_its_producers() {
        let (queue, _stalled) = stalled_queue();
        queue.enqueue(b"fills the queue\n".to_vec());
        queue.never_wait();
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            queue.enqueue(b"the last resort's record\n".to_vec());
            let _ = done.send(());
        });
        // Without never_wait the send waits for room forever; a generous bound, never reached
        // when it works.
        assert!(
            finished.recv_timeout(Duration::from_secs(30)).is_ok(),
            "the producer waited on a stalled writer"
        );
    }

    #[test]
    fn a_lossless_queue_keeps_records_in_order_while_there_is_room() {
        let (queue, stalled) = stalled_queue();
        queue.never_wait();
        queue.enqueue(b"first\n".to_vec());
        assert!(matches!(stalled.try_recv(), Ok(Command::Record(r)) if r == b"first\n"));
    }
}
