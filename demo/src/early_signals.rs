//! Signals in the first milliseconds of the process: a large binary spends milliseconds
//! loading before `main` runs, and a SIGTERM then would take its default action (death, the
//! lock left behind). A constructor that runs before `main` blocks SIGINT, SIGTERM and SIGHUP;
//! [`release`] unblocks them once the library's handlers are installed, and a signal that
//! arrived in between is delivered then, to those handlers.

/// The signals the library handles.
#[cfg(unix)]
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The set of [`SIGNALS`].
#[cfg(unix)]
fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset only write into the set they are given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

/// Blocks the signals on the main thread before `main` (async-signal-safe calls only).
#[cfg(unix)]
extern "C" fn block_before_main() {
    let set = signal_set();
    // SAFETY: changes the calling thread's signal mask; no memory is shared.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Runs [`block_before_main`] as the process starts, before `main`.
#[cfg(unix)]
#[used]
#[unsafe(link_section = ".init_array")]
static BLOCK_BEFORE_MAIN: extern "C" fn() = block_before_main;

/// Unblocks the signals blocked before `main`: call it once the handlers are installed (or
/// when the process will not install them, so that it stays killable).
pub(crate) fn release() {
    #[cfg(unix)]
    {
        let set = signal_set();
        // SAFETY: changes the calling thread's signal mask; no memory is shared.
        unsafe {
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
    }
}
