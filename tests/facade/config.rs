//! `Config::validate` refuses what cannot work, naming the setting.

use std::time::Duration;

use actix_shutdown::{Config, ConfigError, ExitCodes};

#[test]
fn a_duration_longer_than_a_day_or_an_exit_code_outside_0_to_255_is_refused_by_name() {
    let error = Config::default()
        .grace(Duration::MAX)
        .validate()
        .expect_err("Duration::MAX as a grace");
    assert!(
        matches!(error, ConfigError::TooLong { field: "grace", .. }),
        "{error}"
    );
    let error = Config::default()
        .stop_timeout(Duration::from_secs(7 * 24 * 3600))
        .validate()
        .expect_err("a week of stop_timeout");
    assert!(error.to_string().contains("stop_timeout"), "{error}");

    let mut codes = ExitCodes::default();
    codes.failed = 256;
    let error = Config::default()
        .exit_codes(codes)
        .validate()
        .expect_err("256 is no exit code");
    assert!(
        matches!(
            error,
            ConfigError::ExitCodeOutOfRange {
                field: "exit_codes.failed",
                code: 256
            }
        ),
        "{error}"
    );
    assert!(Config::default().validate().is_ok());
}
