//! Boot never opens a state file that is not a regular file: a FIFO at a state's path (which
//! would block a reader until a writer comes) is archived without being opened, and the bot
//! is ready and still acts on a signal.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, StateDir};

/// The boot's promise for a hostile state file: ready this soon.
const READY_WITH_A_FIFO: Duration = Duration::from_secs(5);

#[test]
fn fifo_state_file_is_archived_unopened_and_the_bot_becomes_ready() {
    let state = StateDir::new();
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(state.path())
        .expect("create the state dir");
    let fifo = state.file("queue_cache.json");
    let c_path = CString::new(fifo.as_os_str().as_bytes()).expect("a path without NUL");
    // SAFETY: a valid NUL-terminated path; mkfifo does not keep the pointer.
    let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo: {}", std::io::Error::last_os_error());

    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_WITH_A_FIFO);
    let archived = state.archives_of("queue_cache.json");
    assert_eq!(
        archived.len(),
        1,
        "one archive of the FIFO: {archived:?}\n{}",
        bot.output_so_far()
    );
    let kind = std::fs::symlink_metadata(&archived[0])
        .expect("the archive exists")
        .file_type();
    assert!(kind.is_fifo(), "the FIFO itself was moved aside");
    assert!(
        bot.stdout_lines()
            .iter()
            .any(|l| l.contains("archived") && l.contains("FIFO")),
        "the boot report says what it archived and why\n{}",
        bot.output_so_far()
    );

    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "the signal is acted on\n{exit}");
    let kind = std::fs::symlink_metadata(state.file("queue_cache.json"))
        .expect("the queue was saved at shutdown")
        .file_type();
    assert!(kind.is_file(), "a regular file replaced the FIFO");
}
