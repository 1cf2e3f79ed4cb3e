//! Dispatch for the SMB3 ciphers' AES primitives (AES-128 and AES-256: key
//! schedule, one block, CTR, CBC-MAC), one `match` on the tier tags each.
//! The signing MACs' primitives (AES-128 only) stay in `mod.rs`; these take
//! a key of either size.

#[cfg(target_arch = "aarch64")]
use super::aarch64;
#[cfg(target_arch = "x86_64")]
use super::dispatch::Ghash;
use super::dispatch::{Aes, AesLanes};
use super::layout::{inc32, AesKey, CcmLanes, CipherLaneKeys};
use super::portable;
#[cfg(target_arch = "x86_64")]
use super::x86;
use super::{Backend, HPowers};

impl Backend {
    /// Expands a 16- or 32-byte AES key (callers check the length).
    pub(crate) fn cipher_key(&self, key: &[u8]) -> AesKey {
        let mut rk = [[0u8; 16]; 15];
        let rounds = match <&[u8; 32]>::try_from(key) {
            Ok(k256) => {
                rk = match self.aes {
                    #[cfg(target_arch = "x86_64")]
                    Aes::AesNi(t) => x86::aesni_cipher::expand_key_256(t, k256),
                    // No key-schedule instruction on ARMv8; the portable
                    // expansion is constant-time and runs once per key.
                    _ => portable::aes::expand_key_256(k256),
                };
                14
            }
            Err(_) => {
                let k128: &[u8; 16] = key.try_into().expect("a 16- or 32-byte key");
                let mut short = self.expand_aes_key(k128);
                rk[..11].copy_from_slice(&short);
                crate::wipe::wipe(short.as_flattened_mut());
                10
            }
        };
        AesKey { rk, rounds }
    }

    /// Encrypts one block in place.
    pub(crate) fn cipher_block(&self, k: &AesKey, block: &mut [u8; 16]) {
        match self.aes {
            Aes::Portable => portable::aes::encrypt_block_rounds(k.used(), block),
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni_cipher::encrypt_block(t, &k.rk, k.rounds, block),
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(t) => aarch64::aes_cipher::encrypt_block(t, &k.rk, k.rounds, block),
        }
    }

    /// CBC-MAC chaining over whole blocks: `state = E(state ^ block)`.
    pub(crate) fn cipher_cbc_mac(&self, k: &AesKey, state: &mut [u8; 16], blocks: &[u8]) {
        debug_assert!(blocks.len().is_multiple_of(16));
        match self.aes {
            Aes::Portable => {
                for b in blocks.chunks_exact(16) {
                    for (s, m) in state.iter_mut().zip(b) {
                        *s ^= m;
                    }
                    portable::aes::encrypt_block_rounds(k.used(), state);
                }
            }
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni_cipher::cbc_mac(t, &k.rk, k.rounds, state, blocks),
            #[cfg(target_arch = "aarch64")]
            Aes::Armv8(t) => aarch64::aes_cipher::cbc_mac(t, &k.rk, k.rounds, state, blocks),
        }
    }

    /// XORs the CTR keystream from counter block `ctr` into `data` (any
    /// length; a partial block only at the end) and advances the counter's
    /// last 32 bits by the blocks used.
    pub(crate) fn cipher_ctr(&self, k: &AesKey, ctr: &mut [u8; 16], data: &mut [u8]) {
        // The tier's VAES token rides on its multi-buffer AES kernel: zmm on
        // the avx512 tier, ymm on the avx2 tier.
        match (self.aes, self.aes_lanes) {
            (Aes::Portable, _) => {
                for chunk in data.chunks_mut(16) {
                    let mut ks = *ctr;
                    portable::aes::encrypt_block_rounds(k.used(), &mut ks);
                    for (d, s) in chunk.iter_mut().zip(&ks) {
                        *d ^= s;
                    }
                    crate::wipe::wipe(&mut ks);
                    inc32(ctr, 1);
                }
            }
            #[cfg(target_arch = "x86_64")]
            (Aes::AesNi(_), AesLanes::Vaes32(t, _)) => {
                x86::vaes512_cipher::ctr32(t, &k.rk, k.rounds, ctr, data);
            }
            #[cfg(target_arch = "x86_64")]
            (Aes::AesNi(_), AesLanes::Vaes16(t)) => {
                x86::vaes_cipher::ctr32(t, &k.rk, k.rounds, ctr, data);
            }
            #[cfg(target_arch = "x86_64")]
            (Aes::AesNi(t), _) => x86::aesni_cipher::ctr32(t, &k.rk, k.rounds, ctr, data),
            #[cfg(target_arch = "aarch64")]
            (Aes::Armv8(t), _) => aarch64::aes_cipher::ctr32(t, &k.rk, k.rounds, ctr, data),
        }
    }
}

/// The AEAD steps over runs of a message (whole blocks, a partial block only
/// at the end), where fused kernels plug in.
impl Backend {
    /// GHASH over `data`, a partial last block zero-padded.
    pub(crate) fn gcm_hash(&self, p: &HPowers, acc: &mut u128, data: &[u8]) {
        let whole = data.len() / 16 * 16;
        self.ghash(p, acc, &data[..whole]);
        if whole < data.len() {
            let mut last = [0u8; 16];
            last[..data.len() - whole].copy_from_slice(&data[whole..]);
            self.ghash(p, acc, &last);
            crate::wipe::wipe(&mut last);
        }
    }

    /// GCM encryption of the start of a run in one stitched pass (CTR and
    /// GHASH over the ciphertext together) where the tier has such a kernel;
    /// returns the bytes done (0 elsewhere: the caller runs [`Backend::cipher_ctr`]
    /// and [`Backend::gcm_hash`] over the rest).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gcm_seal_stitched(
        &self,
        k: &AesKey,
        p: &HPowers,
        ctr: &mut [u8; 16],
        acc: &mut u128,
        data: &mut [u8],
    ) -> usize {
        match (self.aes_lanes, self.ghash) {
            #[cfg(target_arch = "x86_64")]
            (AesLanes::Vaes32(v, _), Ghash::Vpclmul512(g, _)) => {
                x86::vaes512_cipher::gcm_seal((v, g), &k.rk, k.rounds, p, ctr, acc, data)
            }
            #[cfg(target_arch = "x86_64")]
            (AesLanes::Vaes16(v), Ghash::Vpclmul256(g)) => {
                x86::vaes_cipher::gcm_seal((v, g), &k.rk, k.rounds, p, ctr, acc, data)
            }
            _ => 0,
        }
    }

    /// CCM encryption of a run: CBC-MAC over the plaintext (zero-padded), then CTR.
    pub(crate) fn ccm_seal(
        &self,
        k: &AesKey,
        state: &mut [u8; 16],
        ctr: &mut [u8; 16],
        data: &mut [u8],
    ) {
        let (whole, tail) = data.split_at_mut(data.len() / 16 * 16);
        match self.aes {
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni_cipher::ccm_seal(t, &k.rk, k.rounds, state, ctr, whole),
            _ => {
                self.ccm_mac(k, state, whole);
                self.cipher_ctr(k, ctr, whole);
            }
        }
        self.ccm_mac(k, state, tail);
        self.cipher_ctr(k, ctr, tail);
    }

    /// CCM decryption of a run: CTR, then CBC-MAC over the plaintext.
    pub(crate) fn ccm_open(
        &self,
        k: &AesKey,
        state: &mut [u8; 16],
        ctr: &mut [u8; 16],
        data: &mut [u8],
    ) {
        let (whole, tail) = data.split_at_mut(data.len() / 16 * 16);
        match self.aes {
            #[cfg(target_arch = "x86_64")]
            Aes::AesNi(t) => x86::aesni_cipher::ccm_open(t, &k.rk, k.rounds, state, ctr, whole),
            _ => {
                self.cipher_ctr(k, ctr, whole);
                self.ccm_mac(k, state, whole);
            }
        }
        self.cipher_ctr(k, ctr, tail);
        self.ccm_mac(k, state, tail);
    }

    /// CBC-MAC over `data`, a partial last block zero-padded.
    pub(crate) fn ccm_mac(&self, k: &AesKey, state: &mut [u8; 16], data: &[u8]) {
        let whole = data.len() / 16 * 16;
        self.cipher_cbc_mac(k, state, &data[..whole]);
        if whole < data.len() {
            let mut last = [0u8; 16];
            last[..data.len() - whole].copy_from_slice(&data[whole..]);
            self.cipher_cbc_mac(k, state, &last);
            crate::wipe::wipe(&mut last);
        }
    }
}

/// A computation generic over the lane count of the CCM lanes kernel the
/// backend picks; `kernel` runs the first `m` blocks of every lane's data
/// (CTR and CBC-MAC together: see `portable::ccm_lanes`); the caller advances it.
pub(crate) trait CcmLaneTask {
    type Output;
    fn run<const N: usize>(
        self,
        kernel: impl for<'a> FnMut(&CipherLaneKeys<N>, &mut CcmLanes<N>, &mut [&'a mut [u8]; N], usize),
    ) -> Self::Output;
}

/// A CCM lanes kernel, with the token that unlocks it.
#[derive(Clone, Copy)]
enum CcmKernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    AesNi8(x86::AesNi),
    #[cfg(target_arch = "x86_64")]
    Vaes16(x86::Vaes),
    #[cfg(target_arch = "x86_64")]
    Vaes32(x86::Vaes512),
    #[cfg(target_arch = "aarch64")]
    Armv8x8(aarch64::ArmAes),
}

impl Backend {
    /// The CCM lanes kernel for a pass of `jobs` messages: of this backend's
    /// AES lanes tier and the narrower ones below it (the same feature
    /// tokens), the widest whose lanes the batch fills; `None` when it fills
    /// none, the messages then go one by one (idle lanes cost as much as busy
    /// ones: docs/tuning.md, "CCM batches use the widest kernel they fill").
    /// The portable reference takes every batch.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn ccm_kernel(&self, jobs: usize) -> Option<CcmKernel> {
        #[cfg(target_arch = "x86_64")]
        let xmm = match self.aes {
            Aes::AesNi(t) if jobs >= x86::aesni_ccm_lanes::LANES => Some(CcmKernel::AesNi8(t)),
            _ => None,
        };
        match self.aes_lanes {
            AesLanes::Portable => Some(CcmKernel::Portable),
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, _) if jobs >= x86::vaes512_ccm_lanes::LANES => {
                Some(CcmKernel::Vaes32(t))
            }
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(t, _) if jobs >= x86::vaes_ccm_lanes::LANES => {
                Some(CcmKernel::Vaes16(t.ymm()))
            }
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes16(t) if jobs >= x86::vaes_ccm_lanes::LANES => Some(CcmKernel::Vaes16(t)),
            #[cfg(target_arch = "x86_64")]
            AesLanes::AesNi8(_) | AesLanes::Vaes16(_) | AesLanes::Vaes32(..) => xmm,
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(t) if jobs >= aarch64::aes_ccm_lanes::LANES => {
                Some(CcmKernel::Armv8x8(t))
            }
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(_) => None,
        }
    }

    /// Whether a CCM pass of `jobs` messages runs through a lanes kernel
    /// ([`Backend::ccm_lanes`]) rather than one message at a time.
    pub(crate) fn ccm_lanes_pay(&self, jobs: usize) -> bool {
        self.ccm_kernel(jobs).is_some()
    }

    /// Runs `task` (a pass of `jobs` messages, for which
    /// [`Backend::ccm_lanes_pay`] holds) with the CCM lanes kernel
    /// [`Backend::ccm_kernel`] picks, for keys of `rounds` rounds (10 or
    /// 14), sealing or opening.
    pub(crate) fn ccm_lanes<T: CcmLaneTask>(
        &self,
        task: T,
        jobs: usize,
        rounds: usize,
        open: bool,
    ) -> T::Output {
        match self.ccm_kernel(jobs).expect("callers check ccm_lanes_pay") {
            CcmKernel::Portable => task.run::<1>(move |keys, st, data, m| {
                portable::ccm_lanes::ccm_lanes(keys, rounds, open, st, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            CcmKernel::AesNi8(t) => task.run(move |keys, st, data, m| {
                x86::aesni_ccm_lanes::ccm_lanes(t, keys, rounds, open, st, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            CcmKernel::Vaes16(t) => task.run(move |keys, st, data, m| {
                x86::vaes_ccm_lanes::ccm_lanes(t, keys, rounds, open, st, data, m);
            }),
            #[cfg(target_arch = "x86_64")]
            CcmKernel::Vaes32(t) => task.run(move |keys, st, data, m| {
                x86::vaes512_ccm_lanes::ccm_lanes(t, keys, rounds, open, st, data, m);
            }),
            #[cfg(target_arch = "aarch64")]
            CcmKernel::Armv8x8(t) => task.run(move |keys, st, data, m| {
                aarch64::aes_ccm_lanes::ccm_lanes(t, keys, rounds, open, st, data, m);
            }),
        }
    }

    /// The widest kernel that computes batches of AES-CCM (narrower ones
    /// take batches too few to fill it; on the SIMD tiers fewer than 8 messages go one by one).
    #[must_use]
    pub fn ccm_batch_name(&self) -> &'static str {
        match self.aes_lanes {
            AesLanes::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            AesLanes::AesNi8(_) => "x86_64/aes-ni-x8",
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes16(_) => "x86_64/vaes-ymm-x16",
            #[cfg(target_arch = "x86_64")]
            AesLanes::Vaes32(..) => "x86_64/vaes-zmm-x32",
            #[cfg(target_arch = "aarch64")]
            AesLanes::Armv8x8(_) => "aarch64/aes-x8",
        }
    }
}
