//! `rehydrate_queue` drops the same jobs whether ids are checked through a hash set or, for
//! jobs that give an ordinal, through the sorted list: duplicates out of order included.

use std::time::{Duration, SystemTime};

use actix_shutdown::{QueuedJob, RequeuePolicy, rehydrate_queue};

#[derive(Clone, Debug, PartialEq)]
struct Hashed {
    id: u64,
    at: SystemTime,
}

impl QueuedJob for Hashed {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    fn created_at(&self) -> SystemTime {
        self.at
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Ordinal(Hashed);

impl QueuedJob for Ordinal {
    type Id = u64;

    fn id(&self) -> u64 {
        self.0.id
    }

    fn created_at(&self) -> SystemTime {
        self.0.at
    }

    fn ordinal(&self) -> Option<u64> {
        Some(self.0.id)
    }
}

#[test]
fn ordinals_drop_exactly_the_duplicates_a_hash_set_drops() {
    let now = SystemTime::now();
    let job = |id, at| Hashed { id, at };
    let fresh = now - Duration::from_secs(60);
    // Increasing ids, then a few out of order: repeats of earlier ones, twice, and new ones
    // below the largest; stale and future jobs in between.
    let mut saved: Vec<Hashed> = (10..1_000).map(|id| job(id, fresh)).collect();
    saved.extend([
        job(500, fresh),
        job(5, fresh),
        job(5, fresh),
        job(999, fresh),
        job(7, now + Duration::from_secs(3600)),
        job(8, now - Duration::from_secs(48 * 3600)),
        job(1_500, fresh),
        job(1_200, fresh),
        job(1_500, fresh),
        job(10, fresh),
    ]);
    let policy = RequeuePolicy::default();

    let hashed = rehydrate_queue(saved.clone(), &policy, now);
    let ordinal = rehydrate_queue(saved.into_iter().map(Ordinal).collect(), &policy, now);

    assert_eq!(
        (
            hashed.dropped.duplicate,
            hashed.dropped.future,
            hashed.dropped.stale
        ),
        (5, 1, 1)
    );
    assert_eq!(ordinal.dropped, hashed.dropped);
    let ordinal_jobs: Vec<Hashed> = ordinal.jobs.into_iter().map(|o| o.0).collect();
    assert_eq!(ordinal_jobs, hashed.jobs);
    let tail: Vec<u64> = hashed.jobs[990..].iter().map(|j| j.id).collect();
    assert_eq!(tail, vec![5, 1_500, 1_200]);
}
