//! Frame conversions on arbitrary frames: never a panic, an error that says something,
//! and results consistent with the frame they came from.
// Helpers outside #[test] functions panic on purpose when a conversion misbehaves.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use bytes::Bytes;
use proptest::prelude::*;
use redistill_resp::arbitrary::Frames;
use redistill_resp::{Frame, FromFrameError};

fn text() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        "-?[0-9]{1,20}".prop_map(Bytes::from),
        "[a-z .]{0,8}".prop_map(Bytes::from),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from),
        Just(Bytes::from_static(b"inf")),
    ]
}

/// Any RESP3 frame whose texts are numbers, words or bytes, so that conversions succeed
/// as well as fail.
fn frame() -> impl Strategy<Value = Frame> {
    Frames {
        line: text().boxed(),
        blob: text().boxed(),
        double: any::<f64>().boxed(),
        big_number: text().boxed(),
    }
    .resp3()
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
