//! Persister: registered state sources (an actor's `Recipient<TakeSnapshot>` or a closure)
//! snapshotted to JSON and written atomically at [`PersistAll`] and on autosave; the summary
//! (`last_shutdown.json`) at [`WriteSummary`].
//!
//! Each snapshot has its own timeout; the writes of a batch run in parallel off the actor
//! thread (encode, write, fsync, rename), followed by one fsync of the directory. Two writes of
//! one state never overlap, so an autosave can never rename an older snapshot over a newer one,
//! and a slow state delays only itself (a forced shutdown's critical states never wait for an
//! autosave of the others).

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use futures::FutureExt;
use futures::future::join_all;
use serde::Serialize;
use std::panic::AssertUnwindSafe;

use crate::closing::ClosingFlag;
use crate::errors::PersistError;
use crate::files;
use crate::report::{FileRecord, ParticipantOutcome};
use crate::state_store::validate_name;

struct State {
    name: String,
    source: Rc<SnapshotFn>,
    critical: bool,
    /// Held from snapshot to rename: two writes of one state never overlap, so an older
    /// snapshot can never be renamed over a newer one, and a slow state delays only itself.
    writing: Rc<tokio::sync::Mutex<()>>,
}

/// Writes the registered states and the summary; answers [`RegisterState`],
/// [`PersistAll`] and [`WriteSummary`].
pub struct Persister {
    dir: PathBuf,
    summary_path: PathBuf,
    states: Vec<State>,
    snapshot_timeout: Duration,
    autosave: Option<Duration>,
    closing: ClosingFlag,
    /// An autosave is running (they never stack up).
    autosaving: Rc<std::cell::Cell<bool>>,
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persister")
            .field("dir", &self.dir)
            .field(
                "states",
                &self.states.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .field("autosave", &self.autosave)
            .finish_non_exhaustive()
    }
}

impl Persister {
    /// A persister writing `<dir>/<name>.json` per state and `summary_path` for the summary.
    pub fn new(
        dir: impl Into<PathBuf>,
        summary_path: impl Into<PathBuf>,
        closing: ClosingFlag,
    ) -> Self {
        Self {
            dir: dir.into(),
            summary_path: summary_path.into(),
            states: Vec::new(),
            snapshot_timeout: Duration::from_secs(2),
            autosave: None,
            closing,
            autosaving: Rc::new(std::cell::Cell::new(false)),
        }
    }

    /// Each source must answer within this time (default 2 s).
    pub fn snapshot_timeout(mut self, timeout: Duration) -> Self {
        self.snapshot_timeout = timeout;
        self
    }

    /// Persist every state this often until the shutdown begins (default: never).
    pub fn autosave(mut self, every: Option<Duration>) -> Self {
        self.autosave = every;
        self
    }

    /// Registers a state.
    ///
    /// # Errors
    /// An invalid or duplicate name.
    pub fn register(
        &mut self,
        name: String,
        source: SnapshotFn,
        critical: bool,
    ) -> Result<(), PersistError> {
        validate_name(&name)?;
        if self.states.iter().any(|s| s.name == name) {
            return Err(PersistError::Duplicate { name });
        }
        self.states.push(State {
            name,
            source: Rc::new(source),
            critical,
            writing: Rc::new(tokio::sync::Mutex::new(())),
        });
        Ok(())
    }

    /// Snapshots and writes the states (critical ones only if asked); each state first waits
    /// for its own write in progress, if any.
    pub fn persist_all(
        &self,
        critical_only: bool,
    ) -> impl Future<Output = PersistReport> + 'static {
        let jobs: Vec<_> = self
            .states
            .iter()
            .map(|s| {
                let path = self.dir.join(format!("{}.json", s.name));
                let skip = critical_only && !s.critical;
                (
                    s.name.clone(),
                    path,
                    Rc::clone(&s.source),
                    Rc::clone(&s.writing),
                    skip,
                )
            })
            .collect();
        let dir = self.dir.clone();
        let timeout = self.snapshot_timeout;
        async move {
            // Each state goes through its own pipeline: snapshot on this thread (sources need
            // not be `Send`), then serialization, write, fsync and rename on a blocking thread,
            // so that one state's encoding and fsync overlap the next one's snapshot.
            let writes = jobs
                .into_iter()
                .map(|(name, path, source, writing, skip)| async move {
                    if skip {
                        return record(name, &path, ParticipantOutcome::Skipped, 0, None);
                    }
                    // Waits for this state's write in progress (an autosave), not for others.
                    let _writing = writing.lock().await;
                    // A source may panic before or while producing its snapshot: contain both.
                    let snapshot = AssertUnwindSafe(async { source().await }).catch_unwind();
                    let data = match tokio::time::timeout(timeout, snapshot).await {
                        Ok(Ok(Ok(data))) => data,
                        Ok(Ok(Err(e))) => {
                            return record(name, &path, ParticipantOutcome::Failed, 0, Some(e));
                        }
                        Ok(Err(panic)) => {
                            return record(
                                name,
                                &path,
                                ParticipantOutcome::Panicked,
                                0,
                                Some(crate::panic_message(&*panic)),
                            );
                        }
                        Err(_) => {
                            return record(
                                name,
                                &path,
                                ParticipantOutcome::TimedOut,
                                0,
                                Some(format!("the snapshot took longer than {timeout:?}")),
                            );
                        }
                    };
                    let (state, target) = (name.clone(), path.clone());
                    let written = tokio::task::spawn_blocking(move || {
                        let saved_at = files::rfc3339(SystemTime::now());
                        let bytes = data
                            .encode(&state, &saved_at)
                            .map_err(WriteFailure::Encode)?;
                        files::write_and_rename(&target, &bytes).map_err(WriteFailure::Io)?;
                        Ok(bytes.len() as u64)
                    })
                    .await;
                    match written {
                        Ok(Ok(len)) => {
                            record(name, &path, ParticipantOutcome::Completed, len, None)
                        }
                        Ok(Err(WriteFailure::Encode(e))) => record(
                            name,
                            &path,
                            ParticipantOutcome::Failed,
                            0,
                            Some(e.to_string()),
                        ),
                        Ok(Err(WriteFailure::Io(e))) => {
                            let e = PersistError::Write {
                                path: path.clone(),
                                source: e,
                            };
                            record(
                                name,
                                &path,
                                ParticipantOutcome::Failed,
                                0,
                                Some(e.to_string()),
                            )
                        }
                        Err(e) => record(
                            name,
                            &path,
                            ParticipantOutcome::Panicked,
                            0,
                            Some(e.to_string()),
                        ),
                    }
                });
            let mut files = join_all(writes).await;
            if files
                .iter()
                .any(|f| f.outcome == ParticipantOutcome::Completed)
            {
                let synced = tokio::task::spawn_blocking(move || files::sync_dir(&dir)).await;
                if let Ok(Err(e)) | Err(e) = synced.map_err(std::io::Error::other) {
                    for f in files
                        .iter_mut()
                        .filter(|f| f.outcome == ParticipantOutcome::Completed)
                    {
                        f.outcome = ParticipantOutcome::Failed;
                        f.error = Some(format!("directory fsync failed: {e}"));
                    }
                }
            }
            for f in &files {
                if f.outcome.is_failure() {
                    tracing::error!(state = %f.name, "persist failed: {}", f.error.as_deref().unwrap_or(""));
                }
            }
            PersistReport { files }
        }
    }
}

/// Why a state's write failed.
enum WriteFailure {
    /// The snapshot could not be serialized.
    Encode(PersistError),
    /// The write, fsync or rename failed.
    Io(std::io::Error),
}

fn record(
    name: String,
    path: &Path,
    outcome: ParticipantOutcome,
    bytes: u64,
    error: Option<String>,
) -> FileRecord {
    FileRecord {
        name,
        path: path.display().to_string(),
        outcome,
        bytes,
        error,
    }
}

/// Serializes a value to pretty JSON and writes it atomically (tmp, fsync, rename, fsync dir).
///
/// # Errors
/// [`PersistError::Serialize`] or [`PersistError::Write`].
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), PersistError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| PersistError::Serialize {
        what: path.display().to_string(),
        source,
    })?;
    files::write_atomic(path, &bytes).map_err(|source| PersistError::Write {
        path: path.to_owned(),
        source,
    })
}

impl Actor for Persister {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(every) = self.autosave {
            ctx.run_interval(every, |this, ctx| {
                if this.closing.is_closing() || this.autosaving.get() {
                    return;
                }
                this.autosaving.set(true);
                let autosaving = Rc::clone(&this.autosaving);
                let run = this.persist_all(false);
                ctx.spawn(
                    async move {
                        let report = run.await;
                        autosaving.set(false);
                        let failed = report
                            .files
                            .iter()
                            .filter(|f| f.outcome.is_failure())
                            .count();
                        tracing::debug!(files = report.files.len(), failed, "autosave done");
                    }
                    .into_actor(this),
                );
            });
        }
    }
}

impl Handler<RegisterState> for Persister {
    type Result = Result<(), PersistError>;

    fn handle(&mut self, msg: RegisterState, _: &mut Context<Self>) -> Self::Result {
        self.register(msg.name, msg.source, msg.critical)
            .inspect_err(|e| tracing::error!("{e}"))
    }
}

impl Handler<PersistAll> for Persister {
    type Result = ResponseFuture<PersistReport>;

    fn handle(&mut self, msg: PersistAll, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.persist_all(msg.critical_only))
    }
}

impl Handler<WriteSummary> for Persister {
    type Result = ResponseFuture<Result<SummaryWritten, PersistError>>;

    fn handle(&mut self, msg: WriteSummary, _: &mut Context<Self>) -> Self::Result {
        let path = self.summary_path.clone();
        Box::pin(async move {
            let report: Arc<_> = msg.0;
            let target = path.clone();
            tokio::task::spawn_blocking(move || write_json_atomic(&target, &*report))
                .await
                .map_err(|e| PersistError::Write {
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })??;
            Ok(SummaryWritten { path })
        })
    }
}

mod messages;
pub use messages::{
    PersistAll, PersistReport, RegisterState, Snapshot, SnapshotFn, SnapshotResult, SummaryWritten,
    TakeSnapshot, WriteSummary,
};
