//! Boot reads only regular files: a FIFO in place of `last_shutdown.json` and a symbolic link in
//! place of a state file are archived without being opened (the boot does not hang on the
//! FIFO; the link's target is neither read nor changed).
#![cfg(unix)]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;

use actix_shutdown::{Config, Shutdown};

fn mkfifo(path: &std::path::Path) {
    let c_path = CString::new(path.as_os_str().as_bytes()).expect("a path without NUL");
    // SAFETY: a valid NUL-terminated path; mkfifo does not keep the pointer.
    let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

#[actix_rt::test]
async fn fifo_summary_and_symlinked_state_are_archived_unopened() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    std::fs::create_dir(&dir).expect("state dir");
    mkfifo(&dir.join("last_shutdown.json"));
    let decoy = tmp.path().join("decoy.json");
    let decoy_bytes = br#"{"schema":1,"name":"queue","saved_at":"x","data":[1,2,3]}"#;
    std::fs::write(&decoy, decoy_bytes).expect("write the decoy");
    std::os::unix::fs::symlink(&decoy, dir.join("queue.json")).expect("symlink");

    let config = Config::default()
        .state_dir(&dir)
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false);
    let (shutdown, boot) = Shutdown::builder(config).start().await.expect("boot");

    let mut reasons: Vec<(String, String)> = boot
        .archived
        .iter()
        .map(|a| {
            let name = a.file.file_name().expect("a file name").to_string_lossy();
            (name.into_owned(), a.why.clone())
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{boot}");
    assert_eq!(reasons[0].0, "last_shutdown.json");
    assert!(reasons[0].1.contains("FIFO"), "{boot}");
    assert_eq!(reasons[1].0, "queue.json");
    assert!(reasons[1].1.contains("symbolic link"), "{boot}");
    let fifo = boot
        .archived
        .iter()
        .find(|a| a.why.contains("FIFO"))
        .expect("the FIFO");
    let kind = std::fs::symlink_metadata(&fifo.archived_as)
        .expect("archived")
        .file_type();
    assert!(kind.is_fifo(), "the FIFO itself was moved aside");
    assert!(
        boot.state("queue").is_none(),
        "nothing read through the link"
    );
    assert_eq!(std::fs::read(&decoy).expect("the decoy"), decoy_bytes);

    assert!(shutdown.shutdown("test").await.ready);
    shutdown.wait().await;
    assert_eq!(std::fs::read(&decoy).expect("the decoy"), decoy_bytes);
}
