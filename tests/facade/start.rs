//! Starting where the actors cannot run.

use actix_shutdown::{Config, Shutdown, StartErrorKind};

#[tokio::test]
async fn start_outside_an_actix_system_fails_with_the_config_code_and_leaves_no_lock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = super::support::config(tmp.path());
    let lock = config.lock_path();
    let state_dir = config.get().state_dir().to_owned();

    let error = Shutdown::builder(config)
        .start()
        .await
        .expect_err("no actix System here");

    assert!(
        matches!(error.kind(), StartErrorKind::NoActixSystem),
        "{error:?}"
    );
    assert_eq!(error.code(), Config::default().get().exit_codes().config);
    assert!(error.to_string().contains("#[actix::main]"), "{error}");
    assert!(!lock.exists(), "a lock was left at {}", lock.display());
    assert!(!state_dir.exists(), "the state directory was created");
}
