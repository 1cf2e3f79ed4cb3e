//! GMAC batches against a plain loop of one-shot calls, per length and tier:
//! `batch::sign` of 64 AES-GMAC jobs (8 keys round-robin, a nonce per job)
//! vs `SigningKey::mac` called on the same 64 jobs in a loop. Each is timed
//! as the fastest of many single-batch trials, the two alternating, so the
//! figures hold on a shared machine. Every batch tag is checked against the
//! one-shot tag.
//!
//! `cargo run --release -p smbsign-benches --example batch_gmac -- [TRIALS] [ALG]`;
//! `ALG` is `gmac` (default), `cmac` or `hmac` (then no nonce); lengths from
//! `BATCH_LENS`: a comma list whose items are `N` or `A..=B:STEP`
//! (default `0,16,32,64,96,112,128,176,256,512,1024,4096`); `BATCH_TIERS`
//! (comma list of tier names) keeps only those tiers.

use std::hint::black_box;
use std::time::Instant;

use smbsign::batch::{self, Job};
use smbsign::smb2::{Algorithm, SigningKey};
use smbsign_benches::example_args;

fn main() {
    let mut args = std::env::args().skip(1);
    let trials: usize = args.next().map_or(300, |s| s.parse().expect("TRIALS"));
    let alg = match args.next().as_deref() {
        Some("cmac") => Algorithm::AesCmac,
        Some("hmac") => Algorithm::HmacSha256,
        _ => Algorithm::AesGmac,
    };
    let tiers = example_args::simd_tiers("BATCH_TIERS");
    let raw: Vec<[u8; 16]> = (0..8u8).map(|i| [0x40 ^ i; 16]).collect();
    let nonces: Vec<[u8; 12]> = (0..64u8).map(|i| [i; 12]).collect();
    let nonce = |i: usize| (alg == Algorithm::AesGmac).then_some(&nonces[i]);
    println!(
        "{} 64 jobs, 8 keys; ns per job, fastest of {trials}: batch / one-shot loop (speed ratio)",
        alg.name()
    );
    for len in example_args::lengths("BATCH_LENS", "0,16,32,64,96,112,128,176,256,512,1024,4096") {
        let bufs: Vec<Vec<u8>> = (0..64)
            .map(|i| (0..len).map(|j| (i * 7 + j) as u8).collect())
            .collect();
        let mut line = format!("{len:>5} B");
        for b in &tiers {
            let keys: Vec<SigningKey> = raw
                .iter()
                .map(|k| SigningKey::with_backend(alg, k, *b).unwrap())
                .collect();
            let jobs: Vec<Job<'_>> = bufs
                .iter()
                .enumerate()
                .map(|(i, m)| Job::new(&keys[i % 8], nonce(i), m).unwrap())
                .collect();
            let mut want = vec![[0u8; 16]; 64];
            let mut tags = vec![[0u8; 16]; 64];
            let (mut best_batch, mut best_loop) = (f64::MAX, f64::MAX);
            for _ in 0..trials {
                let t = Instant::now();
                batch::sign(black_box(&jobs), &mut tags).unwrap();
                best_batch = best_batch.min(t.elapsed().as_secs_f64());
                let t = Instant::now();
                for (i, (j, w)) in black_box(&jobs).iter().zip(&mut want).enumerate() {
                    *w = j.key().mac(nonce(i), j.message()).unwrap();
                }
                best_loop = best_loop.min(t.elapsed().as_secs_f64());
                assert_eq!(tags, want, "{} tier, {len} B", b.tier().name());
            }
            let ns = |s: f64| s / 64.0 * 1e9;
            line += &format!(
                " | {} {:.1} / {:.1} ns ({:.2}x)",
                b.tier().name(),
                ns(best_batch),
                ns(best_loop),
                best_loop / best_batch,
            );
        }
        println!("{line}");
    }
}
