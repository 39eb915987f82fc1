//! Boot with a large saved queue: every valid job of a multi-megabyte queue is restored, the
//! invalid ones are dropped and counted, a truncated copy is archived byte-identical, and a
//! state file over `max_state_bytes` is archived with its size in the boot report.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_shutdown::{Config, Loaded, QueuedJob, RequeuePolicy, Shutdown, ShutdownHandle};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u64,
    created_at_ms: u64,
    command: String,
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

fn millis(at: SystemTime) -> u64 {
    u64::try_from(
        at.duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("fits")
}

/// A state file as the Persister writes it.
fn state_file(name: &str, data: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema": 1,
        "name": name,
        "saved_at": "2026-01-01T00:00:00.000Z",
        "data": data,
    }))
    .expect("json")
}

fn config(dir: &std::path::Path) -> Config {
    Config::default()
        .state_dir(dir)
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false)
}

async fn stop(shutdown: &ShutdownHandle) {
    assert!(shutdown.shutdown("test").await.ready);
    shutdown.wait().await;
}

const VALID: u64 = 60_000;
const DUPLICATES: u64 = 300;
const FUTURE: u64 = 200;
const STALE: u64 = 100;

#[actix_rt::test]
async fn multi_megabyte_queue_restores_every_valid_job_and_archives_a_truncated_copy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    std::fs::create_dir(&dir).expect("state dir");
    let now = millis(SystemTime::now());
    let hour = 3_600_000;
    let job = |id, created_at_ms| Job {
        id,
        created_at_ms,
        command: format!("send the weekly digest to chat {id}, with the usual attachments"),
    };
    let mut saved: Vec<Job> = (0..VALID).map(|id| job(id, now - hour)).collect();
    saved.extend((0..DUPLICATES).map(|id| job(id * 7, now - 2 * hour)));
    saved.extend((0..FUTURE).map(|i| job(VALID + i, now + hour)));
    saved.extend((0..STALE).map(|i| job(2 * VALID + i, now - 48 * hour)));
    let bytes = state_file("queue_cache", &saved);
    assert!(
        bytes.len() > 5_000_000,
        "a multi-megabyte file: {}",
        bytes.len()
    );
    std::fs::write(dir.join("queue_cache.json"), &bytes).expect("write the queue");
    let truncated = &bytes[..bytes.len() / 2];
    std::fs::write(dir.join("queue_copy.json"), truncated).expect("write the truncated copy");

    let (shutdown, boot) = Shutdown::builder(config(&dir)).start().await.expect("boot");
    let found = boot
        .state("queue_cache")
        .expect("the queue is found at boot");
    assert_eq!(found.entries, saved.len(), "{boot}");
    assert_eq!(boot.archived.len(), 1, "{boot}");
    let archive = &boot.archived[0];
    assert!(archive.file.ends_with("queue_copy.json"), "{boot}");
    assert_eq!(
        std::fs::read(&archive.archived_as).expect("read the archive"),
        truncated,
        "the archive keeps the bytes"
    );

    let restored = shutdown
        .load_queue::<Job>("queue_cache", &RequeuePolicy::default())
        .expect("load");
    assert_eq!(
        restored.jobs,
        saved[..VALID as usize],
        "every valid job, in order"
    );
    assert_eq!(restored.dropped.duplicate, DUPLICATES as usize);
    assert_eq!(restored.dropped.future, FUTURE as usize);
    assert_eq!(restored.dropped.stale, STALE as usize);
    let report = shutdown.boot_report().expect("boot report");
    let queue = &report.restored_queues[0];
    assert_eq!(
        (queue.restored, queue.dropped.total()),
        (VALID as usize, (DUPLICATES + FUTURE + STALE) as usize)
    );
    stop(&shutdown).await;
}

#[actix_rt::test]
async fn state_file_over_the_limit_is_archived_with_its_size_in_the_boot_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    std::fs::create_dir(&dir).expect("state dir");
    let bytes = state_file("big", &vec![7_u32; 4096]);
    std::fs::write(dir.join("big.json"), &bytes).expect("write the state");

    let (shutdown, boot) = Shutdown::builder(config(&dir).max_state_bytes(4096))
        .start()
        .await
        .expect("boot");
    assert_eq!(boot.archived.len(), 1, "{boot}");
    let text = boot.to_string();
    assert!(
        text.contains(&format!("{} bytes", bytes.len())) && text.contains("max_state_bytes"),
        "the boot report gives the size and the limit:\n{text}"
    );
    assert_eq!(
        std::fs::read(&boot.archived[0].archived_as).expect("read the archive"),
        bytes
    );
    let loaded = shutdown.load::<Vec<u32>>("big").expect("load");
    assert_eq!(loaded, Loaded::Missing, "archived, so nothing to load");
    stop(&shutdown).await;
}
