//! What survives the run: states registered to be persisted, states loaded back at boot, and
//! the boot report those loads add to.

use std::future::Future;

use actix::prelude::*;
use actix_shutdown_actors::messages::{RegisterState, Snapshot, TakeSnapshot};
use actix_shutdown_actors::{Loaded, PersistError, validate_name};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ShutdownHandle;
use crate::boot::{BootReport, RestoredQueue};
use crate::rehydrate::{QueuedJob, Rehydrated, RequeuePolicy, rehydrate_queue};

impl ShutdownHandle {
    /// Persists an actor's state: it answers [`TakeSnapshot`] at each PersistAll.
    ///
    /// Registration is a message to the Persister: a second state of the same name is refused
    /// there and logged (an error record, also in `crash.log`), and a state registered after
    /// the shutdown has written the states is never written. Register at boot.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix::prelude::*;
    /// use actix_shutdown::{Snapshot, SnapshotResult, TakeSnapshot};
    ///
    /// struct Cache(Vec<String>);
    /// impl Actor for Cache {
    ///     type Context = Context<Self>;
    /// }
    /// impl Handler<TakeSnapshot> for Cache {
    ///     type Result = SnapshotResult;
    ///     fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> SnapshotResult {
    ///         Ok(Snapshot::of(self.0.clone()))
    ///     }
    /// }
    ///
    /// let cache = Cache(vec!["a".into()]).start();
    /// shutdown.persist("cache", cache.recipient())?;
    /// shutdown.shutdown("admin:stop").await;
    /// shutdown.wait().await;
    /// let saved: Vec<String> = shutdown.load("cache")?.into_value().unwrap();
    /// assert_eq!(saved, ["a"]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An invalid state name (path separators, `..`, reserved names, the library's own files).
    pub fn persist(
        &self,
        name: impl Into<String>,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.persist_actor(name.into(), false, source)
    }

    /// As [`persist`](Self::persist), for state that is written even in a forced shutdown.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix::prelude::*;
    /// use actix_shutdown::{RequestSource, ShutdownRequest, Snapshot, SnapshotResult, TakeSnapshot};
    ///
    /// struct Cache(Vec<String>);
    /// impl Actor for Cache {
    ///     type Context = Context<Self>;
    /// }
    /// impl Handler<TakeSnapshot> for Cache {
    ///     type Result = SnapshotResult;
    ///     fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> SnapshotResult {
    ///         Ok(Snapshot::of(self.0.clone()))
    ///     }
    /// }
    ///
    /// let ledger = Cache(vec!["paid".into()]).start();
    /// shutdown.persist_critical("ledger", ledger.recipient())?;
    /// // A forced shutdown writes critical state only.
    /// shutdown.request(ShutdownRequest::forced(RequestSource::Api, "api:kill")).await;
    /// shutdown.wait().await;
    /// assert!(shutdown.load::<Vec<String>>("ledger")?.into_value().is_some());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_critical(
        &self,
        name: impl Into<String>,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.persist_actor(name.into(), true, source)
    }

    /// Persists what a closure returns: an owned copy of the state, encoded to JSON by the
    /// Persister off the actor thread. For a large state kept as an immutable snapshot, return
    /// an `Arc` of it: no deep copy is made.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::sync::{Arc, Mutex};
    ///
    /// let queue = Arc::new(Mutex::new(vec![1, 2, 3]));
    /// let snapshot = Arc::clone(&queue);
    /// shutdown.persist_fn("queue", move || snapshot.lock().unwrap().clone())?;
    /// shutdown.shutdown("admin:stop").await;
    /// shutdown.wait().await;
    /// assert_eq!(shutdown.load::<Vec<u32>>("queue")?.into_value(), Some(vec![1, 2, 3]));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_fn<F, T>(&self, name: impl Into<String>, snapshot: F) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.persist_closure(name.into(), false, snapshot)
    }

    /// As [`persist_fn`](Self::persist_fn), for state that is written even in a forced
    /// shutdown.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::{RequestSource, ShutdownRequest};
    ///
    /// shutdown.persist_critical_fn("balance", || 42_u64)?;
    /// shutdown.persist_fn("cache", || vec!["warm"])?;
    /// shutdown.request(ShutdownRequest::forced(RequestSource::Api, "api:kill")).await;
    /// let report = shutdown.wait().await;
    /// assert_eq!(shutdown.load::<u64>("balance")?.into_value(), Some(42));
    /// assert!(report.lost.iter().any(|l| l.starts_with("state cache skipped")));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_critical_fn<F, T>(
        &self,
        name: impl Into<String>,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.persist_closure(name.into(), true, snapshot)
    }

    fn persist_actor(
        &self,
        name: String,
        critical: bool,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.register_state(name, critical, move || {
            let sent = source.send(TakeSnapshot);
            async move {
                sent.await
                    .map_err(|e| format!("the state actor is unreachable: {e}"))?
            }
        })
    }

    fn persist_closure<F, T>(
        &self,
        name: String,
        critical: bool,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.register_state(name, critical, move || {
            let snapshot = Snapshot::of(snapshot());
            async move { Ok(snapshot) }
        })
    }

    fn register_state<F, Fut>(
        &self,
        name: String,
        critical: bool,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Snapshot, String>> + 'static,
    {
        validate_name(&name)?;
        if self.inner.config.own_file_stems().contains(&name) {
            return Err(PersistError::InvalidName {
                name,
                why: "it is the name of one of the library's own files in this configuration",
            });
        }
        self.inner.actors.persister.do_send(RegisterState {
            name,
            source: Box::new(move || Box::pin(snapshot())),
            critical,
        });
        Ok(())
    }

    /// Loads a saved state as `T`. A corrupt file, one with an unknown schema version or data
    /// that does not fit `T` is archived as `<file>.broken.<UTC timestamp>` and reported as
    /// [`Loaded::Archived`]: start empty.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::Loaded;
    ///
    /// match shutdown.load::<Vec<String>>("queue")? {
    ///     Loaded::Restored { value, saved_at } => println!("{} jobs saved at {saved_at}", value.len()),
    ///     Loaded::Archived(file) => eprintln!("{}: {}; starting empty", file.file.display(), file.why),
    ///     Loaded::Missing => println!("first start"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An invalid name, or a read or archive failure (the file is then untouched).
    pub fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Loaded<T>, PersistError> {
        self.inner.store.load(name)
    }

    /// Loads a saved queue and keeps only the jobs `policy` accepts (timestamps not in the
    /// future nor too old, ids unique); the counts of dropped jobs go into the
    /// [`boot_report`](Self::boot_report). A corrupt file is archived, as with
    /// [`load`](Self::load), and the queue starts empty.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::PersistError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::SystemTime;
    /// use actix_shutdown::{QueuedJob, RequeuePolicy};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Job { id: u64, created_at: SystemTime }
    /// impl QueuedJob for Job {
    ///     type Id = u64;
    ///     fn id(&self) -> u64 { self.id }
    ///     fn created_at(&self) -> SystemTime { self.created_at }
    /// }
    ///
    /// let restored = shutdown.load_queue::<Job>("jobs", &RequeuePolicy::default())?;
    /// assert!(restored.jobs.is_empty()); // nothing saved yet
    /// assert_eq!(shutdown.boot_report().unwrap().restored_queues[0].name, "jobs");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_queue<T>(
        &self,
        name: &str,
        policy: &RequeuePolicy,
    ) -> Result<Rehydrated<T>, PersistError>
    where
        T: DeserializeOwned + QueuedJob,
    {
        let saved = self.load::<Vec<T>>(name)?.into_value().unwrap_or_default();
        let restored = rehydrate_queue(saved, policy, std::time::SystemTime::now());
        if restored.dropped.total() > 0 {
            tracing::warn!(state = name, "rehydration {}", restored.dropped);
        }
        tracing::info!(state = name, jobs = restored.jobs.len(), "queue restored");
        if let Some(boot) = self
            .inner
            .boot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            boot.restored_queues.retain(|q| q.name != name);
            boot.restored_queues.push(RestoredQueue {
                name: name.to_owned(),
                restored: restored.jobs.len(),
                dropped: restored.dropped,
            });
        }
        Ok(restored)
    }

    /// The boot report, including the queues restored since.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// let boot = shutdown.boot_report().expect("set at start");
    /// assert!(!boot.recovered_from_crash());
    /// println!("{boot}");
    /// # }
    /// ```
    pub fn boot_report(&self) -> Option<BootReport> {
        self.inner
            .boot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_boot_report(&self, boot: BootReport) {
        *self.inner.boot.lock().unwrap_or_else(|p| p.into_inner()) = Some(boot);
    }
}
