//! The cost of a message held in parts: `cipher::Key::seal_in_place` and
//! `open_in_place` on one part against Samba's layout for an encrypted
//! message (the SMB2 header, a 24-byte fixed body, the rest: three parts),
//! per SIMD tier, each timed as the fastest of many trials, the two layouts
//! alternating so their ratio holds on a shared machine. Outputs are checked
//! equal between the layouts.
//!
//! `cargo run --release -p smbsign-benches --example cipher_parts -- [TRIALS]`;
//! lengths from `CIPHER_LENS` (default `128,256,512,1024,2048,4096`), ciphers
//! from `CIPHER_NAMES` (default `aes-128-gcm,aes-128-ccm`), tiers from
//! `CIPHER_TIERS`.

use std::hint::black_box;
use std::time::Instant;

use smbsign::cipher::{Cipher, Key};
use smbsign_benches::example_args;

/// Calls per trial.
const CALLS: u32 = 2000;

/// Samba's cuts: header, fixed body, the rest.
fn samba_parts(buf: &mut [u8]) -> Vec<&mut [u8]> {
    let (head, rest) = buf.split_at_mut(64.min(buf.len()));
    let (body, data) = rest.split_at_mut(24.min(rest.len()));
    vec![head, body, data]
}

/// Fastest ns per call of `f` over `trials` trials.
fn best_ns(trials: usize, f: &mut dyn FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..trials {
        let t = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS));
    }
    best
}

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(40, |s| s.parse().expect("TRIALS"));
    let lens = example_args::lengths("CIPHER_LENS", "128,256,512,1024,2048,4096");
    let names = std::env::var("CIPHER_NAMES").unwrap_or("aes-128-gcm,aes-128-ccm".into());
    let tiers = example_args::simd_tiers("CIPHER_TIERS");
    let nonce_buf = [7u8; 12];
    let aad = [3u8; 32];
    println!("| cipher | tier | bytes | seal 1 part ns | seal 3 parts ns | open 1 part ns | open 3 parts ns |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for name in names.split(',') {
        let cipher = Cipher::from_name(name).expect("CIPHER_NAMES");
        let key: Vec<u8> = (0..cipher.key_len() as u8).collect();
        let nonce = &nonce_buf[..cipher.nonce_len()];
        for b in &tiers {
            let k = Key::with_backend(cipher, &key, *b).expect("key");
            for &len in &lens {
                let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut one = msg.clone();
                let mut three = msg.clone();
                let t1 = k.seal_in_place(nonce, &aad, &mut [&mut one[..]]).unwrap();
                let t3 = k
                    .seal_in_place(nonce, &aad, &mut samba_parts(&mut three))
                    .unwrap();
                assert_eq!((t1, &one), (t3, &three), "{name} {len}");
                let sealed = one.clone();
                let (mut s1, mut s3, mut o1, mut o3) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
                for _ in 0..4 {
                    s1 = s1.min(best_ns(trials / 4 + 1, &mut || {
                        black_box(k.seal_in_place(nonce, &aad, &mut [&mut one[..]]).unwrap());
                    }));
                    s3 = s3.min(best_ns(trials / 4 + 1, &mut || {
                        black_box(
                            k.seal_in_place(nonce, &aad, &mut samba_parts(&mut three))
                                .unwrap(),
                        );
                    }));
                    // Opening the sealed copy: a wrong tag would fail, so the
                    // buffer is reset each call (the copy is timed in both).
                    o1 = o1.min(best_ns(trials / 4 + 1, &mut || {
                        one.copy_from_slice(&sealed);
                        k.open_in_place(nonce, &aad, &mut [&mut one[..]], &t1)
                            .unwrap();
                    }));
                    o3 = o3.min(best_ns(trials / 4 + 1, &mut || {
                        three.copy_from_slice(&sealed);
                        k.open_in_place(nonce, &aad, &mut samba_parts(&mut three), &t1)
                            .unwrap();
                    }));
                }
                assert_eq!(one, msg);
                assert_eq!(three, msg);
                println!(
                    "| {name} | {} | {len} | {s1:.1} | {s3:.1} | {o1:.1} | {o3:.1} |",
                    b.tier().name()
                );
            }
        }
    }
}
