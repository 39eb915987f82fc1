//! `run`: boots the library, restores the queue and the state, opens the database, starts the
//! workload and the integrations, prints `ready`, and waits for the shutdown.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown::{Config, RequeuePolicy, ShutdownHandle};

use crate::cli::RunArgs;
use crate::jobs::{Job, JobQueue, QUEUE_STATE, QueueGauges};
use crate::output::{print_progress, print_report};
use crate::state::BotState;
use crate::store::{Db, already_done, close_db, last_done_id, open_db};
use crate::workload::Workload;

/// Runs the bot until its shutdown completes; the process exit code.
pub(crate) async fn run(args: RunArgs) -> ExitCode {
    #[cfg(feature = "botica")]
    let botica = match crate::botica::config(args.botica) {
        Ok(botica) => botica,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            return ExitCode::from(2);
        }
    };
    // A bad address is a bad command line: refused (exit 2) before the state directory is
    // touched. Binding can still fail after boot (an address in use): then the start fails
    // with the run's own code, as its summary and exit marker say.
    #[cfg(feature = "http")]
    if let Err(e) = check_addresses(&args) {
        eprintln!("demo-bot: {e}");
        return ExitCode::from(2);
    }
    let config = Config::default()
        .state_dir(&args.state_dir)
        .grace(args.grace)
        .forced_budget(
            args.forced_budget
                .unwrap_or(Duration::from_secs(3).min(args.grace)),
        )
        .task_grace(args.task_grace())
        .autosave((args.persist_every > 0).then(|| Duration::from_millis(args.persist_every)))
        .console(true)
        .version(env!("CARGO_PKG_VERSION"));
    let config = match args.stop_timeout {
        Some(timeout) => config.stop_timeout(timeout),
        None => config,
    };
    let builder = actix_shutdown::Shutdown::builder(config).on_progress(print_progress);
    #[cfg(feature = "systemd")]
    let builder = actix_shutdown::systemd::attach(builder);
    #[cfg(feature = "botica")]
    let builder = crate::botica::prepare(builder, botica.as_ref());
    let (shutdown, boot) = match builder.start().await {
        Ok(started) => started,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            return e.exit_code();
        }
    };
    say!("{boot}");

    let db = match open_db(&args.state_dir.join("bot.db")) {
        Ok(db) => db,
        Err(e) => return fail_start(&shutdown, "db", e).await,
    };
    let jobs = restore_queue(&shutdown, &db);
    let state = BotState::load(&shutdown);
    // Ids continue after both the saved queue and the finished jobs of earlier runs.
    let next_id = Arc::new(AtomicU64::new(
        jobs.iter()
            .map(|j| j.id + 1)
            .chain(last_done_id(&db).map(|id| id + 1))
            .max()
            .unwrap_or(1),
    ));
    let gauges = QueueGauges::default();
    let queue = JobQueue::new(jobs, gauges.clone()).start();

    state.register(&shutdown, &queue);
    {
        let gauges = gauges.clone();
        shutdown.set_pending_jobs(move || gauges.pending() as u64);
    }
    let workload = Workload {
        queue,
        gauges: gauges.clone(),
        db: Arc::clone(&db),
        state,
        next_id,
    };
    workload.spawn(&shutdown, &args);
    register_resources(&shutdown, &args, &db);
    register_hooks(&shutdown, &args, &gauges);
    schedule_admin_requests(&shutdown, &args);
    #[cfg(feature = "http")]
    if let Some(addr) = &args.http {
        match start_control_plane(&shutdown, addr) {
            Ok(line) => say!("{line}"),
            Err(e) => return fail_start(&shutdown, "control-plane", e.to_string()).await,
        }
    }
    #[cfg(feature = "http")]
    if let Some(addr) = &args.api {
        match crate::api::start(&shutdown, addr) {
            Ok(addrs) => {
                let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                say!("api listening on {}", addrs.join(" "));
            }
            Err(e) => return fail_start(&shutdown, "api", e).await,
        }
    }
    #[cfg(feature = "botica")]
    if let Some(botica) = botica {
        crate::botica::attach(&shutdown, botica);
    }

    say!(
        "demo-bot ready: pid {}, state in {}; press Ctrl+C to stop",
        std::process::id(),
        args.state_dir.display()
    );
    #[cfg(feature = "systemd")]
    actix_shutdown::systemd::notify_ready(&shutdown);
    let report = shutdown.wait().await;
    print_report(&report);
    report.process_exit_code()
}

/// `--http` and `--api` resolve, and the control plane's address is loopback or has a token.
#[cfg(feature = "http")]
fn check_addresses(args: &RunArgs) -> Result<(), String> {
    if let Some(addr) = &args.http {
        actix_shutdown::http::check_bind_address(addr.as_str()).map_err(|e| e.to_string())?;
    }
    if let Some(addr) = &args.api {
        std::net::ToSocketAddrs::to_socket_addrs(addr.as_str())
            .map_err(|e| format!("--api {addr}: not an address to listen on: {e}"))?;
    }
    Ok(())
}

/// Ends a start that failed after the lock was taken: `component` is reported as a resource
/// that failed with `error`, so the run, its summary and the `exit_code` marker say the
/// start failed (never 0); the shutdown is forced, as there is no work to wait for.
async fn fail_start(shutdown: &ShutdownHandle, component: &str, error: String) -> ExitCode {
    eprintln!("demo-bot: {error}");
    let error = format!("the bot could not start: {error}");
    shutdown.on_close(component, move || {
        let error = error.clone();
        async move { Err::<(), _>(error) }
    });
    let request = actix_shutdown::ShutdownRequest::forced(
        actix_shutdown::RequestSource::Api,
        format!("startup:{component}"),
    );
    shutdown.request(request).await;
    let report = shutdown.wait().await;
    print_report(&report);
    match report.exit_code {
        0 => ExitCode::FAILURE,
        _ => report.process_exit_code(),
    }
}

/// The jobs saved by the last run, without those the requeue policy drops or the database
/// already lists as done; both are counted and printed.
fn restore_queue(shutdown: &ShutdownHandle, db: &Db) -> Vec<Job> {
    let restored = match shutdown.load_queue::<Job>(QUEUE_STATE, &RequeuePolicy::default()) {
        Ok(restored) => restored,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            return Vec::new();
        }
    };
    if restored.dropped.total() > 0 {
        say!("queue cache: {}", restored.dropped);
    }
    let mut jobs = restored.jobs;
    match already_done(db, jobs.iter().map(|j| j.id)) {
        Ok(done) if !done.is_empty() => {
            say!(
                "queue cache: {} job(s) already done before the last run ended (in bot.db); not run again",
                done.len()
            );
            jobs.retain(|j| !done.contains(&j.id));
        }
        Ok(_) => {}
        Err(e) => eprintln!("demo-bot: cannot check the restored jobs against bot.db: {e}"),
    }
    if !jobs.is_empty() {
        say!("restored {} queued jobs", jobs.len());
    }
    jobs
}

/// Starts the control plane; the line to print, naming where it listens.
#[cfg(feature = "http")]
fn start_control_plane(
    shutdown: &ShutdownHandle,
    addr: &str,
) -> Result<String, actix_shutdown::http::ControlPlaneError> {
    let plane = actix_shutdown::http::ControlPlane::new(shutdown.clone())
        .bind(addr)?
        .start()?;
    let urls: Vec<String> = plane
        .local_addrs()
        .iter()
        .map(|a| format!("http://{a}"))
        .collect();
    Ok(format!(
        "control plane listening on {} (GET /healthz /readyz /status, POST /shutdown)",
        urls.join(" ")
    ))
}

/// The database, and the simulated resources of `--block-close` and `--fail-close`.
fn register_resources(shutdown: &ShutdownHandle, args: &RunArgs, db: &Db) {
    let db = Arc::clone(db);
    shutdown.on_close("db", move || async move { close_db(&db) });
    if let Some(block) = args.block_close {
        shutdown.on_close("legacy-driver", move || async move {
            // A synchronous driver that blocks the whole actor thread: no timeout can interrupt
            // it; only the hard-deadline thread can end the process.
            std::thread::sleep(block);
        });
    }
    if args.fail_close {
        shutdown.on_close("broker", || async {
            Err::<(), _>("connection reset by peer while closing (simulated by --fail-close)")
        });
    }
}

/// The hooks of `--busy-veto`, `--panic-hook` and `--slow-hook`.
fn register_hooks(shutdown: &ShutdownHandle, args: &RunArgs, gauges: &QueueGauges) {
    if args.busy_veto {
        let gauges = gauges.clone();
        // Asked again every 100 ms while it defers a signal: say so when the count changes.
        let last_said = AtomicUsize::new(usize::MAX);
        shutdown.on_shutdown_request("busy-guard", move |request, response| {
            let in_flight = gauges.in_flight();
            if !request.is_forced() && in_flight > 0 {
                if last_said.swap(in_flight, Ordering::Relaxed) != in_flight {
                    say!("busy-guard: {in_flight} job(s) in flight; asking to wait");
                }
                response.cancel();
            }
        });
    }
    if args.panic_hook {
        shutdown.on_shutdown_request("panicky", |_, _| {
            panic!("the panicky hook panicked (--panic-hook)")
        });
    }
    if let Some(slow) = args.slow_hook {
        shutdown.on_shutdown_request("slow-hook", move |_, _| {
            say!("slow-hook: taking {} ms", slow.as_millis());
            std::thread::sleep(slow);
        });
    }
}

/// The admin requests of `--restart-after` and `--shutdown-after`.
fn schedule_admin_requests(shutdown: &ShutdownHandle, args: &RunArgs) {
    if let Some(after) = args.restart_after {
        let shutdown = shutdown.clone();
        actix::spawn(async move {
            tokio::time::sleep(after).await;
            say!("admin: restart requested");
            shutdown.restart("admin:restart").await;
        });
    }
    if let Some(after) = args.shutdown_after {
        let shutdown = shutdown.clone();
        actix::spawn(async move {
            tokio::time::sleep(after).await;
            say!("admin: shutdown requested");
            shutdown.shutdown("admin:shutdown").await;
        });
    }
}
