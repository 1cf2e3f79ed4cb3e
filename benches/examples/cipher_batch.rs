//! CCM batches against single streams on every CCM lanes kernel this CPU
//! has (`smbsign_benches::cipher_batch`), without the peers the `cipher`
//! example needs.
//!
//! `cargo run --release -p smbsign-benches --example cipher_batch -- [TRIALS]`;
//! lengths from `CIPHER_BATCH_LENS` (default `4096`), batch sizes from
//! `CIPHER_BATCH_COUNTS` (default `64`), ciphers from `CIPHER_NAMES`, tiers
//! from `CIPHER_TIERS`.

use smbsign::cipher::Cipher;
use smbsign_benches::{cipher_batch, example_args};

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(50, |s| s.parse().expect("TRIALS"));
    let ciphers: Vec<Cipher> = std::env::var("CIPHER_NAMES").map_or(Cipher::ALL.to_vec(), |s| {
        s.split(',')
            .map(|n| Cipher::from_name(n).expect("CIPHER_NAMES"))
            .collect()
    });
    let tiers = example_args::simd_tiers("CIPHER_TIERS");
    let lens = example_args::lengths("CIPHER_BATCH_LENS", "4096");
    let counts = example_args::lengths("CIPHER_BATCH_COUNTS", "64");
    cipher_batch::rows(&tiers, &ciphers, &lens, &counts, trials);
}
