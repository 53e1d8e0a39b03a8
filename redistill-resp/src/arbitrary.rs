//! [proptest] strategies for frames (feature `proptest`), for property tests of code that
//! reads or writes RESP: decoders, reply scanners, conversions.
//!
//! ```
//! use proptest::prelude::*;
//! use redistill_resp::arbitrary::Frames;
//! use redistill_resp::{Decoder, Version};
//!
//! proptest!(|(frame in Frames::default().resp3())| {
//!     let mut buf = bytes::BytesMut::new();
//!     frame.encode(Version::Resp3, &mut buf);
//!     prop_assert_eq!(Decoder::new().decode(&mut buf).unwrap(), Some(frame));
//! });
//! ```

use bytes::Bytes;
use proptest::prelude::*;

use crate::Frame;

/// What the leaves of generated frames are made of; [`Frames::default`] gives frames that
/// encode validly and compare equal after a round trip.
#[derive(Debug, Clone)]
pub struct Frames {
    /// Simple strings' and simple errors' text.
    pub line: BoxedStrategy<Bytes>,
    /// Bulk strings, bulk errors and verbatim strings' text.
    pub blob: BoxedStrategy<Bytes>,
    /// Doubles.
    pub double: BoxedStrategy<f64>,
    /// Big numbers' digits.
    pub big_number: BoxedStrategy<Bytes>,
}

impl Default for Frames {
    fn default() -> Self {
        Frames {
            line: proptest::collection::vec(
                any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
                0..12,
            )
            .prop_map(Bytes::from)
            .boxed(),
            blob: proptest::collection::vec(any::<u8>(), 0..24)
                .prop_map(Bytes::from)
                .boxed(),
            double: prop_oneof![
                any::<f64>().prop_filter("not NaN", |d| !d.is_nan()),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
            ]
            .boxed(),
            big_number: "-?[1-9][0-9]{0,40}".prop_map(Bytes::from).boxed(),
        }
    }
}

impl Frames {
    /// Any frame of RESP3's types, aggregates nested up to four deep.
    pub fn resp3(self) -> BoxedStrategy<Frame> {
        let leaf = prop_oneof![
            self.line.clone().prop_map(Frame::SimpleString),
            self.line.prop_map(Frame::SimpleError),
            any::<i64>().prop_map(Frame::Integer),
            self.blob.clone().prop_map(Frame::BulkString),
            Just(Frame::NullBulkString),
            Just(Frame::NullArray),
            Just(Frame::Null),
            any::<bool>().prop_map(Frame::Boolean),
            self.double.prop_map(Frame::Double),
            self.big_number.prop_map(Frame::BigNumber),
            self.blob.clone().prop_map(Frame::BulkError),
            (proptest::array::uniform3(b'a'..=b'z'), self.blob)
                .prop_map(|(format, text)| Frame::VerbatimString { format, text }),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let list = proptest::collection::vec(inner.clone(), 0..6);
            let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
            prop_oneof![
                list.clone().prop_map(Frame::Array),
                list.clone().prop_map(Frame::Set),
                list.prop_map(Frame::Push),
                pairs.clone().prop_map(Frame::Map),
                (pairs, inner).prop_map(|(attributes, value)| Frame::Attribute {
                    attributes,
                    value: Box::new(value),
                }),
            ]
        })
        .boxed()
    }

    /// Any frame of RESP2's types (strings, errors, integers, bulk strings, arrays and
    /// their nulls), arrays nested up to four deep.
    pub fn resp2(self) -> BoxedStrategy<Frame> {
        let leaf = prop_oneof![
            self.line.clone().prop_map(Frame::SimpleString),
            self.line.prop_map(Frame::SimpleError),
            any::<i64>().prop_map(Frame::Integer),
            self.blob.prop_map(Frame::BulkString),
            Just(Frame::NullBulkString),
            Just(Frame::NullArray),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            proptest::collection::vec(inner, 0..6).prop_map(Frame::Array)
        })
        .boxed()
    }
}
