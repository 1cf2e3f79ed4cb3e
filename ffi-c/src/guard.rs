//! Result codes, the panic guard, and pointer/length checks.

use core::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use smbsign::Error;

/// Result of every smbsign function: one of the `smbsign_status_code` values,
/// 0 is success. A plain `int` at the ABI (not a C enum), so that a value the
/// library reads back from a caller (`smbsign_strerror`'s argument, the
/// `status` field of a job) may be any int without undefined behaviour.
pub type smbsign_status = c_int;

/// The values of `smbsign_status`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smbsign_status_code {
    /// Success.
    SMBSIGN_OK = 0,
    /// A required pointer was NULL (or NULL with a non-zero length).
    SMBSIGN_ERR_NULL_POINTER = 1,
    /// A length, count or enum value is out of range, or iovecs overlap.
    SMBSIGN_ERR_INVALID_ARGUMENT = 2,
    /// The key has the wrong length for its algorithm (16 bytes for SMB signing keys).
    SMBSIGN_ERR_KEY_LENGTH = 3,
    /// The SigningAlgorithmId is not 0, 1 or 2.
    SMBSIGN_ERR_UNKNOWN_ALGORITHM = 4,
    /// The dialect has no SMB2 signing.
    SMBSIGN_ERR_UNSUPPORTED_DIALECT = 5,
    /// A PDU is shorter than the 64-byte SMB2 header.
    SMBSIGN_ERR_TRUNCATED = 6,
    /// A PDU does not start with FE 'S' 'M' 'B'.
    SMBSIGN_ERR_BAD_PROTOCOL_ID = 7,
    /// A NextCommand is unaligned, below 64, or out of bounds.
    SMBSIGN_ERR_BAD_NEXT_COMMAND = 8,
    /// A PDU being verified does not have SMB2_FLAGS_SIGNED set.
    SMBSIGN_ERR_NOT_SIGNED = 9,
    /// A PDU's signature does not match.
    SMBSIGN_ERR_BAD_SIGNATURE = 10,
    /// AES-GMAC needs a 12-byte nonce and none was given.
    SMBSIGN_ERR_MISSING_NONCE = 11,
    /// A nonce was given to HMAC-SHA256 or AES-CMAC, which take none.
    SMBSIGN_ERR_UNEXPECTED_NONCE = 12,
    /// An output length is not supported: a KDF output of 0 bytes or more than
    /// SMBSIGN_KDF_MAX_OUTPUT (checked before anything is allocated or written).
    SMBSIGN_ERR_OUTPUT_LENGTH = 13,
    /// An internal error (a caught panic, or no memory for copying KDF inputs
    /// that overlap its output); no output was written.
    SMBSIGN_ERR_INTERNAL = 14,
}

pub(crate) use smbsign_status_code::*;

/// Every code, in value order (`ALL_CODES[i] as c_int == i`).
const ALL_CODES: [smbsign_status_code; 15] = [
    SMBSIGN_OK,
    SMBSIGN_ERR_NULL_POINTER,
    SMBSIGN_ERR_INVALID_ARGUMENT,
    SMBSIGN_ERR_KEY_LENGTH,
    SMBSIGN_ERR_UNKNOWN_ALGORITHM,
    SMBSIGN_ERR_UNSUPPORTED_DIALECT,
    SMBSIGN_ERR_TRUNCATED,
    SMBSIGN_ERR_BAD_PROTOCOL_ID,
    SMBSIGN_ERR_BAD_NEXT_COMMAND,
    SMBSIGN_ERR_NOT_SIGNED,
    SMBSIGN_ERR_BAD_SIGNATURE,
    SMBSIGN_ERR_MISSING_NONCE,
    SMBSIGN_ERR_UNEXPECTED_NONCE,
    SMBSIGN_ERR_OUTPUT_LENGTH,
    SMBSIGN_ERR_INTERNAL,
];

impl smbsign_status_code {
    /// The code an int names, if any (a checked conversion: never transmute).
    #[must_use]
    pub fn from_int(v: c_int) -> Option<smbsign_status_code> {
        usize::try_from(v)
            .ok()
            .and_then(|i| ALL_CODES.get(i).copied())
    }

    /// The code as the ABI's int.
    #[must_use]
    pub const fn int(self) -> smbsign_status {
        self as smbsign_status
    }
}

impl From<Error> for smbsign_status_code {
    fn from(e: Error) -> Self {
        match e {
            Error::KeyLength { .. } => SMBSIGN_ERR_KEY_LENGTH,
            Error::Truncated { .. } => SMBSIGN_ERR_TRUNCATED,
            Error::BadProtocolId { .. } => SMBSIGN_ERR_BAD_PROTOCOL_ID,
            Error::BadNextCommand { .. } => SMBSIGN_ERR_BAD_NEXT_COMMAND,
            Error::NotSigned { .. } => SMBSIGN_ERR_NOT_SIGNED,
            Error::BadSignature { .. } | Error::TagMismatch => SMBSIGN_ERR_BAD_SIGNATURE,
            Error::MissingNonce => SMBSIGN_ERR_MISSING_NONCE,
            Error::UnexpectedNonce => SMBSIGN_ERR_UNEXPECTED_NONCE,
            Error::UnsupportedDialect(_) => SMBSIGN_ERR_UNSUPPORTED_DIALECT,
            Error::UnknownSigningAlgorithm(_) => SMBSIGN_ERR_UNKNOWN_ALGORITHM,
            Error::OutputLength(_) => SMBSIGN_ERR_OUTPUT_LENGTH,
            _ => SMBSIGN_ERR_INVALID_ARGUMENT,
        }
    }
}

/// Runs `f`, turning errors into codes and panics into `SMBSIGN_ERR_INTERNAL`.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), smbsign_status_code>) -> smbsign_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SMBSIGN_OK.int(),
        Ok(Err(s)) => s.int(),
        Err(_) => SMBSIGN_ERR_INTERNAL.int(),
    }
}

/// Whether any two of the `(start, end)` address ranges overlap (mutable
/// slices over them would alias). Sorts `ranges`.
pub(crate) fn any_overlap(ranges: &mut [(usize, usize)]) -> bool {
    ranges.sort_unstable();
    ranges.windows(2).any(|w| w[1].0 < w[0].1)
}

/// A byte slice from C: NULL is allowed only with length 0.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
) -> Result<&'a [u8], smbsign_status_code> {
    if len > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(SMBSIGN_ERR_NULL_POINTER)
        };
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A mutable byte slice from C: NULL is allowed only with length 0.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads and writes of `len` bytes for `'a`
/// and not aliased by any other live reference.
pub(crate) unsafe fn bytes_mut<'a>(
    ptr: *mut u8,
    len: usize,
) -> Result<&'a mut [u8], smbsign_status_code> {
    if len > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    if ptr.is_null() {
        return if len == 0 {
            Ok(&mut [])
        } else {
            Err(SMBSIGN_ERR_NULL_POINTER)
        };
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity and exclusivity are
    // the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A fixed-size array from C, which must not be NULL.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads of `N` bytes.
pub(crate) unsafe fn array<'a, const N: usize>(
    ptr: *const u8,
) -> Result<&'a [u8; N], smbsign_status_code> {
    if ptr.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL; the caller guarantees N readable bytes.
    Ok(unsafe { &*ptr.cast::<[u8; N]>() })
}

/// Writes `value` to a non-NULL output pointer.
///
/// # Safety
/// `out` must be NULL or valid for a write of `N` bytes.
pub(crate) unsafe fn write_out<const N: usize>(
    out: *mut u8,
    value: &[u8; N],
) -> Result<(), smbsign_status_code> {
    if out.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL; the caller guarantees N writable bytes. copy (not
    // copy_nonoverlapping): the output may alias an input the caller passed.
    unsafe { std::ptr::copy(value.as_ptr(), out, N) };
    Ok(())
}

/// Rust callers (tests, fuzz targets, benches) compare the returned int with
/// the named codes directly.
impl PartialEq<smbsign_status_code> for smbsign_status {
    fn eq(&self, other: &smbsign_status_code) -> bool {
        *self == other.int()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_other_ints_are_none() {
        for (i, c) in ALL_CODES.iter().enumerate() {
            assert_eq!(c.int(), i as c_int);
            assert_eq!(smbsign_status_code::from_int(i as c_int), Some(*c));
        }
        for v in [-1, 15, 99, 255, 256, c_int::MAX, c_int::MIN] {
            assert_eq!(smbsign_status_code::from_int(v), None);
        }
    }
}
