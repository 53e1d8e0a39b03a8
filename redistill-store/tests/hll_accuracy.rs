//! The HyperLogLog estimate's accuracy, from a thousand to ten million distinct elements:
//! prints a table (cardinality, mean estimate, mean and RMS relative error over several
//! independent element sets) and checks the RMS error against Redis's documented standard
//! error of 0.81% at 10^6 and 10^7.
//!
//! Slow in a debug build, so ignored by a plain `cargo test`:
//! `cargo test -p redistill-store --release --test hll_accuracy -- --ignored --nocapture`.

use redistill_store::Store;

/// Redis's standard error for 16384 registers: 1.04 / sqrt(16384).
const STANDARD_ERROR: f64 = 0.0081;

/// The estimate of `n` distinct elements of set `trial`, added in batches.
fn estimate(store: &Store, trial: usize, n: usize) -> u64 {
    let key = format!("hll:{trial}:{n}");
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(10_000);
    let mut start = 0;
    while start < n {
        let end = (start + 10_000).min(n);
        batch.clear();
        batch.extend((start..end).map(|i| format!("t{trial}:{i}").into_bytes()));
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        store.pfadd(0, key.as_bytes(), &refs).expect("pfadd");
        start = end;
    }
    let count = store.pfcount(0, &[key.as_bytes()]).expect("pfcount");
    store.del(0, &[key.as_bytes()]).expect("del");
    count
}

#[test]
#[ignore = "slow in debug builds: run with --release -- --ignored --nocapture"]
fn estimates_are_within_the_standard_error() {
    let store = Store::new();
    println!("| cardinality | trials | mean estimate | mean abs error | RMS error |");
    println!("|---|---|---|---|---|");
    for (n, trials) in [
        (1_000, 16),
        (10_000, 16),
        (100_000, 16),
        (1_000_000, 8),
        (10_000_000, 4),
    ] {
        let errors: Vec<(u64, f64)> = (0..trials)
            .map(|t| {
                let e = estimate(&store, t, n);
                (e, (e as f64 - n as f64) / n as f64)
            })
            .collect();
        let mean = errors.iter().map(|(e, _)| *e as f64).sum::<f64>() / trials as f64;
        let mean_abs = errors.iter().map(|(_, r)| r.abs()).sum::<f64>() / trials as f64;
        let rms = (errors.iter().map(|(_, r)| r * r).sum::<f64>() / trials as f64).sqrt();
        println!(
            "| {n} | {trials} | {mean:.0} | {:.3}% | {:.3}% |",
            mean_abs * 100.0,
            rms * 100.0
        );
        for (e, r) in &errors {
            assert!(
                r.abs() < 3.0 * STANDARD_ERROR,
                "{n} elements estimated as {e}"
            );
        }
        if n >= 1_000_000 {
            assert!(rms < 1.5 * STANDARD_ERROR, "RMS error {rms} at {n}");
        }
    }
}
