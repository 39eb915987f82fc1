//! [`Shutdown::builder`] → [`ShutdownBuilder::start`]: the boot sequence. Validate the
//! configuration, create the state directory, take the lock, start logging, read the previous
//! summary, check the saved states, start the actors and listen to signals.

use std::io::Write as _;
use std::sync::Arc;

use actix::prelude::*;
use actix_shutdown_actors::messages::StepEvent;
use actix_shutdown_actors::supervisor::Supervisor;
use actix_shutdown_actors::{
    ClosingFlag, CrashLog, HardDeadline, LastResort, LockManager, LogQueue, Logger, Participants,
    Persister, ResourceCloser, StateStore, SupervisorConfig, TaskMonitor, files,
};

use crate::boot::BootReport;
use crate::config::Config;
use crate::error::{StartError, StartErrorKind};
use crate::handle::{Actors, ShutdownHandle};
use crate::previous_run::PreviousRun;
use crate::{logging, signals};

/// Entry point: `Shutdown::builder(config).start().await`.
#[derive(Debug)]
pub struct Shutdown;

impl Shutdown {
    /// A builder for this configuration.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::{Config, Shutdown};
    ///
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = Config::default().state_dir("state");
    /// # let config = config.state_dir(dir.path()).signals(false).stop_system(false);
    /// let (shutdown, boot) = Shutdown::builder(config).start().await.unwrap();
    /// println!("{boot}");
    /// # shutdown.shutdown("admin:stop").await;
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn builder(config: Config) -> ShutdownBuilder {
        ShutdownBuilder {
            config,
            progress: Vec::new(),
        }
    }
}

/// Collects what is needed before start.
pub struct ShutdownBuilder {
    config: Config,
    progress: Vec<actix_shutdown_actors::ProgressFn>,
}

impl std::fmt::Debug for ShutdownBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ShutdownBuilder {
    /// Called for every pipeline step as it starts and ends (e.g. to print progress); may be
    /// called several times, each listener gets every event in order.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::{Config, Shutdown, StepEvent};
    ///
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// let (shutdown, _boot) = Shutdown::builder(config)
    ///     .on_progress(|event| {
    ///         if let StepEvent::Finished { record } = event {
    ///             println!("{:<16} {} in {} ms", record.name, record.outcome, record.duration_ms);
    ///         }
    ///     })
    ///     .start()
    ///     .await
    ///     .unwrap();
    /// # shutdown.shutdown("admin:stop").await;
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn on_progress<F: Fn(&StepEvent) + Send + Sync + 'static>(mut self, f: F) -> Self {
        self.progress.push(Arc::new(f));
        self
    }

    /// The configuration this builder starts with (for integrations that size their
    /// timeouts from it, such as `systemd::attach`).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use actix_shutdown::{Config, Shutdown};
    ///
    /// let builder = Shutdown::builder(Config::default().grace(Duration::from_secs(20)));
    /// assert_eq!(builder.config().get().grace(), Duration::from_secs(20));
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration, for integrations that set defaults of their own before start (such
    /// as `botica::prepare`).
    #[cfg_attr(not(feature = "botica"), allow(dead_code))]
    pub(crate) fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Boots: must run inside an actix System.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::{Config, Shutdown};
    ///
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// let (first, _boot) = Shutdown::builder(config.clone()).start().await.unwrap();
    /// // A second instance on the same state directory is refused: exit code 73.
    /// let second = Shutdown::builder(config.install_tracing(false)).start().await.unwrap_err();
    /// assert!(second.is_already_running());
    /// assert_eq!(second.code(), 73);
    /// # first.shutdown("admin:stop").await;
    /// # first.wait().await;
    /// # }
    /// ```
    ///
    /// # Errors
    /// Bad configuration or no running actix System (exit code 2); an unsafe state directory or
    /// file in it (2: writable by others, a link, several hard links, not a regular file,
    /// another user's; the message names it and the fix); a live instance holding the lock
    /// (73, naming its pid only when that process is alive, and the lock path); an I/O failure
    /// on the state directory, the lock or a log file (1).
    pub async fn start(self) -> Result<(ShutdownHandle, BootReport), StartError> {
        let config = self.config;
        let codes = config.get().exit_codes();
        let fail = |kind: StartErrorKind| StartError::new(kind, codes);
        // Before anything touches the disk: outside a System the actors cannot start.
        if System::try_current().is_none() {
            return Err(fail(StartErrorKind::NoActixSystem));
        }
        // First, so that a signal during boot is acted on once boot completes; taken before
        // the lock, and given back if the boot fails.
        let signal_listener = if config.signals {
            Some(signals::SignalListener::take().map_err(|e| fail(StartErrorKind::Signals(e)))?)
        } else {
            None
        };
        config.validate().map_err(|e| fail(e.into()))?;
        let dir = config.get().state_dir().to_owned();
        let warnings = files::prepare_state_dir(&dir).map_err(|source| {
            fail(StartErrorKind::from_io(source, |source| {
                StartErrorKind::StateDir {
                    path: dir.clone(),
                    source,
                }
            }))
        })?;

        let (mut lock, previous_lock) = LockManager::acquire(config.lock_path(), &config.version)
            .map_err(|e| fail(e.into()))?;
        // From here on a failed boot releases the lock: it did not crash, it refused to start.
        let (log_queue, log_writer, crash_log) = match open_logs(&config) {
            Ok(opened) => opened,
            Err(kind) => {
                let _ = lock.release();
                return Err(fail(kind));
            }
        };
        if config.panic_hook {
            crash_log.install_panic_hook();
        }
        if config.install_tracing && !logging::install(&log_queue, &crash_log, config.console) {
            let _ = writeln!(
                std::io::stderr(),
                "actix-shutdown: a global tracing subscriber is already installed; log.txt receives nothing from it"
            );
        }
        tracing::info!(pid = std::process::id(), state_dir = %dir.display(), "boot: lock acquired");
        for warning in &warnings {
            tracing::warn!("boot: {warning}");
        }

        let removed_temp_files = files::remove_leftover_temp_files(&dir).unwrap_or_default();
        let mut archived = Vec::new();
        let previous = PreviousRun::read(&config, previous_lock, &mut archived);
        let own_files = config.own_file_stems();
        let own_files: Vec<&str> = own_files.iter().map(String::as_str).collect();
        let (states, broken) = match StateStore::new(&dir)
            .max_bytes(config.max_state_bytes)
            .scan_excluding(&own_files)
        {
            Ok(scanned) => scanned,
            Err(e) => {
                let _ = lock.release();
                return Err(fail(e.into()));
            }
        };
        archived.extend(broken);
        if let PreviousRun::Crashed { .. }
        | PreviousRun::Unrecorded { .. }
        | PreviousRun::Unknown { .. } = &previous
        {
            tracing::warn!("boot: {previous}");
        }

        let closing = ClosingFlag::new();
        let lock_path = lock.path().to_owned();
        let tasks = TaskMonitor::new(closing.clone()).start();
        let persister = Persister::new(&dir, config.summary_path(), closing.clone())
            .snapshot_timeout(config.snapshot_timeout)
            .autosave(config.autosave)
            .start();
        let activity = actix_shutdown_actors::Activity::default();
        let closer = ResourceCloser::new(config.close_timeout)
            .activity(activity.clone())
            .start();
        let lock = lock.start();
        // The Logger gives up a little before the step does, so that its answer is recorded.
        let flush_budget = config.steps.flush_logs * 3 / 4;
        let logger = Logger::new(log_queue.clone(), log_writer, flush_budget).start();
        let participants = Participants {
            cancel_tasks: tasks.clone().recipient(),
            abort_tasks: tasks.clone().recipient(),
            flush_logs: logger.clone().recipient(),
            persist: persister.clone().recipient(),
            close: closer.clone().recipient(),
            write_summary: persister.clone().recipient(),
            release_lock: lock.recipient(),
            stop_logging: logger.clone().recipient(),
        };
        let supervisor_config = SupervisorConfig {
            grace: config.grace,
            forced_budget: config.forced_budget,
            task_grace: config.task_grace,
            drain_timeout: config.drain_timeout,
            steps: config.steps,
            hook_budget: config.hook_budget,
            veto_retry: config.veto_retry,
            stop_timeout: config.stop_timeout,
            exit_codes: codes,
            exit_marker: Some(config.exit_marker_path()),
            stop_system: config.stop_system,
            hard_deadline: config.hard_margin.map(|margin| HardDeadline {
                margin,
                last_resort: LastResort {
                    summary_path: config.summary_path(),
                    lock_path: Some(lock_path),
                    exit_marker: Some(config.exit_marker_path()),
                    log_queue: Some(log_queue.clone()),
                    exit_code: codes.failed,
                },
                activity: Some(activity.clone()),
            }),
            progress: combine(self.progress),
            ..SupervisorConfig::default()
        };
        let task_budget = supervisor_config.task_budget(supervisor_config.grace);
        let supervisor = Supervisor::new(supervisor_config, participants, closing.clone());
        let status = supervisor.status_view();
        let hard_deadline = supervisor.hard_deadline();
        let supervisor = supervisor.start();
        let actors = Actors {
            supervisor,
            tasks,
            persister,
            closer,
            logger,
        };
        let handle = ShutdownHandle::new(
            actors,
            status,
            closing,
            config,
            log_queue,
            hard_deadline,
            task_budget,
        );
        let boot = BootReport {
            state_dir: dir,
            pid: std::process::id(),
            previous,
            states,
            archived,
            removed_temp_files,
            restored_queues: Vec::new(),
            warnings,
        };
        handle.set_boot_report(boot.clone());
        if let Some(listener) = signal_listener {
            listener
                .attach(handle.clone())
                .map_err(|e| fail(StartErrorKind::Signals(e)))?;
        }

        // One record per line of the report: a log record never spans lines.
        for line in boot.to_string().lines() {
            tracing::info!("{line}");
        }
        Ok((handle, boot))
    }
}

/// Opens `logs/log.txt` (starting its writer) and `logs/crash.log`.
fn open_logs(
    config: &Config,
) -> Result<(LogQueue, actix_shutdown_actors::LogWriter, CrashLog), StartErrorKind> {
    let (log_queue, log_writer) =
        LogQueue::start(&config.log_path(), &config.log).map_err(StartErrorKind::from_logger)?;
    let crash_log = CrashLog::open(&config.crash_log_path()).map_err(|source| {
        StartErrorKind::from_io(source, |source| {
            actix_shutdown_actors::LoggerError::Open {
                path: config.crash_log_path(),
                source,
            }
            .into()
        })
    })?;
    Ok((log_queue, log_writer, crash_log))
}

fn combine(
    listeners: Vec<actix_shutdown_actors::ProgressFn>,
) -> Option<actix_shutdown_actors::ProgressFn> {
    match listeners.len() {
        0 => None,
        1 => listeners.into_iter().next(),
        _ => Some(Arc::new(move |event: &StepEvent| {
            listeners.iter().for_each(|l| l(event))
        })),
    }
}
