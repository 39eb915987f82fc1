//! `cargo bench --bench compare`: every performance claim of actix-shutdown measured side by
//! side with its reference, in the same process, on the same machine, in one run.
//!
//! Each metric prints one JSON object per line,
//! `{"metric","unit","ours","reference","reference_value","ratio","goal"}`, with
//! `ratio = ours / reference_value` (lower is better for every metric here), then a human
//! table. Every figure is the median of several repetitions, after a warm-up; ours and the
//! reference alternate within each repetition. Rows whose goal is `info` are context for the
//! rows above them (another path to the same work), not goals.
//!
//! Our side runs on an actix System (`actix_rt::System::new().block_on(..)`), as an embedding
//! program does; the tokio-util and tokio-graceful-shutdown references run on the same System's
//! runtime. Memory is measured by the counting global allocator below (bytes requested and not
//! yet freed), switched on only around the measured spawns.
//!
//! Set `COMPARE_QUICK=1` for a smoke run with fewer repetitions, `COMPARE_ONLY=metric,…` to
//! run only some metrics.

use std::alloc::{GlobalAlloc, Layout, System as Heap};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use actix::prelude::*;
use actix_shutdown::{ClosingFlag, Config, ParticipantOutcome, Shutdown, TaskOutcome};
use actix_shutdown_actors::messages::{
    CancelAll, FlushLogs, PersistAll, RegisterState, Snapshot, SnapshotFn, SpawnTask, StopLogging,
    TaskFactory, TaskOptions, TaskResult,
};
use actix_shutdown_actors::{
    LogOptions, LogQueue, Logger, Persister, SCHEMA_VERSION, TaskMonitor, files,
};
use serde_json::json;
use tokio_graceful_shutdown::{SubsystemBuilder, SubsystemHandle, Toplevel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing_subscriber::layer::SubscriberExt;

// ---------------------------------------------------------------- counting allocator

/// Forwards to the system allocator; while [`COUNTING`] is on, keeps the balance of bytes
/// requested minus bytes freed in [`LIVE`].
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every call forwards to the system allocator with the caller's arguments unchanged;
// the bookkeeping touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(signed(new_size) - signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Lets tasks and actors that just finished be freed, so that their frees do not land in the
/// next measurement.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Bytes still allocated that were requested while `f` ran (and `f`'s result, kept alive).
async fn live_bytes_after<T, F: Future<Output = T>>(f: F) -> (isize, T) {
    LIVE.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    let kept = f.await;
    COUNTING.store(false, Ordering::SeqCst);
    (LIVE.load(Ordering::Relaxed), kept)
}

// ---------------------------------------------------------------- rows and statistics

/// One line of the output.
struct Row {
    metric: String,
    unit: &'static str,
    ours: f64,
    reference: String,
    reference_value: f64,
    ratio: f64,
    /// `Some(max ratio)`, or `None` for an info row.
    goal: Option<f64>,
}

impl Row {
    fn new(
        metric: &str,
        unit: &'static str,
        ours: f64,
        reference: &str,
        reference_value: f64,
        goal: Option<f64>,
    ) -> Self {
        Self {
            metric: metric.to_owned(),
            unit,
            ours,
            reference: reference.to_owned(),
            reference_value,
            ratio: ours / reference_value,
            goal,
        }
    }

    fn goal_text(&self) -> String {
        match self.goal {
            Some(max) => format!("ratio <= {max}"),
            None => "info".to_owned(),
        }
    }

    fn verdict(&self) -> &'static str {
        match self.goal {
            Some(max) if self.ratio <= max => "met",
            Some(_) => "NOT MET",
            None => "-",
        }
    }

    fn print_json(&self) {
        let text = |s: &str| serde_json::to_string(s).expect("a JSON string");
        println!(
            "{{\"metric\":{},\"unit\":{},\"ours\":{},\"reference\":{},\"reference_value\":{},\"ratio\":{},\"goal\":{}}}",
            text(&self.metric),
            text(self.unit),
            json!(round3(self.ours)),
            text(&self.reference),
            json!(round3(self.reference_value)),
            json!(round3(self.ratio)),
            text(&self.goal_text()),
        );
        let _ = std::io::stdout().flush();
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        f64::midpoint(xs[mid - 1], xs[mid])
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Repetitions: the full count, or a small one for a smoke run.
fn reps(full: usize) -> usize {
    if std::env::var_os("COMPARE_QUICK").is_some() {
        full.min(2)
    } else {
        full
    }
}

/// Runs `ours` and `reference` `n` times each after one warm-up of both, alternating which
/// goes first, and returns the medians (in whatever unit the closures return).
async fn side_by_side<O, R, FO, FR>(n: usize, mut ours: O, mut reference: R) -> (f64, f64)
where
    O: FnMut() -> FO,
    R: FnMut() -> FR,
    FO: Future<Output = f64>,
    FR: Future<Output = f64>,
{
    ours().await;
    reference().await;
    let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        if i % 2 == 0 {
            a.push(ours().await);
            b.push(reference().await);
        } else {
            b.push(reference().await);
            a.push(ours().await);
        }
    }
    (median(a), median(b))
}

// ---------------------------------------------------------------- tasks, both sides

thread_local! {
    static STARTED: Cell<usize> = const { Cell::new(0) };
}

fn reset_started() {
    STARTED.with(|s| s.set(0));
}

fn mark_started() {
    STARTED.with(|s| s.set(s.get() + 1));
}

/// Yields to the local task set until `n` tasks have run their first poll.
async fn all_started(n: usize) {
    while STARTED.with(Cell::get) < n {
        tokio::task::yield_now().await;
    }
}

/// The cooperative idle task every metric uses, on both sides: note the start, wait for the
/// token.
async fn idle(token: CancellationToken) {
    mark_started();
    token.cancelled().await;
}

/// A [`TaskFactory`] built exactly as `TaskSpawner::spawn_with` builds it.
fn wrap<F, Fut, R>(task: F) -> TaskFactory
where
    F: Fn(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = R> + 'static,
    R: TaskResult,
{
    Box::new(move |token| {
        let fut = task(token);
        Box::pin(async move { fut.await.into_task_result() })
    })
}

/// The idle task's factory, as the TaskSpawner makes it.
fn factory() -> TaskFactory {
    wrap(idle)
}

fn spawn_message(i: usize) -> SpawnTask {
    SpawnTask {
        name: format!("task-{i}"),
        factory: factory(),
        options: TaskOptions::default(),
    }
}

fn cancel_message(forced: bool) -> CancelAll {
    CancelAll {
        grace: Duration::from_secs(5),
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        forced,
    }
}

/// A TaskMonitor actor with `n` idle tasks, spawned through [`SpawnTask`] messages, all running.
async fn monitor_with(n: usize) -> Addr<TaskMonitor> {
    reset_started();
    let addr = TaskMonitor::new(ClosingFlag::new()).start();
    for i in 0..n {
        addr.do_send(spawn_message(i));
    }
    all_started(n).await;
    addr
}

/// Sends CancelAll and checks that every task ended cancelled; returns the time it took.
async fn cancel_through_message(addr: &Addr<TaskMonitor>, n: usize) -> Duration {
    let started = Instant::now();
    let report = addr
        .send(cancel_message(false))
        .await
        .expect("the TaskMonitor answers");
    let took = started.elapsed();
    assert_eq!(report.tasks.len(), n, "every task is reported");
    assert!(
        report
            .tasks
            .iter()
            .all(|t| t.outcome == TaskOutcome::Cancelled),
        "every task ended cancelled"
    );
    took
}

/// `n` idle tasks on a TaskTracker, each holding a clone of one CancellationToken, all running.
/// `n` idle tasks on a TaskTracker, each holding a clone of one CancellationToken (or, with
/// `child`, a child token of its own, as our tasks have), all running.
async fn tracker_with(n: usize, child: bool) -> (TaskTracker, CancellationToken) {
    reset_started();
    let tracker = TaskTracker::new();
    let token = CancellationToken::new();
    for _ in 0..n {
        let own = if child {
            token.child_token()
        } else {
            token.clone()
        };
        tracker.spawn_local(idle(own));
    }
    all_started(n).await;
    (tracker, token)
}

async fn cancel_tracker(tracker: &TaskTracker, token: &CancellationToken) -> Duration {
    let started = Instant::now();
    token.cancel();
    tracker.close();
    tracker.wait().await;
    started.elapsed()
}

// ---------------------------------------------------------------- task metrics

const TASKS: usize = 100_000;

async fn cancel_100k_tasks() -> Vec<Row> {
    let reference = |child: bool| async move {
        let (tracker, token) = tracker_with(TASKS, child).await;
        ms(cancel_tracker(&tracker, &token).await)
    };
    let (ours, clones) = side_by_side(
        reps(7),
        || async {
            let addr = monitor_with(TASKS).await;
            ms(cancel_through_message(&addr, TASKS).await)
        },
        || reference(false),
    )
    .await;
    let (direct, children) = side_by_side(
        reps(5),
        || async {
            reset_started();
            let mut monitor = TaskMonitor::new(ClosingFlag::new());
            for i in 0..TASKS {
                let msg = spawn_message(i);
                monitor
                    .spawn(msg.name, msg.factory, msg.options)
                    .expect("spawned");
            }
            all_started(TASKS).await;
            let started = Instant::now();
            let report = monitor.cancel_all(&cancel_message(false)).await;
            let took = ms(started.elapsed());
            assert_eq!(report.tasks.len(), TASKS);
            took
        },
        || reference(true),
    )
    .await;
    vec![
        Row::new(
            "cancel_100k_tasks",
            "ms",
            ours,
            "tokio-util TaskTracker + CancellationToken clones: cancel, close, wait",
            clones,
            Some(1.2),
        ),
        Row::new(
            "cancel_100k_tasks_direct",
            "ms",
            direct,
            "same, TaskMonitor::cancel_all called directly",
            clones,
            None,
        ),
        Row::new(
            "cancel_100k_tasks_vs_child_tokens",
            "ms",
            ours,
            "tokio-util TaskTracker + a child token per task: cancel, close, wait",
            children,
            None,
        ),
    ]
}

/// Boots a whole [`Shutdown`] in `dir` (no signals, no global subscriber, the System keeps
/// running afterwards).
async fn boot(dir: &Path) -> actix_shutdown::ShutdownHandle {
    let config = Config::default()
        .state_dir(dir)
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false);
    let (handle, _boot) = Shutdown::builder(config).start().await.expect("boot");
    handle
}

async fn shut_down(handle: &actix_shutdown::ShutdownHandle) -> Arc<actix_shutdown::ShutdownReport> {
    let answer = handle.shutdown("bench").await;
    assert!(answer.ready, "nothing vetoes");
    let report = handle.wait().await;
    assert_eq!(report.exit_code, 0, "clean shutdown: {report:?}");
    report
}

/// Spawns `TASKS` idle tasks on a TaskTracker (clones of one token, or a child token each)
/// and returns the time until all run.
async fn spawn_on_tracker(child: bool) -> f64 {
    reset_started();
    let tracker = TaskTracker::new();
    let token = CancellationToken::new();
    let started = Instant::now();
    for _ in 0..TASKS {
        let own = if child {
            token.child_token()
        } else {
            token.clone()
        };
        tracker.spawn_local(idle(own));
    }
    all_started(TASKS).await;
    let took = ms(started.elapsed());
    cancel_tracker(&tracker, &token).await;
    took
}

async fn spawn_100k_tasks(scratch: &Path) -> Vec<Row> {
    let dir = scratch.join("spawn");
    // Ours: the user's path, `ShutdownHandle::tasks().spawn(..)`, one SpawnTask message each.
    let (ours, clones) = side_by_side(
        reps(7),
        || async {
            let handle = boot(&dir).await;
            let spawner = handle.tasks();
            reset_started();
            let started = Instant::now();
            for i in 0..TASKS {
                spawner
                    .spawn(format!("task-{i}"), idle)
                    .expect("not closing");
            }
            all_started(TASKS).await;
            let took = ms(started.elapsed());
            let report = shut_down(&handle).await;
            assert_eq!(report.tasks.len(), TASKS);
            took
        },
        || spawn_on_tracker(false),
    )
    .await;
    let (direct, children) = side_by_side(
        reps(5),
        || async {
            reset_started();
            let mut monitor = TaskMonitor::new(ClosingFlag::new());
            let started = Instant::now();
            for i in 0..TASKS {
                monitor
                    .spawn(format!("task-{i}"), factory(), TaskOptions::default())
                    .expect("spawned");
            }
            all_started(TASKS).await;
            let took = ms(started.elapsed());
            monitor.cancel_all(&cancel_message(true)).await;
            took
        },
        || spawn_on_tracker(true),
    )
    .await;
    vec![
        Row::new(
            "spawn_100k_tasks",
            "ms",
            ours,
            "tokio-util TaskTracker::spawn_local, CancellationToken clones",
            clones,
            Some(1.5),
        ),
        Row::new(
            "spawn_100k_tasks_direct",
            "ms",
            direct,
            "same, TaskMonitor::spawn called directly",
            clones,
            None,
        ),
        Row::new(
            "spawn_100k_tasks_vs_child_tokens",
            "ms",
            ours,
            "tokio-util TaskTracker::spawn_local, a child token per task",
            children,
            None,
        ),
    ]
}

async fn bytes_per_task() -> Vec<Row> {
    let per_task = |bytes: isize| bytes as f64 / TASKS as f64;
    let (mut ours, mut clones, mut children) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps(3) {
        settle().await;
        let (bytes, addr) = live_bytes_after(monitor_with(TASKS)).await;
        ours.push(per_task(bytes));
        cancel_through_message(&addr, TASKS).await;
        drop(addr);

        for (child, into) in [(false, &mut clones), (true, &mut children)] {
            settle().await;
            let (bytes, (tracker, token)) = live_bytes_after(tracker_with(TASKS, child)).await;
            into.push(per_task(bytes));
            cancel_tracker(&tracker, &token).await;
        }
    }
    let ours = median(ours);
    vec![
        Row::new(
            "bytes_per_task",
            "bytes",
            ours,
            "tokio-util TaskTracker::spawn_local + a CancellationToken clone",
            median(clones),
            Some(1.5),
        ),
        Row::new(
            "bytes_per_task_vs_child_tokens",
            "bytes",
            ours,
            "tokio-util TaskTracker::spawn_local + a child token per task",
            median(children),
            None,
        ),
    ]
}

async fn cancel_scaling() -> (Vec<Row>, Vec<(usize, f64, f64)>) {
    let sizes = [(1_000, 31), (10_000, 15), (100_000, 7), (1_000_000, 3)];
    // Per size: (tasks, ours ns/task, TaskTracker ns/task).
    let mut per_task = Vec::new();
    // Warm-up.
    let addr = monitor_with(10_000).await;
    cancel_through_message(&addr, 10_000).await;
    drop(addr);
    for (n, full_reps) in sizes {
        let per = |took: Duration| took.as_secs_f64() * 1e9 / n as f64;
        let (ours, tracker) = side_by_side(
            reps(full_reps),
            || async {
                let addr = monitor_with(n).await;
                per(cancel_through_message(&addr, n).await)
            },
            || async {
                let (tracker, token) = tracker_with(n, false).await;
                per(cancel_tracker(&tracker, &token).await)
            },
        )
        .await;
        per_task.push((n, ours, tracker));
    }
    let spread = |pick: fn(&(usize, f64, f64)) -> f64| {
        let worst = per_task.iter().map(pick).fold(f64::MIN, f64::max);
        let best = per_task.iter().map(pick).fold(f64::MAX, f64::min);
        (worst, best)
    };
    let (worst, best) = spread(|p| p.1);
    let (tracker_worst, tracker_best) = spread(|p| p.2);
    let at_1k = per_task[0].1;
    let rows = vec![
        Row::new(
            "cancel_scaling",
            "ns/task",
            worst,
            &format!("own best per-task cancel cost over 1k..1M tasks (1k: {at_1k:.0} ns)"),
            best,
            Some(2.0),
        ),
        Row::new(
            "cancel_scaling_tracker",
            "ns/task",
            tracker_worst,
            "TaskTracker's own best per-task cancel cost over 1k..1M tasks (its max/min)",
            tracker_best,
            None,
        ),
    ];
    (rows, per_task)
}

// ---------------------------------------------------------------- the pipeline

/// Atomic writes of the pipeline with nothing registered: the exit marker at `begin`,
/// `last_shutdown.json`, the exit marker at the end.
const PIPELINE_ATOMIC_WRITES: usize = 3;

/// One durable replacement of `path` by hand: temp file, write, fsync, rename, fsync directory.
fn atomic_write_by_hand(path: &Path, bytes: &[u8]) {
    let dir = path.parent().expect("a file in a directory");
    let tmp = dir.join(format!(
        ".tmp-by-hand-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    let mut file = std::fs::File::create(&tmp).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
    drop(file);
    std::fs::rename(&tmp, path).expect("rename");
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync dir");
}

async fn shutdown_noop(scratch: &Path) -> Vec<Row> {
    let ours_dir = scratch.join("noop-ours");
    let by_hand = scratch.join("noop-by-hand");
    std::fs::create_dir_all(&by_hand).expect("scratch dir");
    let page = vec![b'x'; 4096];
    let (ours, reference) = side_by_side(
        reps(15),
        || async {
            let handle = boot(&ours_dir).await;
            let started = Instant::now();
            let report = shut_down(&handle).await;
            let took = ms(started.elapsed());
            assert!(
                report.tasks.is_empty() && report.files.is_empty() && report.resources.is_empty()
            );
            took
        },
        || async {
            let started = Instant::now();
            for i in 0..PIPELINE_ATOMIC_WRITES {
                atomic_write_by_hand(&by_hand.join(format!("file-{i}")), &page);
            }
            ms(started.elapsed())
        },
    )
    .await;
    vec![Row::new(
        "shutdown_noop",
        "ms",
        ours,
        "3 atomic 4 KiB writes by hand (write, fsync, rename, fsync dir)",
        reference,
        Some(1.5),
    )]
}

/// One record of a bot's state, as a bot would keep it.
#[derive(Clone, serde::Serialize)]
struct Job {
    id: u64,
    kind: String,
    chat: i64,
    due: String,
    text: String,
}

/// A state of about `bytes` bytes of JSON: a queue of small jobs.
fn jobs(bytes: usize) -> Vec<Job> {
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
struct SavedByHand<'a> {
    schema: u32,
    name: &'a str,
    saved_at: String,
    data: &'a [Job],
}

async fn persist_10(scratch: &Path, label: &str, bytes: usize) -> Vec<Row> {
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

// ---------------------------------------------------------------- logging

const RECORDS: usize = 1_000_000;

/// Emits `n` records through `subscriber` on this thread, formatted by the same `fmt` layer
/// configuration as the crate's own `logging::install`.
fn emit<W>(writer: W, n: usize)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_thread_names(true)
            .with_writer(writer),
    );
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            tracing::info!(job = i, queue = "reminders", "job done in {} ms", i % 97);
        }
    });
}

fn count_lines(path: &Path) -> usize {
    let file = std::fs::File::open(path).expect("log file");
    BufReader::with_capacity(1 << 20, file).lines().count()
}

/// Our Logger: `LogQueue` as the `fmt` writer; done when `FlushLogs` is acknowledged (written
/// and fsynced).
async fn log_ours(dir: &Path, n: usize) -> f64 {
    let path = dir.join("ours.log");
    let _ = std::fs::remove_file(&path);
    let options = LogOptions {
        rotate_bytes: None,
        ..LogOptions::default()
    };
    let (queue, writer) = LogQueue::start(&path, &options).expect("log queue");
    let logger = Logger::new(queue.clone(), writer, Duration::from_secs(60)).start();
    let started = Instant::now();
    emit(queue, n);
    let ack = logger
        .send(FlushLogs)
        .await
        .expect("the Logger answers")
        .expect("flushed");
    let took = ms(started.elapsed());
    assert_eq!(ack.written, n as u64);
    logger
        .send(StopLogging)
        .await
        .expect("the Logger answers")
        .expect("stopped");
    assert_eq!(count_lines(&path), n, "our Logger lost records");
    took
}

/// Wraps tracing-appender's sink: counts the records its worker writes and, at the worker's
/// flush after the last one, fsyncs the file and reports — so the reference is timed to the
/// same point as ours (every record written and fsynced), without its guard's fixed waits.
struct Finish<W> {
    inner: W,
    path: PathBuf,
    written: usize,
    expected: usize,
    done: Option<mpsc::Sender<Instant>>,
}

impl<W: Write> Write for Finish<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(buf)?;
        self.written += 1;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()?;
        if self.written == self.expected
            && let Some(done) = self.done.take()
        {
            std::fs::File::open(&self.path)?.sync_data()?;
            let _ = done.send(Instant::now());
        }
        Ok(())
    }
}

/// tracing-appender's `non_blocking`, lossless, over `sink`; done when every record is written
/// and the file fsynced.
fn log_reference<W: Write + Send + 'static>(path: &Path, sink: W, n: usize) -> f64 {
    let (done, finished) = mpsc::channel();
    let finish = Finish {
        inner: sink,
        path: path.to_owned(),
        written: 0,
        expected: n,
        done: Some(done),
    };
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(finish);
    let started = Instant::now();
    emit(writer, n);
    let finished_at = finished
        .recv_timeout(Duration::from_secs(120))
        .expect("tracing-appender finished");
    drop(guard);
    let took = ms(finished_at - started);
    assert_eq!(count_lines(path), n, "tracing-appender lost records");
    took
}

fn appender_file(dir: &Path) -> (PathBuf, tracing_appender::rolling::RollingFileAppender) {
    let path = dir.join("appender.log");
    let _ = std::fs::remove_file(&path);
    (path, tracing_appender::rolling::never(dir, "appender.log"))
}

fn buffered_file(dir: &Path) -> (PathBuf, std::io::BufWriter<std::fs::File>) {
    let path = dir.join("appender-buffered.log");
    let file = std::fs::File::create(&path).expect("log file");
    (path, std::io::BufWriter::with_capacity(256 * 1024, file))
}

async fn log_1m_records(scratch: &Path) -> Vec<Row> {
    let dir = scratch.join("logs");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let n = if std::env::var_os("COMPARE_QUICK").is_some() {
        RECORDS / 10
    } else {
        RECORDS
    };
    // Warm-up on a tenth of the records.
    log_ours(&dir, n / 10).await;
    let (path, sink) = appender_file(&dir);
    log_reference(&path, sink, n / 10);
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    let mut buffered = Vec::new();
    for i in 0..reps(3) {
        if i % 2 == 1 {
            let (path, sink) = appender_file(&dir);
            reference.push(log_reference(&path, sink, n));
        }
        ours.push(log_ours(&dir, n).await);
        if i % 2 == 0 {
            let (path, sink) = appender_file(&dir);
            reference.push(log_reference(&path, sink, n));
        }
        let (path, sink) = buffered_file(&dir);
        buffered.push(log_reference(&path, sink, n));
    }
    let ours = median(ours);
    vec![
        Row::new(
            "log_1m_records",
            "ms",
            ours,
            "tracing-appender non_blocking (lossless) over rolling::never, same fmt layer, + fsync",
            median(reference),
            Some(1.0),
        ),
        Row::new(
            "log_1m_records_vs_buffered",
            "ms",
            ours,
            "tracing-appender non_blocking (lossless) over a 256 KiB BufWriter<File>, + fsync",
            median(buffered),
            None,
        ),
    ]
}

// ---------------------------------------------------------------- checks and subsystems

fn is_closing_check() -> Vec<Row> {
    const CHECKS: u64 = 50_000_000;
    let flag = ClosingFlag::new();
    let token = CancellationToken::new();
    let time = |check: &dyn Fn() -> bool| {
        let started = Instant::now();
        let mut set = 0_u64;
        for _ in 0..CHECKS {
            set += u64::from(black_box(check()));
        }
        black_box(set);
        started.elapsed().as_secs_f64() * 1e9 / CHECKS as f64
    };
    let ours_check = || black_box(&flag).is_closing();
    let reference_check = || black_box(&token).is_cancelled();
    time(&ours_check);
    time(&reference_check);
    let (mut ours, mut reference) = (Vec::new(), Vec::new());
    for _ in 0..reps(7) {
        ours.push(time(&ours_check));
        reference.push(time(&reference_check));
    }
    vec![Row::new(
        "is_closing_check",
        "ns",
        median(ours),
        "tokio-util CancellationToken::is_cancelled",
        median(reference),
        Some(1.0),
    )]
}

type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// tokio-graceful-shutdown: a toplevel with `n` subsystems waiting for the shutdown; timed
/// from the shutdown request until `handle_shutdown_requests` returns.
async fn graceful_shutdown_subsystems(n: usize) -> f64 {
    reset_started();
    let token = CancellationToken::new();
    let toplevel = Toplevel::<BoxedError>::new_with_shutdown_token(
        async move |s: &mut SubsystemHandle| {
            for i in 0..n {
                s.start(SubsystemBuilder::new(
                    format!("task-{i}"),
                    async |h: &mut SubsystemHandle| {
                        mark_started();
                        h.on_shutdown_requested().await;
                        Ok::<(), BoxedError>(())
                    },
                ));
            }
        },
        token.clone(),
    );
    let run = tokio::task::spawn_local(toplevel.handle_shutdown_requests(Duration::from_secs(30)));
    all_started(n).await;
    let started = Instant::now();
    token.cancel();
    run.await.expect("joined").expect("clean shutdown");
    ms(started.elapsed())
}

async fn subsystems_10k(scratch: &Path) -> Vec<Row> {
    const N: usize = 10_000;
    let (ours, reference) = side_by_side(
        reps(11),
        || async {
            let addr = monitor_with(N).await;
            ms(cancel_through_message(&addr, N).await)
        },
        || graceful_shutdown_subsystems(N),
    )
    .await;
    let dir = scratch.join("subsystems");
    let mut pipeline = Vec::new();
    for _ in 0..reps(7) {
        let handle = boot(&dir).await;
        let spawner = handle.tasks();
        reset_started();
        for i in 0..N {
            spawner
                .spawn(format!("task-{i}"), idle)
                .expect("not closing");
        }
        all_started(N).await;
        let started = Instant::now();
        let report = shut_down(&handle).await;
        pipeline.push(ms(started.elapsed()));
        assert_eq!(report.tasks.len(), N);
    }
    let reference_name = "tokio-graceful-shutdown: 10,000 subsystems, shutdown request to return";
    vec![
        Row::new(
            "subsystems_10k",
            "ms",
            ours,
            reference_name,
            reference,
            Some(0.5),
        ),
        Row::new(
            "subsystems_10k_whole_pipeline",
            "ms",
            median(pipeline),
            reference_name,
            reference,
            None,
        ),
    ]
}

// ---------------------------------------------------------------- main

fn print_table(rows: &[Row], scaling: &[(usize, f64, f64)], elapsed: Duration) {
    println!();
    println!(
        "{:<34} {:>12} {:>12} {:>7} {:>13} {:>8}  reference",
        "metric", "ours", "reference", "ratio", "goal", "verdict"
    );
    for r in rows {
        println!(
            "{:<34} {:>12} {:>12} {:>7.3} {:>13} {:>8}  {}",
            r.metric,
            format!("{:.3} {}", r.ours, short_unit(r.unit)),
            format!("{:.3} {}", r.reference_value, short_unit(r.unit)),
            r.ratio,
            r.goal_text(),
            r.verdict(),
            r.reference
        );
    }
    let sizes: Vec<String> = scaling
        .iter()
        .map(|(n, ours, tracker)| format!("{n}: {ours:.0} ns (TaskTracker {tracker:.0} ns)"))
        .collect();
    if !sizes.is_empty() {
        println!("cancel_scaling per task: {}", sizes.join(", "));
    }
    println!("whole run: {:.1} s", elapsed.as_secs_f64());
}

fn short_unit(unit: &str) -> &str {
    match unit {
        "ns/task" => "ns",
        "bytes" => "B",
        other => other,
    }
}

/// `COMPARE_ONLY=metric,metric` runs only those metrics (for profiling one of them).
fn selected(metric: &str) -> bool {
    std::env::var("COMPARE_ONLY").map_or(true, |only| only.split(',').any(|m| m.trim() == metric))
}

fn main() {
    let run_started = Instant::now();
    let scratch = tempfile::Builder::new()
        .prefix("compare-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("scratch directory under target/");
    let scratch_path = scratch.path().to_owned();
    let (rows, scaling) = actix_rt::System::new().block_on(async move {
        let scratch = scratch_path.as_path();
        let mut rows = Vec::new();
        let emit_rows = |new: Vec<Row>, rows: &mut Vec<Row>| {
            for row in new {
                row.print_json();
                rows.push(row);
            }
        };
        if selected("cancel_100k_tasks") {
            emit_rows(cancel_100k_tasks().await, &mut rows);
        }
        if selected("spawn_100k_tasks") {
            emit_rows(spawn_100k_tasks(scratch).await, &mut rows);
        }
        if selected("bytes_per_task") {
            emit_rows(bytes_per_task().await, &mut rows);
        }
        let mut scaling = Vec::new();
        if selected("cancel_scaling") {
            let (scaling_rows, per_size) = cancel_scaling().await;
            emit_rows(scaling_rows, &mut rows);
            scaling = per_size;
        }
        if selected("shutdown_noop") {
            emit_rows(shutdown_noop(scratch).await, &mut rows);
        }
        if selected("persist_10x4k") {
            emit_rows(persist_10(scratch, "10x4k", 4 * 1024).await, &mut rows);
        }
        if selected("persist_10x1m") {
            emit_rows(persist_10(scratch, "10x1m", 1024 * 1024).await, &mut rows);
        }
        if selected("is_closing_check") {
            emit_rows(is_closing_check(), &mut rows);
        }
        if selected("subsystems_10k") {
            emit_rows(subsystems_10k(scratch).await, &mut rows);
        }
        // Last: it installs scoped subscribers, which changes the callsites' cached interest.
        if selected("log_1m_records") {
            emit_rows(log_1m_records(scratch).await, &mut rows);
        }
        (rows, scaling)
    });
    print_table(&rows, &scaling, run_started.elapsed());
}
