//! Serving a worker's other clients while one of its commands runs long.
//!
//! A worker runs each command on its own thread, so a script running past
//! `busy-reply-threshold` would leave every other client of that worker unanswered until it
//! ends, SCRIPT KILL included. So the worker offers, for each connection's turn, a way to
//! serve the others meanwhile ([`offering`]), and the script engine's hook calls
//! [`serve_others`] while a script is busy, as Redis processes events while blocked.

use scoped_tls_hkt::scoped_thread_local;

scoped_thread_local!(static mut SERVE_OTHERS: for<'a> &'a mut (dyn FnMut() + 'a));

/// Runs `turn` with `serve` offered to [`serve_others`] on this thread.
pub(crate) fn offering<R>(serve: &mut dyn FnMut(), turn: impl FnOnce() -> R) -> R {
    SERVE_OTHERS.set(serve, turn)
}

/// Serves the other clients of the worker whose turn is running on this thread. Does
/// nothing where no turn offered it (a script run at startup) or from within that
/// serving itself.
pub(crate) fn serve_others() {
    if SERVE_OTHERS.is_set() {
        SERVE_OTHERS.with(|serve| serve());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_is_offered_for_the_turn_only_and_never_nests() {
        let mut served = 0;
        serve_others();
        let mut serve = || {
            served += 1;
            // Within the serving, no second serving starts.
            serve_others();
        };
        offering(&mut serve, || {
            serve_others();
            serve_others();
        });
        serve_others();
        assert_eq!(served, 2);
    }
}
