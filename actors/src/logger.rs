//! Logger: a queue of formatted records drained by a writer thread into `logs/log.txt`.
//!
//! [`LogQueue`] is a `tracing_subscriber` `MakeWriter`: the `fmt` layer formats each event on
//! the caller's thread and enqueues it; the writer thread writes in batches. It is lossless by
//! default (a full queue applies backpressure); in lossy mode a full queue drops the record and
//! counts it. [`FlushLogs`] is acknowledged only once every record enqueued before it, on any
//! thread, is written and fsynced, because the flush marker travels through the same FIFO.
//! tracing-appender's `NonBlocking` has no such explicit flush (only a hard-coded one-second
//! flush when its guard drops), which is why this writer exists.
//!
//! Parts: `queue` (the producers' side), `sink` (the file, with size-based rotation) and
//! `writer` (the thread between them); this file holds the options and the actor.

mod queue;
mod sink;
mod writer;

use std::sync::mpsc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::errors::LoggerError;
use queue::{Command, Reply};

pub use queue::{LogQueue, RecordWriter};
pub use writer::LogWriter;

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
