//! The SQLite database of finished jobs (`bot.db` in the state directory): opened at boot,
//! written by the workers, checkpointed and closed at `close_resources`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::jobs::{Job, now_ms};

/// The shared connection; `None` once closed.
pub(crate) type Db = Arc<Mutex<Option<rusqlite::Connection>>>;

/// Opens (creating it owner-only) the database at `path` and its table.
pub(crate) fn open_db(path: &Path) -> Result<Db, String> {
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

/// Records a finished job.
pub(crate) fn record_done(db: &Db, job: &Job) -> Result<(), String> {
    let guard = db.lock().map_err(|_| "database lock poisoned".to_owned())?;
    let conn = guard.as_ref().ok_or("database is closed")?;
    conn.execute(
        "INSERT INTO jobs_done (id, command, finished_ms) VALUES (?1, ?2, ?3)",
        rusqlite::params![job.id as i64, job.command, now_ms() as i64],
    )
    .map(drop)
    .map_err(|e| e.to_string())
}

/// The highest id of a finished job, if any.
pub(crate) fn last_done_id(db: &Db) -> Option<u64> {
    let guard = db.lock().ok()?;
    let conn = guard.as_ref()?;
    conn.query_row("SELECT MAX(id) FROM jobs_done", [], |row| {
        row.get::<_, Option<i64>>(0)
    })
    .ok()
    .flatten()
    .and_then(|id| u64::try_from(id).ok())
}

/// The ids among `ids` that are already recorded as done. A run killed between two autosaves
/// leaves a queue snapshot older than the database: jobs finished since are in both.
pub(crate) fn already_done(
    db: &Db,
    ids: impl IntoIterator<Item = u64>,
) -> Result<HashSet<u64>, String> {
    let guard = db.lock().map_err(|_| "database lock poisoned".to_owned())?;
    let conn = guard.as_ref().ok_or("database is closed")?;
    let mut query = conn
        .prepare("SELECT 1 FROM jobs_done WHERE id = ?1")
        .map_err(|e| e.to_string())?;
    let mut done = HashSet::new();
    for id in ids {
        if query.exists([id as i64]).map_err(|e| e.to_string())? {
            done.insert(id);
        }
    }
    Ok(done)
}

/// Checkpoints the write-ahead log and closes the connection (once; later calls do nothing).
pub(crate) fn close_db(db: &Db) -> Result<(), String> {
    let conn = db
        .lock()
        .map_err(|_| "database lock poisoned".to_owned())?
        .take();
    let Some(conn) = conn else { return Ok(()) };
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(|e| e.to_string())?;
    conn.close().map_err(|(_, e)| e.to_string())
}
