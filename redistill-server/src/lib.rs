//! The Redistill server: a mio event loop speaking RESP over the store.
//!
//! This crate is a skeleton: the event loop arrives with the server work.
