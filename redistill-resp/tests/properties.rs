//! Property tests: round trips, every split point, arbitrary input, and agreement between
//! the request fast path and the general decoder.
// Helpers outside #[test] functions panic on purpose when the codec misbehaves.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redistill_resp::arbitrary::Frames;
use redistill_resp::{Decoder, Frame, RequestBatch, RequestDecoder, Version, decode, split_args};

/// Equality that treats NaN doubles as equal to each other.
fn same(a: &Frame, b: &Frame) -> bool {
    use Frame::*;
    let all =
        |x: &[Frame], y: &[Frame]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q));
    let pairs = |x: &[(Frame, Frame)], y: &[(Frame, Frame)]| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
    };
    match (a, b) {
        (Double(x), Double(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Array(x), Array(y)) | (Set(x), Set(y)) | (Push(x), Push(y)) => all(x, y),
        (Map(x), Map(y)) => pairs(x, y),
        (
            Attribute {
                attributes: a1,
                value: v1,
            },
            Attribute {
                attributes: a2,
                value: v2,
            },
        ) => pairs(a1, a2) && same(v1, v2),
        _ => a == b,
    }
}

/// Any RESP3 frame, doubles of any bits (NaN included).
fn resp3_frame() -> impl Strategy<Value = Frame> {
    Frames {
        double: any::<u64>().prop_map(f64::from_bits).boxed(),
        ..Frames::default()
    }
    .resp3()
}

fn resp2_frame() -> impl Strategy<Value = Frame> {
    Frames::default().resp2()
}

/// Feeds `stream` to a fresh [`Decoder`] in the given chunk sizes, collecting frames.
fn decode_chunked(stream: &[u8], chunks: impl IntoIterator<Item = usize>) -> (Vec<Frame>, u64) {
    let mut d = Decoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut chunks = chunks.into_iter();
    while at < stream.len() {
        let n = chunks
            .next()
            .unwrap_or(stream.len())
            .clamp(1, stream.len() - at);
        buf.extend_from_slice(&stream[at..at + n]);
        at += n;
        while let Some(f) = d.decode(&mut buf).unwrap() {
            out.push(f);
        }
    }
    assert!(buf.is_empty());
    (out, d.bytes_examined())
}

fn requests_chunked(stream: &[u8], chunks: impl IntoIterator<Item = usize>) -> Vec<Vec<Bytes>> {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut args = Vec::new();
    let mut at = 0;
    let mut chunks = chunks.into_iter();
    while at < stream.len() {
        let n = chunks
            .next()
            .unwrap_or(stream.len())
            .clamp(1, stream.len() - at);
        buf.extend_from_slice(&stream[at..at + n]);
        at += n;
        while d.decode_into(&mut buf, &mut args).unwrap() {
            out.push(args.clone());
        }
    }
    out
}

fn requests_batched(stream: &[u8], chunks: impl IntoIterator<Item = usize>) -> Vec<Vec<Bytes>> {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut batch = RequestBatch::new();
    let mut at = 0;
    let mut chunks = chunks.into_iter();
    while at < stream.len() {
        let n = chunks
            .next()
            .unwrap_or(stream.len())
            .clamp(1, stream.len() - at);
        buf.extend_from_slice(&stream[at..at + n]);
        at += n;
        d.decode_batch(&mut buf, &mut batch).unwrap();
        out.extend(batch.iter().map(|r| r.to_vec()));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resp3_round_trip(frame in resp3_frame()) {
        let bytes = Bytes::from(frame.to_vec(Version::Resp3));
        let (back, used) = decode(&bytes).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert!(same(&back, &frame), "{:?} != {:?}", back, frame);
        prop_assert_eq!(back.to_vec(Version::Resp3), bytes.to_vec());
        let mut buf = BytesMut::from(&bytes[..]);
        let streamed = Decoder::new().decode(&mut buf).unwrap().unwrap();
        prop_assert!(same(&streamed, &frame));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn resp2_round_trip(frame in resp2_frame()) {
        let bytes = Bytes::from(frame.to_vec(Version::Resp2));
        let (back, used) = decode(&bytes).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, frame);
    }

    #[test]
    fn resp2_forms_decode(frame in resp3_frame()) {
        // Whatever a RESP2 connection is sent must parse as RESP2.
        let bytes = Bytes::from(frame.to_vec(Version::Resp2));
        let (back, used) = decode(&bytes).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back.to_vec(Version::Resp2), bytes.to_vec());
    }

    #[test]
    fn random_chunking_gives_same_frames(
        frames in proptest::collection::vec(resp3_frame(), 1..6),
        chunks in proptest::collection::vec(1usize..20, 0..200),
    ) {
        let mut stream = Vec::new();
        frames.iter().for_each(|f| f.encode(Version::Resp3, &mut stream));
        let (whole, examined_whole) = decode_chunked(&stream, [stream.len()]);
        let (pieces, examined_pieces) = decode_chunked(&stream, chunks);
        prop_assert_eq!(whole.len(), frames.len());
        prop_assert!(whole.iter().zip(&frames).all(|(a, b)| same(a, b)));
        prop_assert!(pieces.iter().zip(&frames).all(|(a, b)| same(a, b)));
        prop_assert_eq!(pieces.len(), frames.len());
        // Linear: chunking adds at most one re-read byte per line, never a rescan.
        let lines = stream.windows(2).filter(|w| w == b"\r\n").count() as u64;
        prop_assert!(examined_whole <= stream.len() as u64);
        prop_assert!(examined_pieces <= examined_whole + lines, "{} > {} + {}", examined_pieces, examined_whole, lines);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        let bytes = Bytes::from(input.clone());
        let _ = decode(&bytes);
        let mut buf = BytesMut::from(&input[..]);
        let mut d = Decoder::new();
        while let Ok(Some(_)) = d.decode(&mut buf) {}
        let mut buf = BytesMut::from(&input[..]);
        let mut r = RequestDecoder::new();
        let mut args = Vec::new();
        while let Ok(true) = r.decode_into(&mut buf, &mut args) {}
        let _ = split_args(&input);
    }

    #[test]
    fn resp_like_bytes_never_panic(input in proptest::collection::vec(
        prop_oneof![Just(b'*'), Just(b'$'), Just(b'\r'), Just(b'\n'), Just(b'%'), Just(b'|'),
                    Just(b'-'), Just(b'1'), Just(b'0'), Just(b'3'), Just(b':'), Just(b'='), Just(b'"'),
                    Just(b'\''), Just(b'\\'), Just(b'x'), Just(b' ')], 0..128)) {
        let bytes = Bytes::from(input.clone());
        let _ = decode(&bytes);
        let mut buf = BytesMut::from(&input[..]);
        let mut d = Decoder::new();
        while let Ok(Some(_)) = d.decode(&mut buf) {}
        let mut buf = BytesMut::from(&input[..]);
        let mut r = RequestDecoder::new();
        let mut args = Vec::new();
        while let Ok(true) = r.decode_into(&mut buf, &mut args) {}
    }

    #[test]
    fn fast_path_agrees_with_general_decoder(
        commands in proptest::collection::vec(proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..40), 1..6), 1..8),
        chunks in proptest::collection::vec(1usize..16, 0..100),
    ) {
        let mut stream = Vec::new();
        for c in &commands {
            Frame::Array(c.iter().map(|a| Frame::bulk(a.clone())).collect()).encode(Version::Resp2, &mut stream);
        }
        let fast = requests_chunked(&stream, chunks.clone());
        prop_assert_eq!(&requests_batched(&stream, chunks), &fast);
        let (general, _) = decode_chunked(&stream, [stream.len()]);
        prop_assert_eq!(fast.len(), general.len());
        for (args, frame) in fast.iter().zip(&general) {
            let Frame::Array(items) = frame else { panic!("not an array") };
            let bulks: Vec<Bytes> = items.iter().map(|f| Bytes::copy_from_slice(f.as_bytes().unwrap())).collect();
            prop_assert_eq!(args, &bulks);
        }
    }

    #[test]
    fn whole_batches_read_as_byte_by_byte(pieces in proptest::collection::vec(prop_oneof![
        // Well-formed requests, and fragments of headers and junk between them.
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 1..4)
            .prop_map(|args| {
                let mut out = Vec::new();
                Frame::Array(args.into_iter().map(Frame::bulk).collect())
                    .encode(Version::Resp2, &mut out);
                out
            }),
        proptest::collection::vec(prop_oneof![Just(b'*'), Just(b'$'), Just(b'\r'),
            Just(b'\n'), Just(b'-'), Just(b'+'), Just(b'0'), Just(b'1'), Just(b'2'),
            Just(b'x'), Just(0u8)], 0..6),
    ], 0..12)) {
        // Complete requests take the one-pass path; fed a byte at a time they never do.
        let input = pieces.concat();
        let all = |chunk: usize| {
            let mut d = RequestDecoder::new();
            let mut batch = RequestBatch::new();
            let (mut buf, mut out) = (BytesMut::new(), Vec::new());
            for piece in input.chunks(chunk) {
                buf.extend_from_slice(piece);
                let result = d.decode_batch(&mut buf, &mut batch);
                out.extend(batch.iter().map(|r| r.to_vec()));
                if let Err(e) = result {
                    return (out, Some(e));
                }
            }
            (out, None)
        };
        prop_assert_eq!(all(input.len().max(1)), all(1));
    }

    #[test]
    fn inline_requests_match_split_args(
        lines in proptest::collection::vec("[a-zA-Z0-9 \"'\\\\]{0,30}", 1..6),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for l in &lines {
            // Lines starting with '*' would be multibulk requests.
            let l = l.trim_start_matches('*');
            stream.extend_from_slice(l.as_bytes());
            stream.extend_from_slice(b"\r\n");
            want.push(split_args(l.as_bytes()));
        }
        let mut d = RequestDecoder::new();
        let mut buf = BytesMut::from(&stream[..]);
        let mut args = Vec::new();
        for w in want {
            match w {
                Ok(w) if w.is_empty() => continue,
                Ok(w) => {
                    prop_assert!(d.decode_into(&mut buf, &mut args).unwrap());
                    let got: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
                    prop_assert_eq!(got, w);
                }
                Err(e) => {
                    prop_assert_eq!(d.decode_into(&mut buf, &mut args).unwrap_err(), e);
                    break;
                }
            }
        }
    }
}

#[test]
fn every_split_point_gives_same_frames() {
    let mut stream = Vec::new();
    let frames = [
        Frame::Array(vec![
            Frame::bulk("SET"),
            Frame::bulk("k"),
            Frame::bulk("v\r\n"),
        ]),
        Frame::Map(vec![
            (Frame::simple("a"), Frame::Double(-1.5)),
            (Frame::Null, Frame::Boolean(true)),
        ]),
        Frame::Attribute {
            attributes: vec![(Frame::simple("ttl"), Frame::Integer(3600))],
            value: Box::new(Frame::Set(vec![Frame::BigNumber(
                "-12345678901234567890".into(),
            )])),
        },
        Frame::VerbatimString {
            format: *b"txt",
            text: "hello".into(),
        },
        Frame::Push(vec![
            Frame::BulkError("ERR x".into()),
            Frame::NullArray,
            Frame::NullBulkString,
        ]),
        Frame::SimpleError("ERR y".into()),
    ];
    frames
        .iter()
        .for_each(|f| f.encode(Version::Resp3, &mut stream));
    for cut in 0..=stream.len() {
        let (got, _) = decode_chunked(&stream, [cut, stream.len()]);
        assert_eq!(got, frames, "cut at {cut}");
    }
    let (one_by_one, _) = decode_chunked(&stream, std::iter::repeat(1));
    assert_eq!(one_by_one, frames);

    let mut requests = Vec::new();
    requests.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\nPING\r\n*0\r\nGET \"a b\"\n*1\r\n$4\r\nQUIT\r\n");
    let want = requests_chunked(&requests, [requests.len()]);
    assert_eq!(want.len(), 4);
    for cut in 0..=requests.len() {
        assert_eq!(
            requests_chunked(&requests, [cut, requests.len()]),
            want,
            "cut at {cut}"
        );
        assert_eq!(
            requests_batched(&requests, [cut, requests.len()]),
            want,
            "cut at {cut}"
        );
    }
    assert_eq!(requests_batched(&requests, std::iter::repeat(1)), want);
    assert_eq!(requests_chunked(&requests, std::iter::repeat(1)), want);
}

#[test]
fn large_bulk_in_small_reads_is_linear() {
    let payload = vec![b'x'; 1 << 20];
    let mut stream = b"*2\r\n$3\r\nGET\r\n$1048576\r\n".to_vec();
    stream.extend_from_slice(&payload);
    stream.extend_from_slice(b"\r\n");
    let header = (stream.len() - payload.len() - 2) as u64;
    // 16 384 reads of 64 bytes each.
    let (frames, examined) = decode_chunked(&stream, std::iter::repeat(64));
    assert_eq!(frames.len(), 1);
    // The header is read once; of the payload only its closing CRLF is checked.
    assert!(
        examined <= header + 2,
        "examined {examined} for a {header}-byte header"
    );
}
