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
    let mut seen = HashSet::new();
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
            if !seen.insert(job.id()) {
                dropped.duplicate += 1;
                return false;
            }
            true
        })
        .collect();
    Rehydrated { jobs, dropped }
}
