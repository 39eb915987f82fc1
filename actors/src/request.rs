//! Shutdown requests, the response hooks fill in, and the hooks themselves.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

/// Who asked for the shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestSource {
    /// An OS signal (SIGINT, SIGTERM, Ctrl+Break).
    Signal,
    /// An operator's admin command.
    Admin,
    /// A remote director (e.g. Botica).
    Director,
    /// A watchdog that found the bot unhealthy.
    Watchdog,
    /// The HTTP control plane.
    Http,
    /// The embedding program itself.
    Api,
}

impl RequestSource {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::Admin => "admin",
            Self::Director => "director",
            Self::Watchdog => "watchdog",
            Self::Http => "http",
            Self::Api => "api",
        }
    }
}

impl fmt::Display for RequestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to shut down: graceful (hooks may cancel it) or forced (they may not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShutdownRequest {
    /// Identifies the request in answers and reports.
    pub id: String,
    /// Forced requests ignore cancels and switch the pipeline to forced mode.
    pub forced: bool,
    /// Why, e.g. `signal:SIGTERM`, `admin:restart`.
    pub reason: String,
    /// Who asked.
    pub source: RequestSource,
    /// Whether the process should exit with the restart code.
    pub restart: bool,
    /// When it was made.
    pub at: SystemTime,
    /// For an inevitable request that hooks deferred: when it will run forced whatever the hooks
    /// answer (the grace deadline, or earlier under `stop_timeout`). `None` otherwise.
    pub forced_at: Option<std::time::Instant>,
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

impl ShutdownRequest {
    /// A graceful request with a fresh id.
    pub fn graceful(source: RequestSource, reason: impl Into<String>) -> Self {
        Self {
            id: format!(
                "{}-{}",
                std::process::id(),
                NEXT_REQUEST.fetch_add(1, Ordering::Relaxed)
            ),
            forced: false,
            reason: reason.into(),
            source,
            restart: false,
            at: SystemTime::now(),
            forced_at: None,
        }
    }

    /// A forced request with a fresh id.
    pub fn forced(source: RequestSource, reason: impl Into<String>) -> Self {
        Self {
            forced: true,
            ..Self::graceful(source, reason)
        }
    }

    /// The same request, asking for a restart.
    pub fn with_restart(mut self, restart: bool) -> Self {
        self.restart = restart;
        self
    }

    /// The same request with this id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// True for a forced request.
    pub fn is_forced(&self) -> bool {
        self.forced
    }

    /// True when the process will end whatever the hooks answer: a signal or a forced request.
    /// `is_closing` turns true as soon as such a request arrives; a hook's cancel only defers
    /// the pipeline. A request that is not inevitable (a director's or an HTTP graceful request)
    /// and that a hook cancels changes nothing.
    pub fn is_inevitable(&self) -> bool {
        self.forced || self.source == RequestSource::Signal
    }

    /// For a deferred inevitable request, the time left before it runs forced.
    pub fn time_left(&self) -> Option<std::time::Duration> {
        self.forced_at
            .map(|at| at.saturating_duration_since(std::time::Instant::now()))
    }
}

/// What a hook answers to a request: [`cancel`](Self::cancel) asks to cancel it; there is no
/// way back (a cancel cannot be undone). Each hook gets its own response, so the Supervisor
/// knows which hooks canceled; the request is canceled when any of them did. Forced requests
/// ignore cancels (they are logged).
#[derive(Clone, Debug, Default)]
pub struct ShutdownResponse {
    canceled: Arc<AtomicBool>,
}

impl ShutdownResponse {
    /// A response nobody has canceled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks to cancel the shutdown (honoured for graceful requests only).
    pub fn cancel(&self) {
        self.canceled.store(true, Ordering::SeqCst);
    }

    /// True once any hook called [`cancel`](Self::cancel).
    pub fn is_canceled(&self) -> bool {
        self.canceled.load(Ordering::SeqCst)
    }
}

/// A synchronous hook's closure.
type SyncHook = dyn Fn(&ShutdownRequest, &ShutdownResponse) + Send;

/// An asynchronous hook's closure: makes the future on the actor thread.
type AsyncHook =
    dyn Fn(ShutdownRequest, ShutdownResponse) -> LocalBoxFuture<'static, Result<(), String>> + Send;

/// A shutdown hook: runs for every request, graceful or forced, and may cancel graceful ones,
/// bounded by the hook budget. Make one with [`sync_hook`], [`async_hook`] or
/// [`recipient_hook`].
pub enum HookFn {
    /// Runs on a blocking thread, so that a hook that blocks cannot stall the actor thread;
    /// past the budget it is abandoned (recorded as timed out).
    Sync(std::sync::Arc<std::sync::Mutex<Box<SyncHook>>>),
    /// Its future runs on the actor thread.
    Async(Box<AsyncHook>),
}

impl fmt::Debug for HookFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sync(_) => "HookFn::Sync(..)",
            Self::Async(_) => "HookFn::Async(..)",
        })
    }
}

/// Wraps a synchronous closure as a [`HookFn`]; it runs on a blocking thread.
pub fn sync_hook<F>(f: F) -> HookFn
where
    F: Fn(&ShutdownRequest, &ShutdownResponse) + Send + 'static,
{
    HookFn::Sync(std::sync::Arc::new(std::sync::Mutex::new(Box::new(f))))
}

/// Wraps an async closure as a [`HookFn`]; the future gets owned copies of the request and
/// response, and its error is recorded (it does not cancel).
pub fn async_hook<F, Fut, E>(f: F) -> HookFn
where
    F: Fn(ShutdownRequest, ShutdownResponse) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + 'static,
    E: fmt::Display,
{
    HookFn::Async(Box::new(move |req, resp| {
        let fut = f(req, resp);
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    }))
}

/// Wraps an actor's recipient as a [`HookFn`]: the actor receives
/// [`ShutdownRequested`](crate::messages::ShutdownRequested) and may cancel through its
/// response; an unreachable actor is recorded as a failed hook (it does not cancel).
pub fn recipient_hook(recipient: actix::Recipient<crate::messages::ShutdownRequested>) -> HookFn {
    HookFn::Async(Box::new(move |request, response| {
        let sent = recipient.send(crate::messages::ShutdownRequested { request, response });
        Box::pin(async move {
            sent.await
                .map_err(|e| format!("the hook actor is unreachable: {e}"))?
        })
    }))
}
