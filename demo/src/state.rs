//! The bot's persisted state besides the queue: reminder tracking, the DM schedule and the
//! command cache, loaded at boot and registered for autosave and shutdown.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use actix::Addr;
use actix_shutdown::ShutdownHandle;
use serde::{Deserialize, Serialize};

use crate::jobs::{JobQueue, QUEUE_STATE};

/// How often a reminder fired.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Reminder {
    /// Times fired.
    pub(crate) fired: u64,
    /// Last time, in milliseconds since the Unix epoch.
    pub(crate) last_fired_ms: u64,
}

/// A direct message scheduled for a job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ScheduledDm {
    /// The job it follows up.
    pub(crate) job_id: u64,
    /// When it is due, in milliseconds since the Unix epoch.
    pub(crate) due_ms: u64,
}

/// The shared, mutable state the tasks update and the Persister snapshots.
#[derive(Clone, Debug, Default)]
pub(crate) struct BotState {
    /// `reminder_tracking`.
    pub(crate) reminders: Arc<Mutex<BTreeMap<String, Reminder>>>,
    /// `dm_scheduled_tracker` (critical).
    pub(crate) dms: Arc<Mutex<Vec<ScheduledDm>>>,
    /// `command_cache`: jobs done per command.
    pub(crate) commands: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl BotState {
    /// Loads the three states saved by the last run (defaults for missing or archived ones).
    pub(crate) fn load(shutdown: &ShutdownHandle) -> Self {
        Self {
            reminders: Arc::new(Mutex::new(load_or_default(shutdown, "reminder_tracking"))),
            dms: Arc::new(Mutex::new(load_or_default(
                shutdown,
                "dm_scheduled_tracker",
            ))),
            commands: Arc::new(Mutex::new(load_or_default(shutdown, "command_cache"))),
        }
    }

    /// Registers the queue and the three states with the Persister.
    pub(crate) fn register(&self, shutdown: &ShutdownHandle, queue: &Addr<JobQueue>) {
        let results = [
            // The queue is what a forced shutdown must not lose: critical.
            shutdown.persist_critical(QUEUE_STATE, queue.clone().recipient()),
            {
                let reminders = Arc::clone(&self.reminders);
                shutdown.persist_fn("reminder_tracking", move || {
                    reminders.lock().map(|r| r.clone()).unwrap_or_default()
                })
            },
            {
                let dms = Arc::clone(&self.dms);
                shutdown.persist_critical_fn("dm_scheduled_tracker", move || {
                    dms.lock().map(|d| d.clone()).unwrap_or_default()
                })
            },
            {
                let commands = Arc::clone(&self.commands);
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
}

/// The saved value of `name`, or the default when there is none (an error is printed).
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
