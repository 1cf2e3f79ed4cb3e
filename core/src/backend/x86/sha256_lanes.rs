//! SHA-256 lanes on vector registers: one message per 32-bit lane, sixteen
//! in zmm registers (AVX-512F: `vprord` rotates, `vpternlogd` for Ch, Maj and
//! three-way XORs) or eight in ymm registers (AVX2: shift pairs), as
//! intel-ipsec-mb does.
//!
//! The state is transposed (register `a` holds every lane's `a`), so each of
//! the 64 rounds is one pass of plain vector arithmetic across all lanes.
//! Each lane has its own data pointer: a block step loads every lane's 64
//! bytes as rows and transposes them into the sixteen message-word registers
//! (unpacks and 128-bit lane shuffles; cheaper than gathers), and the message
//! schedule stays in those sixteen registers.
//!
//! Both widths share one round body (the `kernel_body!` macro); each module supplies
//! the vector operations for its width.

use crate::backend::portable::sha256::K;

/// The compression loop over `m` blocks, written once for both widths. The
/// invoking module defines `V`, `N`, `add`, `ror`, `shr`, `xor3`, `ch`,
/// `maj`, `splat`, `load_state`, `store_state` and `load_block`.
macro_rules! kernel_body {
    ($state:ident, $p:ident, $m:ident) => {{
        let mut s: [V; 8] = load_state($state);
        let big_sigma0 = |x: V| xor3(ror::<2>(x), ror::<13>(x), ror::<22>(x));
        let big_sigma1 = |x: V| xor3(ror::<6>(x), ror::<11>(x), ror::<25>(x));
        let sigma0 = |x: V| xor3(ror::<7>(x), ror::<18>(x), shr::<3>(x));
        let sigma1 = |x: V| xor3(ror::<17>(x), ror::<19>(x), shr::<10>(x));
        for j in 0..$m {
            let mut w: [V; 16] = load_block($p, 64 * j);
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = s;
            // One round with the working variables renamed, not moved: the
            // caller rotates the names (`d` and `h` are the ones written).
            macro_rules! round {
                ($t:expr, $i:expr, $a:ident, $b:ident, $c:ident, $d:ident,
                 $e:ident, $f:ident, $g:ident, $h:ident) => {
                    if $t >= 16 {
                        w[$i] = add(
                            add(sigma1(w[($i + 14) & 15]), w[($i + 9) & 15]),
                            add(sigma0(w[($i + 1) & 15]), w[$i]),
                        );
                    }
                    let t1 = add(
                        add($h, big_sigma1($e)),
                        add(ch($e, $f, $g), add(splat(K[$t + $i]), w[$i])),
                    );
                    let t2 = add(big_sigma0($a), maj($a, $b, $c));
                    $d = add($d, t1);
                    $h = add(t1, t2);
                };
            }
            macro_rules! rounds16 {
                ($t:expr) => {
                    round!($t, 0, a, b, c, d, e, f, g, h);
                    round!($t, 1, h, a, b, c, d, e, f, g);
                    round!($t, 2, g, h, a, b, c, d, e, f);
                    round!($t, 3, f, g, h, a, b, c, d, e);
                    round!($t, 4, e, f, g, h, a, b, c, d);
                    round!($t, 5, d, e, f, g, h, a, b, c);
                    round!($t, 6, c, d, e, f, g, h, a, b);
                    round!($t, 7, b, c, d, e, f, g, h, a);
                    round!($t, 8, a, b, c, d, e, f, g, h);
                    round!($t, 9, h, a, b, c, d, e, f, g);
                    round!($t, 10, g, h, a, b, c, d, e, f);
                    round!($t, 11, f, g, h, a, b, c, d, e);
                    round!($t, 12, e, f, g, h, a, b, c, d);
                    round!($t, 13, d, e, f, g, h, a, b, c);
                    round!($t, 14, c, d, e, f, g, h, a, b);
                    round!($t, 15, b, c, d, e, f, g, h, a);
                };
            }
            // Fully unrolled: constant round-constant indices, no loop phis.
            rounds16!(0);
            rounds16!(16);
            rounds16!(32);
            rounds16!(48);
            for (x, y) in s.iter_mut().zip([a, b, c, d, e, f, g, h]) {
                *x = add(*x, y);
            }
        }
        store_state($state, &s);
    }};
}

/// Moves lane states between `[[u32; 8]; N]` (one row per lane) and the
/// transposed layout the kernels keep in registers, through a stack buffer
/// that is wiped afterwards (chaining values are key-dependent).
macro_rules! state_transpose {
    ($n:expr, $load:path, $store:path) => {
        /// # Safety
        /// The CPU must support the module's target features.
        #[inline]
        #[target_feature(enable = "avx2,avx")]
        unsafe fn load_state(state: &[[u32; 8]; $n]) -> [V; 8] {
            let mut cols = [[0u32; $n]; 8];
            for (l, row) in state.iter().enumerate() {
                for (w, &x) in row.iter().enumerate() {
                    cols[w][l] = x;
                }
            }
            let s = core::array::from_fn(|w| $load(cols[w].as_ptr().cast()));
            crate::wipe::wipe(cols.as_flattened_mut());
            s
        }

        /// # Safety
        /// The CPU must support the module's target features.
        #[inline]
        #[target_feature(enable = "avx2,avx")]
        unsafe fn store_state(state: &mut [[u32; 8]; $n], s: &[V; 8]) {
            let mut cols = [[0u32; $n]; 8];
            for (w, v) in s.iter().enumerate() {
                $store(cols[w].as_mut_ptr().cast(), *v);
            }
            for (l, row) in state.iter_mut().enumerate() {
                for (w, x) in row.iter_mut().enumerate() {
                    *x = cols[w][l];
                }
            }
            crate::wipe::wipe(cols.as_flattened_mut());
        }
    };
}

/// Sixteen lanes in zmm registers (AVX-512F/BW).
pub(crate) mod zmm {
    use core::arch::x86_64::*;

    use super::K;
    use crate::backend::x86::Avx512;

    /// Lanes per kernel call.
    pub(crate) const LANES: usize = 16;

    const N: usize = LANES;
    type V = __m512i;

    /// Source element (0..16 the first register, 16..32 the second) of
    /// output position `p` of the `vpermt2d` stage `stage`, for its outputs
    /// of kind `h` (0 or 1).
    ///
    /// The sixteen lanes' states (rows: register `i` holds lanes 2i and
    /// 2i + 1, eight words each) become eight word registers (word `w` of
    /// every lane) in three stages of eight two-register permutes (0-2),
    /// each halving the lanes a register holds words of; stages 3-5 undo
    /// them. Layouts: rows `8e + w`; after stage 0 (lane group of 4, word
    /// half `h`) `4j + x` for word `4h + x`; after stage 1 (lane group of 8,
    /// word pair `q` of half `h`) `2j + y` for word `4h + 2q + y`; words:
    /// lane `L`.
    const fn source(stage: usize, h: usize, p: usize) -> usize {
        match stage {
            0 => (p / 4 >= 2) as usize * 16 + 8 * ((p / 4) & 1) + 4 * h + p % 4,
            1 => (p / 2 >= 4) as usize * 16 + 4 * ((p / 2) & 3) + 2 * h + p % 2,
            2 => (p >= 8) as usize * 16 + 2 * (p & 7) + h,
            3 => (p % 2) * 16 + 8 * h + p / 2,
            4 => (p % 4 / 2) * 16 + 2 * (4 * h + p / 4) + p % 2,
            _ => (p % 8 / 4) * 16 + 4 * (2 * h + p / 8) + p % 4,
        }
    }

    /// The index vectors of stage `stage` (see [`source`]), per kind.
    const fn stage(stage: usize) -> [[u32; 16]; 2] {
        let mut idx = [[0u32; 16]; 2];
        let mut h = 0;
        while h < 2 {
            let mut p = 0;
            while p < 16 {
                idx[h][p] = source(stage, h, p) as u32;
                p += 1;
            }
            h += 1;
        }
        idx
    }

    static LOAD1: [[u32; 16]; 2] = stage(0);
    static LOAD2: [[u32; 16]; 2] = stage(1);
    static LOAD3: [[u32; 16]; 2] = stage(2);
    static STORE3: [[u32; 16]; 2] = stage(3);
    static STORE2: [[u32; 16]; 2] = stage(4);
    static STORE1: [[u32; 16]; 2] = stage(5);

    /// `out[2k + h] = permute(x[2k], IDX[h], x[2k + 1])`, when `pairs` lists
    /// the input pairs as (first, second) register indices.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn permute_stage(x: &[V; 8], idx: &[[u32; 16]; 2], pairs: [(usize, usize); 4]) -> [V; 8] {
        // SAFETY: `idx` rows are 64 bytes, read unaligned.
        let i = idx.map(|r| unsafe { _mm512_loadu_si512(r.as_ptr().cast()) });
        core::array::from_fn(|o| {
            let (a, b) = pairs[o / 2];
            _mm512_permutex2var_epi32(x[a], i[o % 2], x[b])
        })
    }

    /// The lanes' states as word registers (`s[w]` holds word `w` of every lane).
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load_state(state: &[[u32; 8]; N]) -> [V; 8] {
        let p: *const V = state.as_ptr().cast();
        let rows: [V; 8] = core::array::from_fn(|i| _mm512_loadu_si512(p.add(i).cast()));
        // Stage 1: rows 2k, 2k + 1 (lanes 4k..4k + 4) -> words 0..4, 4..8.
        let s1 = permute_stage(&rows, &LOAD1, [(0, 1), (2, 3), (4, 5), (6, 7)]);
        // Stage 2: lane groups 2m, 2m + 1 of one half (s1[4m + h], s1[4m + 2 + h]).
        let s2 = permute_stage(&s1, &LOAD2, [(0, 2), (1, 3), (4, 6), (5, 7)]);
        // s2[4m + 2h + q]: lanes 8m..8m + 8, words 4h + 2q, + 1.
        // Stage 3: lanes 0..8 with 8..16 of one word pair -> words 4h + 2q + y.
        let s3 = permute_stage(&s2, &LOAD3, [(0, 4), (1, 5), (2, 6), (3, 7)]);
        // s3[2 * (2h + q) + y] = word 4h + 2q + y.
        s3
    }

    /// Stores word registers back as the lanes' states (the inverse of [`load_state`]).
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store_state(state: &mut [[u32; 8]; N], s: &[V; 8]) {
        // Stage 3 inverse: words 4h + 2q, + 1 -> lanes 8m..8m + 8 (m = 0, 1).
        let u = permute_stage(s, &STORE3, [(0, 1), (2, 3), (4, 5), (6, 7)]);
        // u[2 * (2h + q) + m]; back to the load's s2[4m + 2h + q] order.
        let u = [u[0], u[2], u[4], u[6], u[1], u[3], u[5], u[7]];
        // Stage 2 inverse: word pairs q = 0, 1 of half h -> lane groups 2m + t.
        let v = permute_stage(&u, &STORE2, [(0, 1), (2, 3), (4, 5), (6, 7)]);
        // v[2 * (2m + h) + t] = lane group 2m + t, half h; rows want group k's halves paired.
        let v = [v[0], v[2], v[1], v[3], v[4], v[6], v[5], v[7]];
        // Stage 1 inverse: halves 0, 1 of lane group k -> rows 2k + u.
        let rows = permute_stage(&v, &STORE1, [(0, 1), (2, 3), (4, 5), (6, 7)]);
        let p: *mut V = state.as_mut_ptr().cast();
        for (i, r) in rows.iter().enumerate() {
            _mm512_storeu_si512(p.add(i).cast(), *r);
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add(x: V, y: V) -> V {
        _mm512_add_epi32(x, y)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn ror<const R: i32>(x: V) -> V {
        _mm512_ror_epi32::<R>(x)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn shr<const R: u32>(x: V) -> V {
        _mm512_srli_epi32::<R>(x)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn xor3(x: V, y: V, z: V) -> V {
        _mm512_ternarylogic_epi32::<0x96>(x, y, z)
    }
    /// `e ? f : g`, bitwise.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn ch(e: V, f: V, g: V) -> V {
        _mm512_ternarylogic_epi32::<0xCA>(e, f, g)
    }
    /// Bitwise majority.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn maj(a: V, b: V, c: V) -> V {
        _mm512_ternarylogic_epi32::<0xE8>(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn splat(k: u32) -> V {
        _mm512_set1_epi32(k as i32)
    }

    /// The sixteen big-endian message words of each lane's block at `off`,
    /// word-major: `w[t]` holds word `t` of every lane.
    ///
    /// # Safety
    /// The CPU must support AVX-512F/BW; every `p[l]` must be readable for
    /// `off + 64` bytes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn load_block(p: &[*const u8; N], off: usize) -> [V; 16] {
        let bswap =
            _mm512_broadcast_i32x4(_mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203));
        // Rows: lane l's words 0..16.
        let r: [V; 16] = core::array::from_fn(|l| {
            _mm512_shuffle_epi8(_mm512_loadu_si512(p[l].add(off).cast()), bswap)
        });
        // Within each 128-bit chunk c, v[g][s] ends holding word 4c + s of
        // lanes 4g..4g + 4.
        let t: [V; 16] = core::array::from_fn(|i| {
            let (x, y) = (r[i & !1], r[i | 1]);
            if i & 1 == 0 {
                _mm512_unpacklo_epi32(x, y)
            } else {
                _mm512_unpackhi_epi32(x, y)
            }
        });
        let v: [[V; 4]; 4] = core::array::from_fn(|g| {
            let (t0, t1, t2, t3) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            [
                _mm512_unpacklo_epi64(t0, t2),
                _mm512_unpackhi_epi64(t0, t2),
                _mm512_unpacklo_epi64(t1, t3),
                _mm512_unpackhi_epi64(t1, t3),
            ]
        });
        // Gather chunk c of the four groups: word 4c + s of all sixteen lanes.
        let mut w = [_mm512_setzero_si512(); 16];
        for s in 0..4 {
            let x0 = _mm512_shuffle_i32x4::<0x44>(v[0][s], v[1][s]);
            let x1 = _mm512_shuffle_i32x4::<0xEE>(v[0][s], v[1][s]);
            let y0 = _mm512_shuffle_i32x4::<0x44>(v[2][s], v[3][s]);
            let y1 = _mm512_shuffle_i32x4::<0xEE>(v[2][s], v[3][s]);
            w[s] = _mm512_shuffle_i32x4::<0x88>(x0, y0);
            w[4 + s] = _mm512_shuffle_i32x4::<0xDD>(x0, y0);
            w[8 + s] = _mm512_shuffle_i32x4::<0x88>(x1, y1);
            w[12 + s] = _mm512_shuffle_i32x4::<0xDD>(x1, y1);
        }
        w
    }

    /// # Safety
    /// The CPU must support AVX-512F/BW and AVX2; every `p[l]` must be
    /// readable for `64 * m` bytes.
    #[target_feature(enable = "avx512f,avx512bw,avx2,avx")]
    unsafe fn compress_lanes_zmm(state: &mut [[u32; 8]; N], p: &[*const u8; N], m: usize) {
        kernel_body!(state, p, m)
    }

    /// Compresses the next `m` 64-byte blocks of each lane's data into its
    /// state, advancing the data past them.
    #[inline]
    pub(crate) fn compress_lanes(
        _: Avx512,
        state: &mut [[u32; 8]; N],
        data: &mut [&[u8]; N],
        m: usize,
    ) {
        let p = crate::backend::layout::lane_ptrs(data, 64 * m);
        // SAFETY: the Avx512 token proves AVX-512F/BW and AVX2; lane_ptrs
        // checked each lane's length, so every 64-byte row load stays within
        // its slice.
        unsafe { compress_lanes_zmm(state, &p, m) }
        crate::backend::layout::advance_lanes(data, 64 * m);
    }
}

/// Eight lanes in ymm registers (AVX2): the kernel for CPUs without SHA-NI.
pub(crate) mod ymm {
    use core::arch::x86_64::*;

    use super::K;
    use crate::backend::x86::Avx2;

    /// Lanes per kernel call.
    pub(crate) const LANES: usize = 8;
    const N: usize = LANES;
    type V = __m256i;

    state_transpose!(N, _mm256_loadu_si256, _mm256_storeu_si256);

    #[inline]
    #[target_feature(enable = "avx2")]
    fn add(x: V, y: V) -> V {
        _mm256_add_epi32(x, y)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn ror<const R: i32>(x: V) -> V {
        // `32 - R` as a const argument would need generic_const_exprs; the
        // shift by a constant count register folds to an immediate shift.
        let left = _mm_cvtsi32_si128(32 - R);
        _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_sll_epi32(x, left))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn shr<const R: i32>(x: V) -> V {
        _mm256_srli_epi32::<R>(x)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn xor3(x: V, y: V, z: V) -> V {
        _mm256_xor_si256(_mm256_xor_si256(x, y), z)
    }
    /// `e ? f : g`, bitwise.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn ch(e: V, f: V, g: V) -> V {
        _mm256_xor_si256(_mm256_and_si256(e, _mm256_xor_si256(f, g)), g)
    }
    /// Bitwise majority.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn maj(a: V, b: V, c: V) -> V {
        _mm256_or_si256(
            _mm256_and_si256(a, b),
            _mm256_and_si256(c, _mm256_or_si256(a, b)),
        )
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn splat(k: u32) -> V {
        _mm256_set1_epi32(k as i32)
    }

    /// The sixteen big-endian message words of each lane's block at `off`,
    /// word-major: `w[t]` holds word `t` of every lane.
    ///
    /// # Safety
    /// The CPU must support AVX2; every `p[l]` must be readable for
    /// `off + 64` bytes.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load_block(p: &[*const u8; N], off: usize) -> [V; 16] {
        let bswap = _mm256_broadcastsi128_si256(_mm_set_epi64x(
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
        ));
        let mut w = [_mm256_setzero_si256(); 16];
        // Two 8x8 transposes: words 0..8, then 8..16.
        for half in 0..2 {
            let r: [V; 8] = core::array::from_fn(|l| {
                _mm256_shuffle_epi8(_mm256_loadu_si256(p[l].add(off + 32 * half).cast()), bswap)
            });
            let t: [V; 8] = core::array::from_fn(|i| {
                let (x, y) = (r[i & !1], r[i | 1]);
                if i & 1 == 0 {
                    _mm256_unpacklo_epi32(x, y)
                } else {
                    _mm256_unpackhi_epi32(x, y)
                }
            });
            // v[g][s]: chunk c holds word 4c + s of lanes 4g..4g + 4.
            let v: [[V; 4]; 2] = core::array::from_fn(|g| {
                let (t0, t1, t2, t3) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
                [
                    _mm256_unpacklo_epi64(t0, t2),
                    _mm256_unpackhi_epi64(t0, t2),
                    _mm256_unpacklo_epi64(t1, t3),
                    _mm256_unpackhi_epi64(t1, t3),
                ]
            });
            for s in 0..4 {
                w[8 * half + s] = _mm256_permute2x128_si256::<0x20>(v[0][s], v[1][s]);
                w[8 * half + 4 + s] = _mm256_permute2x128_si256::<0x31>(v[0][s], v[1][s]);
            }
        }
        w
    }

    /// # Safety
    /// The CPU must support AVX2; every `p[l]` must be readable for `64 * m` bytes.
    #[target_feature(enable = "avx2,avx")]
    unsafe fn compress_lanes_ymm(state: &mut [[u32; 8]; N], p: &[*const u8; N], m: usize) {
        kernel_body!(state, p, m)
    }

    /// Compresses the next `m` 64-byte blocks of each lane's data into its
    /// state, advancing the data past them.
    #[inline]
    pub(crate) fn compress_lanes(
        _: Avx2,
        state: &mut [[u32; 8]; N],
        data: &mut [&[u8]; N],
        m: usize,
    ) {
        let p = crate::backend::layout::lane_ptrs(data, 64 * m);
        // SAFETY: the Avx2 token proves AVX2; lane_ptrs checked each lane's
        // length, so every 32-byte row load stays within its slice.
        unsafe { compress_lanes_ymm(state, &p, m) }
        crate::backend::layout::advance_lanes(data, 64 * m);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{ymm, zmm};
    use crate::backend::portable::sha256::compress;
    use crate::backend::x86::{Avx2, Avx512};

    /// Distinct states and distinct per-lane data (each lane its own
    /// allocation): lane `l` must end equal to the portable compression of
    /// its own blocks from its own state, for 1..=5 blocks per call. (Also
    /// the check of the SHA-NI multi-stream kernels.)
    pub(crate) fn check<const N: usize>(
        kernel: impl Fn(&mut [[u32; 8]; N], &mut [&[u8]; N], usize),
    ) {
        let mut x = 0x9e37_79b9u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for m in 1..=5 {
            let bufs: Vec<Vec<u8>> = (0..N)
                .map(|_| (0..64 * m).map(|_| next() as u8).collect())
                .collect();
            let mut state: [[u32; 8]; N] =
                core::array::from_fn(|_| core::array::from_fn(|_| next()));
            let want: Vec<[u32; 8]> = (0..N)
                .map(|l| {
                    let mut s = state[l];
                    compress(&mut s, &bufs[l]);
                    s
                })
                .collect();
            let mut data: [&[u8]; N] = core::array::from_fn(|l| &bufs[l][..]);
            kernel(&mut state, &mut data, m);
            assert!(data.iter().all(|d| d.is_empty()));
            assert_eq!(state.to_vec(), want, "{N} lanes, {m} blocks");
        }
    }

    #[test]
    fn zmm_lanes_equal_portable() {
        if let Some(t) = Avx512::detect() {
            check::<{ zmm::LANES }>(|s, d, m| zmm::compress_lanes(t, s, d, m));
        }
    }

    #[test]
    fn ymm_lanes_equal_portable() {
        if let Some(t) = Avx2::detect() {
            check::<{ ymm::LANES }>(|s, d, m| ymm::compress_lanes(t, s, d, m));
        }
    }
}
