//! The Logger's messages: flush the queue, stop logging, and their replies.

use actix::prelude::*;

/// Acknowledged once every record queued before this message was sent is written (and
/// fsynced, unless disabled).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlushAck, crate::LoggerError>")]
pub struct FlushLogs;

/// The reply to [`FlushLogs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlushAck {
    /// Records written since start.
    pub written: u64,
    /// Records dropped since start (lossy mode only).
    pub dropped: u64,
}

/// Drains the queue, stops the writer; idempotent. Later records go to stderr.
#[derive(Debug, Message)]
#[rtype(result = "Result<LoggingStopped, crate::LoggerError>")]
pub struct StopLogging;

/// The reply to [`StopLogging`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoggingStopped {
    /// Records written in all.
    pub written: u64,
    /// Records dropped in all.
    pub dropped: u64,
}
