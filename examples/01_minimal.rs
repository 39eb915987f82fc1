//! The smallest embedding: one background task and one saved counter.
//!
//! Run it with `cargo run --example 01_minimal`, then press Ctrl+C: the task is cancelled, the
//! counter is written to `state/counter.json`, the lock is released, and the process exits 0.
//! Press Ctrl+C twice to force the shutdown; three times to exit at once. Run it again and it
//! continues counting where it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_shutdown::{Cancellation, Config, Shutdown};

#[actix::main]
async fn main() -> std::process::ExitCode {
    let (shutdown, boot) = match Shutdown::builder(Config::default()).start().await {
        Ok(started) => started,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    println!("{boot}");

    let saved: u64 = shutdown
        .load("counter")
        .ok()
        .and_then(|l| l.into_value())
        .unwrap_or(0);
    let counter = Arc::new(AtomicU64::new(saved));
    let snapshot = Arc::clone(&counter);
    shutdown
        .persist_fn("counter", move || snapshot.load(Ordering::Relaxed))
        .expect("a valid state name");
    shutdown
        .tasks()
        .spawn("counter", move |cancel: Cancellation| {
            let counter = Arc::clone(&counter);
            async move {
                while cancel
                    .run_until_cancelled(tokio::time::sleep(Duration::from_secs(1)))
                    .await
                    .is_some()
                {
                    println!("count: {}", counter.fetch_add(1, Ordering::Relaxed) + 1);
                }
            }
        })
        .expect("not closing yet");

    println!("ready: press Ctrl+C to stop");
    let report = shutdown.wait().await;
    println!("shutdown finished: exit code {}", report.exit_code);
    report.process_exit_code()
}
