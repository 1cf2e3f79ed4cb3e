//! Portable constant-time AES-128 and AES-256 encryption.
//!
//! No table lookups and no branches on data: SubBytes is computed on bit planes
//! (the 16 state bytes transposed into 8 words, bit `i` of every byte in word `i`)
//! as the GF(2^8) inverse `x^254` (4 multiplications, 7 squarings) followed by the
//! affine map. Slow next to AES-NI, but it is the reference every other tier is
//! tested against and the path taken on CPUs without AES instructions.

use crate::backend::layout::RoundKeys;

/// Bit planes of up to 16 bytes: plane `i` holds bit `i` of byte `j` at bit `j`.
type Planes = [u16; 8];

/// Transposes an 8x8 bit matrix held in a u64 (byte `r`, bit `c`) -> (byte `c`, bit `r`).
/// Three delta swaps (Hacker's Delight, 7-3); an involution.
#[inline(always)]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^= t ^ (t << 28);
    x
}

#[inline(always)]
fn to_planes(b: &[u8; 16]) -> Planes {
    let lo = transpose8(u64::from_le_bytes(b[..8].try_into().unwrap())).to_le_bytes();
    let hi = transpose8(u64::from_le_bytes(b[8..].try_into().unwrap())).to_le_bytes();
    core::array::from_fn(|i| u16::from(lo[i]) | (u16::from(hi[i]) << 8))
}

#[inline(always)]
fn from_planes(p: &Planes) -> [u8; 16] {
    let lo: [u8; 8] = core::array::from_fn(|i| p[i] as u8);
    let hi: [u8; 8] = core::array::from_fn(|i| (p[i] >> 8) as u8);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&transpose8(u64::from_le_bytes(lo)).to_le_bytes());
    out[8..].copy_from_slice(&transpose8(u64::from_le_bytes(hi)).to_le_bytes());
    out
}

/// `x^(2i) mod (x^8 + x^4 + x^3 + x + 1)`: squaring in GF(2^8) is linear.
const SQUARE_IMAGES: [u8; 8] = {
    let mut img = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        // x^(2i) by repeated doubling of 1, reducing with 0x1b.
        let mut v: u8 = 1;
        let mut k = 0;
        while k < 2 * i {
            v = (v << 1) ^ (if v & 0x80 != 0 { 0x1b } else { 0 });
            k += 1;
        }
        img[i] = v;
        i += 1;
    }
    img
};

/// Bitsliced GF(2^8) multiplication (schoolbook, then reduction by x^8 = x^4+x^3+x+1).
#[inline(always)]
fn gf_mul(a: &Planes, b: &Planes) -> Planes {
    let mut p = [0u16; 15];
    for i in 0..8 {
        for j in 0..8 {
            p[i + j] ^= a[i] & b[j];
        }
    }
    for k in (8..15).rev() {
        let t = p[k];
        p[k - 4] ^= t;
        p[k - 5] ^= t;
        p[k - 7] ^= t;
        p[k - 8] ^= t;
    }
    core::array::from_fn(|i| p[i])
}

/// Bitsliced GF(2^8) squaring: a fixed linear map (the loop bounds are public constants).
#[inline(always)]
fn gf_square(a: &Planes) -> Planes {
    let mut out = [0u16; 8];
    for (i, &img) in SQUARE_IMAGES.iter().enumerate() {
        for (k, o) in out.iter_mut().enumerate() {
            if (img >> k) & 1 == 1 {
                *o ^= a[i];
            }
        }
    }
    out
}

/// The AES S-box on every lane: affine(x^254).
#[inline(always)]
fn sub_planes(x: &Planes) -> Planes {
    let x2 = gf_square(x);
    let x3 = gf_mul(&x2, x);
    let x6 = gf_square(&x3);
    let x12 = gf_square(&x6);
    let x15 = gf_mul(&x12, &x3);
    let x30 = gf_square(&x15);
    let x60 = gf_square(&x30);
    let x120 = gf_square(&x60);
    let x240 = gf_square(&x120);
    let x252 = gf_mul(&x240, &x12);
    let inv = gf_mul(&x252, &x2);
    // b'_i = b_i ^ b_(i+4) ^ b_(i+5) ^ b_(i+6) ^ b_(i+7) ^ c_i, c = 0x63.
    core::array::from_fn(|i| {
        let c = if (0x63u8 >> i) & 1 == 1 { u16::MAX } else { 0 };
        inv[i] ^ inv[(i + 4) % 8] ^ inv[(i + 5) % 8] ^ inv[(i + 6) % 8] ^ inv[(i + 7) % 8] ^ c
    })
}

/// SubBytes on 16 bytes.
#[inline(always)]
fn sub_bytes(s: &[u8; 16]) -> [u8; 16] {
    from_planes(&sub_planes(&to_planes(s)))
}

#[inline(always)]
fn xtime(x: u8) -> u8 {
    // Multiply by x in GF(2^8); the reduction is masked, not branched.
    (x << 1) ^ (0u8.wrapping_sub(x >> 7) & 0x1b)
}

#[inline(always)]
fn shift_rows(s: &[u8; 16]) -> [u8; 16] {
    // Column-major state: byte r + 4c; row r rotates left by r.
    core::array::from_fn(|i| {
        let (r, c) = (i % 4, i / 4);
        s[r + 4 * ((c + r) % 4)]
    })
}

#[inline(always)]
fn mix_columns(s: &mut [u8; 16]) {
    for col in s.chunks_exact_mut(4) {
        let (a0, a1, a2, a3) = (col[0], col[1], col[2], col[3]);
        let all = a0 ^ a1 ^ a2 ^ a3;
        col[0] = a0 ^ all ^ xtime(a0 ^ a1);
        col[1] = a1 ^ all ^ xtime(a1 ^ a2);
        col[2] = a2 ^ all ^ xtime(a2 ^ a3);
        col[3] = a3 ^ all ^ xtime(a3 ^ a0);
    }
}

#[inline(always)]
fn xor_into(s: &mut [u8; 16], k: &[u8; 16]) {
    for (a, b) in s.iter_mut().zip(k) {
        *a ^= b;
    }
}

/// FIPS 197 key expansion for AES-128.
pub(crate) fn expand_key(key: &[u8; 16]) -> RoundKeys {
    let mut rk = [[0u8; 16]; 11];
    rk[0] = *key;
    let mut rcon = 1u8;
    for r in 1..11 {
        let prev = rk[r - 1];
        // SubWord(RotWord(w3)) through the bitsliced S-box.
        let mut t = [0u8; 16];
        t[..4].copy_from_slice(&[prev[13], prev[14], prev[15], prev[12]]);
        let t = sub_bytes(&t);
        let mut w = [t[0] ^ rcon, t[1], t[2], t[3]];
        for c in 0..4 {
            for (i, wi) in w.iter_mut().enumerate() {
                *wi ^= prev[4 * c + i];
                rk[r][4 * c + i] = *wi;
            }
        }
        rcon = xtime(rcon);
    }
    rk
}

/// FIPS 197 key expansion for AES-256: 15 round keys.
pub(crate) fn expand_key_256(key: &[u8; 32]) -> [[u8; 16]; 15] {
    let mut w = [[0u8; 4]; 60];
    for (i, wi) in w.iter_mut().take(8).enumerate() {
        wi.copy_from_slice(&key[4 * i..4 * i + 4]);
    }
    let mut rcon = 1u8;
    // The branches are on the word index, public; SubWord is the bitsliced S-box.
    for i in 8..60 {
        let mut t = w[i - 1];
        if i % 4 == 0 {
            let rot = if i % 8 == 0 { 1 } else { 0 };
            let mut b = [0u8; 16];
            for (j, bj) in b.iter_mut().take(4).enumerate() {
                *bj = t[(j + rot) % 4];
            }
            let s = sub_bytes(&b);
            t.copy_from_slice(&s[..4]);
            if i % 8 == 0 {
                t[0] ^= rcon;
                rcon = xtime(rcon);
            }
        }
        for (j, tj) in t.iter_mut().enumerate() {
            *tj ^= w[i - 8][j];
        }
        w[i] = t;
    }
    let rk = core::array::from_fn(|r| core::array::from_fn(|b| w[4 * r + b / 4][b % 4]));
    crate::wipe::wipe(&mut w);
    rk
}

/// Encrypts one block in place.
pub(crate) fn encrypt_block(rk: &RoundKeys, block: &mut [u8; 16]) {
    encrypt_block_rounds(rk, block);
}

/// Encrypts one block in place with `rk.len() - 1` rounds (11 keys: AES-128,
/// 15: AES-256).
pub(crate) fn encrypt_block_rounds(rk: &[[u8; 16]], block: &mut [u8; 16]) {
    let last = rk.len() - 1;
    xor_into(block, &rk[0]);
    for k in &rk[1..last] {
        let mut s = shift_rows(&sub_bytes(block));
        mix_columns(&mut s);
        xor_into(&mut s, k);
        *block = s;
    }
    let mut s = shift_rows(&sub_bytes(block));
    xor_into(&mut s, &rk[last]);
    *block = s;
}

/// CMAC chaining: `state = E(state ^ block)` for each 16-byte block.
pub(crate) fn cbc_mac_blocks(rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 16, 0);
    for b in blocks.chunks_exact(16) {
        xor_into(state, b.try_into().unwrap());
        encrypt_block(rk, state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbox_matches_fips197_samples() {
        let mut input = [0u8; 16];
        for (i, b) in input.iter_mut().enumerate() {
            *b = [0x00, 0x01, 0x53, 0xff, 0x10, 0x20, 0xc9, 0x7c][i % 8];
        }
        let out = sub_bytes(&input);
        let want = [0x63, 0x7c, 0xed, 0x16, 0xca, 0xb7, 0xdd, 0x10];
        for (i, o) in out.iter().enumerate() {
            assert_eq!(*o, want[i % 8], "byte {i}");
        }
    }

    #[test]
    fn fips197_appendix_c3() {
        // FIPS 197 C.3: AES-256, key 00..1f, plaintext 00112233..ff.
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let mut block: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
        let rk = expand_key_256(&key);
        encrypt_block_rounds(&rk, &mut block);
        assert_eq!(
            block,
            [
                0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49,
                0x60, 0x89
            ]
        );
    }

    #[test]
    fn fips197_appendix_a3() {
        let key = [
            0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d,
            0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3,
            0x09, 0x14, 0xdf, 0xf4,
        ];
        let rk = expand_key_256(&key);
        // w[8] and the last expanded word w[59].
        assert_eq!(rk[2][..4], [0x9b, 0xa3, 0x54, 0x11]);
        assert_eq!(rk[14][12..], [0x70, 0x6c, 0x63, 0x1e]);
    }

    #[test]
    fn fips197_appendix_b() {
        let key = [
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
            0x4f, 0x3c,
        ];
        let mut block = [
            0x32, 0x43, 0xf6, 0xa8, 0x88, 0x5a, 0x30, 0x8d, 0x31, 0x31, 0x98, 0xa2, 0xe0, 0x37,
            0x07, 0x34,
        ];
        let rk = expand_key(&key);
        assert_eq!(rk[10][..4], [0xd0, 0x14, 0xf9, 0xa8]);
        encrypt_block(&rk, &mut block);
        assert_eq!(
            block,
            [
                0x39, 0x25, 0x84, 0x1d, 0x02, 0xdc, 0x09, 0xfb, 0xdc, 0x11, 0x85, 0x97, 0x19, 0x6a,
                0x0b, 0x32
            ]
        );
    }
}
