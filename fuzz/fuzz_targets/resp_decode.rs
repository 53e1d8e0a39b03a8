//! Fuzzes the general RESP2/RESP3 decoder: whole-buffer and resumable decoding must
//! agree, never panic, and every decoded frame must re-encode to the bytes it came from.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use redistill_resp::{Decoder, Frame, Version, decode};

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size, so the resumable path sees many split points.
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split % 16) + 1;

    let whole = Bytes::copy_from_slice(data);
    let mut expected = Vec::new();
    let mut rest = whole.clone();
    while let Ok(Some((frame, used))) = decode(&rest) {
        assert!(used > 0 && used <= rest.len());
        // Frames without NaN compare equal to themselves; check the round trip on bytes.
        let mut again = Vec::new();
        frame.encode(Version::Resp3, &mut again);
        let canonical = !contains_double(&frame);
        if canonical {
            assert_eq!(
                decode(&Bytes::from(again)).ok().flatten().map(|(f, _)| f),
                Some(frame.clone())
            );
        }
        expected.push(frame);
        rest = rest.slice(used..);
    }

    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    'feed: for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => got.push(frame),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    assert!(got.len() <= expected.len());
    for (a, b) in got.iter().zip(&expected) {
        if !contains_double(b) {
            assert_eq!(a, b);
        }
    }
});

fn contains_double(f: &Frame) -> bool {
    match f {
        Frame::Double(_) => true,
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v.iter().any(contains_double),
        Frame::Map(p) => p
            .iter()
            .any(|(k, v)| contains_double(k) || contains_double(v)),
        Frame::Attribute { attributes, value } => {
            contains_double(value)
                || attributes
                    .iter()
                    .any(|(k, v)| contains_double(k) || contains_double(v))
        }
        _ => false,
    }
}
