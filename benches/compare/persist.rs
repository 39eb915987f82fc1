//! Persistence: PersistAll of ten states against writing them by hand.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use actix::prelude::*;
use actix_shutdown::{ClosingFlag, ParticipantOutcome};
use actix_shutdown_actors::messages::{PersistAll, RegisterState, Snapshot, SnapshotFn};
use actix_shutdown_actors::{Persister, SCHEMA_VERSION, files};

use crate::pipeline::atomic_write_by_hand;
use crate::rows::{Row, ms, reps, side_by_side};

/// One record of a bot's state, as a bot would keep it.
#[derive(Clone, serde::Serialize)]
pub(crate) struct Job {
    id: u64,
    kind: String,
    chat: i64,
    due: String,
    text: String,
}

/// A state of about `bytes` bytes of JSON: a queue of small jobs.
pub(crate) fn jobs(bytes: usize) -> Vec<Job> {
    let job = |id| Job {
        id,
        kind: "reminder".to_owned(),
        chat: 123_456_789,
        due: "2026-01-01T00:00:00Z".to_owned(),
        text: "water the plants".to_owned(),
    };
    let each = serde_json::to_vec(&job(0)).expect("json").len() + 1;
    (0..bytes.div_ceil(each) as u64).map(job).collect()
}

/// What a bot writing its state by hand writes: the same envelope as PersistAll's.
#[derive(serde::Serialize)]
pub(crate) struct SavedByHand<'a> {
    schema: u32,
    name: &'a str,
    saved_at: String,
    data: &'a [Job],
}

pub(crate) async fn persist_10(scratch: &Path, label: &str, bytes: usize) -> Vec<Row> {
    const STATES: usize = 10;
    let ours_dir = scratch.join(format!("{label}-ours"));
    let by_hand = scratch.join(format!("{label}-by-hand"));
    files::ensure_private_dir(&ours_dir).expect("scratch dir");
    files::ensure_private_dir(&by_hand).expect("scratch dir");
    let state = Arc::new(jobs(bytes));
    let persister = Persister::new(
        &ours_dir,
        ours_dir.join("last_shutdown.json"),
        ClosingFlag::new(),
    )
    .start();
    for i in 0..STATES {
        let state = Arc::clone(&state);
        // What a bot registers (`persist_fn`): its state as an immutable `Arc` snapshot,
        // encoded by the Persister off the actor thread.
        let source: SnapshotFn = Box::new(move || {
            let shared = Snapshot::of(Arc::clone(&state));
            Box::pin(async move { Ok(shared) })
        });
        persister
            .send(RegisterState {
                name: format!("state-{i}"),
                source,
                critical: false,
            })
            .await
            .expect("the Persister answers")
            .expect("registered");
    }
    let names: Vec<String> = (0..STATES).map(|i| format!("state-{i}")).collect();
    let encode = |name: &str| {
        serde_json::to_vec(&SavedByHand {
            schema: SCHEMA_VERSION,
            name,
            saved_at: files::rfc3339(SystemTime::now()),
            data: &state,
        })
        .expect("json")
    };
    let encoded: Vec<Vec<u8>> = names.iter().map(|name| encode(name)).collect();
    let persist_all = || async {
        let started = Instant::now();
        let report = persister
            .send(PersistAll {
                critical_only: false,
            })
            .await
            .expect("the Persister answers");
        let took = ms(started.elapsed());
        assert_eq!(report.files.len(), STATES);
        assert!(
            report
                .files
                .iter()
                .all(|f| f.outcome == ParticipantOutcome::Completed),
            "{report:?}"
        );
        took
    };
    let (ours, reference) = side_by_side(reps(9), persist_all, || async {
        let started = Instant::now();
        for name in &names {
            atomic_write_by_hand(&by_hand.join(format!("{name}.json")), &encode(name));
        }
        ms(started.elapsed())
    })
    .await;
    let (ours_again, bytes_only) = side_by_side(reps(5), persist_all, || async {
        let started = Instant::now();
        for (name, bytes) in names.iter().zip(&encoded) {
            atomic_write_by_hand(&by_hand.join(format!("{name}.json")), bytes);
        }
        ms(started.elapsed())
    })
    .await;
    let size = std::fs::metadata(ours_dir.join("state-0.json"))
        .map(|m| m.len())
        .unwrap_or(0);
    vec![
        Row::new(
            &format!("persist_{label}"),
            "ms",
            ours,
            &format!(
                "the same 10 states ({size} B of JSON each) serialized and written atomically one after another by hand"
            ),
            reference,
            Some(0.7),
        ),
        Row::new(
            &format!("persist_{label}_vs_bytes"),
            "ms",
            ours_again,
            "the same 10 files' bytes, already serialized, written atomically one after another",
            bytes_only,
            None,
        ),
    ]
}
