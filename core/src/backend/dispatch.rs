//! The dispatch: which kernel computes each primitive. A [`Backend`] holds one
//! tag per primitive and every call is one `match` on it. No numbers here: a
//! kernel's measured crossover travels inside its variant, put there by the
//! selection (`x86/select.rs`) from the tuning table (`tuning.rs`).

#[cfg(target_arch = "aarch64")]
use super::aarch64;
use super::layout::{HPowers, LaneKeys, RoundKeys, MAX_POWERS};
use super::portable;
use super::tier::Tier;
#[cfg(target_arch = "x86_64")]
use super::x86;

/// AES-128 block encryption.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Aes {
    Portable,
    #[cfg(target_arch = "x86_64")]
    AesNi(x86::AesNi),
    #[cfg(target_arch = "aarch64")]
    Armv8(aarch64::ArmAes),
}

/// GHASH over POLYVAL-domain key powers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ghash {
    Portable,
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
    Portable,
    #[cfg(target_arch = "x86_64")]
    ShaNi(x86::ShaNi),
    #[cfg(target_arch = "aarch64")]
    Armv8(aarch64::ArmSha2),
}

/// A fused kernel for short GMAC messages (tag-mask AES and GHASH in one pass).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShortGmac {
    /// None: no fused kernel (the GHASH kernel, then the AES kernel).
    None,
    /// Any length, in one part or more, on xmm (`x86::pclmul::gmac_fused`):
    /// up to the `usize` bytes (`x86::pclmul::FUSED_MAX`) as a short message,
    /// past it with its long-message loop first.
    #[cfg(target_arch = "x86_64")]
    Fused(x86::AesNi, x86::Pclmul, usize),
    /// Any length, in one part or two, on zmm (`x86::vpclmul512::fused::gmac`);
    /// one-part messages up to the `usize` bytes take the xmm fused kernel
    /// with a masked partial block (`x86::vpclmul512::fused::gmac_short`), where it
    /// is faster (the rule: `tuning::ZMM_GMAC_XMM_MAX_INTEL`).
    #[cfg(target_arch = "x86_64")]
    FusedZmm(x86::AesNi, x86::Vpclmul512, usize),
    /// Any length, in one part or more, on ymm (`x86::vpclmul256::gmac`);
    /// messages up to the `usize` bytes take the xmm fused kernel, where it
    /// is faster (the rule: `tuning::YMM_GMAC_XMM_MAX`).
    #[cfg(target_arch = "x86_64")]
    FusedYmm(x86::AesNi, x86::Pclmul, x86::Vpclmul256, usize),
}

/// AES lanes: CBC-MAC chains of independent messages, one key per lane.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AesLanes {
    /// One lane at a time through the portable AES.
    Portable,
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

/// SHA-256 lanes: independent messages, one per lane.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShaLanes {
    /// The [`Sha256`] kernel's own lanes form (portable: one lane;
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
    /// None: every batch message goes one-shot.
    None,
    /// VAES and VPCLMULQDQ on ymm (`x86::gmac_pair`), for whole-block
    /// messages of the first `usize` bytes to the second.
    #[cfg(target_arch = "x86_64")]
    Vaes256(x86::Vaes, x86::Vpclmul256, usize, usize),
}

/// A computation generic over the lane count of the AES lanes kernel
/// the backend picks; `kernel` advances every lane by `m` blocks.
pub(crate) trait AesLaneTask {
    type Output;
    fn run<const N: usize>(
        self,
        kernel: impl for<'a> FnMut(&LaneKeys<N>, &mut [[u8; 16]; N], &mut [&'a [u8]; N], usize),
    ) -> Self::Output;
}

/// A computation generic over the lane count of the SHA-256 lanes
/// kernel the backend picks; `kernel` advances every lane by `m` blocks.
pub(crate) trait ShaLaneTask {
    type Output;
    fn run<const N: usize>(
        self,
        kernel: impl for<'a> FnMut(&mut [[u32; 8]; N], &mut [&'a [u8]; N], usize),
    ) -> Self::Output;
}

/// A choice of kernel for every primitive. Obtain one from [`Backend::detect`],
/// [`Backend::with_tier`] or [`Backend::portable`]; the process-wide default is
/// [`active()`](super::active()).
#[derive(Clone, Copy, Debug)]
pub struct Backend {
    pub(super) tier: Tier,
    pub(crate) aes: Aes,
    pub(crate) ghash: Ghash,
    pub(crate) sha256: Sha256,
    pub(crate) short_gmac: ShortGmac,
    pub(crate) aes_lanes: AesLanes,
    pub(crate) sha_lanes: ShaLanes,
    pub(crate) gmac_pair: GmacPair,
}

impl Backend {
    /// The tier this backend was built for.
    #[must_use]
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The kernel that computes HMAC-SHA256.
    #[must_use]
    pub fn hmac_sha256_name(&self) -> &'static str {
        match self.sha256 {
            Sha256::Portable => "portable",
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
            Aes::Portable => "portable",
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
            Ghash::Portable => "portable",
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
            AesLanes::Portable => "portable",
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
            Sha256::Portable => "portable",
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
            Aes::Portable => portable::aes::expand_key(key),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni::expand_key(t, key),
            // ARMv8 has no key-schedule instruction; the portable expansion is
            // constant-time and runs once per key.
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(_) => portable::aes::expand_key(key),
        }
    }

    #[inline]
    pub(crate) fn aes_encrypt(&self, rk: &RoundKeys, block: &mut [u8; 16]) {
        match self.aes {
            Aes::Portable => portable::aes::encrypt_block(rk, block),
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
            Aes::Portable => portable::aes::cbc_mac_blocks(rk, state, blocks),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni::cbc_mac_blocks(t, rk, state, blocks),
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(t) => aarch64::aes::cbc_mac_blocks(t, rk, state, blocks),
        }
    }

    /// Fills the key powers this backend's GHASH kernel reads.
    pub(crate) fn ghash_powers(&self, h: u128) -> HPowers {
        let needed = match self.ghash {
            Ghash::Portable => 1,
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
        let mut p = HPowers {
            h: [0; MAX_POWERS],
            karatsuba: [0; MAX_POWERS],
            wide: None,
        };
        p.h[MAX_POWERS - 1] = h;
        p.karatsuba[MAX_POWERS - 1] = karatsuba(h);
        let mut acc = h;
        for i in 1..needed {
            self.ghash(&p, &mut acc, &[0u8; 16]);
            p.h[MAX_POWERS - 1 - i] = acc;
            p.karatsuba[MAX_POWERS - 1 - i] = karatsuba(acc);
        }
        #[cfg(target_arch = "x86_64")]
        if let Ghash::Vpclmul512(t, wide) = self.ghash {
            p.wide = Some(x86::vpclmul512::wide_powers(t, wide, &p));
        }
        p
    }

    /// GHASH over whole 16-byte blocks into the POLYVAL-domain accumulator.
    #[inline]
    pub(crate) fn ghash(&self, powers: &HPowers, acc: &mut u128, blocks: &[u8]) {
        match self.ghash {
            Ghash::Portable => {
                portable::polyval::ghash_blocks(powers.h[MAX_POWERS - 1], acc, blocks)
            }
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
    /// backend has the fused kernel and the message is no longer than it
    /// takes; `None` otherwise.
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
            ShortGmac::Fused(t, p, max) | ShortGmac::FusedYmm(t, p, _, max)
                if a.len() + b.len() <= max && (a.len().is_multiple_of(16) || b.is_empty()) =>
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
    /// its xmm rule, on the xmm tier past its short-message length; `None`
    /// elsewhere (the caller's short-message path).
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_one_pass(
        &self,
        rk: &RoundKeys,
        powers: &HPowers,
        nonce: &[u8; 12],
        a: &[u8],
        b: &[u8],
    ) -> Option<u128> {
        match self.short_gmac {
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, xmm_max) if b.is_empty() && a.len() <= xmm_max => Some(
                x86::vpclmul512::fused::gmac_short((t, p), rk, powers, nonce, a),
            ),
            // Two parts as short as the one-part rule gives to the xmm
            // kernel take it too, as several parts do (`gmac_parts`): Samba's
            // header and zeroed signature, a 64-byte message, went to the zmm
            // kernel (docs/tuning.md: "One-part GMAC the zmm tier gives to the
            // xmm fused kernel", parts).
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, xmm_max)
                if a.len() + b.len() <= xmm_max && a.len().is_multiple_of(16) =>
            {
                Some(x86::pclmul::gmac_fused(
                    (t, p.xmm()),
                    rk,
                    powers,
                    nonce,
                    a,
                    b,
                ))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, _) if a.len().is_multiple_of(16) || b.is_empty() => {
                // One part is taken as the second (any length).
                let (a, b) = if b.is_empty() { (&[][..], a) } else { (a, b) };
                Some(x86::vpclmul512::fused::gmac(
                    (t, p),
                    rk,
                    powers,
                    nonce,
                    a,
                    b,
                ))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::Fused(t, p, max)
                if a.len() + b.len() > max && (a.len().is_multiple_of(16) || b.is_empty()) =>
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
    /// one fused pass reading every part in place: on the zmm tier the zmm
    /// kernel at any length (the xmm one for short messages, as for one
    /// part), on the ymm tier likewise, on the xmm tier the xmm kernel;
    /// `None` otherwise (the caller streams).
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
            // so does this (docs/tuning.md: "One-part GMAC ...", parts).
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, xmm_max) if parts.len() + b.len() <= xmm_max => Some(
                x86::pclmul::gmac_fused((t, p.xmm()), rk, powers, nonce, parts, b),
            ),
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedZmm(t, p, _) => Some(x86::vpclmul512::fused::gmac(
                (t, p),
                rk,
                powers,
                nonce,
                parts,
                b,
            )),
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedYmm(t, p, _, xmm_max) if parts.len() + b.len() <= xmm_max => {
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, parts, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::FusedYmm(t, _, v, _) => {
                Some(x86::vpclmul256::gmac((t, v), rk, powers, nonce, parts, b))
            }
            #[cfg(target_arch = "x86_64")]
            ShortGmac::Fused(t, p, _) => {
                Some(x86::pclmul::gmac_fused((t, p), rk, powers, nonce, parts, b))
            }
            _ => None,
        }
    }

    /// Whether a batch message of `len` bytes goes through
    /// [`Backend::gmac_pair`] with another rather than one-shot: where this
    /// backend has the paired kernel, for the whole-block lengths its tag
    /// says (where the pair beats two one-shot calls: docs/tuning.md,
    /// "Paired short GMAC in batches").
    #[inline]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_pair_pays(&self, len: usize) -> bool {
        match self.gmac_pair {
            GmacPair::None => false,
            #[cfg(target_arch = "x86_64")]
            GmacPair::Vaes256(_, _, min, max) => {
                len.is_multiple_of(16) && (min..=max).contains(&len)
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
            GmacPair::Vaes256(v, p, ..) => {
                x86::gmac_pair::gmac_pair((v, p), rk, powers, j0, a, b, len)
            }
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
            Sha256::Portable => portable::sha256::compress(state, blocks),
            #[cfg(target_arch = "x86_64")]
            Sha256::ShaNi(t) => x86::shani::compress(t, state, blocks),
            #[cfg(target_arch = "aarch64")]
            Sha256::Armv8(t) => aarch64::sha2::compress(t, state, blocks),
        }
    }
}

impl Backend {
    /// Runs `task` with this backend's AES lanes kernel; `mean_blocks`
    /// (the batch's mean blocks per job) picks between widths where a
    /// kernel's fixed costs favour the narrower one on short messages.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn aes_lanes<T: AesLaneTask>(&self, task: T, mean_blocks: usize) -> T::Output {
        match self.aes_lanes {
            AesLanes::Portable => task.run::<1>(|keys, state, data, m| {
                let mut rk: RoundKeys = core::array::from_fn(|r| keys.0[r][0]);
                portable::aes::cbc_mac_blocks(&rk, &mut state[0], &data[0][..16 * m]);
                crate::wipe::wipe(&mut rk);
                data[0] = &data[0][16 * m..];
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::AesNi8(t) => task.run(move |keys, state, data, m| {
                x86::aesni_lanes::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes16(t) => task.run(move |keys, state, data, m| {
                x86::vaes_lanes::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, ymm_below) if mean_blocks < ymm_below => {
                task.run(move |keys, state, data, m| {
                    x86::vaes_lanes::cbc_mac_lanes(t.ymm(), keys, state, data, m);
                })
            }
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, _) => task.run(move |keys, state, data, m| {
                x86::vaes512_lanes::cbc_mac_lanes(t, keys, state, data, m);
            }),
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(t) => task.run(move |keys, state, data, m| {
                aarch64::aes_lanes::cbc_mac_lanes(t, keys, state, data, m);
            }),
        }
    }

    /// Runs `task` with this backend's SHA-256 lanes kernel.
    pub(crate) fn sha_lanes<T: ShaLaneTask>(&self, task: T) -> T::Output {
        match self.sha_lanes {
            ShaLanes::Sha256 => {}
            #[cfg(target_arch = "x86_64")]
            ShaLanes::Avx2x8(t) => {
                return task.run(move |state, data, m| {
                    x86::sha256_lanes::ymm::compress_lanes(t, state, data, m);
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
                    x86::sha256_lanes::zmm::compress_lanes(t, state, data, m);
                })
            }
        }
        match self.sha256 {
            Sha256::Portable => task.run::<1>(|state, data, m| {
                portable::sha256::compress(&mut state[0], &data[0][..64 * m]);
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
