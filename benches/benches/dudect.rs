//! dudect (Reparaz, Balasch, Verbauwhede 2017) timing-leak check of tag
//! comparison and PDU verification, with the `dudect-bencher` crate.
//!
//! Each bench times one operation on inputs drawn at random from two classes
//! and reports Welch's t-statistic between the two timing distributions (the
//! largest over dudect's percentile crops). |t| below 4.5 is no evidence of a
//! leak at that sample count; |t| above 10 is a leak. The classes differ only
//! in where a tag mismatches (first vs last byte: what a byte-at-a-time forger
//! would exploit) or in whether it matches at all.
//!
//! The `portable_*` and `active_*` benches time the portable tier and the
//! tier detection picks on all-zero vs random messages under one key (the
//! fixed-vs-random test); `arx_zero_vs_random` is their null control. The
//! `portable_hmac_absorb_*` and `_finish_*` benches cut the portable HMAC in
//! two, to bisect a difference it shows (SECURITY.md).
//!
//! `naive_eq_first_vs_last` is the control: an early-exit comparison, which
//! must show a large t on the same machine, or the run is too noisy to mean
//! anything. A report, not a test: `cargo bench -p smbsign-benches --bench
//! dudect` (samples per bench: `SMBSIGN_DUDECT_SAMPLES`, default 2,000,000;
//! filter: first argument). Results are recorded in SECURITY.md.

use std::hint::black_box;

use dudect_bencher::ctbench::{run_benches_console, BenchMetadata, BenchName, BenchOpts};
use dudect_bencher::rand::{Rng, RngExt};
use dudect_bencher::{BenchRng, Class, CtRunner};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::Backend;

fn samples() -> usize {
    std::env::var("SMBSIGN_DUDECT_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000)
}

/// How the candidate tag of a class differs from the right one.
#[derive(Clone, Copy)]
enum Diff {
    None,
    First,
    Last,
}

fn apply(tag: &mut [u8; 16], d: Diff) {
    match d {
        Diff::None => {}
        Diff::First => tag[0] ^= 0x01,
        Diff::Last => tag[15] ^= 0x01,
    }
}

/// Random tag pairs, each class's candidate differing as given, timed with `cmp`.
fn tag_compare(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    left: Diff,
    right: Diff,
    cmp: fn(&[u8], &[u8]) -> bool,
) {
    let n = samples();
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let mut tag = [0u8; 16];
        rng.fill_bytes(&mut tag);
        let class = if rng.random::<bool>() {
            Class::Left
        } else {
            Class::Right
        };
        let mut cand = tag;
        apply(
            &mut cand,
            if matches!(class, Class::Left) {
                left
            } else {
                right
            },
        );
        inputs.push((class, tag, cand));
    }
    for (class, tag, cand) in inputs {
        runner.run_one(class, || cmp(black_box(&tag), black_box(&cand)));
    }
}

/// An early-exit comparison: the control that must leak.
fn naive_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for i in 0..a.len() {
        if black_box(a[i]) != black_box(b[i]) {
            return false;
        }
    }
    true
}

fn ct_eq_first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    tag_compare(runner, rng, Diff::First, Diff::Last, smbsign::ct::eq);
}

fn ct_eq_match_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    tag_compare(runner, rng, Diff::None, Diff::Last, smbsign::ct::eq);
}

fn naive_eq_first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    tag_compare(runner, rng, Diff::First, Diff::Last, naive_eq);
}

/// `verify_pdu` on a signed 256-byte PDU whose signature is altered per class.
fn verify_pdu(runner: &mut CtRunner, rng: &mut BenchRng, alg: Algorithm, left: Diff, right: Diff) {
    let mut key = [0u8; 16];
    rng.fill_bytes(&mut key);
    let key = SigningKey::new(alg, &key).unwrap();
    let mut pdu = vec![0u8; 256];
    rng.fill_bytes(&mut pdu);
    pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    pdu[20..24].fill(0);
    smb2::sign_pdu(&key, &mut pdu).unwrap();
    let signature: [u8; 16] = pdu[48..64].try_into().unwrap();
    let variant = |d: Diff| {
        let mut sig = signature;
        apply(&mut sig, d);
        sig
    };
    let (l, r) = (variant(left), variant(right));
    let classes: Vec<Class> = (0..samples())
        .map(|_| {
            if rng.random::<bool>() {
                Class::Left
            } else {
                Class::Right
            }
        })
        .collect();
    // One buffer for both classes (its signature set before each timed call),
    // so the classes differ in nothing but the signature bytes.
    for class in classes {
        pdu[48..64].copy_from_slice(if matches!(class, Class::Left) { &l } else { &r });
        let p = &pdu;
        runner.run_one(class, || smb2::verify_pdu(&key, black_box(p)).is_ok());
    }
}

fn verify_pdu_hmac_first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    verify_pdu(runner, rng, Algorithm::HmacSha256, Diff::First, Diff::Last);
}

fn verify_pdu_cmac_first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    verify_pdu(runner, rng, Algorithm::AesCmac, Diff::First, Diff::Last);
}

fn verify_pdu_gmac_first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    verify_pdu(runner, rng, Algorithm::AesGmac, Diff::First, Diff::Last);
}

fn verify_pdu_cmac_match_vs_last(runner: &mut CtRunner, rng: &mut BenchRng) {
    verify_pdu(runner, rng, Algorithm::AesCmac, Diff::None, Diff::Last);
}

/// A quarter of the samples (the portable tier is slow) of 64-byte messages,
/// all-zero for the left class and random for the right, in random order.
fn zero_or_random_messages(rng: &mut BenchRng) -> Vec<(Class, [u8; 64])> {
    (0..samples() / 4)
        .map(|_| {
            let mut msg = [0u8; 64];
            if rng.random::<bool>() {
                (Class::Left, msg)
            } else {
                rng.fill_bytes(&mut msg);
                (Class::Right, msg)
            }
        })
        .collect()
}

/// A backend MACing a 64-byte message: all-zero (left) vs random (right)
/// under one random key. Every AES round, GHASH multiplication and SHA-256
/// round mixes key-derived state with the message, so a data-dependent S-box,
/// multiplier or branch shows here (the classic fixed-vs-random test that
/// table-based AES fails).
fn fixed_vs_random(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    alg: Algorithm,
    backend: smbsign::Backend,
) {
    let mut key = [0u8; 16];
    rng.fill_bytes(&mut key);
    let key = SigningKey::with_backend(alg, &key, backend).unwrap();
    let nonce = (alg == Algorithm::AesGmac).then_some([7u8; 12]);
    for (class, msg) in zero_or_random_messages(rng) {
        runner.run_one(class, || key.mac(nonce.as_ref(), black_box(&msg)));
    }
}

/// The portable HMAC-SHA256 of `fixed_vs_random` cut in two, to bisect it:
/// `absorb` times the state set-up and the message block's compression
/// (and the state's erasure on drop); `finish` times what follows, on a
/// state that absorbed the class's message untimed just before: the
/// padding block, the outer block and the erasure of intermediates.
fn portable_hmac_part(runner: &mut CtRunner, rng: &mut BenchRng, finish: bool) {
    use smbsign::hmac;
    let mut key = [0u8; 16];
    rng.fill_bytes(&mut key);
    let key = hmac::Key::with_backend(&key, Backend::portable());
    for (class, msg) in zero_or_random_messages(rng) {
        if finish {
            let mut st = key.start();
            st.update(&msg);
            let cell = std::cell::Cell::new(Some(st));
            runner.run_one(class, || cell.take().map(hmac::State::finalize));
        } else {
            runner.run_one(class, || {
                let mut st = key.start();
                st.update(black_box(&msg));
                black_box(&st);
            });
        }
    }
}

/// Scalar add-rotate-xor rounds over the message, constant-time by
/// construction and about as long as a portable MAC: the null control for
/// the fixed-vs-random benches (a large t here would mean the harness or the
/// machine, not the code).
fn arx(msg: &[u8; 64]) -> u32 {
    let mut w = [0u32; 16];
    for (i, c) in msg.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes(c.try_into().unwrap());
    }
    let (mut a, mut b) = (0x6a09_e667u32, 0xbb67_ae85u32);
    for r in 0..600 {
        a = a.wrapping_add(w[r % 16]).rotate_left(7) ^ b;
        b = b.wrapping_add(a).rotate_right(11) ^ w[(r + 5) % 16];
        w[r % 16] = w[r % 16].wrapping_add(a ^ b);
    }
    a ^ b
}

fn arx_zero_vs_random(runner: &mut CtRunner, rng: &mut BenchRng) {
    for (class, msg) in zero_or_random_messages(rng) {
        runner.run_one(class, || arx(black_box(&msg)));
    }
}

fn main() {
    type Bench = fn(&mut CtRunner, &mut BenchRng);
    let benches: [(&'static str, Bench); 17] = [
        ("naive_eq_first_vs_last (control)", naive_eq_first_vs_last),
        ("ct_eq_first_vs_last", ct_eq_first_vs_last),
        ("ct_eq_match_vs_last", ct_eq_match_vs_last),
        (
            "verify_pdu_hmac_first_vs_last",
            verify_pdu_hmac_first_vs_last,
        ),
        (
            "verify_pdu_cmac_first_vs_last",
            verify_pdu_cmac_first_vs_last,
        ),
        (
            "verify_pdu_gmac_first_vs_last",
            verify_pdu_gmac_first_vs_last,
        ),
        (
            "verify_pdu_cmac_match_vs_last",
            verify_pdu_cmac_match_vs_last,
        ),
        ("verify_pdu_gmac_match_vs_last", |r, g| {
            verify_pdu(r, g, Algorithm::AesGmac, Diff::None, Diff::Last)
        }),
        ("arx_zero_vs_random (null control)", arx_zero_vs_random),
        ("portable_cmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::AesCmac, Backend::portable())
        }),
        ("portable_gmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::AesGmac, Backend::portable())
        }),
        ("portable_hmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::HmacSha256, Backend::portable())
        }),
        ("portable_hmac_absorb_zero_vs_random_msg", |r, g| {
            portable_hmac_part(r, g, false)
        }),
        ("portable_hmac_finish_zero_vs_random_msg", |r, g| {
            portable_hmac_part(r, g, true)
        }),
        ("active_cmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::AesCmac, Backend::detect())
        }),
        ("active_gmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::AesGmac, Backend::detect())
        }),
        ("active_hmac_zero_vs_random_msg", |r, g| {
            fixed_vs_random(r, g, Algorithm::HmacSha256, Backend::detect())
        }),
    ];
    // cargo bench passes "--bench"; the first other argument filters.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let info = smbsign::backend_info();
    println!(
        "dudect: {} samples per bench; kernels {}, {}, {}",
        samples(),
        info.hmac_sha256,
        info.aes_cmac,
        info.aes_gmac
    );
    let opts = BenchOpts {
        continuous: false,
        filter,
        file_out: None,
    };
    let metas = benches
        .iter()
        .map(|&(name, benchfn)| BenchMetadata {
            name: BenchName(name),
            seed: Some(0x5eed_d0de),
            benchfn,
        })
        .collect();
    run_benches_console(opts, metas).expect("dudect run");
}
