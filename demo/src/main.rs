//! demo-bot: a small chat bot built on actix-shutdown. It produces jobs, works them off in two
//! workers, fires reminders, keeps its state (queue cache, reminder tracking, DM schedule,
//! command cache) in the state directory and its finished jobs in a SQLite database.
//!
//! Ctrl+C (SIGINT) or SIGTERM shuts it down step by step and prints a summary; a second signal
//! forces the shutdown; a third exits at once. `demo-bot report` prints the last summary.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use actix_shutdown::{
    CancellationToken, Config, PreviousRun, QueuedJob, RequeuePolicy, ShutdownHandle,
    ShutdownReport, Snapshot, Step, StepEvent, StepOutcome, TakeSnapshot,
};
use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(
    args_conflicts_with_subcommands = true,
    name = "demo-bot",
    version,
    about = "A demo bot that shuts down gracefully on Ctrl+C"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the last shutdown summary.
    Report {
        /// The bot's state directory.
        #[arg(long, default_value = "state")]
        state_dir: PathBuf,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The state directory (lock, state files, summary, logs, database).
    #[arg(long, default_value = "state")]
    state_dir: PathBuf,
    /// Overall deadline of a graceful shutdown, in seconds.
    #[arg(long, default_value = "10", value_parser = positive_secs)]
    grace: Duration,
    /// Deadline once the shutdown is forced (second signal), in seconds [default: 3, or the
    /// grace when shorter].
    #[arg(long, value_parser = positive_secs)]
    forced_budget: Option<Duration>,
    /// Jobs produced per second (0: none).
    #[arg(long, default_value_t = 5.0)]
    jobs_per_sec: f64,
    /// Time a worker spends on one job, in milliseconds.
    #[arg(long, default_value_t = 300)]
    job_ms: u64,
    /// Autosave period in milliseconds (0: only at shutdown).
    #[arg(long, default_value_t = 5000)]
    persist_every: u64,
    /// A hook cancels graceful shutdown requests while jobs are in flight.
    #[arg(long)]
    busy_veto: bool,
    /// Run a task that ignores cancellation (it is aborted at its deadline).
    #[arg(long)]
    hang_task: bool,
    /// Register a resource whose close fails (the exit code becomes 1).
    #[arg(long)]
    fail_close: bool,
    /// Register a resource whose close blocks the actor thread for this many seconds (the
    /// hard-deadline thread ends the process at grace + 2 s with exit code 1).
    #[arg(long, value_parser = positive_secs)]
    block_close: Option<Duration>,
    /// Register a shutdown hook that panics (the panic is contained and reported).
    #[arg(long)]
    panic_hook: bool,
    /// Register a shutdown hook that blocks its thread for this many seconds (it prints
    /// `slow-hook: ...` as it starts).
    #[arg(long, value_parser = positive_secs)]
    slow_hook: Option<Duration>,
    /// Ask for a restart (exit code 75) after this many seconds.
    #[arg(long, value_parser = positive_secs)]
    restart_after: Option<Duration>,
    /// Ask for a graceful shutdown after this many seconds.
    #[arg(long, value_parser = positive_secs)]
    shutdown_after: Option<Duration>,
    /// Serve the HTTP control plane on this address (e.g. 127.0.0.1:8080; port 0 picks one):
    /// GET /healthz, /readyz, /status and POST /shutdown. The bearer token comes from
    /// SHUTDOWN_TOKEN, required for an address that is not loopback.
    #[cfg(feature = "http")]
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// Answer the Botica director over RabbitMQ: identity from BOTICA_BOT_ID and
    /// BOTICA_BOT_TYPE, broker from AMQP_URL.
    #[cfg(feature = "botica")]
    #[arg(long)]
    botica: bool,
}

/// Prints a line on stdout, ignoring a closed pipe (`demo-bot | head`, a terminal gone after
/// Ctrl+C): the shutdown must not fail because nobody reads its progress.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn positive_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{s} must be a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    // First: a SIGTERM that arrives while the bot is still starting ends it cleanly once boot
    // completes, instead of killing it by the signal's default action.
    if let Err(e) = actix_shutdown::catch_signals() {
        eprintln!("demo-bot: cannot install the signal handlers: {e}");
        return ExitCode::from(1);
    }
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Report { state_dir, json }) => print_last_report(&state_dir, json),
        None => {
            let rate = cli.run.jobs_per_sec;
            if !(rate.is_finite() && rate >= 0.0)
                || (rate > 0.0 && Duration::try_from_secs_f64(1.0 / rate).is_err())
            {
                eprintln!(
                    "demo-bot: --jobs-per-sec must be zero or a positive number of jobs a second (at least one a century), not {rate}"
                );
                return ExitCode::from(2);
            }
            actix::System::new().block_on(run(cli.run))
        }
    }
}

// ------------------------------------------------------------------ the bot's data

/// A queued job, as saved in `queue_cache.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Reminder {
    fired: u64,
    last_fired_ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ScheduledDm {
    job_id: u64,
    due_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

const COMMANDS: [&str; 4] = ["/ping", "/weather", "/remind", "/stats"];

// ------------------------------------------------------------------ the job queue actor

struct JobQueue {
    queued: VecDeque<Job>,
    in_flight: BTreeMap<u64, Job>,
    busy: Arc<AtomicUsize>,
    pending: Arc<AtomicUsize>,
}

impl JobQueue {
    fn publish(&self) {
        self.busy.store(self.in_flight.len(), Ordering::Relaxed);
        self.pending
            .store(self.in_flight.len() + self.queued.len(), Ordering::Relaxed);
    }
}

impl Actor for JobQueue {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Enqueue(Job);

#[derive(Message)]
#[rtype(result = "Option<Job>")]
struct TakeJob;

#[derive(Message)]
#[rtype(result = "()")]
struct AckJob(u64);

impl Handler<Enqueue> for JobQueue {
    type Result = ();
    fn handle(&mut self, msg: Enqueue, _: &mut Context<Self>) {
        self.queued.push_back(msg.0);
        self.publish();
    }
}

impl Handler<TakeJob> for JobQueue {
    type Result = Option<Job>;
    fn handle(&mut self, _: TakeJob, _: &mut Context<Self>) -> Option<Job> {
        let job = self.queued.pop_front()?;
        self.in_flight.insert(job.id, job.clone());
        self.publish();
        Some(job)
    }
}

impl Handler<AckJob> for JobQueue {
    type Result = ();
    fn handle(&mut self, msg: AckJob, _: &mut Context<Self>) {
        self.in_flight.remove(&msg.0);
        self.publish();
    }
}

impl Handler<TakeSnapshot> for JobQueue {
    type Result = Result<Snapshot, String>;
    /// Jobs in flight are saved too: they were not finished and run again on the next boot.
    fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> Self::Result {
        let jobs: Vec<Job> = self
            .in_flight
            .values()
            .chain(self.queued.iter())
            .cloned()
            .collect();
        Ok(Snapshot::of(jobs))
    }
}

// ------------------------------------------------------------------ the database

type Db = Arc<Mutex<Option<rusqlite::Connection>>>;

fn open_db(path: &Path) -> Result<Db, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    }
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE IF NOT EXISTS jobs_done (id INTEGER PRIMARY KEY, command TEXT NOT NULL, finished_ms INTEGER NOT NULL);",
    )
    .map_err(|e| format!("cannot prepare {}: {e}", path.display()))?;
    Ok(Arc::new(Mutex::new(Some(conn))))
}

fn record_done(db: &Db, job: &Job) -> Result<(), String> {
    let guard = db.lock().map_err(|_| "database lock poisoned".to_owned())?;
    let conn = guard.as_ref().ok_or("database is closed")?;
    conn.execute(
        "INSERT INTO jobs_done (id, command, finished_ms) VALUES (?1, ?2, ?3)",
        rusqlite::params![job.id as i64, job.command, now_ms() as i64],
    )
    .map(drop)
    .map_err(|e| e.to_string())
}

fn last_done_id(db: &Db) -> Option<u64> {
    let guard = db.lock().ok()?;
    let conn = guard.as_ref()?;
    conn.query_row("SELECT MAX(id) FROM jobs_done", [], |row| {
        row.get::<_, Option<i64>>(0)
    })
    .ok()
    .flatten()
    .and_then(|id| u64::try_from(id).ok())
}

fn close_db(db: &Db) -> Result<(), String> {
    let conn = db
        .lock()
        .map_err(|_| "database lock poisoned".to_owned())?
        .take();
    let Some(conn) = conn else { return Ok(()) };
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(|e| e.to_string())?;
    conn.close().map_err(|(_, e)| e.to_string())
}

// ------------------------------------------------------------------ the bot

async fn run(args: RunArgs) -> ExitCode {
    #[cfg(feature = "botica")]
    let botica = match args
        .botica
        .then(actix_shutdown::botica::BoticaConfig::from_env)
        .transpose()
    {
        Ok(botica) => botica,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            return ExitCode::from(2);
        }
    };
    let config = Config::default()
        .state_dir(&args.state_dir)
        .grace(args.grace)
        .forced_budget(
            args.forced_budget
                .unwrap_or(Duration::from_secs(3).min(args.grace)),
        )
        .task_grace(Duration::from_secs(5).min(args.grace))
        .autosave((args.persist_every > 0).then(|| Duration::from_millis(args.persist_every)))
        .console(true)
        .version(env!("CARGO_PKG_VERSION"));
    let builder = actix_shutdown::Shutdown::builder(config).on_progress(print_progress);
    #[cfg(feature = "systemd")]
    let builder = actix_shutdown::systemd::attach(builder);
    #[cfg(feature = "botica")]
    let builder = match botica {
        Some(_) => actix_shutdown::botica::prepare(builder),
        None => builder,
    };
    let started = builder.start().await;
    let (shutdown, boot) = match started {
        Ok(started) => started,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            return e.exit_code();
        }
    };
    say!("{boot}");

    let jobs = match shutdown.load_queue::<Job>("queue_cache", &RequeuePolicy::default()) {
        Ok(restored) => {
            if restored.dropped.total() > 0 {
                say!("queue cache: {}", restored.dropped);
            }
            if !restored.jobs.is_empty() {
                say!("restored {} queued jobs", restored.jobs.len());
            }
            restored.jobs
        }
        Err(e) => {
            eprintln!("demo-bot: {e}");
            Vec::new()
        }
    };
    let reminders: BTreeMap<String, Reminder> = load_or_default(&shutdown, "reminder_tracking");
    let dms: Vec<ScheduledDm> = load_or_default(&shutdown, "dm_scheduled_tracker");
    let commands: BTreeMap<String, u64> = load_or_default(&shutdown, "command_cache");

    let db = match open_db(&args.state_dir.join("bot.db")) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("demo-bot: {e}");
            shutdown.shutdown("startup:database").await;
            shutdown.wait().await;
            return ExitCode::from(1);
        }
    };
    // Ids continue after both the saved queue and the finished jobs of earlier runs.
    let next_id = Arc::new(AtomicU64::new(
        jobs.iter()
            .map(|j| j.id + 1)
            .chain(last_done_id(&db).map(|id| id + 1))
            .max()
            .unwrap_or(1),
    ));
    let busy = Arc::new(AtomicUsize::new(0));
    let pending = Arc::new(AtomicUsize::new(0));
    let queue = JobQueue {
        queued: jobs.into(),
        in_flight: BTreeMap::new(),
        busy: Arc::clone(&busy),
        pending: Arc::clone(&pending),
    };
    queue.publish();
    let queue = queue.start();
    let reminders = Arc::new(Mutex::new(reminders));
    let dms = Arc::new(Mutex::new(dms));
    let commands = Arc::new(Mutex::new(commands));

    register_state(&shutdown, &queue, &reminders, &dms, &commands);
    {
        let pending = Arc::clone(&pending);
        shutdown.set_pending_jobs(move || pending.load(Ordering::Relaxed) as u64);
    }
    spawn_tasks(
        &shutdown, &args, &queue, &db, &reminders, &dms, &commands, &next_id,
    );
    register_resources(&shutdown, &args, &db);
    register_hooks(&shutdown, &args, &busy);
    schedule_admin_requests(&shutdown, &args);
    #[cfg(feature = "http")]
    if let Some(addr) = &args.http {
        match start_control_plane(&shutdown, addr) {
            Ok(line) => say!("{line}"),
            Err(e) => {
                eprintln!("demo-bot: {e}");
                let request = actix_shutdown::ShutdownRequest::forced(
                    actix_shutdown::RequestSource::Api,
                    "startup:http",
                );
                shutdown.request(request).await;
                shutdown.wait().await;
                return ExitCode::from(2);
            }
        }
    }
    #[cfg(feature = "botica")]
    if let Some(botica) = botica
        && let Err(e) = actix_shutdown::botica::attach_with_listener(&shutdown, botica, |botica| {
            say!(
                "botica: connected as {}, consuming {}",
                botica.bot_id,
                botica.queue()
            );
        })
    {
        eprintln!("demo-bot: {e}");
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

fn load_or_default<T: serde::de::DeserializeOwned + Default>(
    shutdown: &ShutdownHandle,
    name: &str,
) -> T {
    match shutdown.load::<T>(name) {
        Ok(loaded) => loaded.into_value().unwrap_or_default(),
        Err(e) => {
            eprintln!("demo-bot: {e}");
            T::default()
        }
    }
}

fn register_state(
    shutdown: &ShutdownHandle,
    queue: &Addr<JobQueue>,
    reminders: &Arc<Mutex<BTreeMap<String, Reminder>>>,
    dms: &Arc<Mutex<Vec<ScheduledDm>>>,
    commands: &Arc<Mutex<BTreeMap<String, u64>>>,
) {
    let results = [
        // The queue is what a forced shutdown must not lose: critical.
        shutdown.persist_critical("queue_cache", queue.clone().recipient()),
        {
            let reminders = Arc::clone(reminders);
            shutdown.persist_fn("reminder_tracking", move || {
                reminders.lock().map(|r| r.clone()).unwrap_or_default()
            })
        },
        {
            let dms = Arc::clone(dms);
            shutdown.persist_critical_fn("dm_scheduled_tracker", move || {
                dms.lock().map(|d| d.clone()).unwrap_or_default()
            })
        },
        {
            let commands = Arc::clone(commands);
            shutdown.persist_fn("command_cache", move || {
                commands.lock().map(|c| c.clone()).unwrap_or_default()
            })
        },
    ];
    for result in results {
        if let Err(e) = result {
            eprintln!("demo-bot: {e}");
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_tasks(
    shutdown: &ShutdownHandle,
    args: &RunArgs,
    queue: &Addr<JobQueue>,
    db: &Db,
    reminders: &Arc<Mutex<BTreeMap<String, Reminder>>>,
    dms: &Arc<Mutex<Vec<ScheduledDm>>>,
    commands: &Arc<Mutex<BTreeMap<String, u64>>>,
    next_id: &Arc<AtomicU64>,
) {
    let tasks = shutdown.tasks();
    let mut spawned = Vec::new();
    if args.jobs_per_sec > 0.0 {
        let period = Duration::from_secs_f64(1.0 / args.jobs_per_sec);
        let (queue, dms, next_id, closing) = (
            queue.clone(),
            Arc::clone(dms),
            Arc::clone(next_id),
            shutdown.closing_flag(),
        );
        spawned.push(tasks.spawn("producer", move |cancel: CancellationToken| {
            let (queue, dms, next_id, closing) = (
                queue.clone(),
                Arc::clone(&dms),
                Arc::clone(&next_id),
                closing.clone(),
            );
            async move {
                let mut tick = tokio::time::interval(period);
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        _ = tick.tick() => {}
                    }
                    if closing.is_closing() {
                        return;
                    }
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    let command = COMMANDS[(id % COMMANDS.len() as u64) as usize].to_owned();
                    if id % 5 == 0
                        && let Ok(mut dms) = dms.lock()
                    {
                        dms.push(ScheduledDm {
                            job_id: id,
                            due_ms: now_ms() + 60_000,
                        });
                        if dms.len() > 100 {
                            dms.remove(0);
                        }
                    }
                    queue.do_send(Enqueue(Job {
                        id,
                        created_at_ms: now_ms(),
                        command,
                    }));
                }
            }
        }));
    }
    for n in 1..=2 {
        let (queue, db, commands) = (queue.clone(), Arc::clone(db), Arc::clone(commands));
        let job_time = Duration::from_millis(args.job_ms);
        spawned.push(
            tasks.spawn(format!("worker-{n}"), move |cancel: CancellationToken| {
                let (queue, db, commands) = (queue.clone(), Arc::clone(&db), Arc::clone(&commands));
                async move {
                    loop {
                        let job = tokio::select! {
                            () = cancel.cancelled() => return Ok::<(), String>(()),
                            job = queue.send(TakeJob) => job.map_err(|e| e.to_string())?,
                        };
                        let Some(job) = job else {
                            tokio::select! {
                                () = cancel.cancelled() => return Ok(()),
                                () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                            }
                        };
                        tokio::select! {
                            // The job stays in flight and is saved with the queue.
                            () = cancel.cancelled() => return Ok(()),
                            () = tokio::time::sleep(job_time) => {}
                        }
                        record_done(&db, &job)?;
                        if let Ok(mut commands) = commands.lock() {
                            *commands.entry(job.command.clone()).or_default() += 1;
                        }
                        queue.do_send(AckJob(job.id));
                    }
                }
            }),
        );
    }
    {
        let reminders = Arc::clone(reminders);
        spawned.push(tasks.spawn("reminders", move |cancel: CancellationToken| {
            let reminders = Arc::clone(&reminders);
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        _ = tick.tick() => {}
                    }
                    if let Ok(mut reminders) = reminders.lock() {
                        let r = reminders.entry("daily-standup".to_owned()).or_default();
                        r.fired += 1;
                        r.last_fired_ms = now_ms();
                    }
                }
            }
        }));
    }
    if args.hang_task {
        // Ignores its token on purpose: the TaskMonitor aborts it at its grace.
        spawned.push(tasks.spawn("stuck-sync", |_cancel: CancellationToken| {
            std::future::pending::<()>()
        }));
    }
    for result in spawned {
        if let Err(e) = result {
            eprintln!("demo-bot: {e}");
        }
    }
}

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

fn register_hooks(shutdown: &ShutdownHandle, args: &RunArgs, busy: &Arc<AtomicUsize>) {
    if args.busy_veto {
        let busy = Arc::clone(busy);
        // Asked again every 100 ms while it defers a signal: say so when the count changes.
        let last_said = AtomicUsize::new(usize::MAX);
        shutdown.on_shutdown_request("busy-guard", move |request, response| {
            let in_flight = busy.load(Ordering::Relaxed);
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

// ------------------------------------------------------------------ output

fn print_progress(event: &StepEvent) {
    match event {
        StepEvent::Started { step } if *step == Step::Begin => say!("shutting down..."),
        StepEvent::Started { .. } => {}
        StepEvent::Finished { record } => {
            let mark = if record.outcome == StepOutcome::Completed {
                "ok"
            } else {
                "!!"
            };
            let error = record
                .error
                .as_deref()
                .map(|e| format!("  {e}"))
                .unwrap_or_default();
            say!(
                "  [{mark}] {:<16} {:<10} {:>6} ms{error}",
                record.name,
                outcome_word(record.outcome),
                record.duration_ms
            );
        }
        StepEvent::Escalated { reason } => say!("  escalated to forced: {reason}"),
        StepEvent::Vetoed { by, deferred: true } => {
            // The hooks are asked again every 100 ms while they defer: say it once.
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::Relaxed) {
                say!(
                    "closing: shutdown canceled by {} for now; deferred until the work in flight ends",
                    by.join(", ")
                );
            }
        }
        StepEvent::Vetoed { by, .. } => say!(
            "shutdown request canceled by {}; still running",
            by.join(", ")
        ),
        _ => {}
    }
}

fn outcome_word(outcome: StepOutcome) -> &'static str {
    match outcome {
        StepOutcome::Completed => "completed",
        StepOutcome::Failed => "failed",
        StepOutcome::TimedOut => "timed_out",
        StepOutcome::Skipped => "skipped",
    }
}

fn print_report(report: &ShutdownReport) {
    say!();
    say!(
        "shutdown summary: {} (source {}), {} ms, forced: {}, escalated: {}, restart: {}",
        report.reason,
        report.source,
        report.duration_ms,
        report.forced,
        report.escalated,
        report.restart
    );
    say!("  {:<16} {:<10} {:>8}  error", "step", "outcome", "ms");
    for step in &report.steps {
        say!(
            "  {:<16} {:<10} {:>8}  {}",
            step.name,
            outcome_word(step.outcome),
            step.duration_ms,
            step.error.as_deref().unwrap_or("")
        );
    }
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    say!(
        "  tasks:     {}",
        list(
            report
                .tasks
                .iter()
                .map(|t| format!("{} {:?}", t.name, t.outcome).to_lowercase())
                .collect()
        )
    );
    say!(
        "  files:     {}",
        list(
            report
                .files
                .iter()
                .map(|f| format!("{} {:?} ({} bytes)", f.name, f.outcome, f.bytes).to_lowercase())
                .collect()
        )
    );
    say!(
        "  resources: {}",
        list(
            report
                .resources
                .iter()
                .map(|r| {
                    let error = r
                        .error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    format!(
                        "{} {}{error}",
                        r.name,
                        format!("{:?}", r.outcome).to_lowercase()
                    )
                })
                .collect()
        )
    );
    if !report.vetoes.is_empty() {
        say!(
            "  vetoes:    {}",
            list(
                report
                    .vetoes
                    .iter()
                    .map(|v| format!("{} at {}", v.hook, v.at))
                    .collect()
            )
        );
    }
    if !report.hook_errors.is_empty() {
        say!(
            "  hook errors: {}",
            list(
                report
                    .hook_errors
                    .iter()
                    .map(|h| format!("{}: {}", h.hook, h.error.as_deref().unwrap_or("")))
                    .collect()
            )
        );
    }
    if let Some(pending) = report.pending_jobs {
        say!("  pending jobs saved: {pending}");
    }
    let meaning = match report.exit_code {
        0 => "clean",
        75 => "restart requested",
        _ => "a step failed",
    };
    say!("exit code {} ({meaning})", report.exit_code);
}

fn print_last_report(state_dir: &Path, json: bool) -> ExitCode {
    let config = Config::default().state_dir(state_dir);
    // The summary, the exit marker and the lock read together: an older run's summary is never
    // shown as the last run's.
    match actix_shutdown::inspect_previous_run(&config) {
        Ok(PreviousRun::Finished(report)) if json => {
            say!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(PreviousRun::Finished(report)) => {
            print_report(&report);
            ExitCode::SUCCESS
        }
        Ok(PreviousRun::Fresh) => {
            eprintln!(
                "demo-bot report: no shutdown recorded: {} does not exist",
                config.summary_path().display()
            );
            ExitCode::from(1)
        }
        Ok(previous) => {
            eprintln!("demo-bot report: {previous}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!(
                "demo-bot report: cannot read {}: {e}",
                config.summary_path().display()
            );
            ExitCode::from(1)
        }
    }
}
