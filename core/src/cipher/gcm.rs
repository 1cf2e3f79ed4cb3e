//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag.
//!
//! GHASH runs in the POLYVAL domain as for GMAC (`mac::gmac`); the CTR
//! blocks start at `inc32(J0)`.

use zeroize::Zeroize;

use super::parts::walk;
use crate::backend::cipher::{inc32, AesKey};
use crate::backend::{Backend, HPowers};

pub(super) const NONCE_LEN: usize = 12;
/// 2^32 - 2 counter blocks (SP 800-38D: len(P) <= 2^39 - 256 bits).
pub(super) const MAX_LEN: u64 = (1 << 36) - 32;
/// len(A) <= 2^64 - 1 bits.
pub(super) const MAX_AAD: u64 = (1 << 61) - 1;

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
    let lengths = ((u128::from(aad_len) << 67) | (u128::from(len) << 3)).to_be_bytes();
    b.ghash(p, &mut acc, &lengths);
    let mut mask = j0(nonce);
    b.cipher_block(k, &mut mask);
    let tag = (acc.swap_bytes() ^ u128::from_le_bytes(mask)).to_le_bytes();
    mask.zeroize();
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
    let mut acc = 0u128;
    b.gcm_hash(p, &mut acc, aad);
    let mut ctr = first_counter(nonce);
    let mut len = 0u64;
    walk::<true>(parts, |run| {
        b.gcm_seal(k, p, &mut ctr, &mut acc, run);
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
