//! Graceful shutdown: who may ask for it (signals, the SHUTDOWN command, the embedder), and
//! the way the main thread waits for the request.

use parking_lot::{Condvar, Mutex};

/// A one-way latch: set once by whoever asks for shutdown, awaited by the main thread.
#[derive(Default)]
pub(crate) struct ShutdownRequest {
    requested: Mutex<bool>,
    changed: Condvar,
}

impl ShutdownRequest {
    pub fn request(&self) {
        *self.requested.lock() = true;
        self.changed.notify_all();
    }

    /// Withdraws a request that could not be honoured (a shutdown save failed).
    pub fn reset(&self) {
        *self.requested.lock() = false;
    }

    pub fn wait(&self) {
        let mut requested = self.requested.lock();
        while !*requested {
            self.changed.wait(&mut requested);
        }
    }
}
