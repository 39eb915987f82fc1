//! Putting saved jobs back in the queue after a boot, as the runbook asks: only jobs whose
//! timestamps make sense (not in the future, not older than a limit) and whose ids are unique.
//! Everything dropped is counted, so the boot can say what it threw away and why.

use std::collections::HashSet;
use std::hash::Hash;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// A job as saved in a queue state file.
pub trait QueuedJob {
    /// Identifies the job; two saved jobs with the same id are one job saved twice.
    type Id: Eq + Hash + Clone;

    /// Its id.
    fn id(&self) -> Self::Id;

    /// When it was created.
    fn created_at(&self) -> SystemTime;

    /// The id as a number that grows as jobs are created (a counter, a timestamp-based id),
    /// if it is one: duplicates are then found with a sorted list, a push per job, instead of
    /// a hash set (at a large queue's boot, several times faster). Two jobs must have the same
    /// ordinal exactly when they have the same id, and a type returns `Some` for all its jobs
    /// or for none. Default: `None`, every id goes through a hash set.
    fn ordinal(&self) -> Option<u64> {
        None
    }
}

/// The ids taken so far. Ordinals that arrive in increasing order (the usual case: a queue is
/// saved in creation order) go to a sorted vector, a push each; one that arrives out of order
/// is looked up there by binary search and kept in a small set. Other ids go to a hash set.
struct TakenIds<Id> {
    ordered: Vec<u64>,
    out_of_order: HashSet<u64>,
    hashed: HashSet<Id>,
    expected: usize,
}

impl<Id: Eq + Hash> TakenIds<Id> {
    fn new(expected: usize) -> Self {
        Self {
            ordered: Vec::new(),
            out_of_order: HashSet::new(),
            hashed: HashSet::new(),
            expected,
        }
    }

    /// True when the job's id was not taken yet (it is now).
    fn take<J: QueuedJob<Id = Id>>(&mut self, job: &J) -> bool {
        match job.ordinal() {
            Some(n) => match self.ordered.last() {
                Some(&last) if n <= last => {
                    self.ordered.binary_search(&n).is_err() && self.out_of_order.insert(n)
                }
                _ => {
                    if self.ordered.capacity() == 0 {
                        self.ordered.reserve(self.expected);
                    }
                    self.ordered.push(n);
                    true
                }
            },
            None => {
                if self.hashed.capacity() == 0 {
                    self.hashed.reserve(self.expected);
                }
                self.hashed.insert(job.id())
            }
        }
    }
}

/// What is put back in the queue. Fields may be added: start from
/// [`RequeuePolicy::default`] and assign what you change.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use actix_shutdown::RequeuePolicy;
///
/// let mut policy = RequeuePolicy::default();
/// policy.max_age = Duration::from_secs(3600);
/// assert_eq!(policy.future_tolerance, RequeuePolicy::default().future_tolerance);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequeuePolicy {
    /// Older jobs are dropped (default 24 h).
    pub max_age: Duration,
    /// Clock skew tolerated for jobs stamped in the future (default 5 s).
    pub future_tolerance: Duration,
}

impl Default for RequeuePolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
            future_tolerance: Duration::from_secs(5),
        }
    }
}

/// The jobs to re-queue, and what was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rehydrated<T> {
    /// Valid jobs, in their saved order (first occurrence of each id).
    pub jobs: Vec<T>,
    /// Counts of what was dropped.
    pub dropped: DroppedJobs,
}

/// Counts of jobs dropped at rehydration, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DroppedJobs {
    /// Stamped in the future (beyond the tolerance).
    pub future: usize,
    /// Older than the maximum age.
    pub stale: usize,
    /// A second copy of an id already taken.
    pub duplicate: usize,
}

impl DroppedJobs {
    /// All dropped jobs.
    pub fn total(&self) -> usize {
        self.future + self.stale + self.duplicate
    }
}

impl std::fmt::Display for DroppedJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dropped {}: {} from the future, {} too old, {} duplicate",
            self.total(),
            self.future,
            self.stale,
            self.duplicate
        )
    }
}

/// Validates saved jobs against `policy` at time `now`.
///
/// # Examples
/// ```
/// use std::time::{Duration, SystemTime};
/// use actix_shutdown::{QueuedJob, RequeuePolicy, rehydrate_queue};
///
/// struct Job { id: u32, at: SystemTime }
/// impl QueuedJob for Job {
///     type Id = u32;
///     fn id(&self) -> u32 { self.id }
///     fn created_at(&self) -> SystemTime { self.at }
/// }
///
/// let now = SystemTime::now();
/// let saved = vec![
///     Job { id: 1, at: now },
///     Job { id: 1, at: now },                                   // duplicate
///     Job { id: 2, at: now + Duration::from_secs(3600) },       // from the future
///     Job { id: 3, at: now - Duration::from_secs(48 * 3600) },  // too old
/// ];
/// let restored = rehydrate_queue(saved, &RequeuePolicy::default(), now);
/// assert_eq!(restored.jobs.len(), 1);
/// assert_eq!(restored.dropped.total(), 3);
/// ```
pub fn rehydrate_queue<T: QueuedJob>(
    saved: Vec<T>,
    policy: &RequeuePolicy,
    now: SystemTime,
) -> Rehydrated<T> {
    // One pass: timestamps and ids checked together, the jobs kept in place (the filter
    // reuses the saved vector's memory).
    let mut taken = TakenIds::new(saved.len());
    let mut dropped = DroppedJobs::default();
    let latest = now + policy.future_tolerance;
    let jobs = saved
        .into_iter()
        .filter(|job| {
            let at = job.created_at();
            if at > latest {
                dropped.future += 1;
                return false;
            }
            if now.duration_since(at).is_ok_and(|age| age > policy.max_age) {
                dropped.stale += 1;
                return false;
            }
            if !taken.take(job) {
                dropped.duplicate += 1;
                return false;
            }
            true
        })
        .collect();
    Rehydrated { jobs, dropped }
}
