//! Portable constant-time POLYVAL field arithmetic (GHASH runs in this domain).
//!
//! Carry-less 64x64 multiplication by integer multiplication with holes (every
//! fourth bit kept, so carries never reach a kept bit; BearSSL's `ghash_ctmul64`
//! technique), Karatsuba for 128x128, and Montgomery reduction by x^128 modulo
//! x^128 + x^127 + x^126 + x^121 + 1. Integer multiplication is constant-time on
//! the CPUs this fallback targets; nothing here branches on or indexes by data.

/// Low 64 bits of the carry-less product of `x` and `y`.
#[inline(always)]
fn bmul64(x: u64, y: u64) -> u64 {
    const M0: u64 = 0x1111_1111_1111_1111;
    const M1: u64 = 0x2222_2222_2222_2222;
    const M2: u64 = 0x4444_4444_4444_4444;
    const M3: u64 = 0x8888_8888_8888_8888;
    let (x0, x1, x2, x3) = (x & M0, x & M1, x & M2, x & M3);
    let (y0, y1, y2, y3) = (y & M0, y & M1, y & M2, y & M3);
    let m = |a: u64, b: u64| a.wrapping_mul(b);
    let z0 = m(x0, y0) ^ m(x1, y3) ^ m(x2, y2) ^ m(x3, y1);
    let z1 = m(x0, y1) ^ m(x1, y0) ^ m(x2, y3) ^ m(x3, y2);
    let z2 = m(x0, y2) ^ m(x1, y1) ^ m(x2, y0) ^ m(x3, y3);
    let z3 = m(x0, y3) ^ m(x1, y2) ^ m(x2, y1) ^ m(x3, y0);
    (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3)
}

/// Full 128-bit carry-less product of two 64-bit values, as (low, high).
#[inline(always)]
fn clmul64(x: u64, y: u64) -> (u64, u64) {
    let lo = bmul64(x, y);
    // The high half is the reversed low half of the reversed operands, shifted by one.
    let hi = bmul64(x.reverse_bits(), y.reverse_bits()).reverse_bits() >> 1;
    (lo, hi)
}

/// POLYVAL's dot product: `a * b * x^-128` in GF(2^128).
#[inline(always)]
pub(crate) fn mul(a: u128, b: u128) -> u128 {
    let (a0, a1) = (a as u64, (a >> 64) as u64);
    let (b0, b1) = (b as u64, (b >> 64) as u64);
    // Karatsuba: three 64x64 products.
    let (l0, l1) = clmul64(a0, b0);
    let (h0, h1) = clmul64(a1, b1);
    let (m0, m1) = clmul64(a0 ^ a1, b0 ^ b1);
    let (m0, m1) = (m0 ^ l0 ^ h0, m1 ^ l1 ^ h1);
    // 256-bit product v3:v2:v1:v0.
    let v0 = l0;
    let mut v1 = l1 ^ m0;
    let mut v2 = h0 ^ m1;
    let mut v3 = h1;
    // Montgomery reduction: fold v0 then v1 by multiplying with the low part of
    // the modulus (x^127 + x^126 + x^121 + 1 spread across the shifts below).
    v2 ^= v0 ^ (v0 >> 1) ^ (v0 >> 2) ^ (v0 >> 7);
    v1 ^= (v0 << 63) ^ (v0 << 62) ^ (v0 << 57);
    v3 ^= v1 ^ (v1 >> 1) ^ (v1 >> 2) ^ (v1 >> 7);
    v2 ^= (v1 << 63) ^ (v1 << 62) ^ (v1 << 57);
    u128::from(v2) | (u128::from(v3) << 64)
}

/// Absorbs whole 16-byte GHASH blocks: `acc = (acc ^ X) * H` per block, where
/// blocks are read big-endian (GHASH's bit order mapped onto POLYVAL's).
pub(crate) fn ghash_blocks(h: u128, acc: &mut u128, blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 16, 0);
    for b in blocks.chunks_exact(16) {
        *acc = mul(*acc ^ u128::from_be_bytes(b.try_into().unwrap()), h);
    }
}
