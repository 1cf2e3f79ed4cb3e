//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag.
//!
//! GHASH runs in the POLYVAL domain as for GMAC (`mac::gmac`); the CTR
//! blocks start at `inc32(J0)`.

use zeroize::Zeroize;

use super::parts::walk;
use crate::backend::layout::{inc32, AesKey};
use crate::backend::{Backend, HPowers};

/// Bytes GCM encrypts before it hashes them where no stitched kernel runs
/// (aesni, ARMv8, portable, and the stitched kernels' tails; a multiple of
/// 16): well inside L1, large enough for the zmm GHASH's 256-block loop
/// (docs/tuning.md: "GCM two-pass chunk").
const GCM_CHUNK: usize = 8192;

pub(super) const NONCE_LEN: usize = 12;
/// 2^32 - 2 counter blocks (SP 800-38D: len(P) <= 2^39 - 256 bits).
pub(super) const MAX_LEN: u64 = (1 << 36) - 32;
/// len(A) <= 2^64 - 1 bits.
pub(super) const MAX_AAD: u64 = (1 << 61) - 1;

/// Messages up to this long with AAD up to [`SHORT_AAD_MAX`] (an SMB2
/// transform's is 32 bytes) take one CTR call from `J0` (the tag mask comes
/// out as its first block) and one GHASH call over AAD, ciphertext and
/// lengths: one reduction instead of three.
const SHORT_MAX: usize = 256;
const SHORT_AAD_MAX: usize = 64;

/// Whether a message of `total` bytes with `aad_len` bytes of AAD takes the
/// short path (which also sizes its stack erasure: `scrub::Bytes::cipher`).
pub(super) fn is_short(total: usize, aad_len: usize) -> bool {
    total <= SHORT_MAX && aad_len <= SHORT_AAD_MAX
}

/// The pre-counter block `nonce || 0^31 || 1`.
fn j0(nonce: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..NONCE_LEN].copy_from_slice(nonce);
    b[15] = 1;
    b
}

/// The first counter block of the message, `inc32(J0)`.
fn first_counter(nonce: &[u8]) -> [u8; 16] {
    let mut ctr = j0(nonce);
    inc32(&mut ctr, 1);
    ctr
}

/// The tag over the hashed AAD and ciphertext in `acc`.
fn finish(
    b: Backend,
    k: &AesKey,
    p: &HPowers,
    nonce: &[u8],
    mut acc: u128,
    aad_len: u64,
    len: u64,
) -> [u8; 16] {
    b.ghash(p, &mut acc, &lengths(aad_len, len));
    let mut mask = j0(nonce);
    b.cipher_block(k, &mut mask);
    let tag = (acc.swap_bytes() ^ u128::from_le_bytes(mask)).to_le_bytes();
    mask.zeroize();
    acc.zeroize();
    tag
}

/// Copies the parts into `buf` (their total length), or `buf` back into them.
fn gather(parts: &[&mut [u8]], buf: &mut [u8]) {
    let mut at = 0;
    for part in parts {
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
}

fn scatter(parts: &mut [&mut [u8]], buf: &[u8]) {
    let mut at = 0;
    for part in parts.iter_mut() {
        let n = part.len();
        part.copy_from_slice(&buf[at..at + n]);
        at += n;
    }
}

/// GHASH over AAD, `ct` and the lengths in one call (the short path).
fn short_hash(b: Backend, p: &HPowers, aad: &[u8], ct: &[u8]) -> u128 {
    let mut h = [0u8; SHORT_AAD_MAX + SHORT_MAX + 16];
    h[..aad.len()].copy_from_slice(aad);
    let a = aad.len().next_multiple_of(16);
    h[a..a + ct.len()].copy_from_slice(ct);
    let c = a + ct.len().next_multiple_of(16);
    h[c..c + 16].copy_from_slice(&lengths(aad.len() as u64, ct.len() as u64));
    let mut acc = 0u128;
    b.ghash(p, &mut acc, &h[..c + 16]);
    acc
}

/// `[bitlen(A)]_64 || [bitlen(C)]_64`.
fn lengths(aad: u64, len: u64) -> [u8; 16] {
    ((u128::from(aad) << 67) | (u128::from(len) << 3)).to_be_bytes()
}

/// The tag from the accumulator and the mask `E(J0)`, `ks`'s first block.
fn short_tag(mut acc: u128, ks: &[u8]) -> [u8; 16] {
    let mask = u128::from_le_bytes(ks[..16].try_into().unwrap());
    let tag = (acc.swap_bytes() ^ mask).to_le_bytes();
    acc.zeroize();
    tag
}

pub(super) fn seal(
    b: Backend,
    k: &AesKey,
    p: &HPowers,
    nonce: &[u8],
    aad: &[u8],
    parts: &mut [&mut [u8]],
) -> [u8; 16] {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if is_short(total, aad.len()) {
        // A zero block (to become the tag mask), then the message.
        let mut ks = [0u8; 16 + SHORT_MAX];
        gather(parts, &mut ks[16..16 + total]);
        b.cipher_ctr(k, &mut j0(nonce), &mut ks[..16 + total]);
        let acc = short_hash(b, p, aad, &ks[16..16 + total]);
        scatter(parts, &ks[16..16 + total]);
        let tag = short_tag(acc, &ks);
        crate::wipe::wipe(&mut ks);
        return tag;
    }
    let mut acc = 0u128;
    b.gcm_hash(p, &mut acc, aad);
    let mut ctr = first_counter(nonce);
    let mut len = 0u64;
    walk::<true>(parts, |run| {
        let done = b.gcm_seal_stitched(k, p, &mut ctr, &mut acc, run);
        // The rest in chunks that stay in L1 between the two passes.
        for chunk in run[done..].chunks_mut(GCM_CHUNK) {
            b.cipher_ctr(k, &mut ctr, chunk);
            b.gcm_hash(p, &mut acc, chunk);
        }
        len += run.len() as u64;
    });
    finish(b, k, p, nonce, acc, aad.len() as u64, len)
}

/// Decrypts only after the tag matched; `false` (parts untouched) otherwise.
pub(super) fn open(
    b: Backend,
    k: &AesKey,
    p: &HPowers,
    nonce: &[u8],
    aad: &[u8],
    parts: &mut [&mut [u8]],
    tag: &[u8; 16],
) -> bool {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if is_short(total, aad.len()) {
        // Decrypted on the stack; released into the parts only once the tag matched.
        let mut ks = [0u8; 16 + SHORT_MAX];
        gather(parts, &mut ks[16..16 + total]);
        let acc = short_hash(b, p, aad, &ks[16..16 + total]);
        b.cipher_ctr(k, &mut j0(nonce), &mut ks[..16 + total]);
        let ok = crate::ct::eq(&short_tag(acc, &ks), tag);
        if ok {
            scatter(parts, &ks[16..16 + total]);
        }
        crate::wipe::wipe(&mut ks);
        return ok;
    }
    let mut acc = 0u128;
    b.gcm_hash(p, &mut acc, aad);
    let mut len = 0u64;
    walk::<false>(parts, |run| {
        b.gcm_hash(p, &mut acc, run);
        len += run.len() as u64;
    });
    let want = finish(b, k, p, nonce, acc, aad.len() as u64, len);
    if !crate::ct::eq(&want, tag) {
        return false;
    }
    let mut ctr = first_counter(nonce);
    walk::<true>(parts, |run| b.cipher_ctr(k, &mut ctr, run));
    true
}
