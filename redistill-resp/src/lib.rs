//! RESP2/RESP3 codec for Redis-compatible clients and servers.
//!
//! The codec is sans-IO: it decodes from byte slices and encodes into
//! [`bytes::BufMut`], so it fits any I/O model.
