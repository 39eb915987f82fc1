//! The whole pipeline: booting a `Shutdown`, and a no-op shutdown against the atomic writes
//! it must make.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use actix_shutdown::{Config, Shutdown};

use crate::rows::{Row, ms, reps, side_by_side};

/// Boots a whole [`Shutdown`] in `dir` (no signals, no global subscriber, the System keeps
/// running afterwards).
pub(crate) async fn boot(dir: &Path) -> actix_shutdown::ShutdownHandle {
    let config = Config::default()
        .state_dir(dir)
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false);
    let (handle, _boot) = Shutdown::builder(config).start().await.expect("boot");
    handle
}

pub(crate) async fn shut_down(
    handle: &actix_shutdown::ShutdownHandle,
) -> Arc<actix_shutdown::ShutdownReport> {
    let answer = handle.shutdown("bench").await;
    assert!(answer.ready, "nothing vetoes");
    let report = handle.wait().await;
    assert_eq!(report.exit_code, 0, "clean shutdown: {report:?}");
    report
}
// ---------------------------------------------------------------- the pipeline

/// Atomic writes of the pipeline with nothing registered: the exit marker at `begin`,
/// `last_shutdown.json`, the exit marker at the end.
pub(crate) const PIPELINE_ATOMIC_WRITES: usize = 3;

/// One durable replacement of `path` by hand: temp file, write, fsync, rename, fsync directory.
pub(crate) fn atomic_write_by_hand(path: &Path, bytes: &[u8]) {
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

pub(crate) async fn shutdown_noop(scratch: &Path) -> Vec<Row> {
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
        Some(1.3),
    )]
}
