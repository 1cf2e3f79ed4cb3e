//! SMB3 encryption, in place with 32 bytes of AAD: `cipher::Key::seal_in_place`
//! on each SIMD tier against OpenSSL 3 (from source) and GnuTLS (Debian's,
//! Samba's) through `shim/aead.c`, each timed as the fastest of many trials,
//! all alternating within a round so the ratios hold on a shared machine.
//! For CCM, AES-CMAC of the same length on the same tier is timed too: the
//! single-stream AES latency bound CCM's CBC-MAC chain runs at. Every tag and
//! ciphertext is checked against OpenSSL's.
//!
//! `cargo run --release -p smbsign-benches --features peers --example cipher -- [TRIALS]`;
//! lengths from `CIPHER_LENS` (default `64,4096,65536,1048576`), ciphers from
//! `CIPHER_NAMES` (comma list, default all four), tiers from `CIPHER_TIERS`.
//! Then the CCM batch rows (`smbsign_benches::cipher_batch`: N messages in one
//! `batch::seal` against N single calls, every CCM lanes kernel): lengths from
//! `CIPHER_BATCH_LENS` (default `4096`), batch sizes from `CIPHER_BATCH_COUNTS`
//! (default `64`); `CIPHER_BATCH_LENS=none` skips them.

use core::ffi::{c_int, c_void};
use std::hint::black_box;
use std::time::Instant;

use smbsign::cipher::{Cipher, Key};
use smbsign::cmac;
use smbsign_benches::{cipher_batch, example_args};

extern "C" {
    fn peer_aead_new(lib: c_int, cipher: c_int, key: *const u8) -> *mut c_void;
    fn peer_aead_seal(
        h: *mut c_void,
        nonce: *const u8,
        aad: *const u8,
        alen: usize,
        buf: *mut u8,
        len: usize,
        tag: *mut u8,
    ) -> c_int;
    fn peer_aead_free(h: *mut c_void);
}

/// An OpenSSL (0) or GnuTLS (1) AEAD context.
struct Peer(*mut c_void);

impl Peer {
    fn new(lib: c_int, cipher: Cipher, key: &[u8]) -> Peer {
        // SAFETY: the shim reads `cipher.key_len()` bytes of `key` and copies them.
        let h = unsafe { peer_aead_new(lib, cipher.id().into(), key.as_ptr()) };
        assert!(!h.is_null(), "peer {lib} refused {cipher}");
        Peer(h)
    }

    fn seal(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let mut tag = [0u8; 16];
        // SAFETY: pointers and lengths describe live buffers; the shim reads
        // nonce_len bytes of `nonce` (the caller passes the cipher's length),
        // writes `buf` in place and 16 bytes of tag.
        let rc = unsafe {
            peer_aead_seal(
                self.0,
                nonce.as_ptr(),
                aad.as_ptr(),
                aad.len(),
                buf.as_mut_ptr(),
                buf.len(),
                tag.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0);
        tag
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SAFETY: made by peer_aead_new, freed once.
        unsafe { peer_aead_free(self.0) }
    }
}

/// Fastest seconds per call of `f` over `trials`, `reps` calls a trial.
fn time(best: &mut f64, reps: usize, mut f: impl FnMut()) {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    *best = best.min(t.elapsed().as_secs_f64() / reps as f64);
}

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(100, |s| s.parse().expect("TRIALS"));
    let lens = example_args::lengths("CIPHER_LENS", "64,4096,65536,1048576");
    let ciphers: Vec<Cipher> = std::env::var("CIPHER_NAMES").map_or(Cipher::ALL.to_vec(), |s| {
        s.split(',')
            .map(|n| Cipher::from_name(n).expect("CIPHER_NAMES"))
            .collect()
    });
    let tiers = example_args::simd_tiers("CIPHER_TIERS");
    let aad = [0x5au8; 32];
    println!("SMB3 encryption in place, 32-byte AAD, GB/s (1e9 B/s), fastest of {trials} trials");
    for &cipher in &ciphers {
        let key: Vec<u8> = (0..cipher.key_len() as u8).map(|i| i * 7 + 1).collect();
        let nonce: Vec<u8> = (0..cipher.nonce_len() as u8).collect();
        let keys: Vec<Key> = tiers
            .iter()
            .map(|b| Key::with_backend(cipher, &key, *b).unwrap())
            .collect();
        let macs: Vec<cmac::Key> = tiers
            .iter()
            .map(|b| cmac::Key::with_backend(&[9; 16], *b))
            .collect();
        let ccm = cipher.nonce_len() == 11;
        let ossl = Peer::new(0, cipher, &key);
        let gtls = Peer::new(1, cipher, &key);
        for &len in &lens {
            let msg: Vec<u8> = (0..len).map(|i| (i * 31 + 5) as u8).collect();
            let mut want = msg.clone();
            let want_tag = ossl.seal(&nonce, &aad, &mut want);
            for (k, b) in keys.iter().zip(&tiers) {
                let mut buf = msg.clone();
                let tag = k.seal_in_place(&nonce, &aad, &mut [&mut buf[..]]).unwrap();
                assert_eq!(
                    (buf, tag),
                    (want.clone(), want_tag),
                    "{cipher} {len} {:?}",
                    b.tier()
                );
            }
            let mut buf = msg.clone();
            assert_eq!(
                gtls.seal(&nonce, &aad, &mut buf),
                want_tag,
                "gnutls {cipher} {len}"
            );
            let reps = (65536 / len.max(1)).max(1);
            let mut ours = vec![f64::MAX; keys.len()];
            let mut bound = vec![f64::MAX; keys.len()];
            let (mut o, mut g) = (f64::MAX, f64::MAX);
            let mut buf = msg.clone();
            for _ in 0..trials {
                for (k, best) in keys.iter().zip(&mut ours) {
                    time(best, reps, || {
                        black_box(k.seal_in_place(&nonce, &aad, &mut [&mut buf[..]]).unwrap());
                    });
                }
                if ccm {
                    for (m, best) in macs.iter().zip(&mut bound) {
                        time(best, reps, || {
                            black_box(m.mac(black_box(&buf)));
                        });
                    }
                }
                time(&mut o, reps, || {
                    black_box(ossl.seal(&nonce, &aad, &mut buf));
                });
                time(&mut g, reps, || {
                    black_box(gtls.seal(&nonce, &aad, &mut buf));
                });
            }
            let gbs = |s: f64| len as f64 / s / 1e9;
            let mut line = format!(
                "{cipher} {len:>8} B | openssl {:.2} | gnutls {:.2}",
                gbs(o),
                gbs(g)
            );
            for (i, b) in tiers.iter().enumerate() {
                let t = b.tier().name();
                line += &format!(
                    " | {t} {:.2} ({:.2}x openssl, {:.2}x gnutls",
                    gbs(ours[i]),
                    o / ours[i],
                    g / ours[i]
                );
                if ccm {
                    line += &format!(
                        ", {:.0}% of cmac {:.2}",
                        100.0 * bound[i] / ours[i],
                        gbs(bound[i])
                    );
                }
                line += ")";
            }
            println!("{line}");
        }
    }
    if std::env::var("CIPHER_BATCH_LENS").as_deref() != Ok("none") {
        let lens = example_args::lengths("CIPHER_BATCH_LENS", "4096");
        let counts = example_args::lengths("CIPHER_BATCH_COUNTS", "64");
        cipher_batch::rows(&tiers, &ciphers, &lens, &counts, trials);
    }
}
