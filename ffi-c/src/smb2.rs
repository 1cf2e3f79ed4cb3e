//! Key handles and in-place PDU signing (core's `smb2::SigningKey`,
//! `sign_pdu`, `verify_pdu`), and the MAC a signing key computes.

use core::ffi::c_int;

use smbsign::smb2::{self, Algorithm, SigningKey};

use crate::args::*;
use crate::error::*;

/// SigningAlgorithmId values of MS-SMB2 (SIGNING_CAPABILITIES).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smbsign_algorithm {
    /// HMAC-SHA256, first 16 bytes (SMB 2.0.2, 2.1).
    SMBSIGN_HMAC_SHA256 = 0,
    /// AES-128-CMAC (SMB 3.0, 3.0.2, 3.1.1 default).
    SMBSIGN_AES_CMAC = 1,
    /// AES-128-GMAC (SMB 3.1.1).
    SMBSIGN_AES_GMAC = 2,
}

/// An opaque signing key: algorithm plus precomputed state (AES round keys,
/// GHASH key powers, HMAC pad states). Immutable; share it between threads freely.
pub struct smbsign_key(SigningKey);

/// # Safety
/// `key` must be NULL or a live handle from `smbsign_key_new`.
pub(crate) unsafe fn key_ref<'a>(
    key: *const smbsign_key,
) -> Result<&'a SigningKey, smbsign_status_code> {
    if key.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL live handle, per the caller's contract.
    Ok(unsafe { &(*key).0 })
}

/// Creates a key handle for `algorithm` (an `smbsign_algorithm` value) from the
/// 16-byte SMB signing key `key`/`key_len`. On success `*out` receives the handle,
/// owned by the caller and released with `smbsign_key_free`.
/// Errors: NULL_POINTER, UNKNOWN_ALGORITHM, KEY_LENGTH.
///
/// # Safety
/// `key` must be valid for reads of `key_len` bytes; `out` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_key_new(
    algorithm: u16,
    key: *const u8,
    key_len: usize,
    out: *mut *mut smbsign_key,
) -> smbsign_status {
    guard(|| {
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let alg = Algorithm::from_id(algorithm)?;
        // SAFETY: caller contract on key/key_len.
        let k = unsafe { bytes(key, key_len)? };
        let handle = Box::new(smbsign_key(SigningKey::new(alg, k)?));
        // SAFETY: out is non-NULL and writable per the caller's contract.
        unsafe { *out = Box::into_raw(handle) };
        Ok(())
    })
}

/// Releases a key handle, zeroizing its key material. NULL is ignored.
///
/// # Safety
/// `key` must be NULL or a handle from `smbsign_key_new` not yet freed, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn smbsign_key_free(key: *mut smbsign_key) {
    if key.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the handle came from Box::into_raw in smbsign_key_new and is
        // released once, per the caller's contract. Dropping zeroizes.
        drop(unsafe { Box::from_raw(key) });
    });
}

/// Writes the handle's SigningAlgorithmId to `*out`.
///
/// # Safety
/// `key` must be a live handle; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_key_algorithm(
    key: *const smbsign_key,
    out: *mut u16,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let k = unsafe { key_ref(key)? };
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        // SAFETY: non-NULL, writable per the caller's contract.
        unsafe { *out = k.algorithm().id() };
        Ok(())
    })
}

/// A SigningAlgorithmId MS-SMB2 does not define, standing in for ints outside u16.
const UNKNOWN_ID: u16 = u16::MAX;

/// The signing algorithm of `dialect` (0x0202, 0x0210, 0x0300, 0x0302, 0x0311).
/// `negotiated` is the SIGNING_CAPABILITIES SigningAlgorithmId for 3.1.1, or -1
/// when none was negotiated. Errors: UNSUPPORTED_DIALECT, UNKNOWN_ALGORITHM, NULL_POINTER.
///
/// # Safety
/// `out` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn smbsign_algorithm_for_dialect(
    dialect: u16,
    negotiated: i32,
    out: *mut u16,
) -> smbsign_status {
    guard(|| {
        if out.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        // An int outside u16 is an unknown id like any other: the core refuses
        // it exactly when the dialect reads the negotiated id (3.1.1).
        let n = match negotiated {
            -1 => None,
            v => Some(u16::try_from(v).unwrap_or(UNKNOWN_ID)),
        };
        let alg = Algorithm::for_dialect(dialect, n)?;
        // SAFETY: non-NULL, writable per the caller's contract.
        unsafe { *out = alg.id() };
        Ok(())
    })
}

/// The 16-byte MAC of `msg`/`len` into `out`. `nonce` (12 bytes) is required
/// for AES-GMAC and must be NULL otherwise (MISSING_NONCE / UNEXPECTED_NONCE).
///
/// # Safety
/// `key` a live handle; `msg` readable for `len` bytes; `nonce` NULL or 12
/// readable bytes; `out` writable for 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_mac(
    key: *const smbsign_key,
    nonce: *const u8,
    msg: *const u8,
    len: usize,
    out: *mut u8,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all three): caller contract.
        let k = unsafe { key_ref(key)? };
        let n = unsafe { nonce_ref(nonce)? };
        let m = unsafe { bytes(msg, len)? };
        let tag = k.mac(n, m)?;
        // SAFETY: caller contract on out.
        unsafe { write_out(out, &tag) }
    })
}

/// The 16-byte MAC of the concatenation of `iovcnt` segments (the shape of
/// Samba's `smb2_signing_sign_pdu`). Nonce rules as `smbsign_mac`.
/// Errors also: INVALID_ARGUMENT for a negative count, a count too large to
/// gather in memory, or total length overflow.
///
/// # Safety
/// `iov` points to `iovcnt` iovecs whose segments are readable; others as `smbsign_mac`.
#[no_mangle]
pub unsafe extern "C" fn smbsign_mac_iov(
    key: *const smbsign_key,
    nonce: *const u8,
    iov: *const iovec,
    iovcnt: c_int,
    out: *mut u8,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { key_ref(key)? };
        let n = unsafe { nonce_ref(nonce)? };
        let tag = unsafe { with_iov(iov, iovcnt, |segs| Ok(k.mac_vectored(n, segs)?))? };
        unsafe { write_out(out, &tag) }
    })
}

/// Signs a PDU or compound chain in place: for each PDU, sets SMB2_FLAGS_SIGNED,
/// MACs it with the Signature field zeroed (AES-GMAC nonce from its header) and
/// writes the signature. The whole chain is validated first; on error nothing is
/// written. Errors: TRUNCATED, BAD_PROTOCOL_ID, BAD_NEXT_COMMAND, NULL_POINTER.
///
/// # Safety
/// `key` a live handle; `pdu` readable and writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_sign_pdu(
    key: *const smbsign_key,
    pdu: *mut u8,
    len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { key_ref(key)? };
        let buf = unsafe { bytes_mut(pdu, len)? };
        Ok(smb2::sign_pdu(k, buf)?)
    })
}

/// Verifies a PDU or compound chain without modifying it, comparing signatures
/// in constant time. Errors: BAD_SIGNATURE, NOT_SIGNED, TRUNCATED,
/// BAD_PROTOCOL_ID, BAD_NEXT_COMMAND, NULL_POINTER.
///
/// # Safety
/// `key` a live handle; `pdu` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_verify_pdu(
    key: *const smbsign_key,
    pdu: *const u8,
    len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { key_ref(key)? };
        let buf = unsafe { bytes(pdu, len)? };
        Ok(smb2::verify_pdu(k, buf)?)
    })
}

/// `smbsign_sign_pdu` over a PDU or chain spread across `iovcnt` segments
/// (headers may straddle segments). Overlapping segments are INVALID_ARGUMENT.
///
/// # Safety
/// `iov` points to `iovcnt` iovecs whose segments are readable and writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_sign_pdu_iov(
    key: *const smbsign_key,
    iov: *const iovec,
    iovcnt: c_int,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { key_ref(key)? };
        unsafe { with_iov_mut(iov, iovcnt, |segs| Ok(smb2::sign_pdu_vectored(k, segs)?)) }
    })
}

/// `smbsign_verify_pdu` over a PDU or chain spread across `iovcnt` segments.
///
/// # Safety
/// `iov` points to `iovcnt` iovecs whose segments are readable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_verify_pdu_iov(
    key: *const smbsign_key,
    iov: *const iovec,
    iovcnt: c_int,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { key_ref(key)? };
        unsafe { with_iov(iov, iovcnt, |segs| Ok(smb2::verify_pdu_vectored(k, segs)?)) }
    })
}
