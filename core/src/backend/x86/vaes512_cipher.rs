//! AES-CTR with VAES on zmm for the SMB3 ciphers: four blocks per
//! instruction, eight registers (32 blocks) in flight, a partial last group
//! by masked loads and stores (which never touch the bytes masked off).
//! Generic over the round count `R` (10 or 14).
//!
//! Counters are byte-reversed per 128-bit lane, as in `aesni_cipher`: the
//! big-endian 32-bit counter is then each lane's dword 0, one `vpaddd`.

use core::arch::x86_64::*;

use super::Vaes512;
use crate::backend::cipher::CipherKeys;

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
    unsafe {
        if rounds == 14 {
            ctr32_zmm::<14>(rk, ctr, data);
        } else {
            ctr32_zmm::<10>(rk, ctr, data);
        }
    }
}
