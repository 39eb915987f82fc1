//! The boot report the handle keeps: what the boot found, and the queues restored since.

use std::time::SystemTime;

use actix_shutdown::{PreviousRun, QueuedJob, RequeuePolicy};
use serde::{Deserialize, Serialize};

use super::support::start;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Job {
    id: u32,
    created_at: SystemTime,
}

impl QueuedJob for Job {
    type Id = u32;

    fn id(&self) -> u32 {
        self.id
    }

    fn created_at(&self) -> SystemTime {
        self.created_at
    }
}

#[actix_rt::test]
async fn boot_report_tells_the_previous_run_and_counts_the_queues_restored_since() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (first, boot) = start(tmp.path(), |c| c).await;
    assert_eq!(first.boot_report(), Some(boot.clone()));
    assert_eq!(boot.previous, PreviousRun::Fresh);
    let now = SystemTime::now();
    let jobs = vec![
        Job {
            id: 1,
            created_at: now,
        },
        Job {
            id: 1,
            created_at: now,
        },
        Job {
            id: 2,
            created_at: now,
        },
    ];
    first
        .persist_fn("queue", move || jobs.clone())
        .expect("persist");
    assert!(first.shutdown("test:first").await.ready);
    assert!(first.wait().await.clean);

    let (second, boot) = start(tmp.path(), |c| c).await;
    assert!(matches!(boot.previous, PreviousRun::Finished(_)), "{boot}");
    assert_eq!(boot.state("queue").map(|s| s.entries), Some(3));
    assert!(boot.restored_queues.is_empty());

    let restored = second
        .load_queue::<Job>("queue", &RequeuePolicy::default())
        .expect("load");
    assert_eq!(restored.jobs.len(), 2);
    let report = second.boot_report().expect("kept since start");
    assert_eq!(report.restored_queues.len(), 1);
    assert_eq!(report.restored_queues[0].name, "queue");
    assert_eq!(report.restored_queues[0].restored, 2);
    assert_eq!(report.restored_queues[0].dropped.duplicate, 1);
    assert!(second.shutdown("test:second").await.ready);
    second.wait().await;
}
