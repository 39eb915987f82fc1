//! The ResourceCloser's messages: registering a closer, closing every resource, the report.

use std::fmt;
use std::time::Duration;

use actix::prelude::*;
use futures::future::LocalBoxFuture;
use tokio::time::Instant;

use crate::report::ResourceRecord;

/// Closes a resource; its error is reported.
pub type CloserFn = Box<dyn FnOnce() -> LocalBoxFuture<'static, Result<(), String>> + Send>;

/// Registers a named resource closer; closers run in reverse registration order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterResource {
    /// Name used in the report.
    pub name: String,
    /// The closer.
    pub closer: CloserFn,
    /// Its own timeout; `None`: the ResourceCloser's default.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for RegisterResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterResource")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Runs every closer, newest first, each bounded by its timeout and by `deadline`.
#[derive(Debug, Message)]
#[rtype(result = "CloseReport")]
pub struct CloseAll {
    /// No closer runs past this instant.
    pub deadline: Instant,
}

/// The outcome of every resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// One record per resource, in the order they were closed.
    pub resources: Vec<ResourceRecord>,
}
