//! Cache eviction policies under Redis's names, plus S3-FIFO.
//!
//! This crate is a skeleton: the policies arrive with the eviction work.
