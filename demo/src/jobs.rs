//! The bot's jobs and the queue actor that hands them to workers: queued jobs wait in order,
//! taken ones stay "in flight" until acknowledged, and a snapshot saves both.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use actix_shutdown::{QueuedJob, Snapshot, TakeSnapshot};
use serde::{Deserialize, Serialize};

/// The registered name of the queue's state (`queue_cache.json`).
pub(crate) const QUEUE_STATE: &str = "queue_cache";

/// A queued job, as saved in `queue_cache.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    /// Unique among every job this state directory has seen.
    pub(crate) id: u64,
    /// When the producer made it, in milliseconds since the Unix epoch.
    pub(crate) created_at_ms: u64,
    /// The chat command it answers.
    pub(crate) command: String,
}

impl QueuedJob for Job {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_at_ms)
    }
    fn ordinal(&self) -> Option<u64> {
        Some(self.id)
    }
}

/// Milliseconds since the Unix epoch (0 for a clock before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The chat commands the producer cycles through.
pub(crate) const COMMANDS: [&str; 4] = ["/ping", "/weather", "/remind", "/stats"];

/// Counters the queue publishes for readers outside the actor (the heartbeat, the busy-guard,
/// the pending jobs probe). Cloning shares them.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueueGauges(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    queued: AtomicUsize,
    in_flight: AtomicUsize,
    taken: AtomicU64,
    done: AtomicU64,
}

/// One reading of the [`QueueGauges`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueueCounts {
    /// Jobs taken by a worker since boot.
    pub(crate) taken: u64,
    /// Jobs done since boot.
    pub(crate) done: u64,
    /// Jobs in flight now.
    pub(crate) in_flight: usize,
    /// Jobs waiting now.
    pub(crate) queued: usize,
}

impl QueueGauges {
    /// Jobs in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.0.in_flight.load(Ordering::Relaxed)
    }

    /// Jobs queued or in flight now: what a shutdown saves.
    pub(crate) fn pending(&self) -> usize {
        self.0.in_flight.load(Ordering::Relaxed) + self.0.queued.load(Ordering::Relaxed)
    }

    /// Every counter at once.
    pub(crate) fn read(&self) -> QueueCounts {
        QueueCounts {
            taken: self.0.taken.load(Ordering::Relaxed),
            done: self.0.done.load(Ordering::Relaxed),
            in_flight: self.0.in_flight.load(Ordering::Relaxed),
            queued: self.0.queued.load(Ordering::Relaxed),
        }
    }
}

/// The job queue actor.
#[derive(Debug)]
pub(crate) struct JobQueue {
    queued: VecDeque<Job>,
    in_flight: BTreeMap<u64, Job>,
    gauges: QueueGauges,
}

impl JobQueue {
    /// A queue holding `jobs` (e.g. restored from the last run), publishing to `gauges`.
    pub(crate) fn new(jobs: Vec<Job>, gauges: QueueGauges) -> Self {
        let queue = Self {
            queued: jobs.into(),
            in_flight: BTreeMap::new(),
            gauges,
        };
        queue.publish();
        queue
    }

    fn publish(&self) {
        let counts = &self.gauges.0;
        counts
            .in_flight
            .store(self.in_flight.len(), Ordering::Relaxed);
        counts.queued.store(self.queued.len(), Ordering::Relaxed);
    }
}

impl Actor for JobQueue {
    type Context = Context<Self>;
}

/// Appends a job to the queue.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Enqueue(pub(crate) Job);

/// Takes the oldest queued job; it stays in flight until acknowledged.
#[derive(Debug, Message)]
#[rtype(result = "Option<Job>")]
pub(crate) struct TakeJob;

/// A job in flight is done.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AckJob(pub(crate) u64);

/// A job in flight could not be done: it goes back to the front of the queue.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ReleaseJob(pub(crate) u64);

impl Handler<Enqueue> for JobQueue {
    type Result = ();
    fn handle(&mut self, msg: Enqueue, _: &mut Context<Self>) {
        self.queued.push_back(msg.0);
        self.publish();
    }
}

impl Handler<TakeJob> for JobQueue {
    type Result = Option<Job>;
    fn handle(&mut self, _: TakeJob, _: &mut Context<Self>) -> Option<Job> {
        let job = self.queued.pop_front()?;
        self.in_flight.insert(job.id, job.clone());
        self.gauges.0.taken.fetch_add(1, Ordering::Relaxed);
        self.publish();
        Some(job)
    }
}

impl Handler<AckJob> for JobQueue {
    type Result = ();
    fn handle(&mut self, msg: AckJob, _: &mut Context<Self>) {
        if self.in_flight.remove(&msg.0).is_some() {
            self.gauges.0.done.fetch_add(1, Ordering::Relaxed);
        }
        self.publish();
    }
}

impl Handler<ReleaseJob> for JobQueue {
    type Result = ();
    fn handle(&mut self, msg: ReleaseJob, _: &mut Context<Self>) {
        if let Some(job) = self.in_flight.remove(&msg.0) {
            self.queued.push_front(job);
        }
        self.publish();
    }
}

impl Handler<TakeSnapshot> for JobQueue {
    type Result = Result<Snapshot, String>;
    /// Jobs in flight are saved too: they were not finished and run again on the next boot.
    fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> Self::Result {
        let jobs: Vec<Job> = self
            .in_flight
            .values()
            .chain(self.queued.iter())
            .cloned()
            .collect();
        Ok(Snapshot::of(jobs))
    }
}
