//! The bot's work, as tasks of the TaskMonitor: a producer of jobs, two workers, a reminder
//! ticker and (with `--hang-task`) a task that ignores cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::Addr;
use actix_shutdown::{Cancellation, ShutdownHandle, TaskError, TaskOptions};

use crate::cli::RunArgs;
use crate::jobs::{
    AckJob, COMMANDS, Enqueue, Job, JobQueue, QueueGauges, ReleaseJob, TakeJob, now_ms,
};
use crate::state::{BotState, ScheduledDm};
use crate::store::{Db, record_done};

/// How often an idle worker looks at the queue again.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// What the tasks share.
#[derive(Clone, Debug)]
pub(crate) struct Workload {
    /// The job queue.
    pub(crate) queue: Addr<JobQueue>,
    /// Its counters.
    pub(crate) gauges: QueueGauges,
    /// The database of finished jobs.
    pub(crate) db: Db,
    /// The persisted state the tasks update.
    pub(crate) state: BotState,
    /// The next job id.
    pub(crate) next_id: Arc<AtomicU64>,
}

impl Workload {
    /// Spawns every task the command line asks for; a refusal is printed.
    pub(crate) fn spawn(&self, shutdown: &ShutdownHandle, args: &RunArgs) {
        let mut spawned = Vec::new();
        if args.jobs_per_sec > 0.0 {
            let period = Duration::from_secs_f64(1.0 / args.jobs_per_sec);
            spawned.push(self.spawn_producer(shutdown, period));
        }
        for n in 1..=2 {
            spawned.push(self.spawn_worker(shutdown, n, Duration::from_millis(args.job_ms)));
        }
        spawned.push(self.spawn_reminders(shutdown));
        spawned.push(crate::heartbeat::spawn(shutdown, &self.gauges));
        if args.hang_task {
            // Ignores its token on purpose: the TaskMonitor aborts it at its grace.
            spawned.push(
                shutdown
                    .tasks()
                    .spawn("stuck-sync", |_cancel: Cancellation| {
                        std::future::pending::<()>()
                    }),
            );
        }
        for result in spawned {
            if let Err(e) = result {
                eprintln!("demo-bot: {e}");
            }
        }
    }

    /// A job every `period` until the shutdown begins (then it waits for its cancellation);
    /// every fifth schedules a DM.
    fn spawn_producer(&self, shutdown: &ShutdownHandle, period: Duration) -> Result<(), TaskError> {
        let (queue, dms, next_id, closing) = (
            self.queue.clone(),
            Arc::clone(&self.state.dms),
            Arc::clone(&self.next_id),
            shutdown.closing_flag(),
        );
        shutdown
            .tasks()
            .spawn("producer", move |cancel: Cancellation| {
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
                            // No new job once the shutdown has begun.
                            cancel.cancelled().await;
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
            })
    }

    /// Worker `n`: takes a job, works `job_time` on it, records it done. Once the shutdown
    /// has begun it takes no new job but finishes the one it holds; at cancellation a job in
    /// hand stays in flight and is saved with the queue. A worker that fails gives its job
    /// back and is restarted by the TaskMonitor.
    fn spawn_worker(
        &self,
        shutdown: &ShutdownHandle,
        n: usize,
        job_time: Duration,
    ) -> Result<(), TaskError> {
        let (queue, db, commands, closing) = (
            self.queue.clone(),
            Arc::clone(&self.db),
            Arc::clone(&self.state.commands),
            shutdown.closing_flag(),
        );
        let options = TaskOptions {
            restart_on_failure: true,
            ..TaskOptions::default()
        };
        shutdown.tasks().spawn_with(
            format!("worker-{n}"),
            options,
            move |cancel: Cancellation| {
                let (queue, db, commands, closing) = (
                    queue.clone(),
                    Arc::clone(&db),
                    Arc::clone(&commands),
                    closing.clone(),
                );
                async move {
                    loop {
                        if closing.is_closing() {
                            cancel.cancelled().await;
                            return Ok::<(), String>(());
                        }
                        let job = tokio::select! {
                            () = cancel.cancelled() => return Ok(()),
                            job = queue.send(TakeJob) => job.map_err(|e| e.to_string())?,
                        };
                        let Some(job) = job else {
                            tokio::select! {
                                () = cancel.cancelled() => return Ok(()),
                                () = tokio::time::sleep(IDLE_POLL) => continue,
                            }
                        };
                        tokio::select! {
                            // The job stays in flight and is saved with the queue.
                            () = cancel.cancelled() => return Ok(()),
                            () = tokio::time::sleep(job_time) => {}
                        }
                        if let Err(e) = record_done(&db, &job) {
                            queue.do_send(ReleaseJob(job.id));
                            return Err(format!("job {}: {e}", job.id));
                        }
                        if let Ok(mut commands) = commands.lock() {
                            *commands.entry(job.command.clone()).or_default() += 1;
                        }
                        queue.do_send(AckJob(job.id));
                    }
                }
            },
        )
    }

    /// The daily stand-up reminder, fired every second.
    fn spawn_reminders(&self, shutdown: &ShutdownHandle) -> Result<(), TaskError> {
        let reminders = Arc::clone(&self.state.reminders);
        shutdown
            .tasks()
            .spawn("reminders", move |cancel: Cancellation| {
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
            })
    }
}
