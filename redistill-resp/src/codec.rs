//! `tokio_util::codec` adapters, with the `tokio` feature.
//!
//! Thin wrappers over the crate's incremental decoders, so a `Framed` stream keeps their
//! properties: zero-copy payloads, linear-time decoding however the input is split, and
//! Redis's exact request rules and error texts.
//!
//! | codec | decodes | encodes | for |
//! | --- | --- | --- | --- |
//! | [`ServerCodec`] | requests (`Vec<Bytes>`) | [`Frame`] replies | servers, the client side of proxies |
//! | [`ClientCodec`] | [`Frame`] replies | requests (lists of arguments) | clients, the server side of proxies |
//! | [`FrameCodec`] | [`Frame`] | [`Frame`] | anything speaking whole frames both ways |
//!
//! Requests are decoded as a Redis server reads them: RESP arrays of bulk strings and
//! inline lines (`PING`, `SET k "a b"`), ignoring what Redis ignores (`*0`, blank lines).
//! Frames are encoded in the codec's [`Version`]: RESP3 by default, which writes every
//! frame in its own form, so a frame decoded from a RESP2 stream re-encodes byte for byte.
//!
//! # Examples
//!
//! ```
//! use bytes::BytesMut;
//! use redistill_resp::Frame;
//! use redistill_resp::codec::{ClientCodec, ServerCodec};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! // A client writes a request...
//! let mut client = ClientCodec::new();
//! let mut wire = BytesMut::new();
//! client.encode(&["SET", "k", "v"][..], &mut wire)?;
//! assert_eq!(&wire[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
//!
//! // ... a server reads it and replies ...
//! let mut server = ServerCodec::new();
//! let request = server.decode(&mut wire)?.unwrap();
//! assert_eq!(request, ["SET", "k", "v"]);
//! server.encode(Frame::simple("OK"), &mut wire)?;
//!
//! // ... and the client reads the reply.
//! assert_eq!(client.decode(&mut wire)?, Some(Frame::simple("OK")));
//! # Ok::<(), redistill_resp::codec::CodecError>(())
//! ```

use crate::decode::Decoder as FrameDecoder;
use crate::encode::{write_array_header, write_bulk};
use crate::error::Error;
use crate::frame::{Frame, Version};
use crate::limits::Limits;
use crate::request::RequestDecoder;
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// What a codec can fail with: the connection's I/O, or the peer's protocol.
///
/// After a protocol error the stream cannot be resynchronised; a server sends
/// [`Error::write_reply`]'s reply and closes the connection, as Redis does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The peer broke the protocol; the text is Redis's for request errors.
    #[error(transparent)]
    Protocol(#[from] Error),
    /// Reading or writing the connection failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes a request, `*<n>` and one bulk string per argument.
fn encode_request<A: AsRef<[u8]>>(args: &[A], dst: &mut BytesMut) {
    let payload: usize = args.iter().map(|a| a.as_ref().len() + 16).sum();
    dst.reserve(payload + 16);
    write_array_header(dst, args.len());
    for a in args {
        write_bulk(dst, a.as_ref());
    }
}

/// Decodes requests as a Redis server reads them; encodes reply [`Frame`]s.
///
/// Each decoded request is its command and arguments, slices of the received bytes
/// (inline arguments with quotes excepted).
///
/// ```
/// use bytes::BytesMut;
/// use redistill_resp::{Frame, Version};
/// use redistill_resp::codec::ServerCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = ServerCodec::new().with_version(Version::Resp2);
/// let mut buf = BytesMut::from(&b"PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk"[..]);
/// assert_eq!(codec.decode(&mut buf)?.unwrap(), ["PING"]);
/// assert_eq!(codec.decode(&mut buf)?, None); // the GET is not whole yet
///
/// let mut out = BytesMut::new();
/// codec.encode(Frame::Null, &mut out)?; // RESP2 writes RESP3's null as `$-1`
/// assert_eq!(&out[..], b"$-1\r\n");
/// # Ok::<(), redistill_resp::codec::CodecError>(())
/// ```
#[derive(Debug, Default)]
pub struct ServerCodec {
    requests: RequestDecoder,
    version: Version,
}

impl ServerCodec {
    /// A codec with Redis's default limits that encodes replies in RESP2, as a Redis
    /// connection starts.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with the given request limits.
    pub fn with_limits(limits: Limits) -> Self {
        ServerCodec {
            requests: RequestDecoder::with_limits(limits),
            version: Version::default(),
        }
    }

    /// The same codec encoding replies in `version` (after `HELLO 3`, say).
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Switches the protocol replies are encoded in.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The protocol replies are encoded in.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The request decoder, to set [`RequestDecoder::set_auth_required`] or read its
    /// counters.
    pub fn requests_mut(&mut self) -> &mut RequestDecoder {
        &mut self.requests
    }
}

impl Decoder for ServerCodec {
    type Item = Vec<Bytes>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Vec<Bytes>>, CodecError> {
        Ok(self.requests.decode(src)?)
    }
}

impl Encoder<Frame> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode(self.version, dst);
        Ok(())
    }
}

impl Encoder<&Frame> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode(self.version, dst);
        Ok(())
    }
}

/// Encodes requests; decodes reply [`Frame`]s, RESP2 and RESP3.
///
/// Requests are any list of arguments: `&[&str]`, `Vec<Bytes>`, `&[Vec<u8>]`...
///
/// ```
/// use bytes::BytesMut;
/// use redistill_resp::Frame;
/// use redistill_resp::codec::ClientCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = ClientCodec::new();
/// let mut out = BytesMut::new();
/// codec.encode(vec!["INCR", "n"], &mut out)?;
/// assert_eq!(&out[..], b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
///
/// let mut buf = BytesMut::from(&b":1\r\n%1\r\n+a\r\n#t\r\n"[..]);
/// let n: i64 = codec.decode(&mut buf)?.unwrap().try_into()?;
/// assert_eq!(n, 1);
/// assert_eq!(
///     codec.decode(&mut buf)?,
///     Some(Frame::Map(vec![(Frame::simple("a"), Frame::Boolean(true))]))
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct ClientCodec {
    frames: FrameDecoder,
}

impl ClientCodec {
    /// A codec with the default frame limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with the given frame limits.
    pub fn with_limits(limits: Limits) -> Self {
        ClientCodec {
            frames: FrameDecoder::with_limits(limits),
        }
    }
}

impl Decoder for ClientCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        Ok(self.frames.decode(src)?)
    }
}

impl<A: AsRef<[u8]>> Encoder<&[A]> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &[A], dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_request(item, dst);
        Ok(())
    }
}

impl<A: AsRef<[u8]>> Encoder<Vec<A>> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Vec<A>, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_request(&item, dst);
        Ok(())
    }
}

/// Decodes and encodes whole [`Frame`]s, RESP2 and RESP3, in both directions.
///
/// ```
/// use bytes::BytesMut;
/// use redistill_resp::Frame;
/// use redistill_resp::codec::FrameCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = FrameCodec::new();
/// let mut buf = BytesMut::new();
/// codec.encode(Frame::Push(vec![Frame::bulk("message")]), &mut buf)?;
/// assert_eq!(codec.decode(&mut buf)?, Some(Frame::Push(vec![Frame::bulk("message")])));
/// # Ok::<(), redistill_resp::codec::CodecError>(())
/// ```
#[derive(Debug)]
pub struct FrameCodec {
    frames: FrameDecoder,
    version: Version,
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec {
            frames: FrameDecoder::new(),
            version: Version::Resp3,
        }
    }
}

impl FrameCodec {
    /// A codec with the default limits, encoding each frame in its own form (RESP3).
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with the given limits for decoding.
    pub fn with_limits(limits: Limits) -> Self {
        FrameCodec {
            frames: FrameDecoder::with_limits(limits),
            version: Version::Resp3,
        }
    }

    /// The same codec encoding in `version`; RESP2 writes RESP3-only types in the forms
    /// Redis uses for them.
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        Ok(self.frames.decode(src)?)
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode(self.version, dst);
        Ok(())
    }
}

impl Encoder<&Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode(self.version, dst);
        Ok(())
    }
}
