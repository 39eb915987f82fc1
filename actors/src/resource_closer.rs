//! ResourceCloser: closes external resources (a database pool, an HTTP client, a broker
//! connection) newest first, each with its own timeout; failures, timeouts and panics are
//! recorded, and every closer runs.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix::prelude::*;
use futures::FutureExt;
use tokio::time::Instant;

use crate::last_resort::Activity;
use crate::panic_message;
use crate::report::{ParticipantOutcome, ResourceRecord, millis};

struct Resource {
    name: String,
    closer: CloserFn,
    timeout: Option<Duration>,
}

/// Owns the registered closers; answers [`RegisterResource`] and [`CloseAll`].
pub struct ResourceCloser {
    resources: Vec<Resource>,
    default_timeout: Duration,
    activity: Option<Activity>,
}

impl std::fmt::Debug for ResourceCloser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceCloser")
            .field(
                "resources",
                &self.resources.iter().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .field("default_timeout", &self.default_timeout)
            .finish()
    }
}

impl ResourceCloser {
    /// A closer whose resources get `default_timeout` each unless they set their own.
    pub fn new(default_timeout: Duration) -> Self {
        Self {
            resources: Vec::new(),
            default_timeout,
            activity: None,
        }
    }

    /// Says in `activity` which resource it is closing, so that the hard deadline can name a
    /// closer that blocks the actor thread.
    pub fn activity(mut self, activity: Activity) -> Self {
        self.activity = Some(activity);
        self
    }
}

impl Actor for ResourceCloser {
    type Context = Context<Self>;
}

impl Handler<RegisterResource> for ResourceCloser {
    type Result = ();

    fn handle(&mut self, msg: RegisterResource, _: &mut Context<Self>) {
        self.resources.push(Resource {
            name: msg.name,
            closer: msg.closer,
            timeout: msg.timeout,
        });
    }
}

impl Handler<CloseAll> for ResourceCloser {
    type Result = ResponseFuture<CloseReport>;

    fn handle(&mut self, msg: CloseAll, _: &mut Context<Self>) -> Self::Result {
        let resources = std::mem::take(&mut self.resources);
        let default_timeout = self.default_timeout;
        let activity = self.activity.clone();
        let say = move |doing: Option<String>| {
            if let Some(activity) = &activity {
                *activity.lock().unwrap_or_else(|p| p.into_inner()) = doing;
            }
        };
        Box::pin(async move {
            let mut report = CloseReport::default();
            for resource in resources.into_iter().rev() {
                let limit = resource.timeout.unwrap_or(default_timeout);
                say(Some(format!("closing resource {}", resource.name)));
                report
                    .resources
                    .push(close_one(resource, limit, msg.deadline).await);
            }
            say(None);
            report
        })
    }
}

async fn close_one(resource: Resource, limit: Duration, deadline: Instant) -> ResourceRecord {
    let started = Instant::now();
    let until = (started + limit).min(deadline);
    let name = resource.name;
    let (outcome, error) = if until <= started {
        (
            ParticipantOutcome::TimedOut,
            Some("no time left before the shutdown deadline".to_owned()),
        )
    } else {
        // The closer may panic before it returns a future: call it inside the guard.
        let closer = resource.closer;
        let closing = AssertUnwindSafe(async move { closer().await }).catch_unwind();
        match tokio::time::timeout_at(until, closing).await {
            Ok(Ok(Ok(()))) => (ParticipantOutcome::Completed, None),
            Ok(Ok(Err(e))) => (ParticipantOutcome::Failed, Some(e)),
            Ok(Err(panic)) => (ParticipantOutcome::Panicked, Some(panic_message(&*panic))),
            Err(_) => (
                ParticipantOutcome::TimedOut,
                Some(format!("did not close within {:?}", until - started)),
            ),
        }
    };
    match &error {
        Some(e) => {
            tracing::warn!(resource = %crate::escape::escape(&name), %outcome, "resource close: {e}")
        }
        None => tracing::info!(resource = %crate::escape::escape(&name), "resource closed"),
    }
    ResourceRecord {
        name,
        outcome,
        duration_ms: millis(started.elapsed()),
        error,
    }
}

mod messages;
pub use messages::{CloseAll, CloseReport, CloserFn, RegisterResource};
