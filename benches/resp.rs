//! RESP codec throughput, ours against `redis-protocol` on the same inputs.
//!
//! Decode: a pipelined batch of 16 `SET key:NNNNNN <3 bytes>`, the same of `GET`, and one
//! 1 MB bulk string. Encode: the matching replies (16 `+OK`, 16 three-byte bulks, one
//! 1 MB bulk). Throughput is in elements: commands for the batches, frames otherwise.
//!
//! Run: `cargo bench --bench resp -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use redis_protocol::resp2::{decode::decode_bytes_mut, encode::extend_encode, types::BytesFrame};
use redistill_resp::{Decoder, Frame, RequestBatch, RequestDecoder, Version, encode};
use std::hint::black_box;

const BATCH: usize = 16;

/// Keys from a fixed-seed generator, so every run decodes the same bytes.
fn keys() -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..BATCH)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("key:{:06}", x % 1_000_000)
        })
        .collect()
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let frame = Frame::Array(args.iter().map(|a| Frame::bulk(a.to_vec())).collect());
    frame.to_vec(Version::Resp2)
}

fn set_batch() -> Vec<u8> {
    keys()
        .iter()
        .flat_map(|k| command(&[b"SET", k.as_bytes(), b"xyz"]))
        .collect()
}

fn get_batch() -> Vec<u8> {
    keys()
        .iter()
        .flat_map(|k| command(&[b"GET", k.as_bytes()]))
        .collect()
}

fn big_bulk() -> Vec<u8> {
    Frame::bulk(vec![b'v'; 1 << 20]).to_vec(Version::Resp2)
}

fn bench_decode(c: &mut Criterion) {
    let inputs = [
        ("set_x16", set_batch(), BATCH, BatchSize::SmallInput),
        ("get_x16", get_batch(), BATCH, BatchSize::SmallInput),
        ("bulk_1mb", big_bulk(), 1, BatchSize::LargeInput),
    ];
    for (name, input, elements, size) in inputs {
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Elements(elements as u64));
        let fresh = || BytesMut::from(&input[..]);
        if name != "bulk_1mb" {
            let mut decoder = RequestDecoder::new();
            let mut batch = RequestBatch::new();
            g.bench_function("redistill_batch", |b| {
                b.iter_batched_ref(
                    fresh,
                    |buf| {
                        let n = decoder.decode_batch(buf, &mut batch).unwrap_or(0);
                        for req in batch.iter() {
                            black_box(req.arg(0));
                            black_box(req.arg(1));
                        }
                        assert_eq!(n, elements);
                    },
                    size,
                )
            });
            let mut args = Vec::with_capacity(8);
            g.bench_function("redistill_request", |b| {
                b.iter_batched_ref(
                    fresh,
                    |buf| {
                        let mut n = 0;
                        while decoder.decode_into(buf, &mut args).unwrap_or(false) {
                            black_box(&args);
                            n += 1;
                        }
                        assert_eq!(n, elements);
                    },
                    size,
                )
            });
        }
        let mut decoder = Decoder::new();
        g.bench_function("redistill_frame", |b| {
            b.iter_batched_ref(
                fresh,
                |buf| {
                    let mut n = 0;
                    while let Ok(Some(f)) = decoder.decode(buf) {
                        black_box(f);
                        n += 1;
                    }
                    assert_eq!(n, elements);
                },
                size,
            )
        });
        g.bench_function("redis_protocol", |b| {
            b.iter_batched_ref(
                fresh,
                |buf| {
                    let mut n = 0;
                    while let Ok(Some((f, _, _))) = decode_bytes_mut(buf) {
                        black_box(f);
                        n += 1;
                    }
                    assert_eq!(n, elements);
                },
                size,
            )
        });
        g.finish();
    }
}

fn bench_encode(c: &mut Criterion) {
    let value3 = Bytes::from_static(b"xyz");
    let big = Bytes::from(vec![b'v'; 1 << 20]);
    let cases: [(&str, usize, Frame, BytesFrame); 3] = [
        (
            "ok_x16",
            BATCH,
            Frame::simple("OK"),
            BytesFrame::SimpleString(Bytes::from_static(b"OK")),
        ),
        (
            "bulk3_x16",
            BATCH,
            Frame::BulkString(value3.clone()),
            BytesFrame::BulkString(value3.clone()),
        ),
        (
            "bulk_1mb",
            1,
            Frame::BulkString(big.clone()),
            BytesFrame::BulkString(big.clone()),
        ),
    ];
    for (name, count, ours, theirs) in cases {
        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Elements(count as u64));
        // Buffers are reused across iterations, as a server reuses its write buffer.
        let mut out = BytesMut::with_capacity((1 << 20) + 64);
        g.bench_function("redistill_helpers", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..count {
                    match &ours {
                        Frame::SimpleString(_) => encode::write_ok(&mut out),
                        Frame::BulkString(v) => encode::write_bulk(&mut out, v),
                        _ => unreachable!(),
                    }
                }
                black_box(&out);
            })
        });
        g.bench_function("redistill_frame", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..count {
                    ours.encode(Version::Resp2, &mut out);
                }
                black_box(&out);
            })
        });
        g.bench_function("redis_protocol", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..count {
                    let _ = extend_encode(&mut out, &theirs, false);
                }
                black_box(&out);
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
