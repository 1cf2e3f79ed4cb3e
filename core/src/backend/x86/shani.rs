//! SHA-256 compression with the SHA extensions (`sha256rnds2`, `sha256msg1/2`).
//!
//! The state lives in two registers in the order the instructions want
//! (ABEF and CDGH); each loop turn does four rounds and, for the first twelve
//! turns, computes the message-schedule vector four turns ahead.
//!
//! One kernel serves one message (`N = 1`) and the lanes forms (`N =
//! LANES`, `N = WIDE_LANES`): one message's rounds are a single dependency
//! chain through `sha256rnds2` (its latency a multiple of its throughput),
//! and independent messages interleaved round by round fill the gaps in its
//! latency. Two streams are all sixteen xmm registers hold (the SHA
//! instructions have no VEX/EVEX form, so they reach xmm0-15 only); with
//! AVX-512VL the compiler keeps the rest in xmm16-31, and four streams are
//! faster per block than two (docs/tuning.md: "Four SHA-NI streams").

// Lanes are indexed explicitly: the loops mirror the interleaving.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;

use super::{Avx512, ShaNi};
use crate::backend::portable::sha256::K;

/// Lanes per kernel call (two chains hide `sha256rnds2` latency; more spill registers).
pub(crate) const LANES: usize = 2;

/// Lanes per call of the kernel compiled with AVX-512VL's 32 xmm registers.
pub(crate) const WIDE_LANES: usize = 4;

/// # Safety
/// The CPU must support SHA, SSE2, SSSE3 and SSE4.1; every `p[l]` must be
/// readable for `64 * m` bytes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress_lanes_shani<const N: usize>(
    state: &mut [[u32; 8]; N],
    p: &[*const u8; N],
    m: usize,
) {
    compress_lanes_body(state, p, m)
}

/// The same kernel where AVX-512VL lends xmm16-31 to everything but the SHA
/// instructions themselves.
///
/// # Safety
/// The CPU must support SHA, SSE2, SSSE3, SSE4.1, AVX-512F/VL and AVX2; every
/// `p[l]` must be readable for `64 * m` bytes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f,avx512vl,avx2,avx")]
unsafe fn compress_lanes_shani_vl<const N: usize>(
    state: &mut [[u32; 8]; N],
    p: &[*const u8; N],
    m: usize,
) {
    compress_lanes_body(state, p, m)
}

/// The kernel body, inlined into each target-feature wrapper above so that
/// it is compiled for that wrapper's register file.
///
/// # Safety
/// As [`compress_lanes_shani`]; called only from the wrappers above.
#[inline(always)]
unsafe fn compress_lanes_body<const N: usize>(
    state: &mut [[u32; 8]; N],
    p: &[*const u8; N],
    m: usize,
) {
    let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let mut abef = [_mm_setzero_si128(); N];
    let mut cdgh = [_mm_setzero_si128(); N];
    for l in 0..N {
        let dcba = _mm_loadu_si128(state[l].as_ptr().cast());
        let hgfe = _mm_loadu_si128(state[l].as_ptr().add(4).cast());
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        abef[l] = _mm_alignr_epi8(cdab, efgh, 8);
        cdgh[l] = _mm_blend_epi16(efgh, cdab, 0xF0);
    }

    macro_rules! rounds4 {
        ($m:ident, $k:expr) => {{
            let kv = _mm_loadu_si128(K.as_ptr().add($k).cast());
            for l in 0..N {
                let t = _mm_add_epi32($m[l], kv);
                cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], t);
                abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(t, 0x0E));
            }
        }};
    }
    macro_rules! schedule {
        ($m0:ident, $m1:ident, $m2:ident, $m3:ident) => {
            for l in 0..N {
                $m0[l] = _mm_sha256msg2_epu32(
                    _mm_add_epi32(
                        _mm_sha256msg1_epu32($m0[l], $m1[l]),
                        _mm_alignr_epi8($m3[l], $m2[l], 4),
                    ),
                    $m3[l],
                );
            }
        };
    }

    for j in 0..m {
        let (abef_in, cdgh_in) = (abef, cdgh);
        let load = |l: usize, i: usize| {
            _mm_shuffle_epi8(_mm_loadu_si128(p[l].add(64 * j + 16 * i).cast()), bswap)
        };
        let mut m0: [__m128i; N] = core::array::from_fn(|l| load(l, 0));
        let mut m1: [__m128i; N] = core::array::from_fn(|l| load(l, 1));
        let mut m2: [__m128i; N] = core::array::from_fn(|l| load(l, 2));
        let mut m3: [__m128i; N] = core::array::from_fn(|l| load(l, 3));
        for k in [0, 16, 32] {
            rounds4!(m0, k);
            schedule!(m0, m1, m2, m3);
            rounds4!(m1, k + 4);
            schedule!(m1, m2, m3, m0);
            rounds4!(m2, k + 8);
            schedule!(m2, m3, m0, m1);
            rounds4!(m3, k + 12);
            schedule!(m3, m0, m1, m2);
        }
        rounds4!(m0, 48);
        rounds4!(m1, 52);
        rounds4!(m2, 56);
        rounds4!(m3, 60);
        for l in 0..N {
            abef[l] = _mm_add_epi32(abef[l], abef_in[l]);
            cdgh[l] = _mm_add_epi32(cdgh[l], cdgh_in[l]);
        }
    }

    for l in 0..N {
        let feba = _mm_shuffle_epi32(abef[l], 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh[l], 0xB1);
        _mm_storeu_si128(
            state[l].as_mut_ptr().cast(),
            _mm_blend_epi16(feba, dchg, 0xF0),
        );
        _mm_storeu_si128(
            state[l].as_mut_ptr().add(4).cast(),
            _mm_alignr_epi8(dchg, feba, 8),
        );
    }
}

/// Compresses the next `m` 64-byte blocks of each lane's data into its state,
/// advancing the data past them.
#[inline]
pub(crate) fn compress_lanes(
    _: ShaNi,
    state: &mut [[u32; 8]; LANES],
    data: &mut [&[u8]; LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 64 * m);
    // SAFETY: the ShaNi token proves SHA, SSE2, SSSE3 and SSE4.1; lane_ptrs
    // checked each lane's length, so every load stays within its slice.
    unsafe { compress_lanes_shani(state, &p, m) }
    crate::backend::layout::advance_lanes(data, 64 * m);
}

/// [`compress_lanes`] with four streams, for CPUs with AVX-512VL.
#[inline]
pub(crate) fn compress_lanes_wide(
    _: ShaNi,
    _: Avx512,
    state: &mut [[u32; 8]; WIDE_LANES],
    data: &mut [&[u8]; WIDE_LANES],
    m: usize,
) {
    let p = crate::backend::layout::lane_ptrs(data, 64 * m);
    // SAFETY: the ShaNi token proves SHA, SSE2, SSSE3 and SSE4.1, the Avx512
    // token AVX-512F/VL and AVX2; lane_ptrs checked each lane's length, so
    // every load stays within its slice.
    unsafe { compress_lanes_shani_vl(state, &p, m) }
    crate::backend::layout::advance_lanes(data, 64 * m);
}

/// Compresses whole 64-byte blocks into `state`.
#[inline]
pub(crate) fn compress(_: ShaNi, state: &mut [u32; 8], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(64));
    // SAFETY: the ShaNi token proves SHA, SSE2, SSSE3 and SSE4.1; the length is
    // checked above and every load stays within `blocks` and `state`.
    unsafe {
        compress_lanes_shani(
            core::array::from_mut(state),
            &[blocks.as_ptr()],
            blocks.len() / 64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{compress_lanes, compress_lanes_wide, LANES, WIDE_LANES};
    use crate::backend::x86::sha256_lanes::tests::check;
    use crate::backend::x86::{Avx512, ShaNi};

    #[test]
    fn two_streams_equal_portable() {
        if let Some(t) = ShaNi::detect() {
            check::<LANES>(|s, d, m| compress_lanes(t, s, d, m));
        }
    }

    #[test]
    fn four_streams_equal_portable() {
        if let (Some(t), Some(v)) = (ShaNi::detect(), Avx512::detect()) {
            check::<WIDE_LANES>(|s, d, m| compress_lanes_wide(t, v, s, d, m));
        }
    }
}
