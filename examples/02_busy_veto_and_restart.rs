//! A hook that keeps the bot alive while it is busy, and an admin restart.
//!
//! Run it with `cargo run --example 02_busy_veto_and_restart`. For the first ten seconds the
//! bot is "busy": Ctrl+C is answered "not now" (the hook cancels the graceful request) and
//! asked again every second; once it is idle the shutdown goes ahead. Press Ctrl+C a second
//! time to force it: forced requests ignore cancels. Left alone, it asks itself for a restart
//! after fifteen seconds and exits with code 75, the code a supervisor restarts on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_shutdown::{Config, Shutdown, StepEvent};

#[actix::main]
async fn main() -> std::process::ExitCode {
    let config = Config::default()
        .state_dir("state-02")
        .grace(Duration::from_secs(30));
    let builder = Shutdown::builder(config).on_progress(|event| match event {
        StepEvent::Vetoed { by, .. } => println!("shutdown request canceled by {by:?}: still busy"),
        StepEvent::Finished { record } => println!("  {} {:?}", record.name, record.outcome),
        _ => {}
    });
    let (shutdown, boot) = match builder.start().await {
        Ok(started) => started,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    println!("{boot}");

    let busy = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&busy);
    shutdown.on_shutdown_request("busy-guard", move |request, response| {
        if !request.is_forced() && flag.load(Ordering::SeqCst) {
            response.cancel();
        }
    });
    actix::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        busy.store(false, Ordering::SeqCst);
        println!("idle now: the next shutdown request goes ahead");
    });
    let admin = shutdown.clone();
    actix::spawn(async move {
        tokio::time::sleep(Duration::from_secs(15)).await;
        let answer = admin.restart("admin:restart").await;
        println!("restart requested: ready = {}", answer.ready);
    });

    println!("ready: busy for 10 s; press Ctrl+C");
    let report = shutdown.wait().await;
    println!("exit code {} ({})", report.exit_code, report.reason);
    report.process_exit_code()
}
