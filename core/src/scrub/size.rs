//! The stack-erasure size table: how deep each kind of entry point writes
//! below its caller's stack pointer, per kernel (measured by `tests.rs`).

use crate::backend::Backend;
#[cfg(target_arch = "x86_64")]
use crate::backend::{Aes, Ghash, Sha256, ShortGmac};

/// How many bytes below the caller's stack pointer each kind of entry point
/// uses, per kernel. Measured by the `tests` below (`SMBSIGN_SCRUB_REPORT=1`
/// prints every entry point's depth without erasure) in the test and the
/// release profile (Intel Xeon, rustc 1.95; the numbers in each comment are
/// the deeper of the two); each size is that depth plus at least 25% (and
/// 256 bytes), rounded up to 64, as headroom for other compilers' inlining.
/// Not larger: zeroing lines the call never touched costs cache misses.
/// ARMv8 is not measured here: it gets the portable tier's sizes, larger
/// than those of every x86 kernel but the zmm GMAC.
pub(crate) struct Bytes;

/// Which path an SMB3 cipher's seal or open takes, for [`Bytes::cipher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CipherPath {
    /// GCM's short path (one CTR call from J0, one GHASH call).
    GcmShort,
    /// GCM past its short path.
    GcmLong,
    /// CCM.
    Ccm,
}

impl Bytes {
    /// HMAC-SHA256: key setup, a one-shot MAC or verify, a state update or
    /// finalisation (deepest: portable 1220, SHA-NI 1056; at every length).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn hmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.sha256, Sha256::ShaNi(_)) {
            return 1344;
        }
        1536
    }

    /// AES-CMAC: key setup, a one-shot MAC or verify, a state update or
    /// finalisation (portable 616, AES-NI 472).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn cmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.aes, Aes::AesNi(_)) {
            return 640;
        }
        832
    }

    /// AES-GMAC: a one-shot MAC or verify of `len` bytes, a state's start
    /// or finalisation (`len` 0: one block of AES, at most three of GHASH),
    /// or update. By the kernel the length picks (the tests cover each
    /// class): short messages (up to `pclmul::SHORT_MAX`: xmm and ymm 192,
    /// zmm 128; a finalisation 416) except those the zmm tier keeps from the
    /// xmm kernel (AMD, 49 to 128 bytes: 848 on Zen 5), the xmm fused kernel
    /// at any length (608) and the ymm one to one group
    /// (`vpclmul256::ONE_GROUP_MAX`: 624) and beyond (1296; Samba's parts
    /// 1456); the zmm kernel to 1024 (1008) and its long-message loop beyond
    /// (2000); portable 1440.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac(b: &Backend, len: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        match b.ghash {
            Ghash::Portable => {}
            // Where the zmm tier takes short messages itself (AMD: past
            // `tuning::ZMM_GMAC_XMM_MAX_OTHER`), its masked kernel is deeper
            // than the xmm one (Zen 5: 848 at 64 bytes).
            Ghash::Vpclmul512(..) if len > zmm_xmm_max(b) && len <= 1024 => return 1280,
            _ if len <= crate::backend::x86::pclmul::SHORT_MAX => return 576,
            Ghash::Pclmul(_) => return 1024,
            Ghash::Vpclmul256(_) if len <= crate::backend::x86::vpclmul256::ONE_GROUP_MAX => {
                return 1024
            }
            Ghash::Vpclmul256(_) => return 1856,
            Ghash::Vpclmul512(..) if len <= 1024 => return 1280,
            Ghash::Vpclmul512(..) => return 2560,
        }
        2048
    }

    /// AES-GMAC over parts of `len` bytes in all that the fused kernels read
    /// as they lie (whole-block parts, then one of any length: Samba's
    /// three; `gmac::Key::mac_parts`, `mac_vectored`), no gathering: as
    /// [`Bytes::gmac`], and at least the multi-part fused kernels' frames
    /// (test profile: xmm 752 and ymm 752 to one group, 1456 beyond; zmm
    /// 704 to 112 bytes, 976 to 1024).
    /// Where no fused kernel takes several parts (the portable tier, ARMv8),
    /// they stream: [`Bytes::gmac_parts`].
    pub(crate) fn gmac_fused_parts(b: &Backend, len: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        if !matches!(b.ghash, Ghash::Portable) {
            return Bytes::gmac(b, len).max(1024);
        }
        let _ = len;
        Bytes::gmac_parts(b)
    }

    /// AES-GMAC over parts (`gmac::Key::mac_parts`, `mac_vectored`): the
    /// gathering of straddling blocks and the multi-part fused kernels sit
    /// on top of [`Bytes::gmac`]'s frames (deepest seen in the test profile:
    /// portable 2489, xmm and ymm 2080, zmm 3072; 1.5x of that here, the
    /// release profile unmeasured).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_parts(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        match b.ghash {
            Ghash::Portable => {}
            Ghash::Pclmul(_) | Ghash::Vpclmul256(_) => return 3136,
            Ghash::Vpclmul512(..) => return 4608,
        }
        3776
    }

    /// AES-GMAC key setup: round keys and key powers (11240 on every tier
    /// in one profile or the other). Once per key.
    pub(crate) const GMAC_KEY: usize = 16384;

    /// An SMB3 cipher's seal or open (`cipher::Key`) on `path`, a message
    /// in parts included (`cipher::parts::walk` adds its 512-byte gather
    /// buffer past GCM's short path). Deepest seen on Zen 5 (test / release
    /// profile): zmm tier GCM long 3472 / 3504, short 1488 / 1144, CCM 1808
    /// / 2192; avx2 tier GCM long 2904 / 2896 (its stitched seal); aesni tier
    /// GCM long 2064 / 2216; aesni and avx2 CCM 2136 / 2552; portable GCM
    /// long 2160 / 2296, short 1648 / 1496, CCM 1844 / 2280. GCM's short
    /// path on the aesni and avx2 tiers (deepest 1528 / 1768, Zen 5 and
    /// Xeon) keeps less than the usual headroom so that it erases under 2
    /// KiB, by 32-byte stores and not `rep stosb`, whose start alone costs
    /// 25-45 ns on Zen 3 (a 64-byte seal there: 181-202 -> 143-170 ns).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn cipher(b: &Backend, path: CipherPath) -> usize {
        #[cfg(target_arch = "x86_64")]
        match (b.ghash, path) {
            (Ghash::Vpclmul512(..), CipherPath::GcmLong) => return 4416,
            (Ghash::Vpclmul512(..), CipherPath::Ccm) => return 2752,
            (Ghash::Vpclmul512(..), CipherPath::GcmShort) => return 1920,
            (Ghash::Vpclmul256(_), CipherPath::GcmLong) => return 3648,
            (Ghash::Pclmul(_) | Ghash::Vpclmul256(_), CipherPath::GcmShort) => return 1984,
            _ => {}
        }
        3200
    }

    /// An SMB3 cipher's key setup: GCM's hash-key powers (deepest 13512, the
    /// zmm tier's wide powers), CCM's AES schedule (portable 3260).
    pub(crate) fn cipher_key(gcm: bool) -> usize {
        if gcm {
            17152
        } else {
            4352
        }
    }

    /// A PDU or compound chain of `len` bytes in all signed or verified, or
    /// a `SigningKey` MAC: the MAC under the chain walk, which alone takes
    /// about 900 bytes (HMAC: portable 2040, SHA-NI 1856; CMAC: portable
    /// 1800, AES-NI 1496; GMAC, a lone header: 1488; else xmm and ymm 2480,
    /// zmm to 1024 bytes 2352 and beyond 3200; portable 2624). This is the
    /// HMAC-SHA256 case ([`Bytes::pdu_cmac`] and [`Bytes::pdu_gmac`] the others).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn pdu_hmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.sha256, Sha256::ShaNi(_)) {
            return 2368;
        }
        2560
    }

    /// See [`Bytes::pdu_hmac`]: AES-CMAC.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn pdu_cmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.aes, Aes::AesNi(_)) {
            return 1920;
        }
        2304
    }

    /// See [`Bytes::pdu_hmac`]: AES-GMAC.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn pdu_gmac(b: &Backend, len: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        match b.ghash {
            Ghash::Portable => {}
            _ if len <= 64 => return 1920,
            Ghash::Vpclmul512(..) if len > 1024 => return 4032,
            _ => return 3136,
        }
        3328
    }

    /// A batch or PDU batch call, whatever the backends of its keys: the
    /// deepest lane kernel and batch glue (16592), once per call.
    pub(crate) const BATCH: usize = 20736;

    /// A cipher batch's CCM lanes pass (`batch::seal`, `batch::open`),
    /// whatever the backends of its keys: the CCM lanes kernels and the batch
    /// glue, once per call (deepest: the zmm kernel opening with AES-256
    /// keys, 24000 in the test profile; the GCM jobs erase their own).
    pub(crate) const CIPHER_BATCH: usize = 30016;

    /// A batch of GMAC jobs only (no lane kernel ran: the paired or the
    /// one-shot GMAC kernels; 2224).
    pub(crate) const GMAC_BATCH: usize = 2816;

    /// A `batch::sign` or `batch::verify`: [`Bytes::BATCH`] if a lane kernel
    /// ran, else [`Bytes::GMAC_BATCH`].
    pub(crate) fn batch(lanes: bool) -> usize {
        if lanes {
            Bytes::BATCH
        } else {
            Bytes::GMAC_BATCH
        }
    }

    /// A key derivation: HMAC key setup and one MAC per 32 output bytes
    /// (portable 1416, SHA-NI 1088).
    pub(crate) fn kdf(b: &Backend) -> usize {
        Bytes::hmac(b) + 512
    }
}

/// The longest one-part GMAC message the zmm tier gives to the xmm short
/// kernel (`ShortGmac::FusedZmm`'s limit).
#[cfg(target_arch = "x86_64")]
fn zmm_xmm_max(b: &Backend) -> usize {
    match b.short_gmac {
        ShortGmac::FusedZmm(_, _, max) => max,
        _ => crate::backend::x86::pclmul::SHORT_MAX,
    }
}
