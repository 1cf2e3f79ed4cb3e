//! GHASH with PCLMULQDQ on xmm: 16 blocks per reduction, Karatsuba products.
//!
//! Works in the POLYVAL domain (RFC 8452 appendix A): blocks are byte-reversed
//! on load and multiplied by powers of `H' = mulX(H)`, so products need no
//! bit reflection. Aggregated reduction: `acc = (acc^X1)H^n + X2 H^(n-1) + ... + Xn H`,
//! summed unreduced, then one Montgomery reduction (Gueron's two-fold method with
//! the constant 0xc2 << 56) per group. Products are Karatsuba ([`Kara`]: three
//! PCLMULQDQ per block, the key's `lo ^ hi` halves precomputed): PCLMULQDQ's
//! one port is the bound, so a quarter fewer multiplies is a third more speed.

use core::arch::x86_64::*;

use super::{AesNi, Pclmul};
use crate::backend::layout::{HPowers, RoundKeys, MAX_POWERS};

/// Key powers this kernel reads (blocks per reduction of the long-message loop).
pub(crate) const POWERS: usize = 16;

/// Blocks per reduction of the fused kernels (with the length block): the
/// short kernel takes up to `SHORT_BLOCKS - 1` data blocks.
const SHORT_BLOCKS: usize = 8;

/// Byte-reversal shuffle: GHASH blocks are big-endian 128-bit values.
#[inline]
#[target_feature(enable = "sse2")]
pub(super) unsafe fn bswap_mask() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// Unreduced product terms of `x * h`, added into (lo, mid, hi).
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
pub(super) unsafe fn mul_acc(x: __m128i, h: __m128i, acc: &mut [__m128i; 3]) {
    acc[0] = _mm_xor_si128(acc[0], _mm_clmulepi64_si128(x, h, 0x00));
    acc[2] = _mm_xor_si128(acc[2], _mm_clmulepi64_si128(x, h, 0x11));
    acc[1] = _mm_xor_si128(
        acc[1],
        _mm_xor_si128(
            _mm_clmulepi64_si128(x, h, 0x01),
            _mm_clmulepi64_si128(x, h, 0x10),
        ),
    );
}

/// Unreduced Karatsuba sums of xmm products: `lo = xl*hl`, `hi = xh*hh`,
/// `midk = (xl^xh)*(hl^hh)`, the last with the key's precomputed halves
/// ([`HPowers`]`.1`): three PCLMULQDQ per block where [`mul_acc`] takes four.
#[derive(Clone, Copy)]
pub(super) struct Kara {
    lo: __m128i,
    midk: __m128i,
    hi: __m128i,
}

impl Kara {
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn zero() -> Kara {
        Kara {
            lo: _mm_setzero_si128(),
            midk: _mm_setzero_si128(),
            hi: _mm_setzero_si128(),
        }
    }

    /// Adds the product of the byte-reversed block `x` with the power `h`
    /// (`hk` its Karatsuba half).
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse2")]
    pub(super) fn mul(&mut self, x: __m128i, h: __m128i, hk: __m128i) {
        // (x.lo ^ x.hi) in the low qword.
        let xk = _mm_xor_si128(x, _mm_shuffle_epi32::<0x4e>(x));
        self.lo = _mm_xor_si128(self.lo, _mm_clmulepi64_si128::<0x00>(x, h));
        self.hi = _mm_xor_si128(self.hi, _mm_clmulepi64_si128::<0x11>(x, h));
        self.midk = _mm_xor_si128(self.midk, _mm_clmulepi64_si128::<0x00>(xk, hk));
    }

    /// As [`Kara::mul`] with the power at `h` and its half at `hk`.
    /// # Safety
    /// `h` and `hk` must be readable for 16 bytes.
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse2")]
    pub(super) unsafe fn mul_at(&mut self, x: __m128i, h: *const u128, hk: *const u128) {
        self.mul(x, _mm_loadu_si128(h.cast()), _mm_loadu_si128(hk.cast()));
    }

    /// The (lo, mid, hi) terms [`reduce`] takes, plus `more` (such terms too).
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn terms(&self, more: [__m128i; 3]) -> [__m128i; 3] {
        let (l, h) = (
            _mm_xor_si128(self.lo, more[0]),
            _mm_xor_si128(self.hi, more[2]),
        );
        // Karatsuba: middle = (xl^xh)(hl^hh) ^ xl*hl ^ xh*hh, summed.
        let m = _mm_xor_si128(self.midk, _mm_xor_si128(self.lo, self.hi));
        [l, _mm_xor_si128(m, more[1]), h]
    }
}

/// Montgomery-reduces the 256-bit value (lo, mid, hi) to `value * x^-128`.
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
pub(super) unsafe fn reduce(t: [__m128i; 3]) -> __m128i {
    let lo = _mm_xor_si128(t[0], _mm_slli_si128(t[1], 8));
    let hi = _mm_xor_si128(t[2], _mm_srli_si128(t[1], 8));
    let poly = _mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1);
    let f = _mm_clmulepi64_si128(lo, poly, 0x10);
    let lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), f);
    let f = _mm_clmulepi64_si128(lo, poly, 0x10);
    let lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), f);
    _mm_xor_si128(lo, hi)
}

/// Folds up to `POWERS` blocks (`blocks.len() / 16` of them) into `acc` with
/// one reduction. The first block, which the accumulator joins, is multiplied
/// last: the other products do not wait for the previous group's reduction,
/// so only its multiply and the reduction are on the critical path.
/// # Safety
/// PCLMULQDQ, SSE2 and SSSE3 must be present; `blocks.len()` is a multiple of
/// 16, from 16 to `16 * POWERS`.
#[inline]
#[target_feature(enable = "pclmulqdq,sse2,ssse3")]
unsafe fn ghash_group(powers: &HPowers, acc: __m128i, blocks: &[u8]) -> __m128i {
    let n = blocks.len() / 16;
    let bswap = bswap_mask();
    let mut s = Kara::zero();
    let h = powers.h.as_ptr().add(MAX_POWERS - n);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
    let load =
        |j: usize| _mm_shuffle_epi8(_mm_loadu_si128(blocks.as_ptr().add(16 * j).cast()), bswap);
    for j in 1..n {
        s.mul_at(load(j), h.add(j), hk.add(j));
    }
    s.mul_at(_mm_xor_si128(load(0), acc), h, hk);
    reduce(s.terms([_mm_setzero_si128(); 3]))
}

/// # Safety
/// PCLMULQDQ, SSE2 and SSSE3 must be present; `blocks.len()` must be a multiple of 16;
/// `powers` must hold at least `POWERS` powers.
#[target_feature(enable = "pclmulqdq,sse2,ssse3")]
unsafe fn ghash_pclmul(powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    let a = _mm_loadu_si128((acc as *const u128).cast());
    _mm_storeu_si128((acc as *mut u128).cast(), hash(powers, a, blocks));
}

/// `acc` after GHASH of `blocks` (whole blocks), groups of `POWERS`.
/// # Safety
/// As [`ghash_group`]; `powers` hold `POWERS` powers.
#[inline]
#[target_feature(enable = "pclmulqdq,sse2,ssse3")]
unsafe fn hash(powers: &HPowers, mut acc: __m128i, blocks: &[u8]) -> __m128i {
    for group in blocks.chunks(16 * POWERS) {
        acc = ghash_group(powers, acc, group);
    }
    acc
}

/// GHASH over whole 16-byte blocks.
#[inline]
pub(crate) fn ghash_blocks(_: Pclmul, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(16));
    // SAFETY: the Pclmul token proves PCLMULQDQ, SSE2 and SSSE3; lengths are
    // whole blocks (checked above) and groups are at most POWERS blocks, the
    // number of powers the key filled for this tier.
    unsafe { ghash_pclmul(powers, acc, blocks) }
}

/// The longest one-part message [`gmac_short_tail`] takes: 7 blocks, plus
/// the length block, is one reduction of 8 powers.
pub(crate) const SHORT_MAX: usize = 16 * (SHORT_BLOCKS - 1);

/// The most bytes [`gmac_fused`] hashes in groups of `SHORT_BLOCKS` alone
/// (both parts; the one-call size of `gmac::Key`); longer messages go
/// through the long-message loop first, their last group and length block
/// as here.
pub(crate) const FUSED_MAX: usize = 512;

/// The GMAC tag mask `E_K(nonce || 0^31 || 1)`, for the fused kernels.
/// # Safety
/// AES-NI and SSE2 must be present.
#[inline]
#[target_feature(enable = "aes,sse2")]
pub(super) unsafe fn tag_mask(rk: &RoundKeys, nonce: &[u8; 12]) -> __m128i {
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(nonce);
    j0[15] = 1;
    let mut x = _mm_xor_si128(
        _mm_loadu_si128(j0.as_ptr().cast()),
        _mm_loadu_si128(rk[0].as_ptr().cast()),
    );
    for k in &rk[1..10] {
        x = _mm_aesenc_si128(x, _mm_loadu_si128(k.as_ptr().cast()));
    }
    _mm_aesenclast_si128(x, _mm_loadu_si128(rk[10].as_ptr().cast()))
}

/// The fused GMAC of a one-part message of at most [`SHORT_MAX`] bytes (one
/// reduction), whose partial last block (the bytes past the whole blocks, if
/// any) `load_tail` reads zero-padded into a register: by an overlapping load
/// here ([`load_tail`]), by a masked load where AVX-512 has one. Kept apart
/// from [`gmac_fused_tail`], whose body is slower on short messages
/// (docs/tuning.md: "Short xmm GMAC kept apart").
/// # Safety
/// AES-NI, PCLMULQDQ, SSE2 and SSSE3 must be present; `msg.len() <= SHORT_MAX`;
/// `powers` must hold at least `POWERS` powers.
#[inline]
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3")]
pub(super) unsafe fn gmac_short_tail(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    msg: &[u8],
    load_tail: impl FnOnce(&[u8]) -> __m128i,
) -> u128 {
    // The tag mask first: independent of GHASH, so the CPU overlaps its ten
    // dependent rounds with the multiplications below.
    let mask = tag_mask(rk, nonce);

    // GHASH of msg || zero padding || length block, one aggregated reduction.
    let full = msg.len() / 16;
    let rem = msg.len() % 16;
    let nb = full + usize::from(rem > 0) + 1;
    let h = powers.h.as_ptr().add(MAX_POWERS - nb);
    let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - nb);
    let bswap = bswap_mask();
    let mut s = Kara::zero();
    for j in 0..full {
        let b = _mm_shuffle_epi8(_mm_loadu_si128(msg.as_ptr().add(16 * j).cast()), bswap);
        s.mul_at(b, h.add(j), hk.add(j));
    }
    if rem > 0 {
        let b = _mm_shuffle_epi8(load_tail(&msg[16 * full..]), bswap);
        s.mul_at(b, h.add(full), hk.add(full));
    }
    let acc = reduce(s.terms(len_terms(msg.len(), powers)));
    tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap), mask))
}

/// The length block of a `len`-byte message, `[bitlen]_64 || 0^64` read
/// big-endian: the bit length in the high qword, the low one zero.
#[inline]
#[target_feature(enable = "sse2")]
pub(super) fn length_block(len: usize) -> __m128i {
    _mm_set_epi64x((len as u64 * 8) as i64, 0)
}

/// The product terms of a `len`-byte message's length block times `H`
/// (whose low qword is zero: two multiplies), for [`reduce`].
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
pub(super) fn len_terms(len: usize, powers: &HPowers) -> [__m128i; 3] {
    let l = length_block(len);
    // SAFETY: the key always holds H^1, its last power.
    let h1 = unsafe { _mm_loadu_si128(powers.h.as_ptr().add(MAX_POWERS - 1).cast()) };
    [
        _mm_setzero_si128(),
        _mm_clmulepi64_si128::<0x01>(l, h1),
        _mm_clmulepi64_si128::<0x11>(l, h1),
    ]
}

/// `msg`'s partial last block `tail` (its last `tail.len()` < 16 bytes)
/// zero-padded in a register. From 16 bytes on, by a load of the message's
/// last 16 bytes shifted down with a byte shuffle (a copy through the stack
/// would stall the load on store forwarding: docs/tuning.md, "Fused xmm
/// GMAC"); shorter messages by a copy.
/// # Safety
/// SSSE3 must be present; `tail` must be the end of `msg`.
#[inline]
#[target_feature(enable = "sse2,ssse3")]
pub(super) unsafe fn load_tail(msg: &[u8], tail: &[u8]) -> __m128i {
    // SHIFT[16 - r..32 - r] moves bytes 16 - r..16 to 0..r and zeroes the rest.
    static SHIFT: [u8; 32] = {
        let mut t = [0x80u8; 32];
        let mut i = 0;
        while i < 16 {
            t[i] = i as u8;
            i += 1;
        }
        t
    };
    let r = tail.len();
    if msg.len() >= 16 {
        let last = _mm_loadu_si128(msg.as_ptr().add(msg.len() - 16).cast());
        _mm_shuffle_epi8(last, _mm_loadu_si128(SHIFT.as_ptr().add(16 - r).cast()))
    } else {
        let mut last = [0u8; 16];
        last[..r].copy_from_slice(tail);
        _mm_loadu_si128(last.as_ptr().cast())
    }
}

/// # Safety
/// AES-NI, PCLMULQDQ, SSE2 and SSSE3 must be present; `msg.len() <= SHORT_MAX`;
/// `powers` must hold at least `POWERS` powers.
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3")]
unsafe fn gmac_short_impl(rk: &RoundKeys, powers: &HPowers, nonce: &[u8; 12], msg: &[u8]) -> u128 {
    gmac_short_tail(rk, powers, nonce, msg, |tail| load_tail(msg, tail))
}

/// # Safety
/// AES-NI, PCLMULQDQ, SSE2 and SSSE3 must be present; `powers` must hold at
/// least `POWERS` powers.
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3")]
unsafe fn gmac_fused_impl(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    gmac_fused_tail(rk, powers, nonce, a, b, |tail| load_tail(b, tail))
}

/// The whole-block leading part(s) of a fused GMAC message: one slice (an SMB
/// header copy), or several ([`Parts`]: Samba's header and zeroed signature, a
/// body split across iovecs), read in place. Generic, so the one-slice kernel
/// compiles as it did before parts existed.
pub(crate) trait Head: Copy {
    /// Whole 16-byte blocks in all parts.
    fn blocks(self) -> usize;
    /// The address of block `j` (`j < blocks()`).
    fn block(self, j: usize) -> *const u8;
    /// Calls `f` on each part, in order.
    fn each(self, f: impl FnMut(&[u8]));
    /// Whether every part is whole blocks (the kernels' precondition).
    fn whole(self) -> bool;
}

impl Head for &[u8] {
    #[inline]
    fn blocks(self) -> usize {
        self.len() / 16
    }
    #[inline]
    fn block(self, j: usize) -> *const u8 {
        self.as_ptr().wrapping_add(16 * j)
    }
    #[inline]
    fn each(self, mut f: impl FnMut(&[u8])) {
        f(self)
    }
    #[inline]
    fn whole(self) -> bool {
        self.len().is_multiple_of(16)
    }
}

/// Several whole-block parts (each a multiple of 16 bytes long).
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    parts: &'a [&'a [u8]],
    blocks: usize,
}

impl<'a> Parts<'a> {
    /// `None` unless every part is whole blocks.
    pub(crate) fn new(parts: &'a [&'a [u8]]) -> Option<Parts<'a>> {
        let mut blocks = 0;
        for p in parts {
            if !p.len().is_multiple_of(16) {
                return None;
            }
            blocks += p.len() / 16;
        }
        Some(Parts { parts, blocks })
    }

    /// Bytes in all parts.
    pub(crate) fn len(&self) -> usize {
        16 * self.blocks
    }
}

impl Head for Parts<'_> {
    #[inline]
    fn blocks(self) -> usize {
        self.blocks
    }
    #[inline]
    fn block(self, mut j: usize) -> *const u8 {
        // A few parts (Samba: two), so a walk beats a table built per call.
        for p in self.parts {
            let n = p.len() / 16;
            if j < n {
                return p.as_ptr().wrapping_add(16 * j);
            }
            j -= n;
        }
        core::ptr::null()
    }
    #[inline]
    fn each(self, mut f: impl FnMut(&[u8])) {
        for p in self.parts {
            f(p)
        }
    }
    #[inline]
    fn whole(self) -> bool {
        true // checked by Parts::new
    }
}

/// The fused GMAC of `a || b` (`a` whole blocks), whose partial last block
/// (the bytes of `b` past its whole blocks, if any) `load_tail` reads
/// zero-padded into a register ([`load_tail`]). Groups of eight blocks, each
/// reduced once; the
/// accumulator joins a group's first block, and the length block joins the
/// last group where it has room (else it follows alone).
/// # Safety
/// AES-NI, PCLMULQDQ, SSE2 and SSSE3 must be present; `powers` must hold at
/// least `POWERS` powers.
#[inline]
#[target_feature(enable = "aes,pclmulqdq,sse2,ssse3")]
pub(super) unsafe fn gmac_fused_tail(
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
    load_tail: impl FnOnce(&[u8]) -> __m128i,
) -> u128 {
    // The tag mask first: independent of GHASH, so the CPU overlaps its ten
    // dependent rounds with the multiplications below.
    let mask = tag_mask(rk, nonce);
    let bswap = bswap_mask();
    let total = 16 * a.blocks() + b.len();
    // Past FUSED_MAX, `a` and all but the last (partial) POWERS-block group
    // of `b` go through the long-message loop first; the groups below take
    // the rest and the accumulator.
    let (acc0, na, b) = if total <= FUSED_MAX {
        (_mm_setzero_si128(), a.blocks(), b)
    } else {
        let lead = b.len() / (16 * POWERS) * (16 * POWERS);
        let mut acc = _mm_setzero_si128();
        a.each(|p| acc = hash(powers, acc, p));
        (hash(powers, acc, &b[..lead]), 0, &b[lead..])
    };
    let (nb, rem) = (b.len() / 16, b.len() % 16);
    let data = na + nb + usize::from(rem > 0);
    let tail = if rem > 0 {
        load_tail(&b[16 * nb..])
    } else {
        _mm_setzero_si128()
    };
    if data < SHORT_BLOCKS && total <= FUSED_MAX {
        // One group and no accumulator (Samba's short messages): the parts'
        // blocks in order, with no per-block walk of the parts.
        let n = data + 1;
        let h = powers.h.as_ptr().add(MAX_POWERS - n);
        let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - n);
        let mut s = Kara::zero();
        let mut at = 0;
        let mut add = |x: __m128i| {
            s.mul_at(_mm_shuffle_epi8(x, bswap), h.add(at), hk.add(at));
            at += 1;
        };
        a.each(|p| {
            for blk in p.chunks_exact(16) {
                add(_mm_loadu_si128(blk.as_ptr().cast()));
            }
        });
        for blk in b[..16 * nb].chunks_exact(16) {
            add(_mm_loadu_si128(blk.as_ptr().cast()));
        }
        if rem > 0 {
            add(tail);
        }
        let acc = reduce(s.terms(len_terms(total, powers)));
        return tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap), mask));
    }
    // Data block `j` of `a || b`, byte-reversed.
    let block = |j: usize| {
        let x = if j < na {
            _mm_loadu_si128(a.block(j).cast())
        } else if j < na + nb {
            _mm_loadu_si128(b.as_ptr().add(16 * (j - na)).cast())
        } else {
            tail
        };
        _mm_shuffle_epi8(x, bswap)
    };
    // `n` blocks from `j` times H^top..H^(top - n + 1), the accumulator
    // joining the first, whose product is added last (off the chain of the
    // other products).
    let group = |acc: __m128i, j: usize, n: usize, top: usize, s: &mut Kara| {
        let h = powers.h.as_ptr().add(MAX_POWERS - top);
        let hk = powers.karatsuba.as_ptr().add(MAX_POWERS - top);
        for i in 1..n {
            s.mul_at(block(j + i), h.add(i), hk.add(i));
        }
        s.mul_at(_mm_xor_si128(block(j), acc), h, hk);
    };
    let mut acc = acc0;
    let mut j = 0;
    while data - j >= SHORT_BLOCKS {
        let mut g = Kara::zero();
        group(acc, j, SHORT_BLOCKS, SHORT_BLOCKS, &mut g);
        acc = reduce(g.terms([_mm_setzero_si128(); 3]));
        j += SHORT_BLOCKS;
    }
    // The rest (at most SHORT_BLOCKS - 1 blocks, H^n..H^2) and the length
    // block (H^1), one reduction; with no rest the accumulator joins the
    // length block.
    let n = data - j + 1;
    let mut s = Kara::zero();
    let len = if n == 1 {
        let (h1, hk1) = (powers.h.as_ptr(), powers.karatsuba.as_ptr());
        let x = _mm_xor_si128(length_block(total), acc);
        s.mul_at(x, h1.add(MAX_POWERS - 1), hk1.add(MAX_POWERS - 1));
        [_mm_setzero_si128(); 3]
    } else {
        group(acc, j, n - 1, n, &mut s);
        len_terms(total, powers)
    };
    let acc = reduce(s.terms(len));
    tag_bits(_mm_xor_si128(_mm_shuffle_epi8(acc, bswap), mask))
}

/// A tag register as the `u128` of its bytes (little-endian), which a
/// function returns in two general registers rather than through memory.
#[inline]
#[target_feature(enable = "sse2")]
pub(super) fn tag_bits(tag: __m128i) -> u128 {
    // SAFETY: both types are 16 bytes of plain data, every bit pattern valid.
    unsafe { core::mem::transmute::<__m128i, u128>(tag) }
}

/// AES-128-GMAC of `a || b` (`a` whole blocks: empty, an SMB header, or
/// Samba's header and zeroed signature as [`Parts`]; any length; the tag's
/// bytes as a little-endian `u128`) in one pass: the tag-mask AES overlapped
/// with aggregated GHASH read straight from the parts, no buffering. Serves
/// the short SMB messages (headers, small requests and responses) that
/// dominate traffic, and on the xmm tier every length.
#[inline]
pub(crate) fn gmac_fused(
    _: (AesNi, Pclmul),
    rk: &RoundKeys,
    powers: &HPowers,
    nonce: &[u8; 12],
    a: impl Head,
    b: &[u8],
) -> u128 {
    assert!(a.whole());
    if a.blocks() == 0 && b.len() <= SHORT_MAX {
        // SAFETY: as below; the length is checked.
        return unsafe { gmac_short_impl(rk, powers, nonce, b) };
    }
    // SAFETY: the tokens prove AES-NI, PCLMULQDQ, SSE2 and SSSE3; `a` is whole
    // blocks (checked above), so every load stays within a part of `a` or
    // within `b` (the partial last block is read by load_tail); every x86
    // tier's key holds at least POWERS powers.
    unsafe { gmac_fused_impl(rk, powers, nonce, a, b) }
}
