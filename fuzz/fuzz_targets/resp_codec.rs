//! Fuzzes the `tokio` codecs and the frame conversions: the codecs fed any split of any
//! input agree with the decoders they wrap and never panic, and every conversion of every
//! decoded frame answers without panicking.
#![no_main]

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use redistill_resp::codec::{ClientCodec, ServerCodec};
use redistill_resp::{Decoder, Frame, RequestDecoder};
use tokio_util::codec::Decoder as _;

/// Feeds `data` in pieces of `chunk` bytes to `next`, collecting items until an error.
fn chunked<T, E>(
    data: &[u8],
    chunk: usize,
    mut next: impl FnMut(&mut BytesMut) -> Result<Option<T>, E>,
) -> Vec<T> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match next(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(_) => return out,
            }
        }
    }
    out
}

fn convert_all(frame: &Frame) {
    let _ = i64::try_from(frame.clone());
    let _ = u64::try_from(frame.clone());
    let _ = f64::try_from(frame.clone());
    let _ = bool::try_from(frame.clone());
    let _ = String::try_from(frame.clone());
    let _ = Vec::<u8>::try_from(frame.clone());
    let _ = Option::<Bytes>::try_from(frame.clone());
    let _ = Vec::<Option<String>>::try_from(frame.clone());
    let _ = HashMap::<Bytes, Vec<Option<i64>>>::try_from(frame.clone());
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split % 16) + 1;

    let mut codec = ClientCodec::new();
    let frames = chunked(data, chunk, |b| codec.decode(b));
    let mut plain = Decoder::new();
    let expected = chunked(data, chunk, |b| plain.decode(b));
    assert_eq!(frames.len(), expected.len());
    for frame in &frames {
        convert_all(frame);
    }

    let mut codec = ServerCodec::new();
    let requests = chunked(data, chunk, |b| codec.decode(b));
    let mut plain = RequestDecoder::new();
    let expected = chunked(data, chunk, |b| plain.decode(b));
    assert_eq!(requests, expected);
});
