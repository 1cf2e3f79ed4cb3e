//! The data layouts every kernel reads: AES round keys, GHASH key powers
//! (named and wide), the lanes' round keys, and 64-byte alignment. The
//! bottom layer of the backend: it imports nothing above it (the one token
//! it names, `x86::Gfni512`, lives with the feature tokens, below the kernels).

#[cfg(target_arch = "x86_64")]
use super::x86::Gfni512;

/// Expanded AES-128 key: 11 round keys in FIPS 197 byte order, shared by every tier.
pub(crate) type RoundKeys = [[u8; 16]; 11];

/// The most GHASH key powers any kernel aggregates over (the zmm tier: 64 blocks).
pub(crate) const MAX_POWERS: usize = 64;

/// Powers of the POLYVAL-domain hash key, highest first. A group of `n` blocks
/// multiplies by the contiguous run `h[MAX_POWERS - n..]`.
#[derive(Clone)]
#[repr(C, align(64))]
pub(crate) struct HPowers {
    /// `h[i] = H^(MAX_POWERS - i)`.
    pub(crate) h: [u128; MAX_POWERS],
    /// `karatsuba[i]` holds `lo64 ^ hi64` of `h[i]` (low half; high half
    /// zero): the Karatsuba middle operand, so wide kernels need three
    /// multiplies per block, not four.
    pub(crate) karatsuba: [u128; MAX_POWERS],
    /// The zmm tier's long-message powers `H^WIDE_BLOCKS..H^1` in the layout
    /// its wide loop reads (`x86::vpclmul512::wide_powers`); `None` on other
    /// tiers, whose keys stay small.
    pub(crate) wide: Option<WidePowers>,
}

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
    Gfni(Gfni512, Box<Aligned64<[u128; WIDE_BLOCKS]>>),
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

/// Round keys of the jobs in a lanes kernel, round-major:
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

/// Round keys of the jobs in a cipher lanes kernel (AES-128 or AES-256, the
/// same size in every lane of one call), round-major as [`LaneKeys`]:
/// `0[round][lane]`. Holds key material: zeroized on drop.
#[repr(C, align(64))]
pub(crate) struct CipherLaneKeys<const N: usize>(pub(crate) [[[u8; 16]; N]; 15]);

impl<const N: usize> CipherLaneKeys<N> {
    pub(crate) fn new() -> Self {
        CipherLaneKeys([[[0; 16]; N]; 15])
    }

    /// Loads `k`'s round keys into lane `lane`.
    pub(crate) fn set(&mut self, lane: usize, k: &AesKey) {
        for (round, rk) in k.rk.iter().enumerate() {
            self.0[round][lane] = *rk;
        }
    }
}

impl<const N: usize> Drop for CipherLaneKeys<N> {
    fn drop(&mut self) {
        crate::wipe::wipe(self.0.as_flattened_mut().as_flattened_mut());
    }
}

/// The per-lane state of a CCM lanes kernel, one array per field so that
/// adjacent lanes are contiguous (a ymm register's two, a zmm register's
/// four): the CBC-MAC chaining value, the counter block (big-endian, as
/// SP 800-38C writes it), and the mask the kernel ANDs into the keystream
/// before the CBC-MAC reads `data ^ (keystream & mask)` when opening (all
/// ones over ciphertext, zero over blocks that are only MACed, the first
/// bytes only over a zero-padded last block). Key-dependent: zeroized on drop.
#[repr(C, align(64))]
pub(crate) struct CcmLanes<const N: usize> {
    pub(crate) mac: [[u8; 16]; N],
    pub(crate) ctr: [[u8; 16]; N],
    pub(crate) mask: [[u8; 16]; N],
}

impl<const N: usize> CcmLanes<N> {
    pub(crate) fn new() -> Self {
        CcmLanes {
            mac: [[0; 16]; N],
            ctr: [[0; 16]; N],
            mask: [[0; 16]; N],
        }
    }
}

impl<const N: usize> Drop for CcmLanes<N> {
    fn drop(&mut self) {
        crate::wipe::wipe(self.mac.as_flattened_mut());
        crate::wipe::wipe(self.ctr.as_flattened_mut());
    }
}

/// The start of each lane's (mutable) data for a cipher lanes kernel
/// call, after checking that every lane holds at least `bytes`.
pub(crate) fn lane_ptrs_mut<const N: usize>(
    data: &mut [&mut [u8]; N],
    bytes: usize,
) -> [*mut u8; N] {
    for d in data.iter() {
        assert!(d.len() >= bytes);
    }
    core::array::from_fn(|l| data[l].as_mut_ptr())
}

/// The start of each lane's data for a lanes kernel call, after
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

/// Round keys of AES-128 (the first 11 used) or AES-256 (all 15), FIPS 197 byte order.
pub(crate) type CipherKeys = [[u8; 16]; 15];

/// An expanded AES-128 or AES-256 key. Zeroized on drop.
#[derive(Clone)]
pub(crate) struct AesKey {
    pub(crate) rk: CipherKeys,
    /// 10 (AES-128) or 14 (AES-256).
    pub(crate) rounds: usize,
}

impl AesKey {
    /// The round keys in use.
    pub(crate) fn used(&self) -> &[[u8; 16]] {
        &self.rk[..=self.rounds]
    }
}

impl Drop for AesKey {
    fn drop(&mut self) {
        crate::wipe::wipe(self.rk.as_flattened_mut());
    }
}

/// Calls the kernel `$f`, generic over the round count, with `$rounds`
/// (14: AES-256, else 10: AES-128).
macro_rules! with_rounds {
    ($rounds:expr, $f:ident($($arg:expr),*)) => {
        if $rounds == 14 {
            $f::<14>($($arg),*)
        } else {
            $f::<10>($($arg),*)
        }
    };
}
pub(crate) use with_rounds;

/// Adds `n` to the big-endian 32-bit counter in the last four bytes (mod 2^32).
pub(crate) fn inc32(ctr: &mut [u8; 16], n: u32) {
    let c = u32::from_be_bytes([ctr[12], ctr[13], ctr[14], ctr[15]]).wrapping_add(n);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}
