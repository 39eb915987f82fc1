//! Persister driven by its messages (real time, real files in a temp dir) and StateStore reading
//! the files back at boot: envelopes, failures confined to their own file, critical-only mode,
//! the summary, name checks, archiving of unusable files and leftover temp files.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::files::{TEMP_PREFIX, remove_leftover_temp_files};
use actix_shutdown_actors::messages::{
    PersistAll, PersistReport, RegisterState, Snapshot, SnapshotFn, SnapshotResult, TakeSnapshot,
    WriteSummary,
};
use actix_shutdown_actors::{
    ClosingFlag, Envelope, FileRecord, FoundState, Loaded, ParticipantOutcome, PersistError,
    Persister, RequestSource, SCHEMA_VERSION, ShutdownReport, StateStore, Step, StepOutcome,
    StepRecord,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// Bound on every reply; the work is a few small files.
const REPLY: Duration = Duration::from_secs(10);

fn persister(dir: &Path) -> Addr<Persister> {
    Persister::new(dir, dir.join("last_shutdown.json"), ClosingFlag::new()).start()
}

/// A source that always answers `value`.
fn snapshot(value: Value) -> SnapshotFn {
    Box::new(move || {
        let value = value.clone();
        Box::pin(async move { Ok(Snapshot::json(value)) })
    })
}

/// A source that always fails with `error`.
fn failing_snapshot(error: &'static str) -> SnapshotFn {
    Box::new(move || Box::pin(async move { Err(error.to_owned()) }))
}

/// An actor registered as a state source, the way `persist(name, recipient)` does it.
fn from_actor(source: Recipient<TakeSnapshot>) -> SnapshotFn {
    Box::new(move || {
        let source = source.clone();
        Box::pin(async move { source.send(TakeSnapshot).await.map_err(|e| e.to_string())? })
    })
}

async fn register(
    persister: &Addr<Persister>,
    name: &str,
    critical: bool,
    source: SnapshotFn,
) -> Result<(), PersistError> {
    persister
        .send(RegisterState {
            name: name.to_owned(),
            source,
            critical,
        })
        .timeout(REPLY)
        .await
        .expect("the Persister answers RegisterState")
}

async fn persist_all(persister: &Addr<Persister>, critical_only: bool) -> PersistReport {
    persister
        .send(PersistAll { critical_only })
        .timeout(REPLY)
        .await
        .expect("the Persister answers PersistAll")
}

fn file<'a>(report: &'a PersistReport, name: &str) -> &'a FileRecord {
    report
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no record for {name}: {report:?}"))
}

fn completed(dir: &Path, name: &str) -> FileRecord {
    let path = dir.join(format!("{name}.json"));
    FileRecord {
        name: name.to_owned(),
        path: path.display().to_string(),
        outcome: ParticipantOutcome::Completed,
        bytes: fs::metadata(&path).expect("the state file exists").len(),
        error: None,
    }
}

fn not_written(
    dir: &Path,
    name: &str,
    outcome: ParticipantOutcome,
    error: Option<String>,
) -> FileRecord {
    FileRecord {
        name: name.to_owned(),
        path: dir.join(format!("{name}.json")).display().to_string(),
        outcome,
        bytes: 0,
        error,
    }
}

fn temp_files_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(TEMP_PREFIX))
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[derive(Debug, PartialEq, Deserialize)]
struct Orders {
    open: Vec<u32>,
    cursor: String,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Ledger {
    version: u32,
}

// ---------------------------------------------------------------- Persister

#[actix_rt::test]
async fn persist_all_writes_each_state_in_its_envelope_and_state_store_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let data = json!({ "open": [7, 8, 9], "cursor": "c-42" });
    register(&persister, "orders", false, snapshot(data.clone()))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;

    assert_eq!(report.files, vec![completed(dir.path(), "orders")]);
    let written: Value =
        serde_json::from_slice(&fs::read(dir.path().join("orders.json")).unwrap()).unwrap();
    let keys: Vec<_> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["data", "name", "saved_at", "schema"]);
    assert_eq!(written["schema"], json!(SCHEMA_VERSION));
    assert_eq!(written["name"], json!("orders"));
    assert_eq!(written["data"], data);
    let saved_at = written["saved_at"].as_str().unwrap();
    humantime::parse_rfc3339(saved_at).expect("saved_at is RFC 3339 UTC");

    let loaded = StateStore::new(dir.path())
        .load::<Orders>("orders")
        .unwrap();
    assert_eq!(
        loaded,
        Loaded::Restored {
            value: Orders {
                open: vec![7, 8, 9],
                cursor: "c-42".to_owned()
            },
            saved_at: saved_at.to_owned(),
        }
    );
}

struct Inventory {
    items: Vec<String>,
}

impl Actor for Inventory {
    type Context = Context<Self>;
}

impl Handler<TakeSnapshot> for Inventory {
    type Result = SnapshotResult;

    fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> SnapshotResult {
        Ok(Snapshot::of(self.items.clone()))
    }
}

#[actix_rt::test]
async fn actor_answering_take_snapshot_is_a_state_source() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let inventory = Inventory {
        items: vec!["apple".to_owned(), "pear".to_owned()],
    }
    .start();
    register(
        &persister,
        "inventory",
        false,
        from_actor(inventory.recipient()),
    )
    .await
    .unwrap();

    let report = persist_all(&persister, false).await;

    assert_eq!(report.files, vec![completed(dir.path(), "inventory")]);
    let loaded = StateStore::new(dir.path())
        .load::<Vec<String>>("inventory")
        .unwrap();
    assert_eq!(
        loaded.into_value(),
        Some(vec!["apple".to_owned(), "pear".to_owned()])
    );
}

#[actix_rt::test]
async fn failing_snapshot_is_failed_and_the_other_states_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    register(
        &persister,
        "cache",
        false,
        failing_snapshot("cache is being rebuilt"),
    )
    .await
    .unwrap();
    register(&persister, "orders", false, snapshot(json!([1, 2])))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;

    assert_eq!(
        report.files,
        vec![
            not_written(
                dir.path(),
                "cache",
                ParticipantOutcome::Failed,
                Some("cache is being rebuilt".to_owned())
            ),
            completed(dir.path(), "orders"),
        ]
    );
    assert!(!dir.path().join("cache.json").exists());
}

#[actix_rt::test]
async fn slow_snapshot_is_timed_out_and_the_other_states_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let persister = Persister::new(
        dir.path(),
        dir.path().join("last_shutdown.json"),
        ClosingFlag::new(),
    )
    .snapshot_timeout(Duration::from_millis(100))
    .start();
    let never: SnapshotFn = Box::new(|| Box::pin(std::future::pending()));
    register(&persister, "slow", false, never).await.unwrap();
    register(&persister, "orders", false, snapshot(json!([1])))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;

    assert_eq!(
        report.files,
        vec![
            not_written(
                dir.path(),
                "slow",
                ParticipantOutcome::TimedOut,
                Some("the snapshot took longer than 100ms".to_owned())
            ),
            completed(dir.path(), "orders"),
        ]
    );
}

#[actix_rt::test]
async fn critical_only_writes_only_critical_states_and_skips_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    register(
        &persister,
        "ledger",
        true,
        snapshot(json!({ "version": 3 })),
    )
    .await
    .unwrap();
    register(&persister, "cache", false, snapshot(json!(["warm"])))
        .await
        .unwrap();

    let report = persist_all(&persister, true).await;

    assert_eq!(
        report.files,
        vec![
            completed(dir.path(), "ledger"),
            not_written(dir.path(), "cache", ParticipantOutcome::Skipped, None),
        ]
    );
    assert!(!dir.path().join("cache.json").exists());
}

#[actix_rt::test]
async fn directory_in_place_of_a_state_file_fails_that_write_with_the_os_error_only() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let blocked = dir.path().join("ledger.json");
    fs::create_dir(&blocked).unwrap();
    register(
        &persister,
        "ledger",
        true,
        snapshot(json!({ "version": 3 })),
    )
    .await
    .unwrap();
    register(&persister, "orders", false, snapshot(json!([1, 2, 3])))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;

    let why = format!(
        "cannot write {}: {} (the previous file is intact)",
        blocked.display(),
        io::Error::from_raw_os_error(libc::EISDIR)
    );
    assert_eq!(
        report.files,
        vec![
            not_written(dir.path(), "ledger", ParticipantOutcome::Failed, Some(why)),
            completed(dir.path(), "orders"),
        ]
    );
    assert!(blocked.is_dir() && fs::read_dir(&blocked).unwrap().next().is_none());
    assert_eq!(
        StateStore::new(dir.path())
            .load::<Vec<u32>>("orders")
            .unwrap()
            .into_value(),
        Some(vec![1, 2, 3])
    );
    assert_eq!(
        temp_files_in(dir.path()),
        Vec::<String>::new(),
        "the failed write cleans up its temp file"
    );
}

#[cfg(target_os = "linux")]
mod permissions {
    //! Root bypasses file permissions through CAP_DAC_OVERRIDE. Linux capabilities belong to a
    //! thread and a new thread copies its creator's, so dropping them on the test thread before
    //! the first `spawn_blocking` makes the Persister's blocking writers obey permissions too.
    //! Only this test's threads are affected; the guard restores the capabilities.

    use std::io;

    const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    const CAP_DAC_OVERRIDE: u32 = 1;
    const CAP_DAC_READ_SEARCH: u32 = 2;

    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    pub(crate) struct Enforced {
        saved: [Data; 2],
    }

    impl Drop for Enforced {
        fn drop(&mut self) {
            let _ = capset(&self.saved);
        }
    }

    /// Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the calling thread's effective set.
    pub(crate) fn enforce() -> Enforced {
        let mut header = Header {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = [Data::default(); 2];
        // SAFETY: version 3 takes a header and two data structs; both outlive the call.
        let rc = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
        assert_eq!(rc, 0, "capget: {}", io::Error::last_os_error());
        let saved = data;
        data[0].effective &= !((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH));
        capset(&data).expect("dropping capabilities from the effective set is always allowed");
        Enforced { saved }
    }

    fn capset(data: &[Data; 2]) -> io::Result<()> {
        let mut header = Header {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        // SAFETY: as in `enforce`; capset only reads `data`.
        let rc = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(target_os = "linux")]
#[actix_rt::test]
async fn failed_write_leaves_the_previous_file_intact() {
    use std::os::unix::fs::PermissionsExt;

    let _enforced = permissions::enforce();
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let version = Arc::new(AtomicU32::new(1));
    let source = Arc::clone(&version);
    let ledger: SnapshotFn = Box::new(move || {
        let version = source.load(Ordering::SeqCst);
        Box::pin(async move { Ok(Snapshot::json(json!({ "version": version }))) })
    });
    register(&persister, "ledger", true, ledger).await.unwrap();
    assert_eq!(
        persist_all(&persister, false).await.files,
        vec![completed(dir.path(), "ledger")]
    );
    let path = dir.path().join("ledger.json");
    let previous = fs::read(&path).unwrap();

    version.store(2, Ordering::SeqCst);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
    let report = persist_all(&persister, false).await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();

    let record = file(&report, "ledger");
    assert_eq!(record.outcome, ParticipantOutcome::Failed, "{record:?}");
    let error = record.error.as_deref().unwrap();
    let denied = io::Error::from_raw_os_error(libc::EACCES).to_string();
    assert!(
        error.starts_with(&format!("cannot write {}: {denied}", path.display())),
        "{error}"
    );
    assert!(error.ends_with("(the previous file is intact)"), "{error}");
    assert_eq!(fs::read(&path).unwrap(), previous);
    let loaded = StateStore::new(dir.path())
        .load::<Ledger>("ledger")
        .unwrap();
    assert_eq!(loaded.into_value(), Some(Ledger { version: 1 }));
}

#[actix_rt::test]
async fn write_summary_writes_the_report_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let mut report = ShutdownReport::new("signal:SIGTERM", RequestSource::Signal);
    report.started_at = "2026-11-25T08:03:10.123Z".to_owned();
    report.finished_at = "2026-11-25T08:03:11.456Z".to_owned();
    report.duration_ms = 1333;
    report.exit_code = 1;
    report.clean = false;
    report.lost = vec!["state cache skipped (forced)".to_owned()];
    report.pending_jobs = Some(2);
    report.steps = vec![StepRecord {
        name: Step::PersistState,
        outcome: StepOutcome::Completed,
        duration_ms: 12,
        error: None,
    }];
    report.files = vec![not_written(
        dir.path(),
        "cache",
        ParticipantOutcome::Skipped,
        None,
    )];
    let report = Arc::new(report);

    let written = persister
        .send(WriteSummary(Arc::clone(&report)))
        .timeout(REPLY)
        .await
        .expect("the Persister answers WriteSummary")
        .unwrap();

    assert_eq!(written.path, dir.path().join("last_shutdown.json"));
    let read: ShutdownReport = serde_json::from_slice(&fs::read(&written.path).unwrap()).unwrap();
    assert_eq!(read, *report);
    #[cfg(unix)]
    assert_eq!(mode(&written.path), 0o600);
}

#[actix_rt::test]
async fn invalid_state_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());

    for bad in ["../x", "a/b", "", "last_shutdown", ".hidden", "two words"] {
        let refused = register(&persister, bad, false, snapshot(json!(1))).await;
        assert!(
            matches!(refused, Err(PersistError::InvalidName { ref name, .. }) if name == bad),
            "{bad:?}: {refused:?}"
        );
    }
    register(&persister, "orders.v2", false, snapshot(json!(1)))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;
    assert_eq!(report.files, vec![completed(dir.path(), "orders.v2")]);
}

#[actix_rt::test]
async fn duplicate_state_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    register(&persister, "orders", false, snapshot(json!(1)))
        .await
        .unwrap();

    let refused = register(&persister, "orders", true, snapshot(json!(2))).await;

    assert!(
        matches!(refused, Err(PersistError::Duplicate { ref name }) if name == "orders"),
        "{refused:?}"
    );
}

#[cfg(unix)]
#[actix_rt::test]
async fn state_files_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    register(&persister, "orders", false, snapshot(json!([1])))
        .await
        .unwrap();

    persist_all(&persister, false).await;

    assert_eq!(mode(&dir.path().join("orders.json")), 0o600);
}

#[actix_rt::test]
async fn panicking_snapshot_is_panicked_and_the_other_states_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let persister = persister(dir.path());
    let panicking: SnapshotFn = Box::new(|| Box::pin(async { panic!("RefCell already borrowed") }));
    register(&persister, "cache", false, panicking)
        .await
        .unwrap();
    register(&persister, "orders", false, snapshot(json!([1])))
        .await
        .unwrap();

    let report = persist_all(&persister, false).await;

    assert_eq!(
        report.files,
        vec![
            not_written(
                dir.path(),
                "cache",
                ParticipantOutcome::Panicked,
                Some("RefCell already borrowed".to_owned())
            ),
            completed(dir.path(), "orders"),
        ]
    );
}

// ---------------------------------------------------------------- StateStore

fn envelope(schema: u32, name: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        schema,
        name: name.to_owned(),
        saved_at: "2026-11-25T08:03:10.123Z".to_owned(),
        data,
    })
    .unwrap()
}

/// Asserts that `loaded` archived `name.json` (holding `content`) for a reason starting with
/// `why`, and that the file is gone from its place.
fn assert_archived<T: std::fmt::Debug>(
    dir: &Path,
    name: &str,
    loaded: Loaded<T>,
    content: &[u8],
    why: &str,
) {
    let Loaded::Archived(archived) = loaded else {
        panic!("expected {name} to be archived, got {loaded:?}");
    };
    let path = dir.join(format!("{name}.json"));
    assert_eq!(archived.file, path);
    assert_eq!(archived.archived_as.parent(), Some(dir));
    let archived_name = archived.archived_as.file_name().unwrap().to_str().unwrap();
    let stamp = archived_name
        .strip_prefix(&format!("{name}.json.broken."))
        .unwrap_or_else(|| panic!("archive name {archived_name}"));
    assert_eq!(stamp.len(), "20261125T080310Z".len(), "{stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{stamp}"
    );
    assert!(archived.why.starts_with(why), "{}", archived.why);
    assert_eq!(fs::read(&archived.archived_as).unwrap(), content);
    assert!(!path.exists());
}

#[test]
fn missing_state_file_loads_as_missing() {
    let dir = tempfile::tempdir().unwrap();

    let loaded = StateStore::new(dir.path())
        .load::<Vec<u32>>("orders")
        .unwrap();

    assert_eq!(loaded, Loaded::Missing);
}

#[test]
fn corrupt_state_file_is_archived_and_the_next_load_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::new(dir.path());
    let torn = br#"{"schema": 1, "name": "orders", "da"#;
    fs::write(store.path_of("orders"), torn).unwrap();

    let loaded = store.load::<Vec<u32>>("orders").unwrap();

    assert_archived(
        dir.path(),
        "orders",
        loaded,
        torn,
        "it is not a valid state file",
    );
    assert_eq!(store.load::<Vec<u32>>("orders").unwrap(), Loaded::Missing);
}

#[test]
fn empty_state_file_is_archived_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::new(dir.path());
    fs::write(store.path_of("orders"), b"").unwrap();

    let loaded = store.load::<Vec<u32>>("orders").unwrap();

    assert_archived(dir.path(), "orders", loaded, b"", "it is empty");
}

#[test]
fn unknown_schema_version_is_archived() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::new(dir.path());
    let future = envelope(SCHEMA_VERSION + 1, "orders", json!([1, 2]));
    fs::write(store.path_of("orders"), &future).unwrap();

    let loaded = store.load::<Vec<u32>>("orders").unwrap();

    let why = format!(
        "unknown schema version {} (this build reads {SCHEMA_VERSION})",
        SCHEMA_VERSION + 1
    );
    assert_archived(dir.path(), "orders", loaded, &future, &why);
}

#[test]
fn data_of_the_wrong_shape_is_archived() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::new(dir.path());
    let wrong = envelope(
        SCHEMA_VERSION,
        "orders",
        json!({ "open": "not a list", "cursor": 5 }),
    );
    fs::write(store.path_of("orders"), &wrong).unwrap();

    let loaded = store.load::<Orders>("orders").unwrap();

    assert_archived(
        dir.path(),
        "orders",
        loaded,
        &wrong,
        "its data does not have the expected shape",
    );
}

#[test]
fn scan_reports_states_with_their_entry_counts_and_archives_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("alpha.json"),
        envelope(SCHEMA_VERSION, "alpha", json!([1, 2, 3])),
    )
    .unwrap();
    fs::write(
        d.join("beta.json"),
        envelope(SCHEMA_VERSION, "beta", json!({ "a": 1, "b": 2 })),
    )
    .unwrap();
    fs::write(
        d.join("gamma.json"),
        envelope(SCHEMA_VERSION, "gamma", json!("scalar")),
    )
    .unwrap();
    fs::write(
        d.join("delta.json"),
        envelope(SCHEMA_VERSION + 1, "delta", json!([])),
    )
    .unwrap();
    fs::write(d.join("omega.json"), b"not json").unwrap();
    fs::write(d.join("last_shutdown.json"), b"not a state").unwrap();
    fs::write(d.join("notes.txt"), b"ignored").unwrap();
    fs::write(d.join(format!("{TEMP_PREFIX}abc123")), b"half written").unwrap();
    fs::create_dir(d.join("folder.json")).unwrap();

    let (found, archived) = StateStore::new(d).scan().unwrap();

    let state = |name: &str, entries| FoundState {
        name: name.to_owned(),
        entries,
        saved_at: "2026-11-25T08:03:10.123Z".to_owned(),
    };
    assert_eq!(
        found,
        vec![state("alpha", 3), state("beta", 2), state("gamma", 1)]
    );
    let archived: Vec<_> = archived.iter().map(|a| a.file.clone()).collect();
    assert_eq!(archived, vec![d.join("delta.json"), d.join("omega.json")]);
    assert!(!d.join("delta.json").exists() && !d.join("omega.json").exists());
    assert!(
        d.join("last_shutdown.json").exists(),
        "the summary is not a state and stays"
    );
}

#[test]
fn leftover_temp_files_are_removed_and_other_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    let leftover = format!("{TEMP_PREFIX}x7Yq2a");
    fs::write(dir.path().join(&leftover), b"half written").unwrap();
    fs::write(dir.path().join("orders.json"), b"kept").unwrap();

    let removed = remove_leftover_temp_files(dir.path()).unwrap();

    assert_eq!(removed, vec![leftover.clone()]);
    assert!(!dir.path().join(&leftover).exists());
    assert_eq!(fs::read(dir.path().join("orders.json")).unwrap(), b"kept");
}

#[test]
fn scan_leaves_other_programs_json_and_the_configured_own_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("settings.json"), br#"{"theme":"dark"}"#).unwrap();
    fs::write(d.join("summary.json"), b"{ not even json").unwrap();
    let (found, archived) = StateStore::new(d).scan_excluding(&["summary"]).unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert!(archived.is_empty(), "{archived:?}");
    assert_eq!(
        fs::read(d.join("settings.json")).unwrap(),
        br#"{"theme":"dark"}"#
    );
    assert!(d.join("summary.json").exists());
}

#[actix_rt::test]
async fn a_slow_autosave_of_one_state_does_not_hold_back_a_forced_write_of_a_critical_one() {
    let dir = tempfile::tempdir().unwrap();
    let persister = Persister::new(
        dir.path(),
        dir.path().join("last_shutdown.json"),
        ClosingFlag::new(),
    )
    .snapshot_timeout(Duration::from_secs(30))
    .autosave(Some(Duration::from_millis(20)))
    .start();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let slow: SnapshotFn = Box::new(move || {
        let _ = started_tx.send(());
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            Ok(Snapshot::json(json!("late")))
        })
    });
    register(&persister, "slow", false, slow).await.unwrap();
    register(&persister, "queue", true, snapshot(json!([1, 2, 3])))
        .await
        .unwrap();
    // Wait (bounded) until an autosave is inside the slow snapshot.
    tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("an autosave started");
    let report = tokio::time::timeout(Duration::from_secs(5), persist_all(&persister, true))
        .await
        .expect("the forced write does not wait for the slow autosave");
    let queue = report
        .files
        .iter()
        .find(|f| f.name == "queue")
        .expect("queue");
    assert_eq!(queue.outcome, ParticipantOutcome::Completed, "{report:?}");
    assert_eq!(
        StateStore::new(dir.path())
            .load::<Vec<u32>>("queue")
            .unwrap()
            .into_value(),
        Some(vec![1, 2, 3])
    );
}
