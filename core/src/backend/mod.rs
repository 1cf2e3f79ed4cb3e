//! THE dispatch point: which kernel computes AES, GHASH and SHA-256, on x86-64
//! (`x86/`), ARMv8 (`aarch64/`) or anywhere (`soft/`).
//!
//! CPU features are detected once; the result is a [`Backend`] value holding, for
//! each primitive, an implementation tag. Tags of SIMD tiers carry a zero-sized
//! proof token that only the detection code can create (ring's approach), so a
//! `#[target_feature]` kernel is unreachable unless detection said yes.
//! Keys capture the backend they were made with; every MAC call dispatches on it
//! with one `match` per primitive.

use std::sync::OnceLock;

use crate::error::{Error, Result};

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;
pub(crate) mod soft;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

/// Expanded AES-128 key: 11 round keys in FIPS 197 byte order, shared by every tier.
pub(crate) type RoundKeys = [[u8; 16]; 11];

/// The most GHASH key powers any kernel aggregates over (the zmm tier: 64 blocks).
pub(crate) const MAX_POWERS: usize = 64;

/// Powers of the POLYVAL-domain hash key, highest first: `0[i] = H^(MAX_POWERS - i)`.
/// A group of `n` blocks multiplies by the contiguous run `0[MAX_POWERS - n..]`.
/// `1[i]` holds `lo64 ^ hi64` of `0[i]` (low half; high half zero): the
/// Karatsuba middle operand, so wide kernels need three multiplies per block, not four.
/// `2` holds the zmm tier's long-message powers `H^WIDE_BLOCKS..H^1` in the layout its
/// wide loop reads (`x86::vpclmul512::wide_powers`); `None` on other tiers,
/// whose keys stay as small as before.
#[derive(Clone)]
#[repr(C, align(64))]
pub(crate) struct HPowers(
    pub(crate) [u128; MAX_POWERS],
    pub(crate) [u128; MAX_POWERS],
    pub(crate) Option<WidePowers>,
);

/// Blocks per reduction of the zmm tier's long-message loop.
pub(crate) const WIDE_BLOCKS: usize = 256;

/// Key powers for [`WIDE_BLOCKS`]-block groups, in the layout of the wide
/// loop the backend picked for this CPU (`x86::WideGhash`; made by
/// `x86::vpclmul512::wide_powers`). Key material: owners zeroize it.
#[derive(Clone)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum WidePowers {
    /// Byte-reversed (POLYVAL-domain) powers, three zmm registers (24 qwords)
    /// per eight blocks, for the VBMI-permute Karatsuba loop.
    Paired(Box<Aligned64<[[u64; 24]; WIDE_BLOCKS / 8]>>),
    /// `H^WIDE_BLOCKS..H^1` in GHASH's own bit order (bit `i` the coefficient
    /// of `x^i`), for the GFNI loop; the token proves the CPU has GFNI.
    #[cfg(target_arch = "x86_64")]
    Gfni(x86::Gfni512, Box<Aligned64<[u128; WIDE_BLOCKS]>>),
}

/// `T` on a 64-byte boundary: zmm loads of it never split a cache line.
#[derive(Clone)]
#[repr(C, align(64))]
pub(crate) struct Aligned64<T>(pub(crate) T);

impl WidePowers {
    pub(crate) fn zeroize(&mut self) {
        use zeroize::Zeroize;
        match self {
            WidePowers::Paired(w) => w.0.as_flattened_mut().zeroize(),
            #[cfg(target_arch = "x86_64")]
            WidePowers::Gfni(_, w) => w.0.zeroize(),
        }
    }
}

/// A performance tier. Each primitive takes the best kernel the tier allows and
/// the CPU supports; a tier is available only when its defining features are present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tier {
    /// Portable constant-time Rust: no SIMD, no table lookups.
    Portable,
    /// x86-64 AES-NI + PCLMULQDQ on xmm registers (SHA-NI too when present).
    AesNi,
    /// x86-64 VPCLMULQDQ on ymm registers (AVX2) for GHASH, AES-NI for AES.
    Avx2,
    /// x86-64 VPCLMULQDQ on zmm registers (AVX-512F/VL/BW) for GHASH.
    Avx512,
    /// ARMv8 cryptography extensions (AES, PMULL, SHA2).
    Armv8,
}

impl Tier {
    /// Every tier, slowest first.
    pub const ALL: [Tier; 5] = [
        Tier::Portable,
        Tier::AesNi,
        Tier::Avx2,
        Tier::Avx512,
        Tier::Armv8,
    ];

    /// The name used by `SMBSIGN_BACKEND` and reported by [`crate::backend_info`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Tier::Portable => "portable",
            Tier::AesNi => "aesni",
            Tier::Avx2 => "avx2",
            Tier::Avx512 => "avx512",
            Tier::Armv8 => "armv8",
        }
    }

    /// Why detection picks this tier when it is the fastest this CPU has.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Tier::Avx512 => {
                "AVX-512F/BW/VL/VBMI and VPCLMULQDQ present: zmm GHASH (four blocks per \
                 instruction), measured faster than ymm from 48-byte messages up on Zen 4 \
                 and at every length on an Intel Xeon"
            }
            Tier::Avx2 => "VPCLMULQDQ and AVX2 present, no AVX-512 with VPCLMULQDQ: ymm GHASH",
            Tier::AesNi => "AES-NI and PCLMULQDQ present, no VPCLMULQDQ: xmm kernels",
            Tier::Armv8 => "ARMv8 AES, PMULL and SHA2 present",
            Tier::Portable => "no supported SIMD crypto extensions: portable constant-time code",
        }
    }

    /// Parses a tier name (`portable` or `soft`, `aesni`, `avx2`, `avx512`, `armv8`).
    pub fn from_name(name: &str) -> Result<Tier> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" | "soft" => Ok(Tier::Portable),
            "aesni" => Ok(Tier::AesNi),
            "avx2" => Ok(Tier::Avx2),
            "avx512" => Ok(Tier::Avx512),
            "armv8" | "neon" => Ok(Tier::Armv8),
            _ => Err(Error::UnknownBackend),
        }
    }
}

/// AES-128 block encryption.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Aes {
    Soft,
    #[cfg(target_arch = "x86_64")]
    AesNi(x86::AesNi),
    #[cfg(target_arch = "aarch64")]
    Armv8(aarch64::ArmAes),
}

/// GHASH over POLYVAL-domain key powers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ghash {
    Soft,
    #[cfg(target_arch = "x86_64")]
    Pclmul(x86::Pclmul),
    #[cfg(target_arch = "x86_64")]
    Vpclmul256(x86::Vpclmul256),
    /// zmm, with the long-message loop [`x86::WideGhash`] says.
    #[cfg(target_arch = "x86_64")]
    Vpclmul512(x86::Vpclmul512, x86::WideGhash),
    #[cfg(target_arch = "aarch64")]
    Pmull(aarch64::Pmull),
}

/// SHA-256 block compression.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sha256 {
    Soft,
    #[cfg(target_arch = "x86_64")]
    ShaNi(x86::ShaNi),
    #[cfg(target_arch = "aarch64")]
    Armv8(aarch64::ArmSha2),
}

/// A fused kernel for short GMAC messages (tag-mask AES and GHASH in one pass).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShortGmac {
    /// None: the generic path (GHASH kernel, then the AES kernel).
    Generic,
    /// Any length, in one part or more, on xmm (`x86::pclmul::gmac_fused`;
    /// past 512 bytes its long-message loop first).
    #[cfg(target_arch = "x86_64")]
    Fused(x86::AesNi, x86::Pclmul),
    /// Any length, in one part or two, on zmm (`x86::vpclmul512::gmac`);
    /// one-part messages up to the `usize` bytes take the xmm fused kernel
    /// with a masked partial block (`x86::vpclmul512::gmac_short`), where it
    /// measured faster (the rule: `x86::zmm_gmac_xmm_max`).
    #[cfg(target_arch = "x86_64")]
    FusedZmm(x86::AesNi, x86::Vpclmul512, usize),
    /// Any length, in one part or more, on ymm (`x86::vpclmul256::gmac`);
    /// messages up to the `usize` bytes take the xmm fused kernel, where it
    /// measured faster (the rule: `x86::ymm_gmac_xmm_max`).
    #[cfg(target_arch = "x86_64")]
    FusedYmm(x86::AesNi, x86::Pclmul, x86::Vpclmul256, usize),
}

/// Multi-buffer AES (CBC-MAC chains of independent messages, one key per lane).
#[derive(Clone, Copy, Debug)]
pub(crate) enum AesLanes {
    /// One lane at a time through the portable AES.
    Soft,
    #[cfg(target_arch = "x86_64")]
    AesNi8(x86::AesNi),
    #[cfg(target_arch = "x86_64")]
    Vaes16(x86::Vaes),
    /// VAES on zmm; batches averaging fewer blocks per job than the `usize`
    /// run the ymm kernel instead (non-zero only where zmm runs at half rate).
    #[cfg(target_arch = "x86_64")]
    Vaes32(x86::Vaes512, usize),
    #[cfg(target_arch = "aarch64")]
    Armv8x8(aarch64::ArmAes),
}

/// Multi-buffer SHA-256 (independent messages, one per lane).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShaLanes {
    /// The [`Sha256`] kernel's own multi-buffer form (portable: one lane;
    /// SHA-NI and ARMv8: two interleaved streams).
    Sha256,
    #[cfg(target_arch = "x86_64")]
    Avx2x8(x86::Avx2),
    #[cfg(target_arch = "x86_64")]
    Avx512x16(x86::Avx512),
    /// Four SHA-NI streams compiled with AVX-512VL's 32 xmm registers.
    #[cfg(target_arch = "x86_64")]
    ShaNiX4(x86::ShaNi, x86::Avx512),
}

/// A kernel computing the GMAC tags of two short messages at once.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GmacPair {
    None,
    #[cfg(target_arch = "x86_64")]
    Vaes256(x86::Vaes, x86::Vpclmul256),
}

/// Round keys of the jobs in a multi-buffer kernel's lanes, round-major:
/// `0[round][lane]`, so the keys of adjacent lanes for one round are contiguous
/// (a ymm register's pair, a zmm register's four). Holds key material:
/// owners zeroize it.
#[repr(C, align(64))]
pub(crate) struct LaneKeys<const N: usize>(pub(crate) [[[u8; 16]; N]; 11]);

impl<const N: usize> LaneKeys<N> {
    pub(crate) fn new() -> Self {
        LaneKeys([[[0; 16]; N]; 11])
    }

    /// Loads `rk` into lane `lane`.
    pub(crate) fn set(&mut self, lane: usize, rk: &RoundKeys) {
        for (round, k) in rk.iter().enumerate() {
            self.0[round][lane] = *k;
        }
    }
}

impl<const N: usize> Drop for LaneKeys<N> {
    fn drop(&mut self) {
        crate::wipe::wipe(self.0.as_flattened_mut().as_flattened_mut());
    }
}

/// The start of each lane's data for a multi-buffer kernel call, after
/// checking that every lane holds at least `bytes` (what the kernel reads).
pub(crate) fn lane_ptrs<const N: usize>(data: &[&[u8]; N], bytes: usize) -> [*const u8; N] {
    for d in data {
        assert!(d.len() >= bytes);
    }
    data.map(<[u8]>::as_ptr)
}

/// Advances every lane's data past the `bytes` a kernel call consumed.
pub(crate) fn advance_lanes<const N: usize>(data: &mut [&[u8]; N], bytes: usize) {
    for d in data.iter_mut() {
        *d = &d[bytes..];
    }
}

/// A computation generic over the lane count of the multi-buffer AES kernel
/// the backend picks; `kernel` advances every lane by `m` blocks.
pub(crate) trait AesLaneTask {
    type Output;
    fn run<const N: usize>(
        self,
        kernel: impl for<'a> FnMut(&LaneKeys<N>, &mut [[u8; 16]; N], &mut [&'a [u8]; N], usize),
    ) -> Self::Output;
}

/// A computation generic over the lane count of the multi-buffer SHA-256
/// kernel the backend picks; `kernel` advances every lane by `m` blocks.
pub(crate) trait ShaLaneTask {
    type Output;
    fn run<const N: usize>(
        self,
        kernel: impl for<'a> FnMut(&mut [[u32; 8]; N], &mut [&'a [u8]; N], usize),
    ) -> Self::Output;
}

/// A choice of kernel for every primitive. Obtain one from [`Backend::detect`],
/// [`Backend::with_tier`] or [`Backend::portable`]; the process-wide default is [`active`].
#[derive(Clone, Copy, Debug)]
pub struct Backend {
    tier: Tier,
    pub(crate) aes: Aes,
    pub(crate) ghash: Ghash,
    pub(crate) sha256: Sha256,
    pub(crate) short_gmac: ShortGmac,
    pub(crate) aes_lanes: AesLanes,
    pub(crate) sha_lanes: ShaLanes,
    pub(crate) gmac_pair: GmacPair,
}

impl Backend {
    /// The portable constant-time tier; available everywhere.
    #[must_use]
    pub fn portable() -> Backend {
        Backend {
            tier: Tier::Portable,
            aes: Aes::Soft,
            ghash: Ghash::Soft,
            sha256: Sha256::Soft,
            short_gmac: ShortGmac::Generic,
            aes_lanes: AesLanes::Soft,
            sha_lanes: ShaLanes::Sha256,
            gmac_pair: GmacPair::None,
        }
    }

    /// The tier `tier` on this CPU, or [`Error::BackendUnavailable`] when the CPU
    /// (or the architecture this was compiled for) lacks its features.
    pub fn with_tier(tier: Tier) -> Result<Backend> {
        let unavailable = Error::BackendUnavailable(tier.name());
        match tier {
            Tier::Portable => Ok(Backend::portable()),
            #[cfg(target_arch = "x86_64")]
            Tier::AesNi | Tier::Avx2 | Tier::Avx512 => x86::backend(tier).ok_or(unavailable),
            #[cfg(target_arch = "aarch64")]
            Tier::Armv8 => aarch64::backend(tier).ok_or(unavailable),
            _ => Err(unavailable),
        }
    }

    /// The fastest tier this CPU supports.
    ///
    /// [`Tier::Avx512`] is picked on CPUs with AVX-512F/BW/VL/VBMI and VPCLMULQDQ
    /// (Intel since Ice Lake, AMD since Zen 4): its zmm GHASH and fused GMAC
    /// measured faster than the ymm tier at every GMAC length from 48 bytes up
    /// on Zen 4 (BENCHMARKS.md section 10) and at every length on an Intel
    /// Xeon (section 13), and its other primitives are the ymm tier's. No length threshold: the CPUs that have VPCLMULQDQ on
    /// zmm are the ones whose zmm frequency penalty is small (the heavy
    /// downclocking of Skylake-SP predates VPCLMULQDQ). [`Tier::reason`]
    /// says why a tier is picked.
    #[must_use]
    pub fn detect() -> Backend {
        Backend::available().pop().unwrap_or_else(Backend::portable)
    }

    /// Every tier this CPU supports, slowest first (always starts with the portable one).
    #[must_use]
    pub fn available() -> Vec<Backend> {
        Tier::ALL
            .iter()
            .filter_map(|&t| Backend::with_tier(t).ok())
            .collect()
    }

    /// This backend, then copies of it with each other multi-buffer (batch)
    /// kernel this CPU supports swapped in, one at a time; for tests and
    /// benchmarks that must reach every kernel (e.g. the AVX2 SHA-256 lanes
    /// on a CPU whose tiers pick SHA-NI). Their single-message kernels and
    /// [`Backend::tier`] are this backend's.
    #[must_use]
    pub fn batch_variants(&self) -> Vec<Backend> {
        #[cfg(target_arch = "x86_64")]
        return x86::batch_variants(self);
        #[cfg(not(target_arch = "x86_64"))]
        vec![*self]
    }

    /// This backend, then copies of it with each other long-message GHASH
    /// loop this CPU supports swapped in (the zmm tier's VBMI-Karatsuba and
    /// GFNI loops: `x86::WideGhash`), for tests and benchmarks that must reach
    /// both where the tier picks one. [`Backend::aes_gmac_name`] tells them apart.
    #[must_use]
    pub fn ghash_variants(&self) -> Vec<Backend> {
        #[cfg(target_arch = "x86_64")]
        return x86::ghash_variants(self);
        #[cfg(not(target_arch = "x86_64"))]
        vec![*self]
    }

    /// The tier this backend was built for.
    #[must_use]
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The kernel that computes HMAC-SHA256.
    #[must_use]
    pub fn hmac_sha256_name(&self) -> &'static str {
        match self.sha256 {
            Sha256::Soft => "portable",
            #[cfg(target_arch = "x86_64")]
            Sha256::ShaNi(_) => "x86_64/sha-ni",
            #[cfg(target_arch = "aarch64")]
            Sha256::Armv8(_) => "aarch64/sha2",
        }
    }

    /// The kernel that computes AES-CMAC.
    #[must_use]
    pub fn aes_cmac_name(&self) -> &'static str {
        match self.aes {
            Aes::Soft => "portable",
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(_) => "x86_64/aes-ni",
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(_) => "aarch64/aes",
        }
    }

    /// The kernels that compute AES-GMAC (GHASH, then the one AES block).
    #[must_use]
    pub fn aes_gmac_name(&self) -> &'static str {
        match self.ghash {
            Ghash::Soft => "portable",
            #[cfg(target_arch = "x86_64")]
            Ghash::Pclmul(_) => "x86_64/pclmulqdq+aes-ni",
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul256(_) => "x86_64/vpclmulqdq-ymm+aes-ni",
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul512(_, x86::WideGhash::Paired) => "x86_64/vpclmulqdq-zmm+aes-ni",
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul512(_, x86::WideGhash::Gfni(_)) => "x86_64/vpclmulqdq-zmm-gfni+aes-ni",
            #[cfg(target_arch = "aarch64")]
            Ghash::Pmull(_) => "aarch64/pmull+aes",
        }
    }

    /// The kernel that computes batches of AES-CMAC.
    #[must_use]
    pub fn aes_batch_name(&self) -> &'static str {
        match self.aes_lanes {
            AesLanes::Soft => "portable",
            #[cfg(target_arch = "x86_64")]
            AesLanes::AesNi8(_) => "x86_64/aes-ni-x8",
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes16(_) => "x86_64/vaes-ymm-x16",
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(_, 0) => "x86_64/vaes-zmm-x32",
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(..) => "x86_64/vaes-zmm-x32 (ymm-x16 below 1 KiB mean)",
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(_) => "aarch64/aes-x8",
        }
    }

    /// The kernel that computes batches of HMAC-SHA256.
    #[must_use]
    pub fn sha256_batch_name(&self) -> &'static str {
        match self.sha_lanes {
            ShaLanes::Sha256 => {}
            #[cfg(target_arch = "x86_64")]
            ShaLanes::Avx2x8(_) => return "x86_64/avx2-ymm-x8",
            #[cfg(target_arch = "x86_64")]
            ShaLanes::ShaNiX4(..) => return "x86_64/sha-ni-x4 (avx512vl registers)",
            #[cfg(target_arch = "x86_64")]
            ShaLanes::Avx512x16(_) => return "x86_64/avx512-zmm-x16",
        }
        match self.sha256 {
            Sha256::Soft => "portable",
            #[cfg(target_arch = "x86_64")]
            Sha256::ShaNi(_) => "x86_64/sha-ni-x2",
            #[cfg(target_arch = "aarch64")]
            Sha256::Armv8(_) => "aarch64/sha2-x2",
        }
    }

    // ---- the primitives, one match each ----

    /// FIPS 197 key expansion (the same round keys for every tier).
    #[inline]
    pub(crate) fn expand_aes_key(&self, key: &[u8; 16]) -> RoundKeys {
        match self.aes {
            Aes::Soft => soft::aes::expand_key(key),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni::expand_key(t, key),
            // ARMv8 has no key-schedule instruction; the portable expansion is
            // constant-time and runs once per key.
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(_) => soft::aes::expand_key(key),
        }
    }

    #[inline]
    pub(crate) fn aes_encrypt(&self, rk: &RoundKeys, block: &mut [u8; 16]) {
        match self.aes {
            Aes::Soft => soft::aes::encrypt_block(rk, block),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni::encrypt_block(t, rk, block),
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(t) => aarch64::aes::encrypt_block(t, rk, block),
        }
    }

    /// CBC-MAC chaining over whole blocks: `state = E(state ^ block)`.
    #[inline]
    pub(crate) fn cbc_mac(&self, rk: &RoundKeys, state: &mut [u8; 16], blocks: &[u8]) {
        match self.aes {
            Aes::Soft => soft::aes::cbc_mac_blocks(rk, state, blocks),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni::cbc_mac_blocks(t, rk, state, blocks),
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(t) => aarch64::aes::cbc_mac_blocks(t, rk, state, blocks),
        }
    }

    /// Fills the key powers this backend's GHASH kernel reads.
    pub(crate) fn ghash_powers(&self, h: u128) -> HPowers {
        let needed = match self.ghash {
            Ghash::Soft => 1,
            #[cfg(target_arch = "x86_64")]
            Ghash::Pclmul(_) => x86::pclmul::POWERS,
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul256(_) => x86::vpclmul256::POWERS,
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul512(..) => x86::vpclmul512::POWERS,
            #[cfg(target_arch = "aarch64")]
            Ghash::Pmull(_) => aarch64::pmull::POWERS,
        };
        // H^(i+1) = H^i * H, each product through this backend's own kernel: a
        // one-block GHASH of a zero block from accumulator H^i multiplies by H.
        // Karatsuba halves are filled as each power is, since kernels may read them.
        let karatsuba = |v: u128| u128::from((v as u64) ^ ((v >> 64) as u64));
        let mut p = HPowers([0; MAX_POWERS], [0; MAX_POWERS], None);
        p.0[MAX_POWERS - 1] = h;
        p.1[MAX_POWERS - 1] = karatsuba(h);
        let mut acc = h;
        for i in 1..needed {
            self.ghash(&p, &mut acc, &[0u8; 16]);
            p.0[MAX_POWERS - 1 - i] = acc;
            p.1[MAX_POWERS - 1 - i] = karatsuba(acc);
        }
        #[cfg(target_arch = "x86_64")]
        if let Ghash::Vpclmul512(t, wide) = self.ghash {
            p.2 = Some(x86::vpclmul512::wide_powers(t, wide, &p));
        }
        p
    }

    /// GHASH over whole 16-byte blocks into the POLYVAL-domain accumulator.
    #[inline]
    pub(crate) fn ghash(&self, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
        match self.ghash {
            Ghash::Soft => soft::polyval::ghash_blocks(powers.0[MAX_POWERS - 1], acc, blocks),
            #[cfg(target_arch = "x86_64")]
            Ghash::Pclmul(t) => x86::pclmul::ghash_blocks(t, powers, acc, blocks),
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul256(t) => x86::vpclmul256::ghash_blocks(t, powers, acc, blocks),
            #[cfg(target_arch = "x86_64")]
            Ghash::Vpclmul512(t, _) => x86::vpclmul512::ghash_blocks(t, powers, acc, blocks),
            #[cfg(target_arch = "aarch64")]
            Ghash::Pmull(t) => aarch64::pmull::ghash_blocks(t, powers, acc, blocks),
        }
    }

    /// AES-GMAC of `a || b` (one part, or two with `a` whole blocks) in one
    /// fused xmm pass (the tag's bytes as a little-endian `u128`), when this
    /// backend has the fused kernel and the message is at most 512 bytes;
    /// `None` otherwise.
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_fused(
        &self,
        rk: &RoundKeys,
        powers: &HPowers,
        nonce: &[u8; 12],
        a: &[u8],
        b: &[u8],
    ) -> Option<u128> {
        match self.short_gmac {
            #[cfg(target_arch = "x86_64")]
            ShortGmac::Fused(t, p) | ShortGmac::FusedYmm(t, p, ..)
                if a.len() + b.len() <= x86::pclmul::FUSED_MAX
                    && (a.len().is_multiple_of(16) || b.is_empty()) =>
            {
                // One part is taken as the second (any length).
                let (a, b) = if b.is_empty() { (&[][..], a) } else { (a, b) };
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, a, b))
            }
            _ => None,
        }
    }

    /// AES-GMAC of `a || b` (one part, or two with `a` whole blocks) in one
    /// fused pass at any length: on the zmm tier always, on the ymm tier past
    /// its xmm rule, on the xmm tier past 512 bytes; `None` elsewhere (the
    /// caller's short-message path).
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_zmm(
        &self,
        rk: &RoundKeys,
        powers: &HPowers,
        nonce: &[u8; 12],
        a: &[u8],
        b: &[u8],
    ) -> Option<u128> {
        match self.short_gmac {
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, xmm_max) if b.is_empty() && a.len() <= xmm_max => {
                Some(x86::vpclmul512::gmac_short((t, p), rk, powers, nonce, a))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, _) if a.len().is_multiple_of(16) || b.is_empty() => {
                // One part is taken as the second (any length).
                let (a, b) = if b.is_empty() { (&[][..], a) } else { (a, b) };
                Some(x86::vpclmul512::gmac((t, p), rk, powers, nonce, a, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::Fused(t, p)
                if a.len() + b.len() > x86::pclmul::FUSED_MAX
                    && (a.len().is_multiple_of(16) || b.is_empty()) =>
            {
                let (a, b) = if b.is_empty() { (&[][..], a) } else { (a, b) };
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, a, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedYmm(t, _, v, xmm_max)
                if a.len() + b.len() > xmm_max && (a.len().is_multiple_of(16) || b.is_empty()) =>
            {
                let (a, b) = if b.is_empty() { (&[][..], a) } else { (a, b) };
                Some(x86::vpclmul256::gmac((t, v), rk, powers, nonce, a, b))
            }
            _ => None,
        }
    }

    /// AES-GMAC of `head || b` with the whole-block head in several parts
    /// (Samba's header and zeroed signature; a body split across iovecs), in
    /// one fused pass reading every part in place, at any length: on the zmm
    /// and ymm tiers their own kernel (the xmm one for short messages, as for
    /// one part), on the xmm tier the xmm kernel; `None` otherwise (the
    /// caller streams).
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_parts(
        &self,
        rk: &RoundKeys,
        powers: &HPowers,
        nonce: &[u8; 12],
        head: &[&[u8]],
        b: &[u8],
    ) -> Option<u128> {
        #[cfg(target_arch = "x86_64")]
        let parts = x86::pclmul::Parts::new(head)?;
        match self.short_gmac {
            // Where the one-part rule gives short messages to the xmm kernel,
            // so do parts (Intel Xeon: 80 B 41-43 ns xmm against 45-47 zmm,
            // zmm ahead from 128 B; docs in `x86::zmm_gmac_xmm_max`).
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, xmm_max) if parts.len() + b.len() <= xmm_max => Some(
                x86::pclmul::gmac_fused((t, p.xmm()), rk, powers, nonce, parts, b),
            ),
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, _) => {
                Some(x86::vpclmul512::gmac((t, p), rk, powers, nonce, parts, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedYmm(t, p, _, xmm_max) if parts.len() + b.len() <= xmm_max => {
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, parts, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedYmm(t, _, v, _) => {
                Some(x86::vpclmul256::gmac((t, v), rk, powers, nonce, parts, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::Fused(t, p) => {
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, parts, b))
            }
            _ => None,
        }
    }

    /// Whether a batch message of `len` bytes goes through
    /// [`Backend::gmac_pair`] with another rather than one-shot: only where
    /// this backend has the paired kernel and it measured faster than two
    /// one-shot calls at that length (BENCHMARKS.md, "AVX-512 GMAC", batch
    /// vs one-shot loop).
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_pair_pays(&self, len: usize) -> bool {
        // The xmm fused one-shot kernel of the avx2 tier reads a partial last
        // block by an overlapping load: the pair beats it only on whole blocks
        // from 128 bytes (Intel Xeon: 1.10-1.24x there, 0.65-0.94x on partial
        // blocks and below 128 B; BENCHMARKS.md section 13). (The zmm tier has
        // no pair: its one-shot kernels beat the pair at every length.)
        match self.gmac_pair {
            GmacPair::None => false,
            #[cfg(target_arch = "x86_64")]
            GmacPair::Vaes256(..) => {
                len.is_multiple_of(16)
                    && (128..=16 * (x86::gmac_pair::MAX_BLOCKS - 1)).contains(&len)
            }
        }
    }

    /// The GMAC tags of two messages padded to equal whole blocks (see
    /// `x86::gmac_pair`), each under its own key, whose powers must come from
    /// a backend with the paired kernel ([`Backend::gmac_pair_pays`]).
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_pair(
        &self,
        rk: [&RoundKeys; 2],
        powers: [&HPowers; 2],
        j0: [&[u8; 16]; 2],
        a: &[u8],
        b: &[u8],
        len: [u64; 2],
    ) -> [[u8; 16]; 2] {
        match self.gmac_pair {
            #[cfg(target_arch = "x86_64")]
            GmacPair::Vaes256(v, p) => x86::gmac_pair::gmac_pair((v, p), rk, powers, j0, a, b, len),
            GmacPair::None => unreachable!("callers check gmac_pair_pays"),
        }
    }

    /// The kernel that computes batches of short AES-GMAC messages.
    #[must_use]
    pub fn gmac_batch_name(&self) -> &'static str {
        match self.gmac_pair {
            GmacPair::None => "one-shot",
            #[cfg(target_arch = "x86_64")]
            GmacPair::Vaes256(..) => "x86_64/vaes+vpclmulqdq-ymm-x2",
        }
    }

    /// SHA-256 compression over whole 64-byte blocks.
    #[inline]
    pub(crate) fn sha256_compress(&self, state: &mut [u32; 8], blocks: &[u8]) {
        match self.sha256 {
            Sha256::Soft => soft::sha256::compress(state, blocks),
            #[cfg(target_arch = "x86_64")]
            Sha256::ShaNi(t) => x86::shani::compress(t, state, blocks),
            #[cfg(target_arch = "aarch64")]
            Sha256::Armv8(t) => aarch64::sha2::compress(t, state, blocks),
        }
    }
}

impl Backend {
    /// Runs `task` with this backend's multi-buffer AES kernel; `mean_blocks`
    /// (the batch's mean blocks per job) picks between widths where a
    /// kernel's fixed costs favour the narrower one on short messages.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn aes_lanes<T: AesLaneTask>(&self, task: T, mean_blocks: usize) -> T::Output {
        match self.aes_lanes {
            AesLanes::Soft => task.run::<1>(|keys, state, data, m| {
                let mut rk: RoundKeys = core::array::from_fn(|r| keys.0[r][0]);
                soft::aes::cbc_mac_blocks(&rk, &mut state[0], &data[0][..16 * m]);
                crate::wipe::wipe(&mut rk);
                data[0] = &data[0][16 * m..];
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::AesNi8(t) => task.run(move |keys, state, data, m| {
                x86::aesni_mb::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes16(t) => task.run(move |keys, state, data, m| {
                x86::vaes_mb::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, ymm_below) if mean_blocks < ymm_below => {
                task.run(move |keys, state, data, m| {
                    x86::vaes_mb::cbc_mac_lanes(t.ymm(), keys, state, data, m);
                })
            }
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, _) => task.run(move |keys, state, data, m| {
                x86::vaes512_mb::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(t) => task.run(move |keys, state, data, m| {
                aarch64::aes_mb::cbc_mac_lanes(t, keys, state, data, m);
            }),
        }
    }

    /// Runs `task` with this backend's multi-buffer SHA-256 kernel.
    pub(crate) fn sha_lanes<T: ShaLaneTask>(&self, task: T) -> T::Output {
        match self.sha_lanes {
            ShaLanes::Sha256 => {}
            #[cfg(target_arch = "x86_64")]
            ShaLanes::Avx2x8(t) => {
                return task.run(move |state, data, m| {
                    x86::sha256_mb::ymm::compress_lanes(t, state, data, m);
                })
            }
            #[cfg(target_arch = "x86_64")]
            ShaLanes::ShaNiX4(t, v) => {
                return task.run(move |state, data, m| {
                    x86::shani::compress_lanes_wide(t, v, state, data, m);
                })
            }
            #[cfg(target_arch = "x86_64")]
            ShaLanes::Avx512x16(t) => {
                return task.run(move |state, data, m| {
                    x86::sha256_mb::zmm::compress_lanes(t, state, data, m);
                })
            }
        }
        match self.sha256 {
            Sha256::Soft => task.run::<1>(|state, data, m| {
                soft::sha256::compress(&mut state[0], &data[0][..64 * m]);
                data[0] = &data[0][64 * m..];
            }),
            #[cfg(target_arch = "x86_64")]
            Sha256::ShaNi(t) => task.run(move |state, data, m| {
                x86::shani::compress_lanes(t, state, data, m);
            }),
            #[cfg(target_arch = "aarch64")]
            Sha256::Armv8(t) => task.run(move |state, data, m| {
                aarch64::sha2::compress_lanes(t, state, data, m);
            }),
        }
    }
}

/// Why the active backend is what it is.
struct Active {
    backend: Backend,
    /// In words.
    reason: &'static str,
    /// `SMBSIGN_BACKEND` as given, if set.
    requested: Option<String>,
    /// Set when the request could not be honoured and detection was used instead.
    fallback: Option<Error>,
}

fn active_state() -> &'static Active {
    static ACTIVE: OnceLock<Active> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        let requested = std::env::var("SMBSIGN_BACKEND")
            .ok()
            .filter(|s| !s.is_empty());
        match requested
            .as_deref()
            .map(|r| Tier::from_name(r).and_then(Backend::with_tier))
        {
            None => {
                let backend = Backend::detect();
                Active {
                    backend,
                    reason: backend.tier().reason(),
                    requested,
                    fallback: None,
                }
            }
            Some(Ok(backend)) => Active {
                backend,
                reason: "forced by SMBSIGN_BACKEND",
                requested,
                fallback: None,
            },
            Some(Err(e)) => {
                // A forced tier the CPU lacks must never run; say so once and detect.
                eprintln!(
                    "smbsign: SMBSIGN_BACKEND={}: {e}; using detected backend",
                    requested.as_deref().unwrap_or_default()
                );
                let backend = Backend::detect();
                Active {
                    backend,
                    reason: backend.tier().reason(),
                    requested,
                    fallback: Some(e),
                }
            }
        }
    })
}

/// The process-wide backend: `SMBSIGN_BACKEND` if set and available, else the
/// fastest detected. Decided on first use, then fixed.
#[must_use]
pub fn active() -> Backend {
    active_state().backend
}

/// What [`crate::backend_info`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// The active tier.
    pub tier: Tier,
    /// Kernel computing HMAC-SHA256.
    pub hmac_sha256: &'static str,
    /// Kernel computing AES-CMAC.
    pub aes_cmac: &'static str,
    /// Kernels computing AES-GMAC.
    pub aes_gmac: &'static str,
    /// Kernel computing batches of AES-CMAC.
    pub aes_batch: &'static str,
    /// Kernel computing batches of HMAC-SHA256.
    pub sha256_batch: &'static str,
    /// Kernel computing batches of short AES-GMAC messages.
    pub gmac_batch: &'static str,
    /// Why this tier: forced by `SMBSIGN_BACKEND`, or what detection found.
    pub reason: &'static str,
    /// `SMBSIGN_BACKEND` as given, if set.
    pub requested: Option<String>,
    /// Why the request was not honoured, if it was not.
    pub fallback: Option<Error>,
}

pub(crate) fn info() -> BackendInfo {
    let a = active_state();
    BackendInfo {
        tier: a.backend.tier(),
        hmac_sha256: a.backend.hmac_sha256_name(),
        aes_cmac: a.backend.aes_cmac_name(),
        aes_gmac: a.backend.aes_gmac_name(),
        aes_batch: a.backend.aes_batch_name(),
        sha256_batch: a.backend.sha256_batch_name(),
        gmac_batch: a.backend.gmac_batch_name(),
        reason: a.reason,
        requested: a.requested.clone(),
        fallback: a.fallback,
    }
}
