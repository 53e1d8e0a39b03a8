//! The `tokio` feature's codecs: encode/decode round trips however the bytes are split,
//! through the `Decoder`/`Encoder` traits and through a real tokio stream, and the
//! frame conversions a client uses on what it reads.
#![cfg(feature = "tokio")]
// Helpers outside #[test] functions panic on purpose when the codec misbehaves.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use proptest::prelude::*;
use redistill_resp::arbitrary::Frames;
use redistill_resp::codec::{ClientCodec, FrameCodec, ServerCodec};
use redistill_resp::{Frame, Version};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, Encoder, FramedRead};

/// Every RESP3 type; doubles are never NaN so that frames compare equal.
fn frame() -> impl Strategy<Value = Frame> {
    Frames::default().resp3()
}

fn request() -> impl Strategy<Value = Vec<Bytes>> {
    proptest::collection::vec(Frames::default().blob, 1..6)
}

/// Feeds `stream` to `codec` in pieces of the given sizes (cycled), collecting items,
/// then signals end of input as `FramedRead` does.
fn decode_chunked<D: Decoder>(codec: &mut D, stream: &[u8], chunks: &[usize]) -> Vec<D::Item>
where
    D::Error: std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut sizes = chunks.iter().copied().cycle();
    while at < stream.len() {
        let n = sizes
            .next()
            .unwrap_or(stream.len())
            .clamp(1, stream.len() - at);
        buf.extend_from_slice(&stream[at..at + n]);
        at += n;
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            out.push(item);
        }
    }
    while let Some(item) = codec.decode_eof(&mut buf).unwrap() {
        out.push(item);
    }
    assert!(buf.is_empty());
    out
}

/// Writes `stream` into one end of an in-memory pipe in the given pieces and reads the
/// other end through `FramedRead`.
fn read_framed<D>(codec: D, stream: Vec<u8>, chunks: Vec<usize>) -> Vec<D::Item>
where
    D: Decoder + Send + 'static,
    D::Item: Send,
    D::Error: std::fmt::Debug,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (mut tx, rx) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            let mut at = 0;
            let mut sizes = chunks.into_iter().cycle();
            while at < stream.len() {
                let n = sizes
                    .next()
                    .unwrap_or(stream.len())
                    .clamp(1, stream.len() - at);
                tx.write_all(&stream[at..at + n]).await.unwrap();
                tx.flush().await.unwrap();
                at += n;
            }
        });
        let items: Vec<_> = FramedRead::new(rx, codec)
            .map(|item| item.unwrap())
            .collect()
            .await;
        writer.await.unwrap();
        items
    })
}

proptest! {
    #[test]
    fn frames_round_trip_through_the_codec(
        frames in proptest::collection::vec(frame(), 1..6),
        chunks in proptest::collection::vec(1usize..20, 1..8),
    ) {
        let mut wire = BytesMut::new();
        let mut codec = FrameCodec::new();
        for f in &frames {
            codec.encode(f, &mut wire).unwrap();
        }
        prop_assert_eq!(decode_chunked(&mut FrameCodec::new(), &wire, &chunks), frames.clone());
        prop_assert_eq!(decode_chunked(&mut ClientCodec::new(), &wire, &chunks), frames);
    }

    #[test]
    fn requests_round_trip_through_the_codecs(
        requests in proptest::collection::vec(request(), 1..8),
        chunks in proptest::collection::vec(1usize..20, 1..8),
    ) {
        let mut wire = BytesMut::new();
        let mut client = ClientCodec::new();
        for r in &requests {
            client.encode(&r[..], &mut wire).unwrap();
        }
        prop_assert_eq!(decode_chunked(&mut ServerCodec::new(), &wire, &chunks), requests);
    }

    #[test]
    fn replies_reach_a_framed_reader_whole(
        frames in proptest::collection::vec(frame(), 1..5),
        chunks in proptest::collection::vec(1usize..12, 1..6),
    ) {
        let mut wire = BytesMut::new();
        for f in &frames {
            FrameCodec::new().encode(f, &mut wire).unwrap();
        }
        prop_assert_eq!(read_framed(ClientCodec::new(), wire.to_vec(), chunks), frames);
    }

    #[test]
    fn requests_reach_a_framed_reader_whole(
        requests in proptest::collection::vec(request(), 1..6),
        chunks in proptest::collection::vec(1usize..12, 1..6),
    ) {
        let mut wire = BytesMut::new();
        for r in &requests {
            ClientCodec::new().encode(r.clone(), &mut wire).unwrap();
        }
        prop_assert_eq!(read_framed(ServerCodec::new(), wire.to_vec(), chunks), requests);
    }

    #[test]
    fn integers_convert_from_every_form_redis_sends(n in any::<i64>()) {
        let text = Bytes::from(n.to_string());
        for f in [
            Frame::Integer(n),
            Frame::BulkString(text.clone()),
            Frame::SimpleString(text.clone()),
            Frame::BigNumber(text),
        ] {
            prop_assert_eq!(i64::try_from(f.clone()), Ok(n));
            prop_assert_eq!(u64::try_from(f).ok(), u64::try_from(n).ok());
        }
    }

    #[test]
    fn maps_convert_alike_from_resp3_and_resp2(
        pairs in proptest::collection::hash_map("[a-z]{1,6}", any::<i64>(), 0..8),
    ) {
        let resp3 = Frame::Map(
            pairs.iter().map(|(k, v)| (Frame::bulk(k.clone()), Frame::Integer(*v))).collect(),
        );
        // What the same map looks like to a RESP2 client, re-decoded.
        let mut wire = BytesMut::new();
        FrameCodec::new().with_version(Version::Resp2).encode(&resp3, &mut wire).unwrap();
        let resp2 = ClientCodec::new().decode(&mut wire).unwrap().unwrap();
        let from3: HashMap<String, i64> = resp3.try_into().unwrap();
        let from2: HashMap<String, i64> = resp2.try_into().unwrap();
        prop_assert_eq!(&from3, &pairs);
        prop_assert_eq!(&from2, &pairs);
    }
}

#[test]
fn inline_commands_and_ignored_requests_decode_as_a_server_reads_them() {
    let wire = b"PING\r\n\r\n*0\r\nSET k \"a b\"\r\n*-1\r\n*1\r\n$4\r\nQUIT\r\n";
    let requests = decode_chunked(&mut ServerCodec::new(), wire, &[3]);
    assert_eq!(
        requests,
        [
            vec![Bytes::from("PING")],
            vec!["SET".into(), "k".into(), "a b".into()],
            vec!["QUIT".into()]
        ]
    );
}

#[test]
fn protocol_errors_carry_redis_text() {
    let mut buf = BytesMut::from(&b"*1\r\n$x\r\n"[..]);
    let err = ServerCodec::new().decode(&mut buf).unwrap_err();
    assert_eq!(err.to_string(), "Protocol error: invalid bulk length");
}

#[test]
fn a_stream_cut_inside_a_frame_is_an_error_at_its_end() {
    let items: Vec<_> = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let (mut tx, rx) = tokio::io::duplex(64);
            tx.write_all(b":1\r\n$5\r\nab").await.unwrap();
            drop(tx);
            FramedRead::new(rx, ClientCodec::new())
                .collect::<Vec<_>>()
                .await
        });
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap(), &Frame::Integer(1));
    assert!(items[1].is_err(), "{:?}", items[1]);
}
