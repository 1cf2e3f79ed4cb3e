//! AES-CTR with VAES on ymm for the SMB3 ciphers (the avx2 tier): two
//! blocks per instruction, eight registers (16 blocks) in flight, the last
//! partial register through a stack block. Generic over the round count `R`.
//! And GCM with the CTR stitched into the ymm GHASH ([`gcm_seal`]).
//!
//! Counters are byte-reversed per 128-bit lane, as in `aesni_cipher`.

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, reduce};
use super::vpclmul256::Sums;
use super::{Vaes, Vpclmul256};
use crate::backend::layout::{with_rounds, CipherKeys};
use crate::backend::layout::{HPowers, MAX_POWERS};

/// Blocks per main-loop step.
const STEP: usize = 16;

/// Reverses the bytes of each 128-bit lane.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn reverse(x: __m256i) -> __m256i {
    let m = _mm256_broadcastsi128_si256(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    _mm256_shuffle_epi8(x, m)
}

/// `n` added to each lane's counter dword.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn plus(rev: __m256i, n: i32) -> __m256i {
    _mm256_add_epi32(rev, _mm256_set_epi32(0, 0, 0, n, 0, 0, 0, n))
}

/// Encrypts the counter blocks `rev + 2j + lane` (byte-reversed) of `N` registers.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn keystream<const R: usize, const N: usize>(
    k: &[__m256i; 15],
    rev: __m256i,
) -> [__m256i; N] {
    let mut x: [__m256i; N] =
        core::array::from_fn(|j| _mm256_xor_si256(reverse(plus(rev, 2 * j as i32)), k[0]));
    for key in &k[1..R] {
        for xj in &mut x {
            *xj = _mm256_aesenc_epi128(*xj, *key);
        }
    }
    for xj in &mut x {
        *xj = _mm256_aesenclast_epi128(*xj, k[R]);
    }
    x
}

/// # Safety
/// The CPU must support VAES and AVX2.
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn ctr32_ymm<const R: usize>(rk: &CipherKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
    let k: [__m256i; 15] = core::array::from_fn(|i| {
        _mm256_broadcastsi128_si256(_mm_loadu_si128(rk[i].as_ptr().cast()))
    });
    let first = _mm_shuffle_epi8(
        _mm_loadu_si128(ctr.as_ptr().cast()),
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    );
    // Lane i holds counter + i.
    let mut rev = _mm256_add_epi32(
        _mm256_broadcastsi128_si256(first),
        _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0),
    );
    let len = data.len();
    let p = data.as_mut_ptr();
    let mut off = 0;
    while len - off >= 16 * STEP {
        let x = keystream::<R, 8>(&k, rev);
        for (j, xj) in x.iter().enumerate() {
            let q = p.add(off + 32 * j);
            _mm256_storeu_si256(
                q.cast(),
                _mm256_xor_si256(*xj, _mm256_loadu_si256(q.cast())),
            );
        }
        rev = plus(rev, STEP as i32);
        off += 16 * STEP;
    }
    while len - off >= 32 {
        let [x] = keystream::<R, 1>(&k, rev);
        let q = p.add(off);
        _mm256_storeu_si256(q.cast(), _mm256_xor_si256(x, _mm256_loadu_si256(q.cast())));
        rev = plus(rev, 2);
        off += 32;
    }
    if off < len {
        let mut block = [0u8; 32];
        block[..len - off].copy_from_slice(&data[off..]);
        let [x] = keystream::<R, 1>(&k, rev);
        let q = block.as_mut_ptr();
        _mm256_storeu_si256(q.cast(), _mm256_xor_si256(x, _mm256_loadu_si256(q.cast())));
        data[off..].copy_from_slice(&block[..len - off]);
        crate::wipe::wipe(&mut block);
    }
    let c = u32::from_be_bytes(ctr[12..].try_into().unwrap()).wrapping_add(len.div_ceil(16) as u32);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// XORs the CTR keystream from counter block `ctr` into `data` (any length)
/// and advances the counter's last 32 bits (big-endian) by the blocks used.
#[inline]
pub(crate) fn ctr32(_: Vaes, rk: &CipherKeys, rounds: usize, ctr: &mut [u8; 16], data: &mut [u8]) {
    // SAFETY: the Vaes token proves VAES and AVX2; full-width loads and
    // stores stay within `data` (checked per step), the tail goes through a
    // stack block.
    unsafe { with_rounds!(rounds, ctr32_ymm(rk, ctr, data)) }
}

/// Blocks per step of the stitched GCM loop (one GHASH reduction each).
pub(crate) const GCM_STEP: usize = 16;

/// The step's counter blocks `c + 2j + lane`, XORed with round key 0. Where
/// no counter's low byte wraps within the step, they are added to the
/// big-endian block's last byte directly (dword 3's top byte); else through
/// the byte-reversed form, one shuffle per register more.
#[inline]
#[target_feature(enable = "vaes,aes,avx2,avx")]
unsafe fn counters(block: __m128i, c: u32, k0: __m256i) -> [__m256i; 8] {
    let be = _mm_insert_epi32::<3>(block, c.swap_bytes() as i32);
    if (c & 0xff) as usize <= 256 - GCM_STEP {
        let be = _mm256_broadcastsi128_si256(be);
        core::array::from_fn(|j| {
            let o = (2 * j as i32) << 24;
            let lanes = _mm256_set_epi32(o + (1 << 24), 0, 0, 0, o, 0, 0, 0);
            _mm256_xor_si256(_mm256_add_epi32(be, lanes), k0)
        })
    } else {
        let rev = _mm256_add_epi32(
            reverse(_mm256_broadcastsi128_si256(be)),
            _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0),
        );
        core::array::from_fn(|j| _mm256_xor_si256(reverse(plus(rev, 2 * j as i32)), k0))
    }
}

/// The product of register `m` (two blocks) of the step's ciphertext at
/// `ct` with its powers (of `H^16..H^1` at `h`, `hk`), into `s`; register 0
/// with `acc` added.
/// # Safety
/// `ct` readable for `16 * GCM_STEP` bytes, `h` and `hk` for `GCM_STEP` powers.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn hash_register(
    s: &mut Sums,
    (h, hk): (*const u128, *const u128),
    acc: __m128i,
    ct: *const u8,
    m: usize,
) {
    let bswap = _mm256_broadcastsi128_si256(bswap_mask());
    let mut x = _mm256_shuffle_epi8(_mm256_loadu_si256(ct.add(32 * m).cast()), bswap);
    if m == 0 {
        x = _mm256_xor_si256(x, _mm256_zextsi128_si256(acc));
    }
    s.mul2(x, h.add(2 * m), hk.add(2 * m));
}

/// GCM encryption of whole [`GCM_STEP`]-block groups with CTR stitched into
/// GHASH, as `vaes512_cipher::gcm_seal_zmm` on ymm: each step encrypts one
/// group and, between its rounds, hashes the previous group's ciphertext,
/// read back from `data` (AVX2's 16 registers hold the eight counter
/// registers, not the previous group's as well).
///
/// # Safety
/// VAES, VPCLMULQDQ, PCLMULQDQ and AVX2; `data.len()` a multiple of
/// `16 * GCM_STEP`; `powers` hold at least `GCM_STEP` powers.
#[target_feature(enable = "vaes,aes,vpclmulqdq,pclmulqdq,avx2,avx")]
unsafe fn gcm_seal_ymm<const R: usize>(
    rk: &CipherKeys,
    powers: &HPowers,
    ctr: &mut [u8; 16],
    acc: &mut u128,
    data: &mut [u8],
) {
    let bytes = 16 * GCM_STEP;
    let n = data.len() / bytes;
    if n == 0 {
        return;
    }
    let k: [__m256i; 15] = core::array::from_fn(|i| {
        _mm256_broadcastsi128_si256(_mm_loadu_si128(rk[i].as_ptr().cast()))
    });
    let block = _mm_loadu_si128(ctr.as_ptr().cast());
    let c0 = u32::from_be_bytes(ctr[12..].try_into().unwrap());
    let mut a = _mm_loadu_si128((acc as *const u128).cast());
    let hp = (
        powers.h.as_ptr().add(MAX_POWERS - GCM_STEP),
        powers.karatsuba.as_ptr().add(MAX_POWERS - GCM_STEP),
    );
    let zero = [_mm_setzero_si128(); 3];
    let p = data.as_mut_ptr();
    for i in 0..n {
        let q = p.add(bytes * i);
        let mut x = counters(block, c0.wrapping_add((i * GCM_STEP) as u32), k[0]);
        let mut s = Sums::zero();
        for (r, key) in k[1..R].iter().enumerate() {
            for xj in &mut x {
                *xj = _mm256_aesenc_epi128(*xj, *key);
            }
            // One register per round, the one the accumulator joins last.
            if i > 0 && r < 8 {
                hash_register(&mut s, hp, a, q.sub(bytes), (r + 1) % 8);
            }
            if i > 0 && r == 8 {
                a = reduce(s.terms(zero));
            }
        }
        for (j, xj) in x.iter().enumerate() {
            let d = q.add(32 * j);
            _mm256_storeu_si256(
                d.cast(),
                _mm256_xor_si256(
                    _mm256_aesenclast_epi128(*xj, k[R]),
                    _mm256_loadu_si256(d.cast()),
                ),
            );
        }
    }
    let mut s = Sums::zero();
    let last = p.add(bytes * (n - 1));
    for m in [1, 2, 3, 4, 5, 6, 7, 0] {
        hash_register(&mut s, hp, a, last, m);
    }
    a = reduce(s.terms(zero));
    _mm_storeu_si128((acc as *mut u128).cast(), a);
    crate::backend::layout::inc32(ctr, (n * GCM_STEP) as u32);
}

/// GCM encryption (CTR, then GHASH over the ciphertext) of the whole
/// [`GCM_STEP`]-block groups of `data`, stitched; returns the bytes done.
#[inline]
pub(crate) fn gcm_seal(
    (_, _): (Vaes, Vpclmul256),
    rk: &CipherKeys,
    rounds: usize,
    powers: &HPowers,
    ctr: &mut [u8; 16],
    acc: &mut u128,
    data: &mut [u8],
) -> usize {
    let done = data.len() / (16 * GCM_STEP) * (16 * GCM_STEP);
    // SAFETY: the tokens prove VAES, VPCLMULQDQ, PCLMULQDQ and AVX2; `done`
    // is whole groups within `data`; keys of the ymm and zmm tiers fill
    // `vpclmul256::POWERS` (64) powers, and each group reads GCM_STEP of them.
    unsafe {
        with_rounds!(
            rounds,
            gcm_seal_ymm(rk, powers, ctr, acc, &mut data[..done])
        )
    }
    done
}
