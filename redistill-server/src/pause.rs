//! CLIENT PAUSE: holds clients' commands until a deadline, all of them or only writes.
//!
//! Connections look at [`Pause::active`] before each command: one relaxed load while no
//! pause is set. A held connection stops reading and executing (as when its output is
//! full), and its worker drives it again once the pause ends or CLIENT UNPAUSE wakes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

/// What a pause holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseMode {
    /// Commands that may write; reads go on.
    Write,
    /// Every command.
    All,
}

#[derive(Debug, Default)]
pub(crate) struct Pause {
    /// Unix ms when the pause ends; 0 for none.
    until_ms: AtomicU64,
    all: AtomicBool,
    /// Serializes PAUSE and UNPAUSE, so that the two fields change together.
    update: Mutex<()>,
}

impl Pause {
    /// Whether a pause was set and not yet lifted (it may have ended): one relaxed load, for
    /// the path every command takes.
    pub fn is_set(&self) -> bool {
        self.until_ms.load(Ordering::Relaxed) != 0
    }

    /// The pause in force at `now_ms`, if any.
    pub fn active(&self, now_ms: u64) -> Option<PauseMode> {
        let until = self.until_ms.load(Ordering::Acquire);
        if until == 0 || now_ms >= until {
            return None;
        }
        Some(if self.all.load(Ordering::Relaxed) {
            PauseMode::All
        } else {
            PauseMode::Write
        })
    }

    /// When the pause in force ends (unix ms), if one is.
    pub fn ends_at(&self, now_ms: u64) -> Option<u64> {
        let until = self.until_ms.load(Ordering::Acquire);
        (until > now_ms).then_some(until)
    }

    /// CLIENT PAUSE: as Redis 7.0, a pause set while another is in force keeps the later
    /// end and the stricter mode.
    pub fn pause(&self, now_ms: u64, until_ms: u64, mode: PauseMode) {
        let _update = self.update.lock();
        let current = self.active(now_ms);
        let all = mode == PauseMode::All || current == Some(PauseMode::All);
        let until = match current {
            Some(_) => until_ms.max(self.until_ms.load(Ordering::Relaxed)),
            None => until_ms,
        };
        self.all.store(all, Ordering::Relaxed);
        self.until_ms.store(until.max(1), Ordering::Release);
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&self) {
        let _update = self.update.lock();
        self.until_ms.store(0, Ordering::Release);
        self.all.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_keeps_the_later_end_and_the_stricter_mode() {
        let p = Pause::default();
        assert_eq!(p.active(0), None);
        p.pause(1000, 1300, PauseMode::Write);
        assert_eq!(p.active(1000), Some(PauseMode::Write));
        p.pause(1000, 1100, PauseMode::All);
        assert_eq!(p.active(1200), Some(PauseMode::All));
        assert_eq!(p.ends_at(1200), Some(1300));
        assert_eq!(p.active(1300), None);
        // An ended pause leaves nothing behind.
        p.pause(2000, 2100, PauseMode::Write);
        assert_eq!(p.active(2050), Some(PauseMode::Write));
        p.unpause();
        assert_eq!(p.active(2050), None);
    }
}
