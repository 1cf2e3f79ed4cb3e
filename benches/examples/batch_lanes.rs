//! Batch lane kernels against intel-ipsec-mb, robust to a shared machine:
//! every tier's batch kernels and each multi-buffer kernel variant of the
//! widest tier (`Backend::batch_variants`), 64 messages under 8 keys, each
//! timed as the fastest of many single-batch trials, interleaved with
//! intel-ipsec-mb's (a batch takes microseconds, so the minimum is a run no
//! other process interrupted; criterion's mean is not, under load).
//!
//! `cargo run --release -p smbsign-benches --features peers --example batch_lanes -- [cmac|hmac] [TRIALS]`;
//! lengths from `BATCH_LENS` (default `256,4096,16384`). Every result is
//! checked against intel-ipsec-mb's tags.

use std::hint::black_box;
use std::time::Instant;

use smbsign::batch::{self, Job};
use smbsign::smb2::{Algorithm, SigningKey};
use smbsign::{Backend, Tier};
use smbsign_benches::example_args;
use smbsign_benches::peers::IpsecMb;

/// Each SIMD tier as picked, then the widest tier's other kernel variants.
fn contenders(alg: Algorithm) -> Vec<(String, Backend)> {
    let name = |b: &Backend| match alg {
        Algorithm::AesCmac => b.aes_batch_name(),
        _ => b.sha256_batch_name(),
    };
    let tiers: Vec<Backend> = Backend::available()
        .into_iter()
        .filter(|b| b.tier() != Tier::Portable)
        .collect();
    let mut out: Vec<(String, Backend)> = tiers
        .iter()
        .map(|b| (format!("{} tier: {}", b.tier().name(), name(b)), *b))
        .collect();
    if let Some(top) = tiers.last() {
        for v in top.batch_variants().into_iter().skip(1) {
            if name(&v) != name(top) && !out.iter().any(|(_, o)| name(o) == name(&v)) {
                out.push((format!("{} tier with {}", v.tier().name(), name(&v)), v));
            }
        }
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let algs = match args.next().as_deref() {
        Some("cmac") => vec![Algorithm::AesCmac],
        Some("hmac") => vec![Algorithm::HmacSha256],
        _ => vec![Algorithm::AesCmac, Algorithm::HmacSha256],
    };
    let trials: usize = args.next().map_or(400, |s| s.parse().expect("TRIALS"));
    let lens = example_args::lengths("BATCH_LENS", "256,4096,16384");
    let raw: Vec<[u8; 16]> = (0..8u8).map(|i| [0x40 ^ i; 16]).collect();
    let key_of: Vec<usize> = (0..64).map(|i| i % 8).collect();
    for alg in algs {
        let imb = IpsecMb::new(alg, &raw);
        println!("{}", IpsecMb::describe());
        let contenders = contenders(alg);
        for &len in &lens {
            let bufs: Vec<Vec<u8>> = (0..64)
                .map(|i| (0..len).map(|j| (i * 7 + j) as u8).collect())
                .collect();
            let msgs: Vec<&[u8]> = bufs.iter().map(Vec::as_slice).collect();
            let keys: Vec<Vec<SigningKey>> = contenders
                .iter()
                .map(|(_, b)| {
                    raw.iter()
                        .map(|k| SigningKey::with_backend(alg, k, *b).unwrap())
                        .collect()
                })
                .collect();
            let jobs: Vec<Vec<Job<'_>>> = keys
                .iter()
                .map(|ks| {
                    bufs.iter()
                        .zip(&key_of)
                        .map(|(m, &k)| Job::new(&ks[k], None, m).unwrap())
                        .collect()
                })
                .collect();
            let mut want = vec![[0u8; 16]; 64];
            imb.batch(&key_of, &msgs, &mut want);
            let mut tags = vec![[0u8; 16]; 64];
            let mut best = vec![f64::MAX; jobs.len() + 1];
            for _ in 0..trials {
                for (i, j) in jobs.iter().enumerate() {
                    let t = Instant::now();
                    batch::sign(black_box(j), &mut tags).unwrap();
                    best[i] = best[i].min(t.elapsed().as_secs_f64());
                    assert_eq!(tags, want, "{}", contenders[i].0);
                }
                let t = Instant::now();
                imb.batch(&key_of, black_box(&msgs), &mut tags);
                best[jobs.len()] = best[jobs.len()].min(t.elapsed().as_secs_f64());
            }
            let gbps = |s: f64| (64 * len) as f64 / s / 1e9;
            let peer = gbps(best[jobs.len()]);
            println!("{} 64x{len}: intel-ipsec-mb {peer:.2} GB/s", alg.name());
            for (i, (label, _)) in contenders.iter().enumerate() {
                let g = gbps(best[i]);
                println!(
                    "{} 64x{len}:   {label}: {g:.2} GB/s, {:.2}x intel-ipsec-mb",
                    alg.name(),
                    g / peer
                );
            }
        }
    }
}
