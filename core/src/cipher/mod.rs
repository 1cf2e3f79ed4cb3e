//! The SMB3 ciphers: AES-128-CCM, AES-128-GCM, AES-256-CCM and AES-256-GCM
//! (MS-SMB2 2.2.3.1.2 cipher ids 1-4), as in-place AEADs over messages held
//! in one buffer or several (scatter-gather).
//!
//! SMB's parameters, the only ones taken: a 16-byte tag for both modes; GCM
//! with a 12-byte nonce (NIST SP 800-38D, `J0 = nonce || 0^31 || 1`); CCM
//! (SP 800-38C) with an 11-byte nonce, so a 4-byte length field (L = 4) and
//! messages below 2^32 bytes.
//!
//! A failed [`Key::open_in_place`] returns [`Error::AuthenticationFailed`]
//! with the ciphertext in the buffer. GCM checks the tag over the ciphertext
//! first and decrypts only if it matches, so its buffer never holds
//! unverified plaintext. CCM must decrypt to check: it decrypts in the
//! caller's buffer and, on a bad tag, encrypts it back before returning, so
//! while the call runs the buffer holds unverified plaintext. Do not let
//! another thread or process read a CCM buffer during `open_in_place`.
//!
//! ```
//! use smbsign::cipher::{Cipher, Key};
//!
//! let key = Key::new(Cipher::Aes128Gcm, &[7; 16])?;
//! let nonce = [1u8; 12];
//! let aad = [0u8; 32];
//! let mut msg = *b"an SMB2 message";
//! let tag = key.seal_in_place(&nonce, &aad, &mut [&mut msg[..]])?;
//! assert_ne!(&msg, b"an SMB2 message");
//! key.open_in_place(&nonce, &aad, &mut [&mut msg[..]], &tag)?;
//! assert_eq!(&msg, b"an SMB2 message");
//! # Ok::<(), smbsign::Error>(())
//! ```

pub(crate) mod ccm;
mod gcm;
pub(crate) mod parts;

use zeroize::Zeroize;

use crate::backend::layout::AesKey;
use crate::backend::{self, Backend, HPowers};
use crate::error::{Error, Result};
use crate::scrub;

/// Tag length in bytes, both modes.
pub const TAG_LEN: usize = 16;

/// An SMB3 cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// AES-128-CCM, SMB2 cipher id 1 (SMB 3.0, 3.0.2, 3.1.1).
    Aes128Ccm,
    /// AES-128-GCM, cipher id 2 (SMB 3.1.1).
    Aes128Gcm,
    /// AES-256-CCM, cipher id 3 (SMB 3.1.1).
    Aes256Ccm,
    /// AES-256-GCM, cipher id 4 (SMB 3.1.1).
    Aes256Gcm,
}

impl Cipher {
    /// Every cipher, in cipher-id order.
    pub const ALL: [Cipher; 4] = [
        Cipher::Aes128Ccm,
        Cipher::Aes128Gcm,
        Cipher::Aes256Ccm,
        Cipher::Aes256Gcm,
    ];

    /// The cipher with SMB2 cipher id `id` (1-4), or [`Error::UnknownCipher`].
    pub fn from_id(id: u16) -> Result<Cipher> {
        match id {
            1 => Ok(Cipher::Aes128Ccm),
            2 => Ok(Cipher::Aes128Gcm),
            3 => Ok(Cipher::Aes256Ccm),
            4 => Ok(Cipher::Aes256Gcm),
            _ => Err(Error::UnknownCipher(id)),
        }
    }

    /// The SMB2 cipher id.
    #[must_use]
    pub fn id(self) -> u16 {
        match self {
            Cipher::Aes128Ccm => 1,
            Cipher::Aes128Gcm => 2,
            Cipher::Aes256Ccm => 3,
            Cipher::Aes256Gcm => 4,
        }
    }

    /// Parses a name as [`Cipher::name`] gives it (ASCII case ignored), or
    /// [`Error::UnknownCipherName`].
    pub fn from_name(s: &str) -> Result<Cipher> {
        Cipher::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or(Error::UnknownCipherName)
    }

    /// `"aes-128-ccm"`, `"aes-128-gcm"`, `"aes-256-ccm"` or `"aes-256-gcm"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes128Ccm => "aes-128-ccm",
            Cipher::Aes128Gcm => "aes-128-gcm",
            Cipher::Aes256Ccm => "aes-256-ccm",
            Cipher::Aes256Gcm => "aes-256-gcm",
        }
    }

    /// Key length in bytes: 16 or 32.
    #[must_use]
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Ccm | Cipher::Aes128Gcm => 16,
            Cipher::Aes256Ccm | Cipher::Aes256Gcm => 32,
        }
    }

    /// Nonce length in bytes as SMB uses it: CCM 11, GCM 12.
    #[must_use]
    pub fn nonce_len(self) -> usize {
        if self.is_gcm() {
            gcm::NONCE_LEN
        } else {
            ccm::NONCE_LEN
        }
    }

    /// The longest message (plaintext) one nonce protects: GCM 2^36 - 32
    /// bytes (2^32 - 2 counter blocks), CCM with L = 4 2^32 - 1 bytes.
    #[must_use]
    pub fn max_message_len(self) -> u64 {
        if self.is_gcm() {
            gcm::MAX_LEN
        } else {
            ccm::MAX_LEN
        }
    }

    /// Whether this is AES-128-GCM or AES-256-GCM.
    #[must_use]
    pub fn is_gcm(self) -> bool {
        matches!(self, Cipher::Aes128Gcm | Cipher::Aes256Gcm)
    }
}

impl core::fmt::Display for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A cipher key: the expanded AES key and, for GCM, the powers of the hash
/// key the backend's GHASH kernel aggregates over, computed once; the
/// backend it was made with. Zeroized on drop.
#[derive(Clone)]
pub struct Key {
    cipher: Cipher,
    aes: AesKey,
    /// GCM only.
    powers: Option<Box<HPowers>>,
    backend: Backend,
}

impl Key {
    /// Expands `key` for `cipher` with the process-wide backend
    /// ([`backend::active`]); [`Error::KeyLength`] unless `key` is
    /// [`Cipher::key_len`] bytes.
    pub fn new(cipher: Cipher, key: &[u8]) -> Result<Key> {
        Key::with_backend(cipher, key, backend::active())
    }

    /// Like [`Key::new`], for an explicit backend.
    pub fn with_backend(cipher: Cipher, key: &[u8], backend: Backend) -> Result<Key> {
        if key.len() != cipher.key_len() {
            return Err(Error::KeyLength {
                expected: cipher.key_len(),
                got: key.len(),
            });
        }
        Ok(scrub::after(
            scrub::Bytes::cipher_key(cipher.is_gcm()),
            || {
                let aes = backend.cipher_key(key);
                let powers = cipher.is_gcm().then(|| {
                    let mut h = [0u8; 16];
                    backend.cipher_block(&aes, &mut h);
                    let mut hv = crate::mac::gmac::mul_x(u128::from_be_bytes(h));
                    let p = Box::new(backend.ghash_powers(hv));
                    h.zeroize();
                    hv.zeroize();
                    p
                });
                Key {
                    cipher,
                    aes,
                    powers,
                    backend,
                }
            },
        ))
    }

    /// The cipher.
    #[must_use]
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The expanded AES key (the batches' lanes kernels load it).
    pub(crate) fn aes(&self) -> &AesKey {
        &self.aes
    }

    /// Whether this is a GCM key (else CCM).
    pub(crate) fn is_gcm(&self) -> bool {
        self.cipher.is_gcm()
    }

    /// The backend this key computes with.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The key material, for the stack-erasure tests (x86-64 only): round
    /// keys and GHASH powers.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(crate) fn material(&self) -> (&crate::backend::layout::CipherKeys, Option<&HPowers>) {
        (&self.aes.rk, self.powers.as_deref())
    }

    /// Checks a call's nonce and lengths (before anything is written).
    pub(crate) fn check(&self, nonce: &[u8], aad: &[u8], parts: &[&mut [u8]]) -> Result<()> {
        if nonce.len() != self.cipher.nonce_len() {
            return Err(Error::NonceLength {
                expected: self.cipher.nonce_len(),
                got: nonce.len(),
            });
        }
        let total = parts
            .iter()
            .fold(0u64, |n, p| n.saturating_add(p.len() as u64));
        if total > self.cipher.max_message_len() {
            return Err(Error::MessageLength {
                max: self.cipher.max_message_len(),
                got: total,
            });
        }
        if self.cipher.is_gcm() && aad.len() as u64 > gcm::MAX_AAD {
            return Err(Error::AadLength {
                max: gcm::MAX_AAD,
                got: aad.len() as u64,
            });
        }
        Ok(())
    }

    /// Which path a seal or open of `parts` runs (its stack depth:
    /// [`scrub::Bytes::cipher`]).
    fn path(&self, aad: &[u8], parts: &[&mut [u8]]) -> scrub::CipherPath {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        match self.powers {
            None => scrub::CipherPath::Ccm,
            Some(_) if gcm::is_short(total, aad.len()) => scrub::CipherPath::GcmShort,
            Some(_) => scrub::CipherPath::GcmLong,
        }
    }

    /// Encrypts the concatenation of `parts` in place under `nonce`
    /// ([`Cipher::nonce_len`] bytes), authenticating it and `aad`; returns
    /// the 16-byte tag. Errors ([`Error::NonceLength`],
    /// [`Error::MessageLength`], [`Error::AadLength`]) leave `parts` untouched.
    pub fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        parts: &mut [&mut [u8]],
    ) -> Result<[u8; TAG_LEN]> {
        self.check(nonce, aad, parts)?;
        let p = self.powers.as_deref();
        Ok(scrub::after(
            scrub::Bytes::cipher(&self.backend, self.path(aad, parts)),
            || match p {
                Some(p) => gcm::seal(self.backend, &self.aes, p, nonce, aad, parts),
                None => ccm::seal(self.backend, &self.aes, nonce, aad, parts),
            },
        ))
    }

    /// Verifies `tag` over `aad` and the ciphertext in `parts` and, if it
    /// matches, decrypts `parts` in place. On a tag that does not match,
    /// [`Error::AuthenticationFailed`] with `parts` holding the ciphertext
    /// (CCM: restored before the call returns; see the module doc); on the checks of
    /// [`Key::seal_in_place`], their errors with `parts` untouched.
    pub fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        parts: &mut [&mut [u8]],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        self.check(nonce, aad, parts)?;
        let p = self.powers.as_deref();
        let path = self.path(aad, parts);
        let ok = scrub::after(scrub::Bytes::cipher(&self.backend, path), || match p {
            Some(p) => gcm::open(self.backend, &self.aes, p, nonce, aad, parts, tag),
            None => ccm::open(self.backend, &self.aes, nonce, aad, parts, tag),
        });
        if ok {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed)
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // The AES key wipes itself.
        if let Some(p) = self.powers.as_deref_mut() {
            p.h.zeroize();
            p.karatsuba.zeroize();
            if let Some(w) = p.wide.as_mut() {
                w.zeroize();
            }
        }
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("cipher", &self.cipher)
            .field("tier", &self.backend.tier())
            .finish_non_exhaustive()
    }
}
