//! The embedding API's behaviour, in process: each public method of the facade that the
//! whole-process tests do not reach on their own. Every instance runs with its own temporary
//! state directory, no signal handlers, no global subscriber or panic hook, and an actix System
//! that outlives the shutdown (`stop_system(false)`), so several run in one test binary.
//! Deadlines are asserted in paused time.

mod facade {
    pub(crate) mod support;

    mod boot_report;
    mod config;
    mod drain;
    mod hooks;
    mod public_api;
    mod start;
    mod tasks;
}
