//! One-shot AES-GMAC of long messages per tier against OpenSSL: `SigningKey::mac`
//! on each tier and OpenSSL's EVP_MAC (the criterion suite's peer), each timed
//! as the fastest of many trials (each of enough calls to last ~16 KiB of
//! signing, so the timer's resolution does not matter), all alternating within a round,
//! so the figures hold on a shared machine. Every tag is checked against OpenSSL's.
//!
//! `cargo run --release -p smbsign-benches --features peers --example gmac_long -- [TRIALS]`;
//! lengths from `GMAC_LENS` (comma list, default `4096,65536,1048576`), tiers
//! from `GMAC_TIERS` (comma list of tier names, default every available one;
//! the zmm tier with each GHASH loop the CPU has), the message's start
//! `GMAC_ALIGN` bytes past a 64-byte boundary (default 16, as malloc gives).

use std::hint::black_box;
use std::time::Instant;

use smbsign::smb2::{Algorithm, SigningKey};
use smbsign_benches::example_args;
use smbsign_benches::peers::{CMac, Lib};

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(200, |s| s.parse().expect("TRIALS"));
    let lens = example_args::lengths("GMAC_LENS", "4096,65536,1048576");
    let tiers = example_args::gmac_tiers("GMAC_TIERS");
    let align: usize = std::env::var("GMAC_ALIGN").map_or(16, |s| s.parse().expect("GMAC_ALIGN"));
    let key = [0x42u8; 16];
    let nonce = [7u8; 12];
    let mut ossl = CMac::new(Lib::OpenSsl, Algorithm::AesGmac, &key);
    let keys: Vec<SigningKey> = tiers
        .iter()
        .map(|b| SigningKey::with_backend(Algorithm::AesGmac, &key, *b).unwrap())
        .collect();
    // Key setup (AES schedule and the tier's GHASH key powers), per tier.
    let mut line = String::from("key setup ns:");
    for b in &tiers {
        let mut best = f64::MAX;
        for _ in 0..trials {
            let t = Instant::now();
            black_box(SigningKey::with_backend(Algorithm::AesGmac, black_box(&key), *b).unwrap());
            best = best.min(t.elapsed().as_secs_f64());
        }
        line += &format!(" {} {:.0}", example_args::gmac_label(b), best * 1e9);
    }
    println!("{line}");
    println!("AES-GMAC one-shot, GB/s (1e9 B/s), fastest of {trials} trials");
    for len in lens {
        // The message starts `align` bytes past a 64-byte boundary (zmm loads
        // of it split cache lines unless that is 0).
        let buf: Vec<u8> = (0..len + 128).map(|i| (i * 31 + 5) as u8).collect();
        let start = (align + 64 - buf.as_ptr() as usize % 64) % 64;
        let msg = &buf[start..start + len];
        let want = ossl.mac(&nonce, msg);
        // Calls per trial: enough that a trial lasts well above the timer's resolution.
        let reps = (16384 / len.max(1)).max(1);
        let mut best = vec![f64::MAX; keys.len() + 1];
        for _ in 0..trials {
            for (k, b) in keys.iter().zip(&mut best) {
                let t = Instant::now();
                for _ in 0..reps {
                    let tag = k.mac(Some(black_box(&nonce)), black_box(msg)).unwrap();
                    assert_eq!(tag, want, "{len} B");
                }
                *b = b.min(t.elapsed().as_secs_f64() / reps as f64);
            }
            let t = Instant::now();
            for _ in 0..reps {
                let tag = ossl.mac(black_box(&nonce), black_box(msg));
                assert_eq!(tag, want);
            }
            best[keys.len()] = best[keys.len()].min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let gbs = |s: f64| len as f64 / s / 1e9;
        let mut line = format!("{len:>8} B");
        for (b, s) in tiers.iter().zip(&best) {
            line += &format!(" | {} {:.2}", example_args::gmac_label(b), gbs(*s));
        }
        let o = best[keys.len()];
        line += &format!(" | openssl {:.2}", gbs(o));
        for (b, s) in tiers.iter().zip(&best) {
            line += &format!(" | {}/openssl {:.3}x", example_args::gmac_label(b), o / s);
        }
        println!("{line}");
    }
}
