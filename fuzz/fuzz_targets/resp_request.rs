//! Fuzzes the request fast path: one-at-a-time and batch decoding must agree for any
//! split of the input into reads, and never panic.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use redistill_resp::{Error, RequestBatch, RequestDecoder, split_args};

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split % 32) + 1;

    let single = one_at_a_time(data, chunk);
    let batched = batched(data, chunk);
    assert_eq!(single, batched);
    let _ = split_args(data);
});

type Outcome = (Vec<Vec<Bytes>>, Option<Error>);

fn one_at_a_time(data: &[u8], chunk: usize) -> Outcome {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut args = Vec::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match d.decode_into(&mut buf, &mut args) {
                Ok(true) => out.push(args.clone()),
                Ok(false) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn batched(data: &[u8], chunk: usize) -> Outcome {
    let mut d = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut batch = RequestBatch::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        let result = d.decode_batch(&mut buf, &mut batch);
        out.extend(batch.iter().map(|r| r.to_vec()));
        if let Err(e) = result {
            return (out, Some(e));
        }
    }
    (out, None)
}
