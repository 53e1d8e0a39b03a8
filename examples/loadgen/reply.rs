//! Counts whole RESP replies in a byte stream without building them.
//!
//! A load generator only needs to know where each reply ends, and which replies are
//! errors. [`ReplyScanner`] walks headers with `memchr` and steps over bulk payloads by
//! their length, keeping only a count of the values each open aggregate still owes, so
//! a reply may arrive split over any number of reads and a bulk payload is never
//! buffered whole. Decoding into frames (as `redistill_resp::Decoder` does) would cost
//! an allocation per aggregate and element, which at a few million replies a second
//! is the client's whole budget.
//!
//! Every RESP2 and RESP3 type is understood. An attribute (`|`) describes the value
//! after it, so it fills no place of its own; a push (`>`) counts as a reply, as the
//! load generator never subscribes.

use std::fmt;
use std::ops::Range;

/// Where a reply stream stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    /// The offending line, lossily decoded, for the message.
    pub line: String,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a RESP reply: {:?}", self.line)
    }
}

impl std::error::Error for ProtocolError {}

/// What one [`ReplyScanner::scan`] call found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Bytes of the input taken; the rest (part of a header line) must be offered again,
    /// with more bytes after it.
    pub consumed: usize,
    /// Replies completed in this input.
    pub replies: usize,
    /// How many of them are errors (`-` or `!` at the top level).
    pub errors: usize,
    /// The text of the first simple error among them, as a range of the input.
    pub first_error: Option<Range<usize>>,
}

/// An aggregate whose elements are still being skipped.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Values it still owes.
    left: u64,
    /// An attribute map: once complete it fills no place, the value after it does.
    attribute: bool,
}

/// Incremental reply counter for one connection; see the module docs.
#[derive(Debug, Default)]
pub struct ReplyScanner {
    /// Aggregates in progress, innermost last; empty between replies.
    open: Vec<Open>,
    /// Bytes of a bulk payload and its CRLF still to step over.
    bulk_left: usize,
}

impl ReplyScanner {
    /// A scanner at the start of a reply stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the scanner is between two replies.
    pub fn at_boundary(&self) -> bool {
        self.open.is_empty() && self.bulk_left == 0
    }

    /// Steps over as much of `input` as forms whole values, counting completed replies.
    ///
    /// # Errors
    ///
    /// A line that starts no RESP type, or a length that is not a number; the stream
    /// cannot be followed after that.
    pub fn scan(&mut self, input: &[u8]) -> Result<Scanned, ProtocolError> {
        let mut out = Scanned::default();
        let mut pos = 0;
        loop {
            if self.bulk_left > 0 {
                let step = self.bulk_left.min(input.len() - pos);
                pos += step;
                self.bulk_left -= step;
                if self.bulk_left > 0 {
                    break;
                }
                self.value_done(&mut out);
                continue;
            }
            let Some(newline) = memchr::memchr(b'\n', &input[pos..]) else {
                break;
            };
            let start = pos;
            let line_end = pos + newline;
            pos = line_end + 1;
            let line = &input[start..line_end];
            let Some((&kind, rest)) = line.split_first() else {
                return Err(protocol_error(line));
            };
            let Some(body) = rest.strip_suffix(b"\r") else {
                return Err(protocol_error(line));
            };
            match kind {
                b'+' | b':' | b'_' | b',' | b'#' | b'(' => self.value_done(&mut out),
                b'-' => {
                    if self.open.is_empty() {
                        out.errors += 1;
                        out.first_error.get_or_insert(start + 1..line_end - 1);
                    }
                    self.value_done(&mut out);
                }
                b'$' | b'=' | b'!' => {
                    let len = parse_length(body).ok_or_else(|| protocol_error(line))?;
                    if kind == b'!' && self.open.is_empty() {
                        out.errors += 1;
                    }
                    match usize::try_from(len) {
                        Ok(len) => self.bulk_left = len + 2,
                        Err(_) => self.value_done(&mut out), // `$-1`: a null
                    }
                }
                b'*' | b'~' | b'>' | b'%' | b'|' => {
                    let len = parse_length(body).ok_or_else(|| protocol_error(line))?;
                    let per_entry = if kind == b'%' || kind == b'|' { 2 } else { 1 };
                    let values = u64::try_from(len).unwrap_or(0) * per_entry;
                    if kind == b'|' {
                        if values > 0 {
                            self.open.push(Open {
                                left: values,
                                attribute: true,
                            });
                        }
                    } else if values == 0 {
                        self.value_done(&mut out); // empty, or `*-1`: a null
                    } else {
                        self.open.push(Open {
                            left: values,
                            attribute: false,
                        });
                    }
                }
                _ => return Err(protocol_error(line)),
            }
        }
        out.consumed = pos;
        Ok(out)
    }

    /// One value is complete: it fills a place in the innermost aggregate, which may
    /// complete that aggregate in turn, up to a whole reply.
    fn value_done(&mut self, out: &mut Scanned) {
        loop {
            let Some(open) = self.open.last_mut() else {
                out.replies += 1;
                return;
            };
            open.left -= 1;
            if open.left > 0 {
                return;
            }
            let attribute = open.attribute;
            self.open.pop();
            if attribute {
                return;
            }
        }
    }
}

/// A RESP length: an optional `-` and decimal digits.
fn parse_length(body: &[u8]) -> Option<i64> {
    let (negative, digits) = match body.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, body),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some(if negative { -value } else { value })
}

fn protocol_error(line: &[u8]) -> ProtocolError {
    ProtocolError {
        line: String::from_utf8_lossy(&line[..line.len().min(64)]).into_owned(),
    }
}
