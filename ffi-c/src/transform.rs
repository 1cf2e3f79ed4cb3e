//! SMB 3.x encryption (core's `smb2::transform`): cipher key handles with
//! their nonce source, and in-place encryption and decryption of a
//! TRANSFORM_HEADER message, contiguous or over iovecs.

use core::ffi::c_int;

use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::cipher_for_dialect;
use smbsign::smb2::transform::{self, EncryptionKey, NonceSource, TransformHeader};

use crate::args::*;
use crate::error::*;

/// CipherId values of MS-SMB2 (ENCRYPTION_CAPABILITIES); 3.0 and 3.0.2 use AES-128-CCM.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smbsign_cipher {
    /// AES-128-CCM (SMB 3.0, 3.0.2, 3.1.1): 16-byte key, 11-byte nonce.
    SMBSIGN_AES_128_CCM = 1,
    /// AES-128-GCM (SMB 3.1.1): 16-byte key, 12-byte nonce.
    SMBSIGN_AES_128_GCM = 2,
    /// AES-256-CCM (SMB 3.1.1): 32-byte key, 11-byte nonce.
    SMBSIGN_AES_256_CCM = 3,
    /// AES-256-GCM (SMB 3.1.1): 32-byte key, 12-byte nonce.
    SMBSIGN_AES_256_GCM = 4,
}

/// Length of the SMB2 TRANSFORM_HEADER that precedes every encrypted message.
pub const SMBSIGN_TRANSFORM_HEADER_LEN: usize = 52;
const _: () = assert!(SMBSIGN_TRANSFORM_HEADER_LEN == transform::TRANSFORM_HEADER_LEN);

/// Length of the transform header's Nonce field (the cipher uses 11 or 12 bytes of it).
pub const SMBSIGN_NONCE_FIELD_LEN: usize = 16;
const _: () = assert!(SMBSIGN_NONCE_FIELD_LEN == transform::NONCE_FIELD_LEN);

/// An opaque cipher key: AES round keys (and GHASH key powers for GCM) plus
/// its nonce source, a 64-bit counter that never hands out a nonce twice.
/// Share it between threads freely: the counter is atomic.
pub struct smbsign_cipher_key(EncryptionKey);

/// # Safety
/// `key` must be NULL or a live handle from `smbsign_cipher_key_new`.
pub(crate) unsafe fn cipher_key_ref<'a>(
    key: *const smbsign_cipher_key,
) -> Result<&'a EncryptionKey, smbsign_status_code> {
    if key.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL live handle, per the caller's contract.
    Ok(unsafe { &(*key).0 })
}

/// # Safety
/// `out` must be valid for a write.
unsafe fn publish(
    key: EncryptionKey,
    out: *mut *mut smbsign_cipher_key,
) -> Result<(), smbsign_status_code> {
    let handle = Box::new(smbsign_cipher_key(key));
    // SAFETY: out was checked non-NULL by the caller and is writable per its contract.
    unsafe { *out = Box::into_raw(handle) };
    Ok(())
}

/// Creates a cipher key handle for `cipher` (an `smbsign_cipher` value) from
/// `key`/`key_len` (16 bytes for AES-128, 32 for AES-256), with a nonce
/// source whose fixed field and first counter value (below 2^63) are random
/// (from the OS). Released with `smbsign_cipher_key_free`.
/// Errors: NULL_POINTER, UNKNOWN_CIPHER, KEY_LENGTH, INTERNAL (no randomness).
///
/// # Safety
/// `key` must be valid for reads of `key_len` bytes; `out` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_cipher_key_new(
    cipher: u16,
    key: *const u8,
    key_len: usize,
    out: *mut *mut smbsign_cipher_key,
) -> smbsign_status {
    guard(|| {
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let c = Cipher::from_id(cipher)?;
        // SAFETY: caller contract on key/key_len.
        let k = unsafe { bytes(key, key_len)? };
        // SAFETY: out is non-NULL; caller contract.
        unsafe { publish(EncryptionKey::new(c, k)?, out) }
    })
}

/// As `smbsign_cipher_key_new`, with a chosen nonce source: fixed field
/// `fixed` (4 bytes; CCM uses the first 3) and first counter value `first`.
/// For reproducible tests, or to resume a counter: the caller then promises
/// that no nonce it yields was used with this key before.
///
/// # Safety
/// As `smbsign_cipher_key_new`; `fixed` readable for 4 bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_cipher_key_new_with_nonces(
    cipher: u16,
    key: *const u8,
    key_len: usize,
    fixed: *const u8,
    first: u64,
    out: *mut *mut smbsign_cipher_key,
) -> smbsign_status {
    guard(|| {
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let c = Cipher::from_id(cipher)?;
        // SAFETY (both): caller contract.
        let k = unsafe { bytes(key, key_len)? };
        let f = unsafe { array::<4>(fixed)? };
        let key =
            EncryptionKey::with_nonces(Key::new(c, k)?, NonceSource::with_fixed(c, *f, first));
        // SAFETY: out is non-NULL; caller contract.
        unsafe { publish(key, out) }
    })
}

/// Releases a cipher key handle, zeroizing its key material. NULL is ignored.
///
/// # Safety
/// `key` must be NULL or a handle from `smbsign_cipher_key_new*` not yet
/// freed, and no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn smbsign_cipher_key_free(key: *mut smbsign_cipher_key) {
    if key.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the handle came from Box::into_raw and is released once,
        // per the caller's contract. Dropping zeroizes.
        drop(unsafe { Box::from_raw(key) });
    });
}

/// Writes the handle's CipherId to `*out`.
///
/// # Safety
/// `key` a live handle; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_cipher_key_cipher(
    key: *const smbsign_cipher_key,
    out: *mut u16,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        // SAFETY: non-NULL, writable per the caller's contract.
        unsafe { *out = k.cipher().id() };
        Ok(())
    })
}

/// Takes the next nonce from the key's source into `out` (the 16-byte Nonce
/// field: the cipher's 11 or 12 bytes, then zeros), for callers that build
/// the header themselves. Errors: NONCE_EXHAUSTED after 2^64 - 1 nonces.
///
/// # Safety
/// `key` a live handle; `out` writable for 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_next_nonce(
    key: *const smbsign_cipher_key,
    out: *mut u8,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let n = k.nonces().next()?;
        // SAFETY: caller contract on out.
        unsafe { write_out(out, &n) }
    })
}

/// The nonce argument of the encrypt calls, copied out before any mutable
/// view of the caller's buffers exists (the nonce may point into the very
/// header being written, as after `smbsign_next_nonce(k, hdr + 20)`). NULL
/// with length 0 gives an empty nonce: the key's source.
///
/// # Safety
/// `nonce` NULL or readable for `nonce_len` bytes.
pub(crate) unsafe fn nonce_arg(
    nonce: *const u8,
    nonce_len: usize,
) -> Result<([u8; SMBSIGN_NONCE_FIELD_LEN], usize), smbsign_status_code> {
    // SAFETY: caller contract.
    let n = unsafe { bytes(nonce, nonce_len)? };
    let mut copy = [0u8; SMBSIGN_NONCE_FIELD_LEN];
    copy.get_mut(..n.len())
        .ok_or(SMBSIGN_ERR_INVALID_ARGUMENT)?
        .copy_from_slice(n);
    Ok((copy, n.len()))
}

/// Encrypts `parts` with `n` (empty: the next nonce of the key's source,
/// spent only once the message is known good).
fn encrypt_with(
    key: &EncryptionKey,
    n: &[u8],
    session_id: u64,
    parts: &mut [&mut [u8]],
) -> Result<[u8; SMBSIGN_TRANSFORM_HEADER_LEN], smbsign_status_code> {
    Ok(if n.is_empty() {
        key.encrypt_message(session_id, parts)?
    } else {
        transform::encrypt_message(key.key(), n, session_id, parts)?
    })
}

/// Encrypts in place a message laid out as it goes on the wire: `buf`/`len`
/// holds 52 bytes of room for the TRANSFORM_HEADER, then the SMB2 message (a
/// PDU or a whole compound chain, unsigned: the tag protects it). The header
/// is written with SessionId `session_id` and the tag.
/// `nonce`/`nonce_len`: NULL and 0 for the key's nonce source (the normal
/// case), or an explicit nonce of the cipher's length (11 CCM, 12 GCM) or the
/// whole 16-byte field; an explicit nonce must never have been used with this
/// key. Nothing is written on error. Errors: BAD_TRANSFORM (fewer than 52 bytes),
/// INVALID_ARGUMENT (no message, over 4 GiB - 1, or a bad nonce length),
/// NONCE_EXHAUSTED, NULL_POINTER.
///
/// # Safety
/// `key` a live handle; `nonce` NULL or readable for `nonce_len` bytes;
/// `buf` readable and writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_encrypt(
    key: *const smbsign_cipher_key,
    nonce: *const u8,
    nonce_len: usize,
    session_id: u64,
    buf: *mut u8,
    len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        let (n, n_len) = unsafe { nonce_arg(nonce, nonce_len)? };
        let b = unsafe { bytes_mut(buf, len)? };
        if b.len() < SMBSIGN_TRANSFORM_HEADER_LEN {
            return Err(SMBSIGN_ERR_BAD_TRANSFORM);
        }
        let (head, msg) = b.split_at_mut(SMBSIGN_TRANSFORM_HEADER_LEN);
        let h = encrypt_with(k, &n[..n_len], session_id, &mut [msg])?;
        head.copy_from_slice(&h);
        Ok(())
    })
}

/// Decrypts in place a whole transform message in `buf`/`len`; on success
/// the SMB2 message is at `buf + 52`, `len - 52` bytes (the header is left as
/// it was). The header is checked first, then the tag: on a bad tag `buf`
/// holds exactly what it held (ciphertext) when the call returns (CCM
/// decrypts in `buf` to check and encrypts back: do not read `buf` from
/// another thread during the call).
/// Errors: BAD_TRANSFORM (shorter than 53 bytes, not FD 'SMB', Flags not
/// 0x0001, OriginalMessageSize not `len - 52`), BAD_SIGNATURE (tag),
/// NULL_POINTER.
///
/// # Safety
/// `key` a live handle; `buf` readable and writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_decrypt(
    key: *const smbsign_cipher_key,
    buf: *mut u8,
    len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        let b = unsafe { bytes_mut(buf, len)? };
        transform::decrypt_in_place(k.key(), b)?;
        Ok(())
    })
}

/// The first iovec as the 52-byte header, the rest as the message.
fn header_and_message<'s, 'b>(
    segs: &'s mut [&'b mut [u8]],
) -> Result<
    (
        &'s mut [u8; SMBSIGN_TRANSFORM_HEADER_LEN],
        &'s mut [&'b mut [u8]],
    ),
    smbsign_status_code,
> {
    let (first, rest) = segs.split_first_mut().ok_or(SMBSIGN_ERR_INVALID_ARGUMENT)?;
    let head: &mut [u8; SMBSIGN_TRANSFORM_HEADER_LEN] = (&mut **first)
        .try_into()
        .map_err(|_| SMBSIGN_ERR_INVALID_ARGUMENT)?;
    Ok((head, rest))
}

/// `smbsign_encrypt` over iovecs in Samba's layout: `iov[0]` is exactly the
/// 52-byte TRANSFORM_HEADER (written), `iov[1..iovcnt]` the message,
/// encrypted in place. Overlapping segments, or an `iov[0]` of another
/// length, are INVALID_ARGUMENT.
///
/// # Safety
/// `iov` points to `iovcnt` iovecs whose segments are readable and writable;
/// others as `smbsign_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn smbsign_encrypt_iov(
    key: *const smbsign_cipher_key,
    nonce: *const u8,
    nonce_len: usize,
    session_id: u64,
    iov: *const iovec,
    iovcnt: c_int,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        let (n, n_len) = unsafe { nonce_arg(nonce, nonce_len)? };
        unsafe {
            with_iov_mut(iov, iovcnt, |segs| {
                let (head, msg) = header_and_message(segs)?;
                *head = encrypt_with(k, &n[..n_len], session_id, msg)?;
                Ok(())
            })
        }
    })
}

/// `smbsign_decrypt` over iovecs in Samba's layout: `iov[0]` is exactly the
/// 52-byte TRANSFORM_HEADER (read only), `iov[1..iovcnt]` the message,
/// decrypted in place (left as it was on any error).
///
/// # Safety
/// `iov` points to `iovcnt` iovecs whose segments are readable and writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_decrypt_iov(
    key: *const smbsign_cipher_key,
    iov: *const iovec,
    iovcnt: c_int,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { cipher_key_ref(key)? };
        unsafe {
            with_iov_mut(iov, iovcnt, |segs| {
                let (head, msg) = header_and_message(segs)?;
                Ok(transform::decrypt_message(k.key(), head, msg)?)
            })
        }
    })
}

/// Checks the TRANSFORM_HEADER at the start of `buf`/`len` (at least 52
/// bytes, FD 'SMB', Flags 0x0001) and writes its SessionId to `*session_id`
/// and its OriginalMessageSize to `*message_size`: what a receiver needs to
/// pick the session's key and frame the message. Either output may be NULL.
/// Errors: BAD_TRANSFORM, NULL_POINTER.
///
/// # Safety
/// `buf` readable for `len` bytes; non-NULL outputs writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_transform_header(
    buf: *const u8,
    len: usize,
    session_id: *mut u64,
    message_size: *mut u32,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let b = unsafe { bytes(buf, len)? };
        let h = TransformHeader::new(b)?;
        if !session_id.is_null() {
            // SAFETY: non-NULL, writable per the caller's contract.
            unsafe { *session_id = h.session_id() };
        }
        if !message_size.is_null() {
            // SAFETY: as above.
            unsafe { *message_size = h.original_message_size() };
        }
        Ok(())
    })
}

/// The cipher a connection of `dialect` encrypts with: AES-128-CCM for 0x0300
/// and 0x0302; for 0x0311 `negotiated`, the CipherId of ENCRYPTION_CAPABILITIES
/// (-1 when none was negotiated: such a connection does not encrypt,
/// UNKNOWN_CIPHER). Errors: UNSUPPORTED_DIALECT (2.x has no encryption),
/// UNKNOWN_CIPHER, NULL_POINTER.
///
/// # Safety
/// `out` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_cipher_for_dialect(
    dialect: u16,
    negotiated: i32,
    out: *mut u16,
) -> smbsign_status {
    guard(|| {
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        // -1 is "none"; any other int outside u16 is an id no cipher has.
        let n = match negotiated {
            -1 => None,
            v => Some(u16::try_from(v).unwrap_or(u16::MAX)),
        };
        let c = cipher_for_dialect(dialect, n)?;
        // SAFETY: non-NULL, writable per the caller's contract.
        unsafe { *out = c.id() };
        Ok(())
    })
}
