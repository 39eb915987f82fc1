//! The signal handlers belong to one `Shutdown` per process: a boot that fails gives them back
//! for the next one, and a second `Shutdown` that asks for them is refused before it touches
//! its state directory (no lock left behind). One test: the handlers are process-wide.
#![cfg(unix)]

use actix_shutdown::{Config, Shutdown, StartErrorKind};

fn config(dir: &std::path::Path) -> Config {
    Config::default()
        .state_dir(dir)
        .signals(true)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false)
}

#[actix_rt::test]
async fn a_failed_boot_gives_the_signal_handlers_back_and_a_second_shutdown_is_refused_cleanly() {
    let tmp = tempfile::tempdir().expect("tempdir");

    // A boot that fails after taking the handlers (an unsafe state directory).
    let loose = tmp.path().join("loose");
    std::fs::create_dir(&loose).expect("dir");
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod 777");
    let refused = Shutdown::builder(config(&loose)).start().await;
    assert!(
        refused.is_err(),
        "a directory writable by others is refused"
    );

    // The next boot gets the handlers.
    let first = tmp.path().join("first");
    let (handle, _boot) = Shutdown::builder(config(&first))
        .start()
        .await
        .expect("the handlers were given back");

    // A second Shutdown asking for them is refused before it takes a lock.
    let second = tmp.path().join("second");
    let error = Shutdown::builder(config(&second))
        .start()
        .await
        .expect_err("the handlers are taken");
    assert!(
        matches!(error.kind(), StartErrorKind::Signals(_)),
        "{error}"
    );
    assert!(error.to_string().contains("signals(false)"), "{error}");
    assert!(!second.join("bot.lock").exists(), "no lock left behind");

    assert!(handle.shutdown("test").await.ready);
    handle.wait().await;
}
