//! Logger: a queue of formatted records drained by a writer thread into `logs/log.txt`.
//!
//! [`LogQueue`] is a `tracing_subscriber` `MakeWriter`: the `fmt` layer formats each event on
//! the caller's thread and enqueues it; the writer thread writes in batches. It is lossless by
//! default (a full queue applies backpressure); in lossy mode a full queue drops the record and
//! counts it. [`FlushLogs`] is acknowledged only once every record enqueued before it, on any
//! thread, is written and fsynced, because the flush marker travels through the same FIFO.
//! tracing-appender's `NonBlocking` has no such explicit flush (only a hard-coded one-second
//! flush when its guard drops), which is why this writer exists.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::errors::LoggerError;
use crate::files;

/// How the queue and writer behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// Records the queue holds before producers wait (or, lossy, before records are dropped).
    pub capacity: usize,
    /// Drop records when the queue is full instead of waiting; the count is reported.
    pub lossy: bool,
    /// Fsync the file at each flush.
    pub fsync: bool,
    /// Rotate `log.txt` once it reaches this size; `None`: never.
    pub rotate_bytes: Option<u64>,
    /// Rotated files kept (`log.txt.1` … `log.txt.N`).
    pub retain: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            capacity: 64 * 1024,
            lossy: false,
            fsync: true,
            rotate_bytes: Some(64 * 1024 * 1024),
            retain: 5,
        }
    }
}

/// Where the writer sends its answer to a flush or a stop.
enum Reply {
    /// A thread waiting with a timeout (`flush_blocking`, the hard-deadline thread).
    Thread(mpsc::Sender<Result<FlushAck, String>>),
    /// The Logger actor, awaiting the answer without blocking its thread.
    Actor(oneshot::Sender<Result<FlushAck, String>>),
}

impl Reply {
    fn send(self, answer: Result<FlushAck, String>) {
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

enum Command {
    Record(Vec<u8>),
    Flush(Reply),
    Stop(Reply),
}

#[derive(Debug, Default)]
struct Shared {
    written: AtomicU64,
    dropped: AtomicU64,
    stopped: AtomicBool,
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

/// Handle on the writer thread; join it through [`Logger`] (StopLogging).
#[derive(Debug)]
pub struct LogWriter {
    thread: JoinHandle<()>,
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
        let file = open_log_file(path).map_err(open_err)?;
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
            .spawn(move || write_loop(rx, sink, &writer_shared))
            .map_err(open_err)?;
        let queue = Self {
            tx,
            shared,
            lossy: options.lossy,
            path: Arc::new(path.to_owned()),
        };
        Ok((queue, LogWriter { thread }))
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Enqueues one formatted record. After StopLogging the record goes to stderr instead.
    pub fn enqueue(&self, record: Vec<u8>) {
        if self.shared.stopped.load(Ordering::Acquire) {
            let _ = io::stderr().write_all(&record);
            return;
        }
        let result = if self.lossy {
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
    fn try_control(&self, cmd: Command) -> Result<Option<Command>, LoggerError> {
        match self.tx.try_send(cmd) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(cmd)) => Ok(Some(cmd)),
            Err(TrySendError::Disconnected(_)) => Err(LoggerError::WriterGone),
        }
    }

    fn send_control(&self, cmd: Command, timeout: Duration) -> Result<(), LoggerError> {
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

    fn stats(&self) -> FlushAck {
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

fn open_log_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The file end of the queue: writes, syncs and rotates. tracing-appender's
/// `RollingFileAppender` rotates by time only and cannot be flushed on demand, so size-based
/// rotation with a retention count is done here.
struct Sink {
    out: BufWriter<File>,
    path: PathBuf,
    bytes: u64,
    rotate_bytes: Option<u64>,
    retain: usize,
    fsync: bool,
    error: Option<String>,
    /// Records written since the last successful sync: a sync with none to make durable
    /// skips its flush and fsync.
    dirty: bool,
}

impl Sink {
    fn write(&mut self, record: &[u8]) -> bool {
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
    fn sync(&mut self) -> Result<(), String> {
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

    fn hand_to_os(&mut self) {
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

fn write_loop(rx: Receiver<Command>, mut sink: Sink, shared: &Shared) {
    let ack = |result: Result<(), String>| {
        result.map(|()| FlushAck {
            written: shared.written.load(Ordering::Relaxed),
            dropped: shared.dropped.load(Ordering::Relaxed),
        })
    };
    let write = |sink: &mut Sink, bytes: &[u8]| {
        if sink.write(bytes) {
            shared.written.fetch_add(1, Ordering::Relaxed);
        }
    };
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Command::Record(bytes) => write(&mut sink, &bytes),
                Command::Flush(reply) => reply.send(ack(sink.sync())),
                Command::Stop(reply) => {
                    shared.stopped.store(true, Ordering::Release);
                    while let Ok(cmd) = rx.try_recv() {
                        match cmd {
                            Command::Record(bytes) => write(&mut sink, &bytes),
                            Command::Flush(r) | Command::Stop(r) => r.send(Ok(FlushAck::default())),
                        }
                    }
                    let answer = ack(sink.sync());
                    // The file is closed before the answer: once it arrives, nothing of the
                    // writer is left but its thread's exit.
                    drop(sink);
                    reply.send(answer);
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        // The queue is empty: hand what we have to the OS so `tail -f` sees it.
        sink.hand_to_os();
    }
    let _ = sink.sync();
}

/// The Logger actor: answers [`FlushLogs`] and [`StopLogging`] for a [`LogQueue`].
#[derive(Debug)]
pub struct Logger {
    queue: LogQueue,
    writer: Option<LogWriter>,
    flush_timeout: Duration,
}

impl Logger {
    /// Wraps a started queue and its writer; control messages wait at most `flush_timeout`
    /// for room in a full queue.
    pub fn new(queue: LogQueue, writer: LogWriter, flush_timeout: Duration) -> Self {
        Self {
            queue,
            writer: Some(writer),
            flush_timeout,
        }
    }
}

impl Actor for Logger {
    type Context = Context<Self>;
}

impl Handler<FlushLogs> for Logger {
    type Result = ResponseFuture<Result<FlushAck, LoggerError>>;

    fn handle(&mut self, _: FlushLogs, _: &mut Context<Self>) -> Self::Result {
        let queue = self.queue.clone();
        let timeout = self.flush_timeout;
        Box::pin(async move {
            if queue.is_stopped() {
                return Ok(queue.stats());
            }
            // Room in the queue (the usual case): the marker goes from this thread and the
            // answer is awaited, with no thread in between.
            let (reply, answer) = oneshot::channel();
            if queue
                .try_control(Command::Flush(Reply::Actor(reply)))?
                .is_none()
            {
                return match tokio::time::timeout(timeout, answer).await {
                    Ok(Ok(ack)) => ack.map_err(LoggerError::Write),
                    _ => Err(LoggerError::WriterGone),
                };
            }
            // A full queue: wait for room off the actor's thread.
            tokio::task::spawn_blocking(move || queue.flush_blocking(timeout))
                .await
                .map_err(|_| LoggerError::WriterGone)?
        })
    }
}

impl Handler<StopLogging> for Logger {
    type Result = ResponseFuture<Result<LoggingStopped, LoggerError>>;

    fn handle(&mut self, _: StopLogging, _: &mut Context<Self>) -> Self::Result {
        let queue = self.queue.clone();
        let writer = self.writer.take();
        let timeout = self.flush_timeout;
        Box::pin(async move {
            let Some(writer) = writer else {
                let s = queue.stats();
                return Ok(LoggingStopped {
                    written: s.written,
                    dropped: s.dropped,
                });
            };
            let (reply, answer) = oneshot::channel();
            let ack = if queue
                .try_control(Command::Stop(Reply::Actor(reply)))?
                .is_none()
            {
                // The writer drains, syncs and closes the file before it answers, then its
                // thread returns: nothing is left to wait for once the answer is here.
                drop(writer);
                match tokio::time::timeout(timeout, answer).await {
                    Ok(Ok(ack)) => ack,
                    _ => return Err(LoggerError::WriterGone),
                }
            } else {
                // A full queue: wait for room off the actor's thread.
                tokio::task::spawn_blocking(move || {
                    let (reply, rx) = mpsc::channel();
                    queue.send_control(Command::Stop(Reply::Thread(reply)), timeout)?;
                    let ack = rx
                        .recv_timeout(timeout)
                        .map_err(|_| LoggerError::WriterGone)?;
                    let _ = writer.thread.join();
                    Ok::<_, LoggerError>(ack)
                })
                .await
                .map_err(|_| LoggerError::WriterGone)??
            };
            let ack = ack.map_err(LoggerError::Write)?;
            Ok(LoggingStopped {
                written: ack.written,
                dropped: ack.dropped,
            })
        })
    }
}

mod messages;
pub use messages::{FlushAck, FlushLogs, LoggingStopped, StopLogging};
