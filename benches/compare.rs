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

#[path = "compare/alloc.rs"]
mod alloc;
#[path = "compare/boot_load.rs"]
mod boot_load;
#[path = "compare/drain.rs"]
mod drain;
#[path = "compare/logging.rs"]
mod logging;
#[path = "compare/persist.rs"]
mod persist;
#[path = "compare/pipeline.rs"]
mod pipeline;
#[path = "compare/rows.rs"]
mod rows;
#[path = "compare/snapshot_stall.rs"]
mod snapshot_stall;
#[path = "compare/subsystems.rs"]
mod subsystems;
#[path = "compare/tasks.rs"]
mod tasks;

use std::time::Instant;

use rows::{Row, print_table};

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
            emit_rows(tasks::cancel_100k_tasks().await, &mut rows);
        }
        if selected("spawn_100k_tasks") {
            emit_rows(tasks::spawn_100k_tasks(scratch).await, &mut rows);
        }
        if selected("bytes_per_task") {
            emit_rows(tasks::bytes_per_task().await, &mut rows);
        }
        let mut scaling = Vec::new();
        if selected("cancel_scaling") {
            let (scaling_rows, per_size) = tasks::cancel_scaling().await;
            emit_rows(scaling_rows, &mut rows);
            scaling = per_size;
        }
        if selected("shutdown_noop") {
            emit_rows(pipeline::shutdown_noop(scratch).await, &mut rows);
        }
        if selected("drain_10k_tracked") {
            emit_rows(drain::drain_10k_tracked(scratch).await, &mut rows);
        }
        if selected("persist_10x4k") {
            emit_rows(
                persist::persist_10(scratch, "10x4k", 4 * 1024).await,
                &mut rows,
            );
        }
        if selected("persist_10x1m") {
            emit_rows(
                persist::persist_10(scratch, "10x1m", 1024 * 1024).await,
                &mut rows,
            );
        }
        if selected("snapshot_stall_64mb") {
            emit_rows(
                snapshot_stall::snapshot_stall_64mb(scratch).await,
                &mut rows,
            );
        }
        if selected("boot_load_64mb") {
            emit_rows(boot_load::boot_load_64mb(scratch).await, &mut rows);
        }
        if selected("is_closing_check") {
            emit_rows(subsystems::is_closing_check(), &mut rows);
        }
        if selected("subsystems_10k") {
            emit_rows(subsystems::subsystems_10k(scratch).await, &mut rows);
        }
        // Last: it installs scoped subscribers, which changes the callsites' cached interest.
        if selected("log_1m_records") {
            emit_rows(logging::log_1m_records(scratch).await, &mut rows);
        }
        (rows, scaling)
    });
    print_table(&rows, &scaling, run_started.elapsed());
}
