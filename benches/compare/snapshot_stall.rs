//! What an autosave of a large state costs the actor thread: the longest time the thread is
//! unavailable to other work while PersistAll (what each autosave runs) snapshots and writes a
//! 64 MB state, for a source that hands over an `Arc` of an immutable value and for one that
//! must deep-copy its state.

use std::cell::Cell;
use std::hint::black_box;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_shutdown::{ClosingFlag, ParticipantOutcome};
use actix_shutdown_actors::Persister;
use actix_shutdown_actors::messages::{PersistAll, RegisterState, Snapshot, SnapshotFn};

use crate::persist::{Job, jobs};
use crate::rows::{Row, median, reps};

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec the call fills in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The longest gaps between two turns of a task that only yields, on this thread, while
/// `work` runs: in wall time (what other work on the thread waited, the OS's preemptions on a
/// busy machine included) and in this thread's CPU time (the work done on the thread itself in
/// that gap, without the preemptions).
#[derive(Clone, Copy, Default)]
struct Stall {
    wall: Duration,
    on_thread: Duration,
}

async fn longest_stall<F: Future<Output = ()>>(work: F) -> Stall {
    let stop = Rc::new(Cell::new(false));
    let meter = tokio::task::spawn_local({
        let stop = Rc::clone(&stop);
        async move {
            let mut longest = Stall::default();
            let (mut last, mut last_cpu) = (Instant::now(), thread_cpu_time());
            while !stop.get() {
                tokio::task::yield_now().await;
                let (now, cpu) = (Instant::now(), thread_cpu_time());
                longest.wall = longest.wall.max(now - last);
                longest.on_thread = longest.on_thread.max(cpu - last_cpu);
                (last, last_cpu) = (now, cpu);
            }
            longest
        }
    });
    // Let the meter take its first turn before the work starts.
    tokio::task::yield_now().await;
    work.await;
    stop.set(true);
    meter.await.expect("the meter ran")
}

async fn persister_with(dir: &Path, source: SnapshotFn) -> Addr<Persister> {
    actix_shutdown::actors::files::ensure_private_dir(dir).expect("scratch dir");
    let persister = Persister::new(dir, dir.join("last_shutdown.json"), ClosingFlag::new()).start();
    persister
        .send(RegisterState {
            name: "queue".into(),
            source,
            critical: false,
        })
        .await
        .expect("the Persister answers")
        .expect("registered");
    persister
}

async fn persist_once(persister: &Addr<Persister>) {
    let report = persister
        .send(PersistAll {
            critical_only: false,
        })
        .await
        .expect("the Persister answers");
    assert_eq!(report.files[0].outcome, ParticipantOutcome::Completed);
}

/// Nanoseconds to clone (and drop) an `Arc`.
fn arc_clone_ns(state: &Arc<Vec<Job>>) -> f64 {
    const N: u32 = 1_000_000;
    let started = Instant::now();
    for _ in 0..N {
        drop(black_box(Arc::clone(black_box(state))));
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(N)
}

pub(crate) async fn snapshot_stall_64mb(scratch: &Path) -> Vec<Row> {
    let state = Arc::new(jobs(64 * 1024 * 1024));
    let shared: SnapshotFn = {
        let state = Arc::clone(&state);
        // What `persist_fn(|| Arc::clone(&state))` registers.
        Box::new(move || {
            let snapshot = Snapshot::of(Arc::clone(&state));
            Box::pin(async move { Ok(snapshot) })
        })
    };
    let cloning: SnapshotFn = {
        let state = Arc::clone(&state);
        // A source that keeps its state mutable and must copy it for each snapshot.
        Box::new(move || {
            let snapshot = Snapshot::of((*state).clone());
            Box::pin(async move { Ok(snapshot) })
        })
    };
    let small: SnapshotFn = {
        let state = Arc::new(jobs(4 * 1024));
        Box::new(move || {
            let snapshot = Snapshot::of(Arc::clone(&state));
            Box::pin(async move { Ok(snapshot) })
        })
    };
    let small = persister_with(&scratch.join("stall-small"), small).await;
    let shared = persister_with(&scratch.join("stall-shared"), shared).await;
    let cloning = persister_with(&scratch.join("stall-cloning"), cloning).await;
    let (mut ours, mut copied, mut idle, mut arc) = (vec![], vec![], vec![], vec![]);
    let mut tiny = vec![];
    persist_once(&shared).await;
    for _ in 0..reps(5) {
        ours.push(longest_stall(persist_once(&shared)).await);
        copied.push(longest_stall(persist_once(&cloning)).await);
        tiny.push(longest_stall(persist_once(&small)).await);
        idle.push(longest_stall(tokio::time::sleep(Duration::from_millis(50))).await);
        arc.push(arc_clone_ns(&state) / 1e3);
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let wall = |xs: &[Stall]| median(xs.iter().map(|s| us(s.wall)).collect());
    let on_thread = |xs: &[Stall]| median(xs.iter().map(|s| us(s.on_thread)).collect());
    let size = std::fs::metadata(scratch.join("stall-shared").join("queue.json"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    let arc = median(arc);
    let row = |metric: &str, value: f64, what: &str| {
        Row::new(
            metric,
            "us",
            value,
            &format!("cloning an Arc: {what}"),
            arc,
            None,
        )
    };
    vec![
        row(
            "snapshot_stall_64mb",
            on_thread(&ours),
            &format!(
                "longest actor-thread stall (its CPU time) during PersistAll of a {size:.0} MB state handed over as an Arc"
            ),
        ),
        row(
            "snapshot_stall_64mb_wall",
            wall(&ours),
            "the same stall in wall time (OS preemptions on a busy machine included)",
        ),
        row(
            "snapshot_stall_64mb_cloning_source",
            on_thread(&copied),
            "the same (CPU time), from a source that deep-copies its state per snapshot",
        ),
        row(
            "snapshot_stall_4kb",
            on_thread(&tiny),
            "the same (CPU time) for a 4 KB state: what does not grow with the state",
        ),
        row(
            "snapshot_stall_idle_wall",
            wall(&idle),
            "the meter's own longest wall-time gap over 50 ms with no save (noise floor)",
        ),
    ]
}
