//! Fuzzes the command layer: the input decodes into requests for two clients and steps
//! of time (`redistill_server::testing::program`), run on an in-process server with no
//! sockets. Nothing may panic, every reply must be one well-formed RESP frame of the
//! client's protocol, and the store must pass its invariant check after every step.
//! The `command_fuzz` test of redistill-server runs the same programs from seeded bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redistill_server::testing::check;

fuzz_target!(|data: &[u8]| {
    if let Err(report) = check::run_program(data) {
        panic!("{report}");
    }
});
