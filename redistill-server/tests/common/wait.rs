//! Waiting for what another thread or process does: poll the condition itself, with a
//! deadline, and fail naming what was waited for. (The root crate's tests use this file too.)

use std::time::{Duration, Instant};

/// How long a test waits for something another thread or process does before it fails:
/// far longer than that takes on an idle machine, so that a loaded one passes too.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `probe` until it returns a value, and returns that value; fails the test, naming
/// `what` it waited for, after [`PATIENCE`].
pub fn wait_for<T>(what: &str, probe: impl FnMut() -> Option<T>) -> T {
    wait_for_within(PATIENCE, what, probe)
}

/// [`wait_for`] with a deadline of its own, for what takes longer by design (memory an
/// allocator returns over its decay time).
pub fn wait_for_within<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        // A pause between probes, not a wait for the state: the loop ends on the condition.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `condition` until it holds; fails the test, naming `what` it waited for, after
/// [`PATIENCE`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    wait_for(what, || condition().then_some(()));
}
