//! AES-CCM (NIST SP 800-38C) as SMB uses it: an 11-byte nonce, so a 4-byte
//! length field (L = 4), and a 16-byte tag (M = 16).
//!
//! `B0 = flags || nonce || [len]_32`, then the AAD with its length prefix,
//! then the plaintext, each zero-padded to whole blocks, chained through
//! CBC-MAC; the counter blocks are `0x03 || nonce || [i]_32`, block 0
//! masking the tag and blocks 1.. the message.

use zeroize::Zeroize;

use super::parts::walk;
use crate::backend::layout::AesKey;
use crate::backend::Backend;

pub(super) const NONCE_LEN: usize = 11;
/// The 4-byte length field.
pub(super) const MAX_LEN: u64 = u32::MAX as u64;

/// `L - 1` for L = 4.
const FLAGS_L: u8 = 3;
/// `(M - 2) / 2 << 3` for M = 16.
const FLAGS_M: u8 = 7 << 3;

/// AAD up to this long (an SMB2 transform's is 32 bytes) is chained with
/// B0 in one CBC-MAC call, from one stack buffer.
const SHORT_AAD_MAX: usize = 64;

/// B0 and the AAD's length prefix (SP 800-38C A.2.2), in the first
/// `16 + prefix` bytes of the result (`prefix` 0 without AAD, else 2, 6 or 10).
pub(crate) fn b0_and_prefix(nonce: &[u8], aad_len: usize, len: u32) -> ([u8; 32], usize) {
    let mut head = [0u8; 32];
    head[0] = FLAGS_M | FLAGS_L | if aad_len == 0 { 0 } else { 0x40 };
    head[1..12].copy_from_slice(nonce);
    head[12..16].copy_from_slice(&len.to_be_bytes());
    let n = aad_len;
    let prefix = if n == 0 {
        0
    } else if n < 0xff00 {
        head[16..18].copy_from_slice(&(n as u16).to_be_bytes());
        2
    } else if let Ok(n32) = u32::try_from(n) {
        head[16..18].copy_from_slice(&[0xff, 0xfe]);
        head[18..22].copy_from_slice(&n32.to_be_bytes());
        6
    } else {
        head[16..18].copy_from_slice(&[0xff, 0xff]);
        head[18..26].copy_from_slice(&(n as u64).to_be_bytes());
        10
    };
    (head, 16 + prefix)
}

/// The CBC-MAC state after B0 and the AAD.
fn start(b: Backend, k: &AesKey, nonce: &[u8], aad: &[u8], len: u32) -> [u8; 16] {
    // B0, then the AAD's length prefix and the AAD, zero-padded.
    let mut head = [0u8; 16 + 16 + SHORT_AAD_MAX];
    let (b0, used) = b0_and_prefix(nonce, aad.len(), len);
    head[..used].copy_from_slice(&b0[..used]);
    let prefix = used - 16;
    let n = aad.len();
    // The AAD bytes that go in the buffer: all of a short AAD, else those of its first block.
    let take = if n <= SHORT_AAD_MAX {
        n
    } else {
        (16 - prefix).min(n)
    };
    head[16 + prefix..16 + prefix + take].copy_from_slice(&aad[..take]);
    let used = 16 + (prefix + take).next_multiple_of(16);
    let mut state = [0u8; 16];
    b.cipher_cbc_mac(k, &mut state, &head[..used]);
    b.ccm_mac(k, &mut state, &aad[take..]);
    state
}

/// Counter block `i`.
pub(crate) fn counter(nonce: &[u8], i: u32) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[0] = FLAGS_L;
    c[1..12].copy_from_slice(nonce);
    c[12..].copy_from_slice(&i.to_be_bytes());
    c
}

/// The tag: the CBC-MAC masked with counter block 0.
fn finish(b: Backend, k: &AesKey, nonce: &[u8], mut state: [u8; 16]) -> [u8; 16] {
    let mut s0 = counter(nonce, 0);
    b.cipher_block(k, &mut s0);
    let tag = core::array::from_fn(|i| state[i] ^ s0[i]);
    s0.zeroize();
    state.zeroize();
    tag
}

fn total(parts: &[&mut [u8]]) -> u32 {
    // The caller checked the total against `MAX_LEN`.
    parts.iter().map(|p| p.len()).sum::<usize>() as u32
}

pub(crate) fn seal(
    b: Backend,
    k: &AesKey,
    nonce: &[u8],
    aad: &[u8],
    parts: &mut [&mut [u8]],
) -> [u8; 16] {
    let mut state = start(b, k, nonce, aad, total(parts));
    let mut ctr = counter(nonce, 1);
    walk::<true>(parts, |run| b.ccm_seal(k, &mut state, &mut ctr, run));
    finish(b, k, nonce, state)
}

/// Decrypts the parts in place and returns the tag they should carry (the
/// caller compares, and restores them on a mismatch).
pub(crate) fn mac_after_open(
    b: Backend,
    k: &AesKey,
    nonce: &[u8],
    aad: &[u8],
    parts: &mut [&mut [u8]],
) -> [u8; 16] {
    let mut state = start(b, k, nonce, aad, total(parts));
    let mut ctr = counter(nonce, 1);
    walk::<true>(parts, |run| b.ccm_open(k, &mut state, &mut ctr, run));
    finish(b, k, nonce, state)
}

/// Decrypts, checks the tag, and on a mismatch encrypts the parts back;
/// whether the tag matched.
pub(super) fn open(
    b: Backend,
    k: &AesKey,
    nonce: &[u8],
    aad: &[u8],
    parts: &mut [&mut [u8]],
    tag: &[u8; 16],
) -> bool {
    let want = mac_after_open(b, k, nonce, aad, parts);
    if crate::ct::eq(&want, tag) {
        return true;
    }
    restore(b, k, nonce, parts);
    false
}

/// Encrypts back the plaintext a refused open left in `parts` (CTR from
/// counter block 1), so that they hold the ciphertext again.
pub(crate) fn restore(b: Backend, k: &AesKey, nonce: &[u8], parts: &mut [&mut [u8]]) {
    let mut ctr = counter(nonce, 1);
    walk::<true>(parts, |run| b.cipher_ctr(k, &mut ctr, run));
}
