//! Frame conversions on arbitrary frames: never a panic, an error that says something,
//! and results consistent with the frame they came from.
// Helpers outside #[test] functions panic on purpose when a conversion misbehaves.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use bytes::Bytes;
use proptest::prelude::*;
use redistill_resp::{Frame, FromFrameError};

fn text() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        "-?[0-9]{1,20}".prop_map(Bytes::from),
        "[a-z .]{0,8}".prop_map(Bytes::from),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from),
        Just(Bytes::from_static(b"inf")),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    let leaf = prop_oneof![
        text().prop_map(Frame::SimpleString),
        text().prop_map(Frame::SimpleError),
        any::<i64>().prop_map(Frame::Integer),
        text().prop_map(Frame::BulkString),
        Just(Frame::NullBulkString),
        Just(Frame::NullArray),
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Boolean),
        any::<f64>().prop_map(Frame::Double),
        text().prop_map(Frame::BigNumber),
        text().prop_map(Frame::BulkError),
        text().prop_map(|text| Frame::VerbatimString {
            format: *b"txt",
            text,
        }),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        let list = proptest::collection::vec(inner.clone(), 0..6);
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            list.clone().prop_map(Frame::Array),
            list.clone().prop_map(Frame::Set),
            list.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attributes, v)| Frame::Attribute {
                attributes,
                value: Box::new(v),
            }),
        ]
    })
}

/// Checks an error's message is not empty, and returns whether the conversion worked.
fn worked<T>(result: Result<T, FromFrameError>) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

/// The element count of an aggregate a list conversion reads, looking through attributes.
fn elements(frame: &Frame) -> Option<usize> {
    match frame {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v.len()),
        Frame::Attribute { value, .. } => elements(value),
        _ => None,
    }
}

proptest! {
    #[test]
    fn every_conversion_of_any_frame_answers_without_panicking(f in frame()) {
        worked(i64::try_from(f.clone()));
        worked(u64::try_from(f.clone()));
        worked(f64::try_from(f.clone()));
        worked(bool::try_from(f.clone()));
        worked(String::try_from(f.clone()));
        worked(Bytes::try_from(f.clone()));
        worked(Vec::<u8>::try_from(f.clone()));
        worked(Option::<String>::try_from(f.clone()));
        worked(Vec::<Option<Bytes>>::try_from(f.clone()));
        worked(HashMap::<String, Vec<i64>>::try_from(f.clone()));
        worked(HashMap::<Bytes, Option<f64>>::try_from(f.clone()));
    }

    #[test]
    fn conversions_agree_with_the_frame(f in frame()) {
        if let Ok(list) = Vec::<Option<Bytes>>::try_from(f.clone()) {
            prop_assert_eq!(Some(list.len()), elements(&f));
        }
        let is_null = matches!(f, Frame::Null | Frame::NullBulkString | Frame::NullArray);
        if is_null {
            prop_assert_eq!(Option::<i64>::try_from(f.clone()), Ok(None));
        }
        if let Frame::SimpleError(e) | Frame::BulkError(e) = &f {
            let expected = FromFrameError::Server(String::from_utf8_lossy(e).into_owned());
            prop_assert_eq!(i64::try_from(f.clone()), Err(expected));
        }
        if let (Ok(unsigned), Ok(signed)) = (u64::try_from(f.clone()), i64::try_from(f.clone())) {
            prop_assert_eq!(i64::try_from(unsigned).ok(), Some(signed));
        }
        if let Ok(n) = i64::try_from(f.clone()) {
            // Whatever holds an integer also reads as a string of it (or a double of it).
            if let Ok(s) = String::try_from(f.clone()) {
                prop_assert_eq!(s, n.to_string());
            }
        }
    }
}
