//! An actix System on a current-thread runtime whose clock starts paused, on the timer grid,
//! for `#[actix_rt::test(system = "PausedSystem")]`.
//!
//! The runtime starts paused rather than calling `tokio::time::pause()` in the test: a clock
//! paused after the runtime started sits between two ticks of tokio's millisecond timer wheel,
//! and every deadline then fires 1 ms late, so exact durations could not be asserted.

pub(crate) struct PausedSystem;

impl PausedSystem {
    #[expect(
        clippy::new_ret_no_self,
        reason = "the shape `#[actix_rt::test(system)]` calls"
    )]
    pub(crate) fn new() -> actix_rt::SystemRunner {
        actix_rt::System::with_tokio_rt(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a paused current-thread runtime")
        })
    }
}
