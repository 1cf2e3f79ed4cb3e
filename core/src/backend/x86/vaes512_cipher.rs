//! AES-CTR with VAES on zmm for the SMB3 ciphers: four blocks per
//! instruction, eight registers (32 blocks) in flight, a partial last group
//! by masked loads and stores (which never touch the bytes masked off).
//! Generic over the round count `R` (10 or 14). And GCM with the CTR
//! stitched into the zmm GHASH ([`gcm_seal`]).
//!
//! Counters are byte-reversed per 128-bit lane, as in `aesni_cipher`: the
//! big-endian 32-bit counter is then each lane's dword 0, one `vpaddd`.

use core::arch::x86_64::*;

use super::pclmul::{bswap_mask, reduce};
use super::vpclmul512::Sums;
use super::{Vaes512, Vpclmul512};
use crate::backend::layout::{with_rounds, CipherKeys};
use crate::backend::layout::{HPowers, MAX_POWERS};

/// Blocks per main-loop step.
const STEP: usize = 32;

/// Reverses the bytes of each 128-bit lane.
#[inline]
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn reverse(x: __m512i) -> __m512i {
    let m = _mm512_broadcast_i32x4(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    _mm512_shuffle_epi8(x, m)
}

/// Encrypts the counter blocks `rev + 4j + lane` (byte-reversed form) of
/// `N` registers.
#[inline]
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn keystream<const R: usize, const N: usize>(
    k: &[__m512i; 15],
    rev: __m512i,
) -> [__m512i; N] {
    let mut x: [__m512i; N] = core::array::from_fn(|j| {
        let c = _mm512_add_epi32(
            rev,
            _mm512_set_epi32(
                0,
                0,
                0,
                4 * j as i32,
                0,
                0,
                0,
                4 * j as i32,
                0,
                0,
                0,
                4 * j as i32,
                0,
                0,
                0,
                4 * j as i32,
            ),
        );
        _mm512_xor_si512(reverse(c), k[0])
    });
    for key in &k[1..R] {
        for xj in &mut x {
            *xj = _mm512_aesenc_epi128(*xj, *key);
        }
    }
    for xj in &mut x {
        *xj = _mm512_aesenclast_epi128(*xj, k[R]);
    }
    x
}

/// # Safety
/// The CPU must support VAES and AVX-512F/BW/VL.
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn ctr32_zmm<const R: usize>(rk: &CipherKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
    let k: [__m512i; 15] =
        core::array::from_fn(|i| _mm512_broadcast_i32x4(_mm_loadu_si128(rk[i].as_ptr().cast())));
    let first = _mm_shuffle_epi8(
        _mm_loadu_si128(ctr.as_ptr().cast()),
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    );
    // Lane i holds counter + i.
    let mut rev = _mm512_add_epi32(
        _mm512_broadcast_i32x4(first),
        _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0),
    );
    let len = data.len();
    let p = data.as_mut_ptr();
    let mut off = 0;
    while len - off >= 16 * STEP {
        let x = keystream::<R, 8>(&k, rev);
        for (j, xj) in x.iter().enumerate() {
            let q = p.add(off + 64 * j);
            _mm512_storeu_si512(
                q.cast(),
                _mm512_xor_si512(*xj, _mm512_loadu_si512(q.cast())),
            );
        }
        rev = _mm512_add_epi32(
            rev,
            _mm512_set_epi32(0, 0, 0, 32, 0, 0, 0, 32, 0, 0, 0, 32, 0, 0, 0, 32),
        );
        off += 16 * STEP;
    }
    while off < len {
        // Up to four blocks, the bytes past the end masked off.
        let n = (len - off).min(64);
        let mask: u64 = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        let [x] = keystream::<R, 1>(&k, rev);
        let q = p.add(off);
        let d = _mm512_maskz_loadu_epi8(mask, q.cast());
        _mm512_mask_storeu_epi8(q.cast(), mask, _mm512_xor_si512(x, d));
        rev = _mm512_add_epi32(
            rev,
            _mm512_set_epi32(0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4),
        );
        off += n;
    }
    let c = u32::from_be_bytes(ctr[12..].try_into().unwrap()).wrapping_add(len.div_ceil(16) as u32);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// XORs the CTR keystream from counter block `ctr` into `data` (any length)
/// and advances the counter's last 32 bits (big-endian) by the blocks used.
#[inline]
pub(crate) fn ctr32(
    _: Vaes512,
    rk: &CipherKeys,
    rounds: usize,
    ctr: &mut [u8; 16],
    data: &mut [u8],
) {
    // SAFETY: the Vaes512 token proves VAES and AVX-512F/BW/VL; full-width
    // loads and stores stay within `data` (checked per step), the last group
    // is masked to the bytes that remain.
    unsafe { with_rounds!(rounds, ctr32_zmm(rk, ctr, data)) }
}

/// Blocks per step of the stitched GCM loop (one GHASH reduction each).
pub(crate) const GCM_STEP: usize = 32;

/// The product of ciphertext register `m` of a step with its powers (of
/// `H^32..H^1`), into `s`; register 0 with `acc` added.
#[inline]
#[target_feature(enable = "vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn hash_register(s: &mut Sums, powers: &HPowers, acc: __m128i, ct: &[__m512i; 8], m: usize) {
    let bswap = _mm512_broadcast_i32x4(bswap_mask());
    let h = powers.h.as_ptr().add(MAX_POWERS - GCM_STEP + 4 * m);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - GCM_STEP + 4 * m);
    let mut x = _mm512_shuffle_epi8(ct[m], bswap);
    if m == 0 {
        x = _mm512_xor_si512(x, _mm512_zextsi128_si512(acc));
    }
    s.mul4(
        x,
        _mm512_loadu_si512(h.cast()),
        _mm512_loadu_si512(hk.cast()),
    );
}

/// The step's counter blocks `c + 4j + lane`, XORed with round key 0. Where
/// no counter's low byte wraps within the step, they are added to the
/// big-endian block's last byte directly (dword 3's top byte); else through
/// the byte-reversed form, one shuffle per register more.
#[inline]
#[target_feature(enable = "vaes,aes,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn counters(block: __m128i, c: u32, k0: __m512i) -> [__m512i; 8] {
    if (c & 0xff) as usize <= 256 - GCM_STEP {
        let be = _mm512_broadcast_i32x4(_mm_insert_epi32::<3>(block, c.swap_bytes() as i32));
        core::array::from_fn(|j| {
            let o = (4 * j as i32) << 24;
            let lanes = _mm512_set_epi32(
                o + (3 << 24),
                0,
                0,
                0,
                o + (2 << 24),
                0,
                0,
                0,
                o + (1 << 24),
                0,
                0,
                0,
                o,
                0,
                0,
                0,
            );
            _mm512_xor_si512(_mm512_add_epi32(be, lanes), k0)
        })
    } else {
        let rev = _mm512_add_epi32(
            _mm512_broadcast_i32x4(_mm_shuffle_epi8(
                _mm_insert_epi32::<3>(block, c.swap_bytes() as i32),
                _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            )),
            _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0),
        );
        core::array::from_fn(|j| {
            let c = _mm512_add_epi32(
                rev,
                _mm512_mask_set1_epi32(_mm512_setzero_si512(), 0x1111, 4 * j as i32),
            );
            _mm512_xor_si512(reverse(c), k0)
        })
    }
}

/// GCM encryption of whole [`GCM_STEP`]-block groups with CTR stitched into
/// GHASH: each step encrypts one group (VAES, port 0 on Intel) and, between
/// its rounds, hashes the previous group's ciphertext, still in registers
/// (VPCLMULQDQ and shuffles, port 5). Interleaved in program order: left
/// after the rounds, the hashing waited behind a scheduler full of `vaesenc`s.
///
/// # Safety
/// VAES, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL and AVX2; `data.len()` a
/// multiple of `16 * GCM_STEP`; `powers` hold `vpclmul512::POWERS` powers.
#[target_feature(enable = "vaes,aes,vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn gcm_seal_zmm<const R: usize>(
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
    let k: [__m512i; 15] =
        core::array::from_fn(|i| _mm512_broadcast_i32x4(_mm_loadu_si128(rk[i].as_ptr().cast())));
    let block = _mm_loadu_si128(ctr.as_ptr().cast());
    let c0 = u32::from_be_bytes(ctr[12..].try_into().unwrap());
    let mut a = _mm_loadu_si128((acc as *const u128).cast());
    let p = data.as_mut_ptr();
    let mut prev = [_mm512_setzero_si512(); 8];
    for i in 0..n {
        let q = p.add(bytes * i);
        let mut x = counters(block, c0.wrapping_add((i * GCM_STEP) as u32), k[0]);
        let mut s = Sums::zero();
        for (r, key) in k[1..R].iter().enumerate() {
            for xj in &mut x {
                *xj = _mm512_aesenc_epi128(*xj, *key);
            }
            // One register per round, the one the accumulator joins last.
            if i > 0 && r < 8 {
                hash_register(&mut s, powers, a, &prev, (r + 1) % 8);
            }
            if i > 0 && r == 8 {
                a = reduce(s.fold());
            }
        }
        for (j, xj) in x.iter().enumerate() {
            let d = q.add(64 * j);
            prev[j] = _mm512_xor_si512(
                _mm512_aesenclast_epi128(*xj, k[R]),
                _mm512_loadu_si512(d.cast()),
            );
            _mm512_storeu_si512(d.cast(), prev[j]);
        }
    }
    let mut s = Sums::zero();
    for m in [1, 2, 3, 4, 5, 6, 7, 0] {
        hash_register(&mut s, powers, a, &prev, m);
    }
    a = reduce(s.fold());
    _mm_storeu_si128((acc as *mut u128).cast(), a);
    crate::backend::layout::inc32(ctr, (n * GCM_STEP) as u32);
}

/// GCM encryption (CTR, then GHASH over the ciphertext) of the whole
/// [`GCM_STEP`]-block groups of `data`, stitched; returns the bytes done.
#[inline]
pub(crate) fn gcm_seal(
    (_, _): (Vaes512, Vpclmul512),
    rk: &CipherKeys,
    rounds: usize,
    powers: &HPowers,
    ctr: &mut [u8; 16],
    acc: &mut u128,
    data: &mut [u8],
) -> usize {
    let done = data.len() / (16 * GCM_STEP) * (16 * GCM_STEP);
    // SAFETY: the tokens prove VAES, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL and
    // AVX2; `done` is whole groups within `data`; keys of the zmm tier fill
    // `vpclmul512::POWERS` powers (each group reads GCM_STEP of them).
    unsafe {
        with_rounds!(
            rounds,
            gcm_seal_zmm(rk, powers, ctr, acc, &mut data[..done])
        )
    }
    done
}
