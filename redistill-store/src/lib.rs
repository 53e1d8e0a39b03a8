//! A sharded, embeddable in-memory keyspace with Redis semantics.
//!
//! This crate is a skeleton: the keyspace arrives with the store work.
