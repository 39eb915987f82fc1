//! Boot of a large state: rehydrating a 64 MB queue through `ShutdownHandle::load_queue`
//! (bounded read, typed parse, one validation pass) against `serde_json::from_slice` of the
//! same bytes into the same type, in time and in peak memory.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_shutdown::{QueuedJob, RequeuePolicy, rehydrate_queue};
use actix_shutdown_actors::StateStore;
use serde::{Deserialize, Serialize};

use crate::alloc::peak_bytes_during;
use crate::pipeline::{boot, shut_down};
use crate::rows::{Row, median, ms, reps};

/// A queued job, as the demo bot keeps them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct QueuedCommand {
    id: u64,
    created_at_ms: u64,
    command: String,
}

impl QueuedJob for QueuedCommand {
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

/// The same job without an ordinal: its ids go through a hash set.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct HashedCommand(QueuedCommand);

impl QueuedJob for HashedCommand {
    type Id = u64;

    fn id(&self) -> u64 {
        self.0.id
    }

    fn created_at(&self) -> SystemTime {
        self.0.created_at()
    }
}

/// The reference's view of the same file: the envelope's data as the same type.
#[derive(Deserialize)]
struct Saved {
    data: Vec<QueuedCommand>,
}

const TARGET_BYTES: usize = 64 * 1024 * 1024;

/// Writes `queue_cache.json` of about 64 MB (jobs an hour old, all valid) into `dir`; its bytes.
fn write_queue(dir: &Path) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let job = |id| QueuedCommand {
        id,
        created_at_ms: now - 3_600_000,
        command: format!("send the daily digest to chat {id}"),
    };
    let each = serde_json::to_vec(&job(1_000_000)).expect("json").len() + 1;
    let jobs: Vec<QueuedCommand> = (0..(TARGET_BYTES / each) as u64).map(job).collect();
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schema": actix_shutdown::actors::SCHEMA_VERSION,
        "name": "queue_cache",
        "saved_at": "2026-01-01T00:00:00.000Z",
        "data": jobs,
    }))
    .expect("json");
    std::fs::write(dir.join("queue_cache.json"), &bytes).expect("write the queue");
    bytes
}

pub(crate) async fn boot_load_64mb(scratch: &Path) -> Vec<Row> {
    let dir = scratch.join("boot-load");
    actix_shutdown::actors::files::ensure_private_dir(&dir).expect("scratch dir");
    let bytes = write_queue(&dir);
    let mb = bytes.len() as f64 / 1e6;
    let handle = boot(&dir).await;
    let policy = RequeuePolicy::default();
    let ours = || {
        let started = Instant::now();
        let (peak, _, restored) = peak_bytes_during(|| {
            handle
                .load_queue::<QueuedCommand>("queue_cache", &policy)
                .expect("loaded")
        });
        let took = ms(started.elapsed());
        assert_eq!(restored.dropped.total(), 0, "every job is valid");
        (took, peak, restored.jobs.len())
    };
    let reference = || {
        let started = Instant::now();
        let (peak, kept, saved) =
            peak_bytes_during(|| serde_json::from_slice::<Saved>(&bytes).expect("parsed"));
        let took = ms(started.elapsed());
        (took, peak, kept, saved.data.len())
    };
    let load_only = || {
        let started = Instant::now();
        let loaded = handle
            .load::<Vec<QueuedCommand>>("queue_cache")
            .expect("loaded");
        let took = ms(started.elapsed());
        let saved = loaded.into_value().expect("restored");
        let started = Instant::now();
        let restored = rehydrate_queue(saved, &policy, SystemTime::now());
        let validated = ms(started.elapsed());
        assert_eq!(restored.dropped.total(), 0);
        (took, validated)
    };
    let hashed = || {
        let started = Instant::now();
        let restored = handle
            .load_queue::<HashedCommand>("queue_cache", &policy)
            .expect("loaded");
        let took = ms(started.elapsed());
        assert_eq!(restored.dropped.total(), 0);
        took
    };
    let scan = || {
        let started = Instant::now();
        let (found, archived) = StateStore::new(&dir).scan().expect("scanned");
        assert!(archived.is_empty() && found.len() == 1);
        ms(started.elapsed())
    };
    ours();
    reference();
    let (mut times, mut ref_times, mut peaks, mut ref_peaks, mut values, mut scans) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut loads, mut validations, mut hashes) = (vec![], vec![], vec![]);
    for i in 0..reps(5) {
        let (o, r) = if i % 2 == 0 {
            (ours(), reference())
        } else {
            let r = reference();
            (ours(), r)
        };
        assert_eq!(o.2, r.3, "both read every job");
        times.push(o.0);
        peaks.push(o.1 as f64);
        ref_times.push(r.0);
        ref_peaks.push(r.1 as f64);
        values.push(r.2 as f64);
        scans.push(scan());
        hashes.push(hashed());
        let (load, validation) = load_only();
        loads.push(load);
        validations.push(validation);
    }
    shut_down(&handle).await;
    let value_mb = median(values) / 1e6;
    vec![
        Row::new(
            "boot_load_64mb",
            "ms",
            median(times),
            &format!(
                "serde_json::from_slice of the same {mb:.0} MB into the same Vec<Job>, bytes already in memory"
            ),
            median(ref_times.clone()),
            Some(1.3),
        ),
        Row::new(
            "boot_load_64mb_peak_memory",
            "MB",
            median(peaks) / 1e6,
            &format!(
                "the typed value's size ({value_mb:.0} MB, heap bytes it keeps): peak above the baseline"
            ),
            value_mb,
            Some(2.0),
        ),
        Row::new(
            "boot_load_64mb_reference_peak",
            "MB",
            median(ref_peaks) / 1e6,
            "the typed value's size: from_slice's own peak (its bytes not counted)",
            value_mb,
            None,
        ),
        Row::new(
            "boot_load_64mb_hashed_ids",
            "ms",
            median(hashes),
            "from_slice into the typed value: load_queue of a job type without an ordinal (ids hashed)",
            median(ref_times.clone()),
            None,
        ),
        Row::new(
            "boot_load_64mb_without_validation",
            "ms",
            median(loads),
            "from_slice into the typed value: ShutdownHandle::load alone (read and parse)",
            median(ref_times.clone()),
            None,
        ),
        Row::new(
            "boot_load_64mb_validation_only",
            "ms",
            median(validations),
            "from_slice into the typed value: rehydrate_queue alone (timestamps, unique ids)",
            median(ref_times.clone()),
            None,
        ),
        Row::new(
            "boot_scan_64mb",
            "ms",
            median(scans),
            "from_slice into the typed value: the boot scan (entries counted, not built)",
            median(ref_times),
            None,
        ),
    ]
}
