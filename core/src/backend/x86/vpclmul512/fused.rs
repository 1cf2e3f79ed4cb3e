//! The fused one-pass AES-GMAC on zmm: the tag-mask AES overlapped with
//! this folder's zmm GHASH of both parts, padding and length block, read in
//! place; and the xmm short-message kernel with a masked partial block.

use core::arch::x86_64::*;

use super::super::pclmul::{
    bswap_mask, gmac_short_tail, mul_acc, reduce, tag_bits, tag_mask, Head, SHORT_MAX,
};
use super::super::{AesNi, Vpclmul512};
use super::{add_blocks, hash, lanes, Sums, POWERS};
use crate::backend::layout::{HPowers, RoundKeys, MAX_POWERS};

/// # Safety
/// AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW and AVX2 must be present;
/// `a` whole blocks; `powers` hold `POWERS` powers.
#[target_feature(
    enable = "aes,vpclmulqdq,pclmulqdq,avx512f,avx512bw,avx512vl,avx512vbmi,avx2,avx,ssse3"
)]
unsafe fn gmac_impl(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    // The tag mask first: ten dependent rounds the CPU overlaps with the multiplies.
    let mask = tag_mask(rk, nonce);
    let total = 16 * a.blocks() + b.len();
    // Past one group, `a` and all but the last (partial) group of `b` go
    // through the GHASH loop; the last group below takes the accumulator.
    let (mut acc, na, b) = if total <= 16 * POWERS {
        (_mm_setzero_si128(), a.blocks(), b)
    } else {
        let lead = b.len() / (16 * POWERS) * (16 * POWERS);
        let mut acc = _mm_setzero_si128();
        a.each(|p| acc = hash(powers, acc, p));
        (hash(powers, acc, &b[..lead]), 0, &b[lead..])
    };
    let nb = b.len().div_ceil(16);
    let data = na + nb;
    // With room for it, the length block joins the data's reduction as the
    // last of `n` powers; else (64 data blocks) it follows in a second one.
    let n = if data < POWERS { data + 1 } else { data };
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
    let mut s = Sums::zero();
    if na > 0 {
        let mut at = 0;
        a.each(|p| {
            add_blocks(&mut s, p, h.add(at), hk.add(at));
            at += p.len() / 16;
        });
    }
    // `b`: whole registers, then the rest (a partial block zero-padded) masked by byte.
    let whole = b.len() / 64 * 64;
    add_blocks(&mut s, &b[..whole], h.add(na), hk.add(na));
    let rest = b.len() - whole;
    if rest > 0 {
        let m = lanes(rest.div_ceil(16));
        let x = _mm512_maskz_loadu_epi8((1u64 << rest).wrapping_sub(1), b[whole..].as_ptr().cast());
        let at = na + whole / 16;
        s.mul4(
            _mm512_shuffle_epi8(x, _mm512_broadcast_i32x4(bswap_mask())),
            _mm512_maskz_loadu_epi64(m, h.add(at).cast()),
            _mm512_maskz_loadu_epi64(m, hk.add(at).cast()),
        );
    }
    let mut t = s.fold();
    if total > 16 * POWERS {
        // The accumulator of the groups before, times this group's first power.
        mul_acc(acc, _mm_loadu_si128(h.cast()), &mut t);
    }
    // [bitlen]_64 || 0^64 read big-endian is bitlen in the high qword (low one zero).
    let len = _mm_set_epi64x((total as u64 * 8) as i64, 0);
    let h1 = _mm_loadu_si128(powers.h.as_ptr().add(MAX_POWERS - 1).cast());
    acc = if data < POWERS {
        // len * H: the high qword's two products.
        t[2] = _mm_xor_si128(t[2], _mm_clmulepi64_si128::<0x11>(len, h1));
        t[1] = _mm_xor_si128(t[1], _mm_clmulepi64_si128::<0x01>(len, h1));
        reduce(t)
    } else {
        let mut u = [_mm_setzero_si128(); 3];
        mul_acc(_mm_xor_si128(reduce(t), len), h1, &mut u);
        reduce(u)
    };
    tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap_mask()), mask))
}

/// AES-128-GMAC of `a || b` (`a` whole blocks: empty, an SMB2 header, or
/// Samba's header and zeroed signature as [`Parts`](super::super::pclmul::Parts);
/// the tag's bytes as a little-endian `u128`) in one pass: the tag-mask AES overlapped with the zmm GHASH of both parts,
/// padding and length block, read straight from the caller's buffers; one
/// reduction up to 1008 bytes.
#[inline]
pub(crate) fn gmac(
    _: (AesNi, Vpclmul512),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    assert!(a.whole());
    // SAFETY: the tokens prove AES-NI, VPCLMULQDQ, PCLMULQDQ, AVX-512F/BW/VL/VBMI and
    // AVX2 (so SSSE3); `a` is whole blocks (checked above) and the last group
    // holds at most POWERS data blocks, so every (masked) load stays within
    // `a`, `b` and the `n <= POWERS` highest-first powers, which keys of this
    // tier fill.
    unsafe { gmac_impl(rk, powers, nonce, a, b) }
}

/// # Safety
/// AES-NI, PCLMULQDQ, SSSE3 and AVX-512BW/VL must be present;
/// `msg.len() <= SHORT_MAX`; `powers` hold `POWERS` powers.
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3,avx512f,avx512bw,avx512vl,avx2,avx")]
unsafe fn gmac_short_impl(rk: &RoundKeys, powers: &HPowers, nonce: &[u8; 12], msg: &[u8]) -> u128 {
    // The partial last block (1 to 15 bytes) by a byte-masked load:
    // masked-off bytes are neither read nor able to fault, so no copy and no
    // read past `msg`.
    gmac_short_tail(rk, powers, nonce, msg, |tail| {
        _mm_maskz_loadu_epi8(
            ((1u32 << tail.len()) - 1) as __mmask16,
            tail.as_ptr().cast(),
        )
    })
}

/// The xmm fused short-message GMAC (`pclmul::gmac_short_tail`) with the partial
/// last block read by a masked load instead of a stack copy, so a message
/// with a partial last block costs what a whole-block one does.
#[inline]
pub(crate) fn gmac_short(
    _: (AesNi, Vpclmul512),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    msg: &[u8],
) -> u128 {
    assert!(msg.len() <= SHORT_MAX);
    // SAFETY: the tokens prove AES-NI, PCLMULQDQ, AVX-512F/BW/VL and AVX2 (so
    // SSSE3); the length is checked above, so the whole-block loads and the
    // masked tail load (`msg.len() % 16` bytes from the last whole block's
    // end) stay within `msg`; keys of this tier hold POWERS >= pclmul::POWERS powers.
    unsafe { gmac_short_impl(rk, powers, nonce, msg) }
}
