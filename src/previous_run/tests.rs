//! The previous run as the three files tell it.

use super::*;

fn summary(exit_code: i32) -> ShutdownReport {
    let mut report = ShutdownReport::new(
        "signal:SIGTERM",
        actix_shutdown_actors::RequestSource::Signal,
    );
    report.exit_code = exit_code;
    report.clean = exit_code == 0;
    // Fixed, so that two calls compare equal whatever the clock says between them.
    report.started_at = "2026-11-26T09:59:59.000Z".into();
    report.finished_at = "2026-11-26T10:00:00.000Z".into();
    report
}

fn state(summary_code: Option<i32>, marker: Option<&str>) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::default().state_dir(dir.path());
    if let Some(code) = summary_code {
        std::fs::write(
            config.summary_path(),
            serde_json::to_vec(&summary(code)).unwrap(),
        )
        .unwrap();
    }
    if let Some(marker) = marker {
        std::fs::write(config.exit_marker_path(), marker).unwrap();
    }
    (dir, config)
}

fn read(config: &Config) -> PreviousRun {
    PreviousRun::read(config, PreviousLock::None, &mut Vec::new())
}

#[test]
fn a_summary_and_a_marker_that_agree_are_the_last_run() {
    let (_dir, config) = state(Some(0), Some("0\n"));
    let previous = read(&config);
    assert!(matches!(&previous, PreviousRun::Finished(s) if s.exit_code == 0));
    assert!(
        previous.to_string().contains("shut down cleanly"),
        "{previous}"
    );
}

#[test]
fn a_marker_that_disagrees_with_the_summary_means_the_last_run_left_none() {
    let (_dir, config) = state(Some(0), Some("1\n"));
    let previous = read(&config);
    assert_eq!(
        previous,
        PreviousRun::Unrecorded {
            exit_code: Some(1),
            earlier_summary: Some(Box::new(summary(0))),
        }
    );
    let said = previous.to_string();
    assert!(!said.contains("cleanly"), "{said}");
    assert!(
        said.contains("exit marker says 1") && said.contains("earlier run"),
        "{said}"
    );
}

#[test]
fn a_marker_without_a_summary_is_an_unrecorded_run() {
    let (_dir, config) = state(None, Some("garbage"));
    assert_eq!(
        read(&config),
        PreviousRun::Unrecorded {
            exit_code: None,
            earlier_summary: None,
        }
    );
}

#[test]
fn a_run_that_lost_something_is_not_called_clean() {
    let (_dir, config) = state(None, None);
    let mut lossy = summary(1);
    lossy.lost = vec!["task worker-1 aborted".into()];
    std::fs::write(config.summary_path(), serde_json::to_vec(&lossy).unwrap()).unwrap();
    std::fs::write(config.exit_marker_path(), "1\n").unwrap();
    let said = read(&config).to_string();
    assert!(said.contains("lost: task worker-1 aborted"), "{said}");
    assert!(!said.contains("cleanly"), "{said}");
}

#[test]
fn a_corrupt_summary_is_archived_and_the_outcome_unknown_not_a_fresh_start() {
    let (_dir, config) = state(None, Some("0\n"));
    std::fs::write(config.summary_path(), b"{\"version\":2,\"star").unwrap();
    let mut archived = Vec::new();

    let previous = PreviousRun::read(&config, PreviousLock::None, &mut archived);

    assert!(
        matches!(
            &previous,
            PreviousRun::Unknown {
                exit_code: Some(0),
                ..
            }
        ),
        "{previous:?}"
    );
    let said = previous.to_string();
    assert!(
        said.contains("unknown") && said.contains("corrupt"),
        "{said}"
    );
    assert_eq!(archived.len(), 1, "{archived:?}");
    assert!(
        !config.summary_path().exists(),
        "the corrupt summary was archived"
    );
}

#[cfg(unix)]
#[test]
fn a_summary_that_is_a_symlink_or_a_fifo_is_archived_without_being_read() {
    let (dir, config) = state(None, None);
    let decoy = dir.path().join("decoy.json");
    std::fs::write(&decoy, serde_json::to_vec(&summary(0)).unwrap()).unwrap();
    std::os::unix::fs::symlink(&decoy, config.summary_path()).unwrap();
    let mut archived = Vec::new();
    let previous = PreviousRun::read(&config, PreviousLock::None, &mut archived);
    assert!(
        matches!(previous, PreviousRun::Unknown { .. }),
        "{previous:?}"
    );
    assert!(archived[0].why.contains("symbolic link"), "{archived:?}");

    let fifo =
        std::ffi::CString::new(config.exit_marker_path().as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    // A FIFO as the marker: read without blocking, reported unreadable.
    assert_eq!(
        read(&config),
        PreviousRun::Unrecorded {
            exit_code: None,
            earlier_summary: None
        }
    );
}

#[cfg(unix)]
#[test]
fn inspecting_reports_an_unusable_summary_and_leaves_it_in_place() {
    let (_dir, config) = state(None, None);
    let fifo =
        std::ffi::CString::new(config.summary_path().as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

    let said = inspect_previous_run(&config).unwrap_err().to_string();

    assert!(
        said.contains("FIFO") && said.contains("next boot archives it"),
        "{said}"
    );
    assert!(
        config.summary_path().exists(),
        "inspecting archived the summary"
    );
}

#[test]
fn nothing_on_disk_is_a_fresh_start() {
    let (_dir, config) = state(None, None);
    assert_eq!(read(&config), PreviousRun::Fresh);
}
