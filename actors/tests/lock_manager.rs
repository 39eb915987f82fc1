//! LockManager on real files in a temp dir: the lock body, a second instance refused, a stale
//! lock taken over, symlinks refused, and ReleaseLock through the actor.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::{LockReleased, ReleaseLock};
use actix_shutdown_actors::{
    LockError, LockHolder, LockInfo, LockManager, PreviousLock, read_lock_info,
};

const REPLY: Duration = Duration::from_secs(10);

fn lock_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("bot.lock")
}

fn other_process() -> LockInfo {
    LockInfo {
        pid: 4_194_000,
        started_at: "2026-11-24T22:00:00.000Z".to_owned(),
        hostname: "worker-7".to_owned(),
        // Longer than this process's body, so a take-over that does not truncate shows.
        exe: format!("/opt/{}/demo-bot", "releases/".repeat(64)),
        version: "0.9.0".to_owned(),
    }
}

fn body(path: &Path) -> LockInfo {
    serde_json::from_slice(&fs::read(path).unwrap()).expect("the lock file holds LockInfo JSON")
}

#[test]
fn acquire_writes_this_process_lock_info() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);

    let (lock, previous) = LockManager::acquire(&path, "1.2.3").unwrap();

    assert_eq!(previous, PreviousLock::None);
    assert!(lock.is_held());
    assert_eq!(lock.path(), path);
    let info = body(&path);
    assert_eq!(info.pid, std::process::id());
    assert_eq!(info.version, "1.2.3");
    assert_eq!(
        info.exe,
        std::env::current_exe().unwrap().display().to_string()
    );
    assert!(!info.hostname.is_empty());
    humantime::parse_rfc3339(&info.started_at).expect("started_at is RFC 3339 UTC");
    assert_eq!(read_lock_info(&path), Some(info));
}

#[test]
fn second_acquire_in_the_same_process_is_refused_without_naming_this_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    let (_held, _) = LockManager::acquire(&path, "1.2.3").unwrap();
    let holder_body = fs::read(&path).unwrap();

    let refused = LockManager::acquire(&path, "1.2.4").map(|_| ());

    let Err(error) = refused else {
        panic!("the second acquire succeeded")
    };
    let message = error.to_string();
    assert!(
        matches!(&error, LockError::AlreadyRunning { path: p, holder: LockHolder(None) } if *p == path),
        "{error:?}"
    );
    assert!(
        !message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("could not be identified"), "{message}");
    assert!(
        message.contains(&format!("fuser -v {}", path.display())),
        "{message}"
    );
    assert_eq!(
        fs::read(&path).unwrap(),
        holder_body,
        "the holder's lock file is untouched"
    );
}

/// A lock file naming `pid` on this host, held (OS lock) by this process through its own open
/// file description, as another instance would hold it.
fn held_lock_naming(path: &Path, pid: u32) -> fs::File {
    let info = LockInfo {
        pid,
        ..LockInfo::current("0.9.0")
    };
    fs::write(path, serde_json::to_vec_pretty(&info).unwrap()).unwrap();
    let file = fs::File::open(path).unwrap();
    file.lock().unwrap();
    file
}

#[test]
fn holder_is_named_only_while_the_process_its_file_names_is_alive() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    let mut live = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let _held = held_lock_naming(&path, live.id());

    let named = LockManager::acquire(&path, "1.2.3")
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(&named, LockError::AlreadyRunning { holder: LockHolder(Some(info)), .. } if info.pid == live.id()),
        "{named:?}"
    );
    assert!(
        named.to_string().contains(&format!("pid {}", live.id())),
        "{named}"
    );

    live.kill().unwrap();
    live.wait().unwrap();
    let dead = live.id();
    let unnamed = LockManager::acquire(&path, "1.2.3")
        .map(|_| ())
        .unwrap_err();
    let message = unnamed.to_string();
    assert!(
        matches!(
            &unnamed,
            LockError::AlreadyRunning {
                holder: LockHolder(None),
                ..
            }
        ),
        "{unnamed:?}"
    );
    assert!(!message.contains(&format!("pid {dead}")), "{message}");
    assert!(message.contains("could not be identified"), "{message}");
    assert!(
        message.contains(&format!("lsof {}", path.display())),
        "{message}"
    );
}

#[test]
fn lock_file_left_unlocked_is_stale_with_its_info_and_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    fs::write(&path, serde_json::to_vec_pretty(&other_process()).unwrap()).unwrap();

    let (_lock, previous) = LockManager::acquire(&path, "1.2.3").unwrap();

    assert_eq!(previous, PreviousLock::Stale(Some(other_process())));
    assert_eq!(body(&path).pid, std::process::id());
}

#[test]
fn lock_file_left_with_garbage_is_stale_without_info() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    fs::write(&path, b"{\"pid\": 12").unwrap();

    let (_lock, previous) = LockManager::acquire(&path, "1.2.3").unwrap();

    assert_eq!(previous, PreviousLock::Stale(None));
    assert_eq!(body(&path).pid, std::process::id());
}

#[test]
fn a_huge_lock_file_is_stale_without_info_and_never_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    // 64 GiB, sparse: reading it whole would ask for more memory than the machine has.
    fs::File::create(&path)
        .and_then(|f| f.set_len(64 << 30))
        .unwrap();

    assert_eq!(read_lock_info(&path), None);
    let (_lock, previous) = LockManager::acquire(&path, "1.2.3").unwrap();
    assert_eq!(previous, PreviousLock::Stale(None));
    assert_eq!(body(&path).pid, std::process::id());
}

#[cfg(unix)]
#[test]
fn a_fifo_at_the_lock_path_is_not_waited_on_when_read_without_locking() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // Opening a FIFO for reading waits for a writer, forever: it is refused instead.
    assert_eq!(read_lock_info(&path), None);
}

#[cfg(unix)]
#[test]
fn symlink_at_the_lock_path_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    let target = dir.path().join("precious.txt");
    fs::write(&target, b"do not overwrite").unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();

    let refused = LockManager::acquire(&path, "1.2.3").map(|_| ());

    assert!(
        matches!(&refused, Err(LockError::Symlink { path: p }) if *p == path),
        "{refused:?}"
    );
    assert_eq!(fs::read(&target).unwrap(), b"do not overwrite");
}

#[cfg(unix)]
#[test]
fn lock_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);

    let (_lock, _) = LockManager::acquire(&path, "1.2.3").unwrap();

    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[actix_rt::test]
async fn release_lock_removes_the_file_once_and_frees_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_path(&dir);
    let (lock, _) = LockManager::acquire(&path, "1.2.3").unwrap();
    let lock = lock.start();

    let first = lock
        .send(ReleaseLock)
        .timeout(REPLY)
        .await
        .expect("the LockManager answers");
    assert_eq!(first.unwrap(), LockReleased { removed: true });
    assert!(!path.exists());

    let second = lock
        .send(ReleaseLock)
        .timeout(REPLY)
        .await
        .expect("the LockManager answers");
    assert_eq!(second.unwrap(), LockReleased { removed: false });

    let (_next, previous) = LockManager::acquire(&path, "1.2.4").unwrap();
    assert_eq!(
        previous,
        PreviousLock::None,
        "a clean release leaves no stale lock behind"
    );
}
