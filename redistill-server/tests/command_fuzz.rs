//! The command-layer fuzz target's programs, from seeded random bytes instead of a fuzzer:
//! every reply one well-formed RESP frame, the store consistent after every command, no
//! panic. `COMMAND_FUZZ_ITERATIONS` sets how many requests run (default 10000) and
//! `COMMAND_FUZZ_SEED` the first seed; a failure names the seed that replays it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use redistill_server::testing::check;

/// Input bytes per program: about a hundred steps.
const PROGRAM_BYTES: usize = 600;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bytes of the program for `seed` (splitmix64).
fn program(seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..PROGRAM_BYTES / 8)
        .flat_map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)).to_le_bytes()
        })
        .collect()
}

#[test]
fn random_programs_keep_replies_well_formed_and_the_store_consistent() {
    let wanted = env_or("COMMAND_FUZZ_ITERATIONS", 10_000);
    let first = env_or("COMMAND_FUZZ_SEED", 1);
    let mut ran = 0u64;
    let mut seed = first;
    while ran < wanted {
        let data = program(seed);
        match catch_unwind(AssertUnwindSafe(|| check::run_program(&data))) {
            Ok(Ok(n)) => ran += n as u64,
            Ok(Err(report)) => panic!("seed {seed} (COMMAND_FUZZ_SEED={seed}):\n{report}"),
            Err(_) => panic!("seed {seed} (COMMAND_FUZZ_SEED={seed}) panicked; see above"),
        }
        seed += 1;
    }
}
