//! Result codes and the panic guard: every entry point returns an
//! `smbsign_status`, core's `Error` maps to one code, and no panic crosses.

use core::ffi::{c_char, c_int};
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
    /// The key has the wrong length for its algorithm: 16 bytes for SMB
    /// signing keys and the AES-128 ciphers, 32 for the AES-256 ciphers.
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
    /// A PDU's signature does not match, or a transform message's tag
    /// (its Signature field): the message was not decrypted.
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
    /// A transform message is malformed: no message after its 52-byte
    /// TRANSFORM_HEADER, not FD 'S' 'M' 'B', Flags not 0x0001,
    /// OriginalMessageSize below 64 (the SMB2 header) or not the length that
    /// follows; or, decrypted, a nested transform message.
    SMBSIGN_ERR_BAD_TRANSFORM = 15,
    /// The key's nonce source has handed out all its nonces: replace the key.
    SMBSIGN_ERR_NONCE_EXHAUSTED = 16,
    /// The CipherId is not 1 to 4, or not one the dialect encrypts with.
    SMBSIGN_ERR_UNKNOWN_CIPHER = 17,
    /// A decrypted message's PDU carries a SessionId other than its
    /// TRANSFORM_HEADER's (MS-SMB2 3.3.5.2.7: disconnect).
    SMBSIGN_ERR_SESSION_MISMATCH = 18,
}

pub(crate) use smbsign_status_code::*;

/// Every code, in value order (`ALL_CODES[i] as c_int == i`).
const ALL_CODES: [smbsign_status_code; 19] = [
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
    SMBSIGN_ERR_BAD_TRANSFORM,
    SMBSIGN_ERR_NONCE_EXHAUSTED,
    SMBSIGN_ERR_UNKNOWN_CIPHER,
    SMBSIGN_ERR_SESSION_MISMATCH,
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
            Error::BadSignature { .. } | Error::TagMismatch | Error::AuthenticationFailed => {
                SMBSIGN_ERR_BAD_SIGNATURE
            }
            Error::MissingNonce => SMBSIGN_ERR_MISSING_NONCE,
            Error::UnexpectedNonce => SMBSIGN_ERR_UNEXPECTED_NONCE,
            Error::UnsupportedDialect(_) => SMBSIGN_ERR_UNSUPPORTED_DIALECT,
            Error::UnknownSigningAlgorithm(_) => SMBSIGN_ERR_UNKNOWN_ALGORITHM,
            Error::OutputLength(_) => SMBSIGN_ERR_OUTPUT_LENGTH,
            Error::TransformTruncated { .. }
            | Error::BadTransformProtocolId
            | Error::BadTransformFlags(_)
            | Error::TransformSizeMismatch { .. }
            | Error::OriginalSizeTooSmall { .. }
            | Error::NestedTransform => SMBSIGN_ERR_BAD_TRANSFORM,
            Error::TransformSessionMismatch { .. } => SMBSIGN_ERR_SESSION_MISMATCH,
            Error::NoncesExhausted => SMBSIGN_ERR_NONCE_EXHAUSTED,
            Error::UnknownCipher(_)
            | Error::UnknownCipherName
            | Error::CipherNotInDialect { .. } => SMBSIGN_ERR_UNKNOWN_CIPHER,
            Error::RandomUnavailable => SMBSIGN_ERR_INTERNAL,
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

/// A static description of `status`. Never NULL: any int is accepted, and a
/// value that is not an `smbsign_status_code` gives "unknown status".
#[no_mangle]
pub extern "C" fn smbsign_strerror(status: smbsign_status) -> *const c_char {
    let Some(code) = smbsign_status_code::from_int(status) else {
        return c"unknown status".as_ptr();
    };
    let s: &'static str = match code {
        SMBSIGN_OK => "success\0",
        SMBSIGN_ERR_NULL_POINTER => "NULL pointer\0",
        SMBSIGN_ERR_INVALID_ARGUMENT => {
            "invalid argument (length, count, enum value or overlapping iovecs)\0"
        }
        SMBSIGN_ERR_KEY_LENGTH => {
            "wrong key length (signing keys and AES-128-CCM/GCM keys are 16 bytes, AES-256-CCM/GCM keys 32)\0"
        }
        SMBSIGN_ERR_UNKNOWN_ALGORITHM => "unknown signing algorithm id\0",
        SMBSIGN_ERR_UNSUPPORTED_DIALECT => "dialect has no SMB2 signing\0",
        SMBSIGN_ERR_TRUNCATED => "PDU shorter than the 64-byte SMB2 header\0",
        SMBSIGN_ERR_BAD_PROTOCOL_ID => "PDU does not start with FE 'SMB'\0",
        SMBSIGN_ERR_BAD_NEXT_COMMAND => "NextCommand unaligned, below 64, or out of bounds\0",
        SMBSIGN_ERR_NOT_SIGNED => "PDU does not have SMB2_FLAGS_SIGNED set\0",
        SMBSIGN_ERR_BAD_SIGNATURE => "signature (or transform tag) does not match\0",
        SMBSIGN_ERR_MISSING_NONCE => "AES-GMAC needs a 12-byte nonce\0",
        SMBSIGN_ERR_UNEXPECTED_NONCE => "nonce given to an algorithm that takes none\0",
        SMBSIGN_ERR_OUTPUT_LENGTH => "unsupported output length\0",
        SMBSIGN_ERR_INTERNAL => "internal error\0",
        SMBSIGN_ERR_BAD_TRANSFORM => {
            "malformed transform message (length, FD 'SMB', Flags, OriginalMessageSize below 64 or not the length that follows, or nested)\0"
        }
        SMBSIGN_ERR_NONCE_EXHAUSTED => "nonce source exhausted: replace the key\0",
        SMBSIGN_ERR_UNKNOWN_CIPHER => "unknown cipher id, or not one the dialect encrypts with\0",
        SMBSIGN_ERR_SESSION_MISMATCH => {
            "decrypted PDU's SessionId is not the TRANSFORM_HEADER's SessionId\0"
        }
    };
    s.as_ptr().cast()
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
        for v in [-1, 19, 99, 255, 256, c_int::MAX, c_int::MIN] {
            assert_eq!(smbsign_status_code::from_int(v), None);
        }
    }
}
