//! Loader coalescing: one loader runs per missing key while the other callers for that
//! key wait for its value.
//!
//! A caller that misses joins the key's in-flight slot. The first to join becomes the
//! leader: it runs its loader, stores the value in the cache, then publishes it in the
//! slot and removes the slot, waking every waiter (threads blocked on the condition
//! variable, tasks through their wakers). The value is stored before the slot goes, so a
//! caller arriving after that finds it in the cache.
//!
//! A leader that fails (its loader panics or returns an error, or its future is dropped
//! before finishing) abandons the slot: the waiters wake and go round again, and one of
//! them becomes the next leader with its own loader. A failure is never cached nor handed
//! to another caller, whose own loader may succeed (a timeout, a transient error).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ahash::RandomState;
use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

/// Where a load of one key stands.
enum Outcome {
    Pending,
    Loaded(Bytes),
    Abandoned,
}

struct SlotState {
    outcome: Outcome,
    wakers: Vec<Waker>,
}

/// One key's load in flight.
struct Slot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

impl Slot {
    fn finish(&self, outcome: Outcome) {
        let wakers = {
            let mut st = self.state.lock();
            st.outcome = outcome;
            std::mem::take(&mut st.wakers)
        };
        self.ready.notify_all();
        for w in wakers {
            w.wake();
        }
    }

    /// What a finished load left: the value, or `None` if it was abandoned.
    fn settled(st: &SlotState) -> Option<Option<Bytes>> {
        match &st.outcome {
            Outcome::Pending => None,
            Outcome::Loaded(v) => Some(Some(v.clone())),
            Outcome::Abandoned => Some(None),
        }
    }
}

/// One shard of the in-flight map: key to its load.
type SlotMap = Mutex<ahash::HashMap<Bytes, Arc<Slot>>>;

/// The keys being loaded, in shards to keep unrelated misses apart.
pub(crate) struct Inflight {
    shards: Box<[SlotMap]>,
    hasher: RandomState,
}

const SHARDS: usize = 16;

/// A caller's part in a key's load.
pub(crate) enum Role<'a> {
    /// Run the loader, then [`Leader::complete`].
    Leader(Leader<'a>),
    /// Wait for the leader with [`Waiter::wait`] or [`Waiter::wait_async`].
    Waiter(Waiter),
}

impl Inflight {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &[u8]) -> &SlotMap {
        let i = usize::try_from(self.hasher.hash_one(key)).unwrap_or(0) % SHARDS;
        &self.shards[i]
    }

    /// Joins the load of `key`: as its leader if none is in flight, else as a waiter.
    pub(crate) fn join(&self, key: &[u8]) -> Role<'_> {
        let mut map = self.shard(key).lock();
        if let Some(slot) = map.get(key) {
            return Role::Waiter(Waiter { slot: slot.clone() });
        }
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                outcome: Outcome::Pending,
                wakers: Vec::new(),
            }),
            ready: Condvar::new(),
        });
        let key = Bytes::copy_from_slice(key);
        map.insert(key.clone(), slot.clone());
        Role::Leader(Leader {
            inflight: self,
            key,
            slot,
            done: false,
        })
    }

    /// Keys being loaded now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// The caller that runs the loader; dropping it unfinished abandons the load.
pub(crate) struct Leader<'a> {
    inflight: &'a Inflight,
    key: Bytes,
    slot: Arc<Slot>,
    done: bool,
}

impl Leader<'_> {
    /// Hands `value` to the waiters and ends the load. Store the value first.
    pub(crate) fn complete(mut self, value: Bytes) {
        self.done = true;
        self.end(Outcome::Loaded(value));
    }

    fn end(&self, outcome: Outcome) {
        self.inflight.shard(&self.key).lock().remove(&self.key);
        self.slot.finish(outcome);
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.end(Outcome::Abandoned);
        }
    }
}

/// A caller waiting for another's load.
pub(crate) struct Waiter {
    slot: Arc<Slot>,
}

impl Waiter {
    /// Blocks until the load ends: its value, or `None` if it was abandoned.
    pub(crate) fn wait(self) -> Option<Bytes> {
        let mut st = self.slot.state.lock();
        loop {
            if let Some(v) = Slot::settled(&st) {
                return v;
            }
            self.slot.ready.wait(&mut st);
        }
    }

    /// [`Waiter::wait`] without blocking the thread.
    pub(crate) fn wait_async(self) -> WaitLoad {
        WaitLoad { slot: self.slot }
    }
}

/// The future of [`Waiter::wait_async`].
pub(crate) struct WaitLoad {
    slot: Arc<Slot>,
}

impl Future for WaitLoad {
    type Output = Option<Bytes>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut st = self.slot.state.lock();
        if let Some(v) = Slot::settled(&st) {
            return Poll::Ready(v);
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::{Inflight, Role};
    use bytes::Bytes;

    #[test]
    fn second_caller_waits_and_gets_the_leaders_value() {
        let inflight = Inflight::new();
        let Role::Leader(leader) = inflight.join(b"k") else {
            panic!("first caller leads");
        };
        let Role::Waiter(waiter) = inflight.join(b"k") else {
            panic!("second caller waits");
        };
        assert!(matches!(inflight.join(b"other"), Role::Leader(_)));
        std::thread::scope(|s| {
            let h = s.spawn(move || waiter.wait());
            leader.complete(Bytes::from_static(b"v"));
            assert_eq!(h.join().ok().flatten().as_deref(), Some(&b"v"[..]));
        });
        assert_eq!(inflight.len(), 0);
    }

    #[test]
    fn a_dropped_leader_releases_its_waiters() {
        let inflight = Inflight::new();
        let Role::Leader(leader) = inflight.join(b"k") else {
            panic!("first caller leads");
        };
        let Role::Waiter(waiter) = inflight.join(b"k") else {
            panic!("second caller waits");
        };
        drop(leader);
        assert_eq!(waiter.wait(), None);
        assert!(matches!(inflight.join(b"k"), Role::Leader(_)));
    }
}
