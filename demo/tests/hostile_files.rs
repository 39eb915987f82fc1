//! Hostile files planted in the state directory before a run: for each file the library
//! writes, a symbolic link, a dangling symbolic link and a hard link to a decoy outside the
//! directory. After the run the decoy is unchanged and nothing was created outside, and the run
//! either replaced the link with a file of its own or refused to start, saying which file is
//! wrong and what to do. Also: a state directory writable by others, a dangling state
//! directory, a corrupt summary, a lock write that fails.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use child::{Bot, EXIT_TIMEOUT, Exit, READY_TIMEOUT, StateDir, assert_state_saved};

const DECOY: &[u8] = b"decoy outside the state directory: must stay as it is\n";

#[derive(Clone, Copy, Debug)]
enum Link {
    Symbolic,
    Dangling,
    Hard,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Boot refuses with exit 2 and a message naming the file.
    Refused,
    /// The run goes on; at its end the name holds a regular file of the bot's own.
    Replaced,
}

/// Each file the library writes, and what a planted link there must lead to. `logs` is a
/// directory: it cannot be hard-linked.
const TABLE: [(&str, Expect, &[Link]); 7] = [
    (
        "logs/log.txt",
        Expect::Refused,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
    (
        "logs/crash.log",
        Expect::Refused,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
    ("logs", Expect::Refused, &[Link::Symbolic, Link::Dangling]),
    (
        "bot.lock",
        Expect::Refused,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
    (
        "last_shutdown.json",
        Expect::Replaced,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
    (
        "exit_code",
        Expect::Replaced,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
    (
        "queue_cache.json",
        Expect::Replaced,
        &[Link::Symbolic, Link::Dangling, Link::Hard],
    ),
];

/// A state directory (0700) with `logs/`, a decoy file and a decoy directory beside it.
struct Scene {
    state: StateDir,
}

impl Scene {
    fn new() -> Self {
        let state = StateDir::new();
        fs::create_dir_all(state.file("logs")).unwrap();
        for dir in [state.path().to_owned(), state.file("logs")] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        }
        let scene = Self { state };
        fs::write(scene.decoy(), DECOY).unwrap();
        fs::create_dir(scene.decoy_dir()).unwrap();
        scene
    }

    fn outside(&self, name: &str) -> PathBuf {
        self.state.path().parent().unwrap().join(name)
    }

    fn decoy(&self) -> PathBuf {
        self.outside("decoy")
    }

    fn decoy_dir(&self) -> PathBuf {
        self.outside("decoy-dir")
    }

    /// Plants `link` at `name`; returns what a dangling link points to.
    fn plant(&self, name: &str, link: Link) -> PathBuf {
        let at = self.state.file(name);
        if name == "logs" {
            fs::remove_dir(&at).unwrap();
        }
        let nowhere = self.outside("created-outside");
        match (link, name == "logs") {
            (Link::Symbolic, false) => symlink(self.decoy(), &at).unwrap(),
            (Link::Symbolic, true) => symlink(self.decoy_dir(), &at).unwrap(),
            (Link::Dangling, _) => symlink(&nowhere, &at).unwrap(),
            (Link::Hard, _) => fs::hard_link(self.decoy(), &at).unwrap(),
        }
        nowhere
    }

    fn assert_outside_untouched(&self, nowhere: &Path, case: &str, exit: &Exit) {
        assert_eq!(
            fs::read(self.decoy()).unwrap(),
            DECOY,
            "{case}: the decoy changed\n{exit}"
        );
        assert_eq!(
            fs::read_dir(self.decoy_dir()).unwrap().count(),
            0,
            "{case}: a file appeared in the decoy directory\n{exit}"
        );
        assert!(
            fs::symlink_metadata(nowhere).is_err(),
            "{case}: something was created at the dangling link's target\n{exit}"
        );
    }
}

/// Boots on the scene; once ready, SIGTERM; the exit.
fn run(scene: &Scene) -> Exit {
    let mut bot = Bot::start(&scene.state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    bot.wait_exit(EXIT_TIMEOUT)
}

/// Boots on the scene, expecting a refusal before `ready`.
fn refused(scene: &Scene) -> Exit {
    let mut bot = Bot::start(&scene.state, &[]);
    bot.wait_exit(READY_TIMEOUT)
}

#[test]
fn links_planted_at_each_written_file_never_change_a_decoy_and_are_replaced_or_refused() {
    for (name, expect, links) in TABLE {
        for &link in links {
            let case = format!("{link:?} link at {name}");
            let scene = Scene::new();
            let nowhere = scene.plant(name, link);
            let path = scene.state.file(name);

            let exit = match expect {
                Expect::Refused => refused(&scene),
                Expect::Replaced => run(&scene),
            };

            scene.assert_outside_untouched(&nowhere, &case, &exit);
            match expect {
                Expect::Refused => {
                    assert_eq!(exit.code(), 2, "{case}\n{exit}");
                    assert!(
                        exit.stderr.contains("refusing")
                            && exit.stderr.contains(&path.display().to_string()),
                        "{case}: the message names the file\n{exit}"
                    );
                    assert!(
                        !exit.stdout.contains("ready"),
                        "{case}: refused yet ready\n{exit}"
                    );
                    assert!(
                        !scene.state.file("bot.lock").exists() || name == "bot.lock",
                        "{case}: a refused boot left its lock\n{exit}"
                    );
                }
                Expect::Replaced => {
                    assert_eq!(exit.code(), 0, "{case}\n{exit}");
                    assert_state_saved(&scene.state, &exit);
                    let meta = fs::symlink_metadata(&path).unwrap();
                    assert!(meta.is_file(), "{case}: not replaced by a file\n{exit}");
                    assert_eq!(meta.nlink(), 1, "{case}\n{exit}");
                    assert_eq!(meta.mode() & 0o777, 0o600, "{case}\n{exit}");
                }
            }
        }
    }
}

#[test]
fn a_state_directory_writable_by_others_is_refused_with_exit_2_and_the_fix() {
    let state = StateDir::new();
    fs::create_dir(state.path()).unwrap();
    fs::set_permissions(state.path(), fs::Permissions::from_mode(0o777)).unwrap();

    let exit = refused(&Scene { state });

    assert_eq!(exit.code(), 2, "{exit}");
    assert!(exit.stderr.contains("writable by others"), "{exit}");
    assert!(exit.stderr.contains("chmod 700 "), "{exit}");
}

#[test]
fn a_group_writable_state_directory_boots_with_a_warning_in_the_boot_report() {
    let scene = Scene::new();
    fs::set_permissions(scene.state.path(), fs::Permissions::from_mode(0o770)).unwrap();

    let mut bot = Bot::start(&scene.state, &[]);
    let line = bot.wait_for_line("warning", READY_TIMEOUT, |l| l.contains("boot: warning"));
    assert!(line.contains("writable by its group"), "{line}");
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    assert_eq!(bot.wait_exit(EXIT_TIMEOUT).code(), 0);
}

#[test]
fn a_missing_state_directory_is_created_owner_only() {
    let scene = Scene {
        state: StateDir::new(),
    };
    let exit = run(&scene);
    assert_eq!(exit.code(), 0, "{exit}");
    let mode = fs::metadata(scene.state.path()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o700, "{exit}");
}

#[test]
fn a_dangling_state_directory_link_is_explained_not_file_exists() {
    let state = StateDir::new();
    let target = state.path().parent().unwrap().join("gone");
    symlink(&target, state.path()).unwrap();

    let exit = refused(&Scene { state });

    assert_eq!(exit.code(), 2, "{exit}");
    assert!(!exit.stderr.contains("os error 17"), "{exit}");
    assert!(exit.stderr.contains("does not exist"), "{exit}");
    assert!(
        exit.stderr
            .contains(&format!("mkdir -m 700 {}", target.display())),
        "{exit}"
    );
}

#[test]
fn a_corrupt_summary_is_reported_corrupt_and_archived_not_a_fresh_start() {
    let scene = Scene::new();
    fs::write(
        scene.state.file("last_shutdown.json"),
        b"{\"version\":1,\"started_",
    )
    .unwrap();

    let mut bot = Bot::start(&scene.state, &[]);
    let line = bot.wait_for_line("outcome unknown", READY_TIMEOUT, |l| l.starts_with("boot:"));
    assert!(line.contains("corrupt"), "{line}\n{}", bot.output_so_far());
    assert!(!line.contains("fresh start"), "{line}");
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert!(exit.stdout.contains("last_shutdown.json.broken."), "{exit}");
    let archived = fs::read_dir(scene.state.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("last_shutdown.json.broken.")
        })
        .count();
    assert_eq!(archived, 1, "{exit}");
}

#[test]
fn a_lock_write_that_fails_at_boot_leaves_no_lock_file() {
    use std::os::unix::process::CommandExt as _;
    let state = StateDir::new();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_demo-bot"));
    command.arg("--state-dir").arg(state.path());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // The first file the boot writes is the lock: 8 bytes cannot hold its body. The
            // write fails with EFBIG instead of the process dying of SIGXFSZ.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 8,
                rlim_max: 8,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let exit = Bot::start_command(command).wait_exit(READY_TIMEOUT);

    assert_eq!(exit.code(), 1, "{exit}");
    assert!(exit.stderr.contains("bot.lock"), "{exit}");
    assert!(
        !state.file("bot.lock").exists(),
        "the failed boot left bot.lock\n{exit}"
    );
}
