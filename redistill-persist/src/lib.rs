//! The Redistill snapshot file format: versioned, checksummed, crash-safe.
//!
//! This crate is a skeleton: the format arrives with the persistence work.
