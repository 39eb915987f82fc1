//! The opener every file the library writes goes through, attacked with what an intruder with
//! write access to the state directory could plant: symbolic links (live and dangling), hard
//! links to a decoy outside, FIFOs, loose permissions. The decoy is never changed; each
//! refusal names the file and what to do.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use actix_shutdown_actors::files::{
    self, Problem, UnsafePath, ensure_private_dir, open_append, open_for_reading, open_read_write,
    prepare_state_dir, write_atomic,
};
use actix_shutdown_actors::{CrashLog, LogOptions, LogQueue, LoggerError};

const DECOY: &[u8] = b"decoy: must stay as it is\n";

/// A temp dir with `state/` (0700) and a decoy file outside it.
struct Scene {
    tmp: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let scene = Self { tmp };
        fs::create_dir(scene.state()).unwrap();
        fs::set_permissions(scene.state(), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(scene.decoy(), DECOY).unwrap();
        fs::set_permissions(scene.decoy(), fs::Permissions::from_mode(0o644)).unwrap();
        scene
    }

    fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    fn decoy(&self) -> PathBuf {
        self.tmp.path().join("decoy")
    }

    fn assert_decoy_unchanged(&self) {
        assert_eq!(
            fs::read(self.decoy()).unwrap(),
            DECOY,
            "the decoy was changed"
        );
        assert_eq!(
            fs::metadata(self.decoy()).unwrap().mode() & 0o777,
            0o644,
            "the decoy's mode was changed"
        );
    }
}

fn refusal(error: &std::io::Error) -> &UnsafePath {
    UnsafePath::find(error).unwrap_or_else(|| panic!("not a refusal: {error:?}"))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

type Opener = fn(&Path) -> std::io::Result<fs::File>;
const WRITERS: [(&str, Opener); 2] = [
    ("open_append", open_append),
    ("open_read_write", open_read_write),
];

#[test]
fn a_symlink_to_a_decoy_is_refused_naming_the_file_and_its_target() {
    for (opener, open) in WRITERS {
        let scene = Scene::new();
        let path = scene.state().join("log.txt");
        symlink(scene.decoy(), &path).unwrap();

        let error = open(&path).expect_err(opener);

        let refused = refusal(&error);
        assert_eq!(refused.path, path, "{opener}");
        assert!(
            matches!(refused.problem, Problem::Symlink { .. }),
            "{opener}: {refused:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("symbolic link"), "{message}");
        assert!(
            message.contains(&scene.decoy().display().to_string()),
            "{message}"
        );
        assert!(message.contains("rm "), "says what to do: {message}");
        scene.assert_decoy_unchanged();
    }
}

#[test]
fn a_dangling_symlink_is_refused_and_nothing_is_created_at_its_target() {
    for (opener, open) in WRITERS {
        let scene = Scene::new();
        let path = scene.state().join("crash.log");
        let target = scene.tmp.path().join("created-outside");
        symlink(&target, &path).unwrap();

        let error = open(&path).expect_err(opener);

        assert!(
            matches!(refusal(&error).problem, Problem::Symlink { .. }),
            "{opener}"
        );
        assert!(!target.exists(), "{opener} created a file outside");
    }
}

#[test]
fn a_hard_link_to_a_decoy_is_refused_and_the_decoy_is_unchanged() {
    for (opener, open) in WRITERS {
        let scene = Scene::new();
        let path = scene.state().join("bot.lock");
        fs::hard_link(scene.decoy(), &path).unwrap();

        let error = open(&path).expect_err(opener);

        assert_eq!(
            refusal(&error).problem,
            Problem::HardLinked { links: 2 },
            "{opener}"
        );
        assert!(error.to_string().contains("2 hard links"), "{error}");
        scene.assert_decoy_unchanged();
    }
}

#[test]
fn a_fifo_is_refused_at_once_instead_of_blocking_the_open() {
    let scene = Scene::new();
    let path = scene.state().join("queue_cache.json");
    mkfifo(&path);
    let openers: [(&str, Opener); 3] = [
        ("open_append", open_append),
        ("open_read_write", open_read_write),
        ("open_for_reading", open_for_reading),
    ];
    for (opener, open) in openers {
        let error = open(&path).expect_err(opener);
        assert_eq!(
            refusal(&error).problem,
            Problem::NotRegular { kind: "FIFO" },
            "{opener}"
        );
    }
}

#[test]
fn a_new_file_is_owner_only_and_loose_bits_left_on_an_old_one_are_removed() {
    let scene = Scene::new();
    let new = scene.state().join("log.txt");
    open_append(&new).unwrap();
    assert_eq!(fs::metadata(&new).unwrap().mode() & 0o777, 0o600);

    let old = scene.state().join("crash.log");
    fs::write(&old, b"old\n").unwrap();
    fs::set_permissions(&old, fs::Permissions::from_mode(0o666)).unwrap();
    open_append(&old).unwrap();
    assert_eq!(fs::metadata(&old).unwrap().mode() & 0o777, 0o600);
    assert_eq!(
        fs::read(&old).unwrap(),
        b"old\n",
        "opening does not truncate"
    );
}

#[test]
fn a_file_of_another_user_is_refused() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return; // only root can give a file away
    }
    let scene = Scene::new();
    let path = scene.state().join("log.txt");
    fs::write(&path, b"").unwrap();
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();

    let error = open_append(&path).unwrap_err();

    assert_eq!(
        refusal(&error).problem,
        Problem::ForeignOwner {
            owner: 65534,
            us: 0
        }
    );
}

#[test]
fn logs_directory_is_created_0700_and_refused_as_a_symlink() {
    let scene = Scene::new();
    let logs = scene.state().join("logs");
    ensure_private_dir(&logs).unwrap();
    assert_eq!(fs::metadata(&logs).unwrap().mode() & 0o777, 0o700);

    let outside = scene.tmp.path().join("outside-logs");
    fs::create_dir(&outside).unwrap();
    let linked = scene.state().join("linked-logs");
    symlink(&outside, &linked).unwrap();
    let error = ensure_private_dir(&linked).unwrap_err();
    assert!(
        matches!(refusal(&error).problem, Problem::Symlink { .. }),
        "{error}"
    );

    let loose = scene.state().join("loose-logs");
    fs::create_dir(&loose).unwrap();
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).unwrap();
    let error = ensure_private_dir(&loose).unwrap_err();
    assert!(
        matches!(refusal(&error).problem, Problem::WritableByOthers { .. }),
        "{error}"
    );
}

#[test]
fn the_logger_and_the_crash_log_refuse_a_symlinked_logs_directory() {
    let scene = Scene::new();
    let outside = scene.tmp.path().join("outside-logs");
    fs::create_dir(&outside).unwrap();
    symlink(&outside, scene.state().join("logs")).unwrap();

    let log = LogQueue::start(&scene.state().join("logs/log.txt"), &LogOptions::default());
    let Err(LoggerError::Open { source, .. }) = log else {
        panic!("the logger started through a symlinked logs/")
    };
    assert!(UnsafePath::find(&source).is_some(), "{source}");
    let crash = CrashLog::open(&scene.state().join("logs/crash.log"));
    assert!(
        crash.is_err(),
        "the crash log opened through a symlinked logs/"
    );
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "a file was created outside"
    );
}

#[test]
fn an_atomic_write_replaces_a_link_and_leaves_its_target_alone() {
    let scene = Scene::new();
    let via_symlink = scene.state().join("last_shutdown.json");
    symlink(scene.decoy(), &via_symlink).unwrap();
    let via_dangling = scene.state().join("exit_code");
    let nowhere = scene.tmp.path().join("nowhere");
    symlink(&nowhere, &via_dangling).unwrap();
    let via_hard_link = scene.state().join("queue_cache.json");
    fs::hard_link(scene.decoy(), &via_hard_link).unwrap();

    for path in [&via_symlink, &via_dangling, &via_hard_link] {
        write_atomic(path, b"new\n").unwrap();
        let meta = fs::symlink_metadata(path).unwrap();
        assert!(meta.is_file(), "{} is a regular file now", path.display());
        assert_eq!(meta.nlink(), 1, "{}", path.display());
        assert_eq!(meta.mode() & 0o777, 0o600, "{}", path.display());
        assert_eq!(fs::read(path).unwrap(), b"new\n");
    }
    scene.assert_decoy_unchanged();
    assert!(!nowhere.exists(), "the dangling link's target was created");
    let leftovers = files::remove_leftover_temp_files(&scene.state()).unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_state_directory_writable_by_others_is_refused_with_the_fix() {
    let scene = Scene::new();
    fs::set_permissions(scene.state(), fs::Permissions::from_mode(0o777)).unwrap();

    let error = prepare_state_dir(&scene.state()).unwrap_err();

    assert!(matches!(
        refusal(&error).problem,
        Problem::WritableByOthers { mode: 0o777 }
    ));
    let message = error.to_string();
    assert!(
        message.contains(&format!("chmod 700 {}", scene.state().display())),
        "{message}"
    );
}

#[test]
fn a_group_writable_or_foreign_state_directory_is_accepted_with_a_warning() {
    let scene = Scene::new();
    fs::set_permissions(scene.state(), fs::Permissions::from_mode(0o770)).unwrap();

    let warnings = prepare_state_dir(&scene.state()).unwrap();

    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("writable by its group"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("subdirectory"), "{warnings:?}");
    assert!(prepare_state_dir(&scene.state()).is_ok());

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        fs::set_permissions(scene.state(), fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(scene.state(), Some(65534), None).unwrap();
        let warnings = prepare_state_dir(&scene.state()).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("belongs to uid 65534"), "{warnings:?}");
    }
}

#[test]
fn a_missing_state_directory_is_created_0700_and_a_dangling_one_is_explained() {
    let scene = Scene::new();
    let missing = scene.tmp.path().join("a/b/state");
    assert!(prepare_state_dir(&missing).unwrap().is_empty());
    assert_eq!(fs::metadata(&missing).unwrap().mode() & 0o777, 0o700);

    let dangling = scene.tmp.path().join("dangling");
    let target = scene.tmp.path().join("gone");
    symlink(&target, &dangling).unwrap();
    let error = prepare_state_dir(&dangling).unwrap_err();
    let message = error.to_string();
    assert!(matches!(
        refusal(&error).problem,
        Problem::DanglingStateDir { .. }
    ));
    assert!(!message.contains("os error"), "{message}");
    assert!(
        message.contains(&format!("mkdir -m 700 {}", target.display())),
        "{message}"
    );

    // A state directory that is itself a link to a directory of ours is fine.
    let linked = scene.tmp.path().join("linked-state");
    symlink(scene.state(), &linked).unwrap();
    assert!(prepare_state_dir(&linked).unwrap().is_empty());
}
