//! SMB 3.x encryption: the SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41), a typed
//! view of it, and the in-place encryption and decryption of the message it
//! carries (MS-SMB2 3.1.4.3, 3.2.5.1.1.1, 3.3.5.2.1.1), over iovecs.
//!
//! ```text
//!  0  ProtocolId            FD 'S' 'M' 'B'
//!  4  Signature (16)        the AEAD tag
//! 20  Nonce (16)            11 bytes used by CCM, 12 by GCM; the rest padding
//! 36  OriginalMessageSize   u32 LE: the length of the message that follows
//! 40  Reserved (2)
//! 42  Flags (2)             0x0001 Encrypted (3.0/3.0.2: EncryptionAlgorithm, AES-128-CCM = 1)
//! 44  SessionId (8)
//! ```
//! The AAD is bytes 20..52 (Nonce to SessionId); the plaintext is the SMB2
//! message, a lone PDU or a whole compound chain, encrypted as the caller
//! hands it over. Its PDUs go unsigned (the tag protects them all): the
//! caller clears their signatures first ([`super::encryption::clear_signatures`]),
//! and a receiver ignores what they say ([`super::encryption`]).
//!
//! What a reader refuses, and what it accepts (as Samba's
//! `smb2_signing_decrypt_pdu` and MS-SMB2 3.2.5.1.1.1 / 3.3.5.2.1.1 do):
//! - refused before the tag is checked: a header alone (MS-SMB2 disconnects a
//!   message "not greater than" the header; [`Error::TransformTruncated`]), a
//!   ProtocolId other than `FD 'SMB'`, Flags other than 0x0001, an
//!   OriginalMessageSize below [`MIN_MESSAGE_LEN`] (64, the SMB2 header:
//!   what is encrypted is an SMB2 message, and a receiver disconnects on one
//!   shorter than its header, MS-SMB2 3.3.5.2.6; [`Error::OriginalSizeTooSmall`]),
//!   and an OriginalMessageSize other than the length that follows (Samba's
//!   check; the spec leaves it to the transport's framing);
//! - accepted as sent: the nonce's padding bytes and Reserved. Both are in the
//!   AAD, so a change fails the tag; and Windows 8 itself sent non-zero
//!   padding (Microsoft's SMB 3.0 example, `tests/vectors/smb-transform-microsoft.txt`).
//!   A writer zeroes both.
//!
//! - refused after decryption, by [`super::encryption::check_decrypted`]
//!   (which the caller runs on the plaintext: this module moves bytes and
//!   does not parse them): a nested transform, and a PDU whose SessionId is
//!   not the header's.
//!
//! A writer refuses a message shorter than [`MIN_MESSAGE_LEN`]
//! ([`Error::MessageTooShort`]), for the same reason: no receiver takes it.
//! This layer does not compress: a compressed message (`FC 'SMB'`, which
//! MS-SMB2 3.1.4.3 encrypts after compressing) is held to the same 64 bytes,
//! which only a message that compressed below its own SMB2 header misses.
//!
//! On a bad tag decryption returns with the buffers holding the ciphertext
//! again, exactly as they came (the cipher layer's `open_in_place` contract;
//! CCM decrypts in the buffers and encrypts back before returning, so during
//! the call they hold unverified plaintext), and nothing else was written.
//!
//! Which key: the client encrypts with the client-to-server key and decrypts
//! with the server-to-client key, the server the other way round
//! ([`super::session_cipher_keys`]).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::cipher::{Cipher, Key};
use crate::error::{Error, Result};

/// Length of the SMB2 TRANSFORM_HEADER.
pub const TRANSFORM_HEADER_LEN: usize = 52;
/// The ProtocolId a TRANSFORM_HEADER starts with.
pub const TRANSFORM_PROTOCOL_ID: [u8; 4] = [0xFD, b'S', b'M', b'B'];
/// Flags/EncryptionAlgorithm: `SMB2_TRANSFORM_HEADER_FLAG_ENCRYPTED` (3.1.1),
/// `SMB2_ENCRYPTION_AES128_CCM` (3.0, 3.0.2): the same value.
pub const TRANSFORM_FLAGS_ENCRYPTED: u16 = 0x0001;
/// Length of the Nonce field; a cipher uses its first [`Cipher::nonce_len`] bytes.
pub const NONCE_FIELD_LEN: usize = 16;
/// The bytes of the header that are the AEAD's associated data.
pub const AAD: core::ops::Range<usize> = NONCE_OFFSET..TRANSFORM_HEADER_LEN;
/// The longest message one transform carries (OriginalMessageSize is 32 bits).
pub const MAX_MESSAGE_LEN: usize = u32::MAX as usize;
/// The shortest message one transform carries: an SMB2 header (64 bytes).
pub const MIN_MESSAGE_LEN: usize = super::header::HEADER_LEN;

const SIGNATURE_OFFSET: usize = 4;
const NONCE_OFFSET: usize = 20;
const SIZE_OFFSET: usize = 36;
const RESERVED_OFFSET: usize = 40;
const FLAGS_OFFSET: usize = 42;
const SESSION_ID_OFFSET: usize = 44;

/// A checked view of a TRANSFORM_HEADER: ProtocolId and Flags verified once,
/// so the accessors cannot fail. OriginalMessageSize is not checked by
/// [`TransformHeader::new`] (it reads the header alone); it is checked
/// against the message (at least [`MIN_MESSAGE_LEN`], and equal to the
/// length that follows) by [`TransformHeader::parse`] and [`decrypt_message`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransformHeader<'a> {
    h: &'a [u8; TRANSFORM_HEADER_LEN],
}

impl<'a> TransformHeader<'a> {
    /// The header at the start of `buf` ([`Error::TransformTruncated`] if
    /// shorter than 52 bytes, [`Error::BadTransformProtocolId`],
    /// [`Error::BadTransformFlags`]).
    pub fn new(buf: &'a [u8]) -> Result<TransformHeader<'a>> {
        let h: &[u8; TRANSFORM_HEADER_LEN] = buf
            .get(..TRANSFORM_HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::TransformTruncated { len: buf.len() })?;
        if h[..4] != TRANSFORM_PROTOCOL_ID {
            return Err(Error::BadTransformProtocolId);
        }
        let v = TransformHeader { h };
        if v.flags() != TRANSFORM_FLAGS_ENCRYPTED {
            return Err(Error::BadTransformFlags(v.flags()));
        }
        Ok(v)
    }

    /// A whole transform message: its header and the encrypted message after
    /// it, whose length must be OriginalMessageSize, itself at least
    /// [`MIN_MESSAGE_LEN`] ([`Error::TransformTruncated`] for no message at
    /// all, [`Error::OriginalSizeTooSmall`], [`Error::TransformSizeMismatch`]).
    pub fn parse(msg: &'a [u8]) -> Result<(TransformHeader<'a>, &'a [u8])> {
        let h = TransformHeader::new(msg)?;
        let body = &msg[TRANSFORM_HEADER_LEN..];
        h.check_size(body.len())?;
        Ok((h, body))
    }

    /// That a message of `len` bytes is the one this header announces.
    pub(crate) fn check_size(&self, len: usize) -> Result<()> {
        if len == 0 {
            return Err(Error::TransformTruncated {
                len: TRANSFORM_HEADER_LEN,
            });
        }
        let original = self.original_message_size();
        if usize::try_from(original).is_ok_and(|o| o < MIN_MESSAGE_LEN) {
            return Err(Error::OriginalSizeTooSmall { original });
        }
        if usize::try_from(self.original_message_size()) != Ok(len) {
            return Err(Error::TransformSizeMismatch {
                original: self.original_message_size(),
                got: len,
            });
        }
        Ok(())
    }

    /// The 52 header bytes.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8; TRANSFORM_HEADER_LEN] {
        self.h
    }

    /// Signature: the AEAD tag.
    #[must_use]
    pub fn signature(&self) -> &'a [u8; 16] {
        self.h[SIGNATURE_OFFSET..NONCE_OFFSET].try_into().unwrap()
    }

    /// The whole 16-byte Nonce field, padding included.
    #[must_use]
    pub fn nonce_field(&self) -> &'a [u8; NONCE_FIELD_LEN] {
        self.h[NONCE_OFFSET..SIZE_OFFSET].try_into().unwrap()
    }

    /// The nonce `cipher` uses: the first 11 (CCM) or 12 (GCM) bytes of the field.
    #[must_use]
    pub fn nonce(&self, cipher: Cipher) -> &'a [u8] {
        &self.nonce_field()[..cipher.nonce_len()]
    }

    /// OriginalMessageSize.
    #[must_use]
    pub fn original_message_size(&self) -> u32 {
        u32::from_le_bytes(self.h[SIZE_OFFSET..RESERVED_OFFSET].try_into().unwrap())
    }

    /// Reserved (accepted as sent: it is authenticated).
    #[must_use]
    pub fn reserved(&self) -> u16 {
        u16::from_le_bytes([self.h[RESERVED_OFFSET], self.h[RESERVED_OFFSET + 1]])
    }

    /// Flags/EncryptionAlgorithm (always [`TRANSFORM_FLAGS_ENCRYPTED`] in a checked view).
    #[must_use]
    pub fn flags(&self) -> u16 {
        u16::from_le_bytes([self.h[FLAGS_OFFSET], self.h[FLAGS_OFFSET + 1]])
    }

    /// SessionId: the session whose key decrypts the message.
    #[must_use]
    pub fn session_id(&self) -> u64 {
        u64::from_le_bytes(self.h[SESSION_ID_OFFSET..].try_into().unwrap())
    }

    /// The AEAD's associated data: header bytes 20..52.
    #[must_use]
    pub fn aad(&self) -> &'a [u8; 32] {
        self.h[AAD].try_into().unwrap()
    }
}

/// Whether `buf` starts with the TRANSFORM_HEADER ProtocolId (an encrypted
/// message, as opposed to `FE 'SMB'` or the compression header's `FC 'SMB'`).
#[must_use]
pub fn is_transform(buf: &[u8]) -> bool {
    buf.starts_with(&TRANSFORM_PROTOCOL_ID)
}

/// The 16-byte Nonce field for `nonce`: either the cipher's nonce (11 bytes
/// for CCM, 12 for GCM), zero-padded, or the whole 16-byte field as a capture
/// carries it, padding included ([`Error::NonceLength`] otherwise).
pub fn nonce_field(cipher: Cipher, nonce: &[u8]) -> Result<[u8; NONCE_FIELD_LEN]> {
    let n = cipher.nonce_len();
    if nonce.len() != n && nonce.len() != NONCE_FIELD_LEN {
        return Err(Error::NonceLength {
            expected: n,
            got: nonce.len(),
        });
    }
    let mut f = [0u8; NONCE_FIELD_LEN];
    f[..nonce.len()].copy_from_slice(nonce);
    Ok(f)
}

fn total_len(parts: &[&mut [u8]]) -> usize {
    parts.iter().map(|p| p.len()).sum()
}

/// That a message of `len` bytes fits one transform: at least an SMB2 header
/// ([`Error::MessageTooShort`]), at most what OriginalMessageSize can say
/// ([`Error::MessageLength`]).
pub(crate) fn check_message_len(len: usize) -> Result<()> {
    if len < MIN_MESSAGE_LEN {
        return Err(Error::MessageTooShort {
            min: MIN_MESSAGE_LEN,
            got: len,
        });
    }
    if len > MAX_MESSAGE_LEN {
        return Err(Error::MessageLength {
            max: MAX_MESSAGE_LEN as u64,
            got: len as u64,
        });
    }
    Ok(())
}

/// Encrypts the SMB2 message spread over `parts` (a PDU or a compound chain)
/// in place under `key` and returns its TRANSFORM_HEADER, tag included.
/// `nonce` is as [`nonce_field`] takes it: the caller guarantees it was never
/// used with this key before ([`EncryptionKey::encrypt_message`] draws one
/// from a [`NonceSource`]). Refused before anything is written: a bad nonce
/// length, a message shorter than an SMB2 header ([`Error::MessageTooShort`])
/// or one over [`MAX_MESSAGE_LEN`] ([`Error::MessageLength`]). The caller
/// clears the PDUs' signatures first ([`super::encryption::clear_signatures`]):
/// an encrypted message is not signed.
pub fn encrypt_message(
    key: &Key,
    nonce: &[u8],
    session_id: u64,
    parts: &mut [&mut [u8]],
) -> Result<[u8; TRANSFORM_HEADER_LEN]> {
    let cipher = key.cipher();
    let field = nonce_field(cipher, nonce)?;
    let len = total_len(parts);
    check_message_len(len)?;
    let mut h = unsealed_header(&field, session_id, len);
    let tag = key.seal_in_place(&field[..cipher.nonce_len()], &h[AAD], parts)?;
    h[SIGNATURE].copy_from_slice(&tag);
    Ok(h)
}

/// The header's Signature field: where the tag goes.
pub(crate) const SIGNATURE: core::ops::Range<usize> = SIGNATURE_OFFSET..NONCE_OFFSET;

/// The TRANSFORM_HEADER of a message of `len` bytes (checked by
/// [`check_message_len`]) with the Nonce field `field`, Signature zero.
pub(crate) fn unsealed_header(
    field: &[u8; NONCE_FIELD_LEN],
    session_id: u64,
    len: usize,
) -> [u8; TRANSFORM_HEADER_LEN] {
    let mut h = [0u8; TRANSFORM_HEADER_LEN];
    h[..4].copy_from_slice(&TRANSFORM_PROTOCOL_ID);
    h[NONCE_OFFSET..SIZE_OFFSET].copy_from_slice(field);
    // Cannot truncate: len <= u32::MAX was checked.
    h[SIZE_OFFSET..RESERVED_OFFSET].copy_from_slice(&(len as u32).to_le_bytes());
    h[FLAGS_OFFSET..SESSION_ID_OFFSET].copy_from_slice(&TRANSFORM_FLAGS_ENCRYPTED.to_le_bytes());
    h[SESSION_ID_OFFSET..].copy_from_slice(&session_id.to_le_bytes());
    h
}

/// Decrypts in place the message spread over `parts` that `header` (the 52
/// bytes before it) announces, under `key`. The header is checked first
/// ([`TransformHeader::new`]; OriginalMessageSize must be at least
/// [`MIN_MESSAGE_LEN`] and equal the parts' total length). On a bad tag
/// ([`Error::AuthenticationFailed`]) `parts` hold the ciphertext again,
/// unchanged, when the call returns (CCM: see `cipher`). The plaintext is not
/// parsed here: run [`super::encryption::check_decrypted`] on it before use.
pub fn decrypt_message(
    key: &Key,
    header: &[u8; TRANSFORM_HEADER_LEN],
    parts: &mut [&mut [u8]],
) -> Result<()> {
    let h = TransformHeader::new(header)?;
    h.check_size(total_len(parts))?;
    key.open_in_place(h.nonce(key.cipher()), h.aad(), parts, h.signature())
}

/// [`encrypt_message`] of a contiguous buffer laid out as it goes on the
/// wire: 52 bytes of room for the header, then the message. Both are written
/// in place (nothing when it fails; [`Error::TransformTruncated`] when there
/// is no room for a header, [`Error::MessageTooShort`] for less than an SMB2
/// header after it).
pub fn encrypt_in_place(key: &Key, nonce: &[u8], session_id: u64, buf: &mut [u8]) -> Result<()> {
    if buf.len() < TRANSFORM_HEADER_LEN {
        return Err(Error::TransformTruncated { len: buf.len() });
    }
    let (head, msg) = buf.split_at_mut(TRANSFORM_HEADER_LEN);
    let h = encrypt_message(key, nonce, session_id, &mut [msg])?;
    head.copy_from_slice(&h);
    Ok(())
}

/// [`decrypt_message`] of a whole transform message in one buffer; on success
/// the SMB2 message is `buf[52..]`, returned. The header bytes are left as
/// they were.
pub fn decrypt_in_place<'b>(key: &Key, buf: &'b mut [u8]) -> Result<&'b mut [u8]> {
    TransformHeader::new(buf)?;
    let (head, msg) = buf.split_at_mut(TRANSFORM_HEADER_LEN);
    let head: &[u8; TRANSFORM_HEADER_LEN] = (&*head).try_into().unwrap();
    decrypt_message(key, head, &mut [&mut *msg])?;
    Ok(msg)
}

/// The transform message of `message` (header, then ciphertext), in a new vector.
pub fn encrypt_to_vec(key: &Key, nonce: &[u8], session_id: u64, message: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; TRANSFORM_HEADER_LEN];
    out.extend_from_slice(message);
    encrypt_in_place(key, nonce, session_id, &mut out)?;
    Ok(out)
}

/// The SMB2 message a whole transform message carries, in a new vector
/// (on a bad tag the copy holds only ciphertext again, and is dropped).
pub fn decrypt_to_vec(key: &Key, data: &[u8]) -> Result<Vec<u8>> {
    let (h, body) = TransformHeader::parse(data)?;
    let mut out = body.to_vec();
    decrypt_message(key, h.bytes(), &mut [&mut out])?;
    Ok(out)
}

/// A source of nonces that never repeats under one key (MS-SMB2 2.2.41: a
/// nonce MUST NOT be reused within a session; for GCM one reuse gives away
/// the XOR of two plaintexts and the GHASH key, so forgeries).
///
/// The nonce is NIST SP 800-38D's deterministic construction (8.2.1): a
/// 64-bit invocation counter (little-endian, bytes 0..8, as Samba's
/// `nonce_low`) and a fixed field in the rest of the cipher's nonce (3 bytes
/// for CCM, 4 for GCM). The counter alone makes nonces unique for one
/// source. [`NonceSource::new`] draws both the fixed field and the counter's
/// start at random, against the one way a caller can still repeat nonces:
/// two sources for the same key (a key object made twice from the same
/// session key, or two processes). Starting every source at 0 would leave
/// only the 3-4 random bytes between them, and CCM sources would collide
/// after a few thousand keys; with a random start below 2^63 two sources
/// collide only if their fixed fields match and their counter ranges
/// overlap. The counter is an `AtomicU64`, so one source (and the key
/// holding it) serves any number of threads; it fails with
/// [`Error::NoncesExhausted`] at 2^64 - 1 instead of wrapping (at least 2^63
/// nonces from a new source).
///
/// A `fork()`ed child inherits the source and would continue the parent's
/// sequence: make the child's keys anew (a new source) after a fork.
#[derive(Debug)]
pub struct NonceSource {
    cipher: Cipher,
    fixed: [u8; 4],
    next: AtomicU64,
}

impl NonceSource {
    /// A source for `cipher` with a random fixed field and a random first
    /// counter value below 2^63 (both from the operating system's
    /// generator, `getrandom`).
    pub fn new(cipher: Cipher) -> Result<NonceSource> {
        let mut seed = [0u8; 12];
        getrandom::fill(&mut seed).map_err(|_| Error::RandomUnavailable)?;
        let fixed = [seed[0], seed[1], seed[2], seed[3]];
        let start = u64::from_le_bytes(seed[4..].try_into().expect("8 bytes")) >> 1;
        Ok(NonceSource::with_fixed(cipher, fixed, start))
    }

    /// A source with a chosen fixed field (only its first 3 bytes for CCM)
    /// and first counter value: for reproducible tests, or to resume a
    /// counter a caller persisted. Uniqueness is then the caller's promise.
    #[must_use]
    pub fn with_fixed(cipher: Cipher, fixed: [u8; 4], first: u64) -> NonceSource {
        NonceSource {
            cipher,
            fixed,
            next: AtomicU64::new(first),
        }
    }

    /// The cipher whose nonce length this source fills.
    #[must_use]
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The counter value the next nonce will carry.
    #[must_use]
    pub fn peek(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// The next nonce, as the 16-byte Nonce field (the cipher's nonce, then
    /// zero padding). Never the same twice from one source.
    pub fn next(&self) -> Result<[u8; NONCE_FIELD_LEN]> {
        // Relaxed is enough: uniqueness needs only the read-modify-write's atomicity.
        let c = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_add(1))
            .map_err(|_| Error::NoncesExhausted)?;
        let mut f = [0u8; NONCE_FIELD_LEN];
        f[..8].copy_from_slice(&c.to_le_bytes());
        let n = self.cipher.nonce_len();
        f[8..n].copy_from_slice(&self.fixed[..n - 8]);
        Ok(f)
    }
}

/// A session's cipher key and the nonce source bound to it, so that every
/// message it encrypts gets a fresh nonce: one counter per key, shared by
/// every thread that shares the key. Decryption needs no nonces; the same
/// type serves it. Zeroized on drop (the cipher key's own drop).
pub struct EncryptionKey {
    key: Key,
    nonces: NonceSource,
}

impl core::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("cipher", &self.cipher())
            .field("next_nonce", &self.nonces.peek())
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// A key for `cipher` (16 bytes for AES-128, 32 for AES-256) with a fresh
    /// random-fixed-field [`NonceSource`].
    pub fn new(cipher: Cipher, key: &[u8]) -> Result<EncryptionKey> {
        Ok(EncryptionKey::with_nonces(
            Key::new(cipher, key)?,
            NonceSource::new(cipher)?,
        ))
    }

    /// A key with an explicit nonce source. The source's cipher is replaced by
    /// the key's (the nonce length follows the key): a source made for another
    /// cipher is not refused, it fills the key's nonce length from its counter
    /// and the first bytes of its fixed field.
    #[must_use]
    pub fn with_nonces(key: Key, nonces: NonceSource) -> EncryptionKey {
        let nonces = NonceSource {
            cipher: key.cipher(),
            ..nonces
        };
        EncryptionKey { key, nonces }
    }

    /// The cipher.
    #[must_use]
    pub fn cipher(&self) -> Cipher {
        self.key.cipher()
    }

    /// The cipher key, for [`encrypt_message`] with an explicit nonce and for decryption.
    #[must_use]
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The nonce source.
    #[must_use]
    pub fn nonces(&self) -> &NonceSource {
        &self.nonces
    }

    /// [`encrypt_message`] with the next nonce of this key's source.
    pub fn encrypt_message(
        &self,
        session_id: u64,
        parts: &mut [&mut [u8]],
    ) -> Result<[u8; TRANSFORM_HEADER_LEN]> {
        // Validate first, so a refused message does not spend a nonce.
        check_message_len(total_len(parts))?;
        let n = self.nonces.next()?;
        encrypt_message(&self.key, &n, session_id, parts)
    }

    /// [`decrypt_message`] under this key.
    pub fn decrypt_message(
        &self,
        header: &[u8; TRANSFORM_HEADER_LEN],
        parts: &mut [&mut [u8]],
    ) -> Result<()> {
        decrypt_message(&self.key, header, parts)
    }
}
