//! SHA-256 compression with the SHA extensions (`sha256rnds2`, `sha256msg1/2`).
//!
//! The state lives in two registers in the order the instructions want
//! (ABEF and CDGH); each loop turn does four rounds and, for the first twelve
//! turns, computes the message-schedule vector four turns ahead.

use core::arch::x86_64::*;

use super::ShaNi;
use crate::backend::soft::sha256::K;

/// # Safety
/// The CPU must support SHA, SSE2, SSSE3 and SSE4.1; `blocks.len()` must be a multiple of 64.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress_shani(state: &mut [u32; 8], blocks: &[u8]) {
    // Big-endian message words: swap the bytes of each 32-bit lane.
    let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let dcba = _mm_loadu_si128(state.as_ptr().cast());
    let hgfe = _mm_loadu_si128(state.as_ptr().add(4).cast());
    let cdab = _mm_shuffle_epi32(dcba, 0xB1);
    let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    let mut abef = _mm_alignr_epi8(cdab, efgh, 8);
    let mut cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    // Four rounds on message vector $m with round constants K[$k..$k + 4].
    macro_rules! rounds4 {
        ($m:ident, $k:expr) => {{
            let t = _mm_add_epi32($m, _mm_loadu_si128(K.as_ptr().add($k).cast()));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, t);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(t, 0x0E));
        }};
    }
    // W[g+4] = msg2(msg1(W[g], W[g+1]) + W[4g+9..4g+12], W[g+3]), into W[g]'s register.
    macro_rules! schedule {
        ($m0:ident, $m1:ident, $m2:ident, $m3:ident) => {
            $m0 = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32($m0, $m1), _mm_alignr_epi8($m3, $m2, 4)),
                $m3,
            );
        };
    }

    for block in blocks.chunks_exact(64) {
        let (abef_in, cdgh_in) = (abef, cdgh);
        let p = block.as_ptr();
        let mut m0 = _mm_shuffle_epi8(_mm_loadu_si128(p.cast()), bswap);
        let mut m1 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(16).cast()), bswap);
        let mut m2 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(32).cast()), bswap);
        let mut m3 = _mm_shuffle_epi8(_mm_loadu_si128(p.add(48).cast()), bswap);
        // Rounds 0..48, computing the schedule four vectors ahead; fully unrolled
        // so the message vectors stay in registers.
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
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    let feba = _mm_shuffle_epi32(abef, 0x1B);
    let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(state.as_mut_ptr().cast(), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(
        state.as_mut_ptr().add(4).cast(),
        _mm_alignr_epi8(dchg, feba, 8),
    );
}

/// Compresses whole 64-byte blocks into `state`.
#[inline]
pub(crate) fn compress(_: ShaNi, state: &mut [u32; 8], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(64));
    // SAFETY: the ShaNi token proves SHA, SSE2, SSSE3 and SSE4.1; the length is
    // checked above and every load stays within `blocks` and `state`.
    unsafe { compress_shani(state, blocks) }
}
