//! CCM batches against single streams: `batch::seal` of N messages of one
//! length against N `cipher::Key::seal_in_place` calls, on every CCM lanes
//! kernel this CPU has, each timed as the fastest of many trials, the two
//! alternating within a round so the ratio holds on a shared machine. Every
//! batch result is checked against the single calls first. Printed by the
//! `cipher` example (after its peer rows) and the peer-free `cipher_batch` one.

use std::hint::black_box;
use std::time::Instant;

use smbsign::batch::{self, CipherJob};
use smbsign::cipher::{Cipher, Key};
use smbsign::Backend;

/// Fastest seconds per call of `f` over one trial of `reps` calls.
fn time(best: &mut f64, reps: usize, mut f: impl FnMut()) {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    *best = best.min(t.elapsed().as_secs_f64() / reps as f64);
}

/// Each backend's CCM lanes kernels (`Backend::batch_variants`), once each.
pub fn ccm_variants(tiers: &[Backend]) -> Vec<Backend> {
    let mut out: Vec<Backend> = Vec::new();
    for t in tiers {
        for v in t.batch_variants() {
            if !out.iter().any(|o| o.ccm_batch_name() == v.ccm_batch_name()) {
                out.push(v);
            }
        }
    }
    out
}

/// Prints one row per (cipher, length, count, kernel): the batch's and the
/// single calls' GB/s (1e9 B/s of message) and their ratio.
pub fn rows(
    tiers: &[Backend],
    ciphers: &[Cipher],
    lens: &[usize],
    counts: &[usize],
    trials: usize,
) {
    let aad = [0x5au8; 32];
    println!(
        "CCM batches (batch::seal of N messages) vs N single seal_in_place calls, 32-byte AAD, \
         GB/s (1e9 B/s), fastest of {trials} trials"
    );
    for &cipher in ciphers.iter().filter(|c| c.nonce_len() == 11) {
        let raw: Vec<u8> = (0..cipher.key_len() as u8).map(|i| i * 5 + 3).collect();
        for &len in lens {
            for &n in counts {
                let nonces: Vec<[u8; 11]> = (0..n)
                    .map(|i| core::array::from_fn(|j| (i * 11 + j) as u8))
                    .collect();
                let msgs: Vec<Vec<u8>> = (0..n)
                    .map(|i| (0..len).map(|j| (i + j * 31) as u8).collect())
                    .collect();
                for b in ccm_variants(tiers) {
                    let key = Key::with_backend(cipher, &raw, b).unwrap();
                    // Check: the batch equals the single calls.
                    let mut want = msgs.clone();
                    let want_tags: Vec<[u8; 16]> = want
                        .iter_mut()
                        .zip(&nonces)
                        .map(|(m, nc)| key.seal_in_place(nc, &aad, &mut [&mut m[..]]).unwrap())
                        .collect();
                    let mut bufs = msgs.clone();
                    let mut tags = vec![[0u8; 16]; n];
                    seal_batch(&key, &nonces, &aad, &mut bufs, &mut tags);
                    assert!(
                        bufs == want && tags == want_tags,
                        "{cipher} {len} x{n} {}",
                        b.ccm_batch_name()
                    );
                    let reps = (262_144 / (len.max(16) * n)).max(1);
                    let (mut one, mut many) = (f64::MAX, f64::MAX);
                    for _ in 0..trials {
                        time(&mut one, reps, || {
                            for (m, nc) in bufs.iter_mut().zip(&nonces) {
                                black_box(key.seal_in_place(nc, &aad, &mut [&mut m[..]]).unwrap());
                            }
                        });
                        time(&mut many, reps, || {
                            seal_batch(&key, &nonces, &aad, &mut bufs, &mut tags);
                            black_box(&tags);
                        });
                    }
                    let gbs = |s: f64| (len * n) as f64 / s / 1e9;
                    println!(
                        "{cipher} {len:>6} B x{n:<3} | {:<22} | batch {:6.2} | single {:6.2} | {:5.2}x",
                        format!("{} {}", b.tier().name(), b.ccm_batch_name()),
                        gbs(many),
                        gbs(one),
                        one / many
                    );
                }
            }
        }
    }
}

fn seal_batch(
    key: &Key,
    nonces: &[[u8; 11]],
    aad: &[u8],
    bufs: &mut [Vec<u8>],
    tags: &mut [[u8; 16]],
) {
    let mut parts: Vec<[&mut [u8]; 1]> = bufs.iter_mut().map(|m| [&mut m[..]]).collect();
    let mut jobs: Vec<CipherJob<'_, '_>> = parts
        .iter_mut()
        .zip(nonces)
        .map(|(p, nc)| CipherJob::new(key, nc, aad, p).unwrap())
        .collect();
    batch::seal(&mut jobs, tags).unwrap();
}
