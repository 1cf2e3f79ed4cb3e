//! The per-call cost of the C entry point `smbsign_mac` next to the Rust API
//! (`SigningKey::mac`) and GnuTLS (`gnutls_hmac`, what Samba calls), per
//! algorithm and message length: each timed as the fastest of many trials of
//! a loop of calls, the three alternating, so the ratios hold on a shared machine. A few nanoseconds of either move
//! with the stack's alignment (where the tag's stack copies fall), so each
//! loop also runs at four stack offsets 16 bytes apart and the figures are
//! the mean of the four fastest-of-trials. Tags are checked equal.
//!
//! `cargo run --release -p smbsign-benches --features peers --example ffi_overhead -- [TRIALS]`;
//! lengths from `FFI_LENS` (comma list, default `1,16,64,256`); `FFI_ALG`
//! (`hmac-sha256`, `aes-cmac` or `aes-gmac`) keeps one algorithm.

use std::hint::black_box;
use std::time::Instant;

use smbsign::smb2::{Algorithm, SigningKey};
use smbsign_benches::example_args;
use smbsign_benches::peers::{CAbiKey, CMac, Lib};

/// Calls per trial.
const CALLS: u32 = 2000;

/// Runs `f` with the stack `16 * N` bytes deeper.
#[inline(never)]
fn shifted<const N: usize>(f: &dyn Fn() -> f64) -> f64 {
    let pad = [0u128; N];
    black_box(&pad);
    let r = f();
    black_box(&pad);
    r
}

/// `f` at stack offset `16 * k` (k in 0..4).
fn at_offset(k: usize, f: &dyn Fn() -> f64) -> f64 {
    match k {
        0 => shifted::<0>(f),
        1 => shifted::<1>(f),
        2 => shifted::<2>(f),
        _ => shifted::<3>(f),
    }
}

#[inline(never)]
fn rust_loop(key: &SigningKey, nonce: Option<&[u8; 12]>, msg: &[u8]) -> f64 {
    let t = Instant::now();
    for _ in 0..CALLS {
        black_box(key.mac(nonce, black_box(msg)).unwrap());
    }
    t.elapsed().as_secs_f64()
}

#[inline(never)]
fn c_loop(key: &CAbiKey, nonce: Option<&[u8; 12]>, msg: &[u8]) -> f64 {
    let t = Instant::now();
    for _ in 0..CALLS {
        black_box(key.mac(nonce, black_box(msg)));
    }
    t.elapsed().as_secs_f64()
}

#[inline(never)]
fn gnutls_loop(key: &mut CMac, nonce: &[u8; 12], msg: &[u8]) -> f64 {
    let t = Instant::now();
    for _ in 0..CALLS {
        black_box(key.mac(nonce, black_box(msg)));
    }
    t.elapsed().as_secs_f64()
}

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(300, |s| s.parse().expect("TRIALS"));
    let lens = example_args::lengths("FFI_LENS", "1,16,64,256");
    let only = std::env::var("FFI_ALG").ok();
    let key = [0x42u8; 16];
    let nonce_bytes = [7u8; 12];
    println!(
        "ns per call, mean over 4 stack offsets of the fastest of {trials} trials of {CALLS} \
         calls (backend {}): rust-api / c-abi (difference) | gnutls (gnutls / c-abi)",
        smbsign::backend_info().tier.name()
    );
    for alg in Algorithm::ALL {
        if only.as_deref().is_some_and(|a| a != alg.name()) {
            continue;
        }
        let nonce = (alg == Algorithm::AesGmac).then_some(&nonce_bytes);
        let rust = SigningKey::new(alg, &key).unwrap();
        let capi = CAbiKey::new(alg, &key);
        let mut gnutls = CMac::new(Lib::GnuTls, alg, &key);
        for &len in &lens {
            let msg = vec![0x5au8; len];
            assert_eq!(rust.mac(nonce, &msg).unwrap(), capi.mac(nonce, &msg));
            assert_eq!(gnutls.mac(&nonce_bytes, &msg), capi.mac(nonce, &msg));
            let mut best_g = f64::MAX;
            let (mut best_r, mut best_c) = ([f64::MAX; 4], [f64::MAX; 4]);
            for _ in 0..trials {
                for k in 0..4 {
                    best_r[k] = best_r[k].min(at_offset(k, &|| rust_loop(&rust, nonce, &msg)));
                    best_c[k] = best_c[k].min(at_offset(k, &|| c_loop(&capi, nonce, &msg)));
                }
                best_g = best_g.min(gnutls_loop(&mut gnutls, &nonce_bytes, &msg));
            }
            let ns = |b: [f64; 4]| b.iter().sum::<f64>() / 4.0 * 1e9 / f64::from(CALLS);
            let (r, c) = (ns(best_r), ns(best_c));
            let g = best_g * 1e9 / f64::from(CALLS);
            let spread = |b: [f64; 4]| {
                let (lo, hi) = b
                    .iter()
                    .fold((f64::MAX, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
                (hi - lo) * 1e9 / f64::from(CALLS)
            };
            println!(
                "{:<12} {len:>5} B  {r:>7.1} / {c:>7.1}  ({:+.1}; offset spread {:.1} / {:.1}) \
                 | {g:>7.1} ({:.2}x)",
                alg.name(),
                c - r,
                spread(best_r),
                spread(best_c),
                g / c
            );
            if std::env::var_os("FFI_OFFSETS").is_some() {
                let each = |b: [f64; 4]| b.map(|x| format!("{:.1}", x * 1e9 / f64::from(CALLS)));
                println!(
                    "    per offset: rust {:?}  c {:?}",
                    each(best_r),
                    each(best_c)
                );
            }
        }
    }
}
