//! Core's SMB2 rules for C stacks: the GMAC nonce from its fields, which
//! session verifies each PDU of a chain, and which messages must be signed.
//! Flags in and out are `int` 0/1, as elsewhere in this ABI.

use core::ffi::c_int;

use smbsign::smb2;

use crate::args::{bytes, write_out};
use crate::error::{
    guard, smbsign_status_code, SMBSIGN_ERR_INVALID_ARGUMENT, SMBSIGN_ERR_NULL_POINTER,
};

/// The 12-byte AES-GMAC nonce of a message (MS-SMB2 3.1.4.1) into `out`:
/// MessageId, then bit 0 for server-to-client (`server_to_client` nonzero),
/// bit 1 for CANCEL (`command` 0x000C).
///
/// # Safety
/// `out` must be writable for 12 bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_gmac_nonce_for(
    message_id: u64,
    server_to_client: c_int,
    command: u16,
    out: *mut u8,
) -> crate::smbsign_status {
    guard(|| {
        let n = smb2::gmac_nonce_for(message_id, server_to_client != 0, command);
        // SAFETY: caller contract on out.
        unsafe { write_out(out, &n) }
    })
}

/// The session whose key verifies each PDU of the chain `chain`/`len`, in
/// order (related operations take the previous operation's session). On
/// success `*count` is the number of PDUs and `out[0..*count]` their sessions;
/// when `capacity` is smaller, INVALID_ARGUMENT with only `*count` written
/// (so a caller can size `out`). Chain errors: TRUNCATED, BAD_PROTOCOL_ID,
/// BAD_NEXT_COMMAND, with nothing written.
///
/// # Safety
/// `chain` readable for `len` bytes; `out` writable for `capacity` u64s (NULL
/// when `capacity` is 0); `count` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_verifying_sessions(
    chain: *const u8,
    len: usize,
    out: *mut u64,
    capacity: usize,
    count: *mut usize,
) -> crate::smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let c = unsafe { bytes(chain, len)? };
        if count.is_null() || (out.is_null() && capacity != 0) {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let ids = smb2::verifying_sessions(c)?;
        // SAFETY: non-NULL, writable per the caller's contract.
        unsafe { *count = ids.len() };
        if ids.len() > capacity {
            return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
        }
        if !ids.is_empty() {
            // SAFETY: out holds capacity >= ids.len() u64s per the caller's contract.
            unsafe { std::ptr::copy_nonoverlapping(ids.as_ptr(), out, ids.len()) };
        }
        Ok(())
    })
}

/// Whether the PDU `pdu`/`len`, sent unsigned, breaks the signing rules
/// (`*out` 1) or MS-SMB2 exempts it or its session does not require signing
/// (`*out` 0). `session_id` is its verifying session; `session_requires_signing`
/// nonzero when Session.SigningRequired is TRUE.
///
/// # Safety
/// `pdu` readable for `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_must_be_signed(
    pdu: *const u8,
    len: usize,
    session_id: u64,
    session_requires_signing: c_int,
    out: *mut c_int,
) -> crate::smbsign_status {
    guard(|| {
        let rule = |p: &[u8]| {
            Ok(smb2::must_be_signed(
                p,
                session_id,
                session_requires_signing != 0,
            )?)
        };
        // SAFETY: caller contract.
        unsafe { pdu_answer(pdu, len, out, rule) }
    })
}

/// Whether a receiver skips verifying the PDU `pdu`/`len` even when it is
/// flagged as signed (`*out` 1: interim responses, break notifications;
/// MS-SMB2 3.2.5.1.3).
///
/// # Safety
/// `pdu` readable for `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_skips_verification(
    pdu: *const u8,
    len: usize,
    session_id: u64,
    out: *mut c_int,
) -> crate::smbsign_status {
    guard(|| {
        let rule = |p: &[u8]| {
            Ok(smb2::signing_exemption(p, session_id)?
                .is_some_and(smb2::Exemption::skips_verification))
        };
        // SAFETY: caller contract.
        unsafe { pdu_answer(pdu, len, out, rule) }
    })
}

/// A yes/no rule about the PDU `pdu`/`len` into `*out` (1 or 0); nothing is
/// written unless `rule` answered.
///
/// # Safety
/// `pdu` readable for `len` bytes; `out` NULL or writable.
unsafe fn pdu_answer(
    pdu: *const u8,
    len: usize,
    out: *mut c_int,
    rule: impl FnOnce(&[u8]) -> Result<bool, smbsign_status_code>,
) -> Result<(), smbsign_status_code> {
    // SAFETY: caller contract.
    let p = unsafe { bytes(pdu, len)? };
    if out.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    let yes = rule(p)?;
    // SAFETY: non-NULL, writable per the caller's contract.
    unsafe { *out = c_int::from(yes) };
    Ok(())
}

/// Whether the PDU `pdu`/`len` must travel encrypted (`*out` 1) or travels in
/// the clear (`*out` 0): `encrypt_data` nonzero when Session.EncryptData,
/// the PDU's TreeConnect/Share.EncryptData or (for a response)
/// Request.IsEncrypted says so; NEGOTIATE, a session-binding SESSION_SETUP
/// request and SessionId 0 are exempt (MS-SMB2 3.2.4.1.8, 3.3.4.1.4). A
/// receiver refuses such a PDU that came in the clear.
///
/// # Safety
/// `pdu` readable for `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_must_be_encrypted(
    pdu: *const u8,
    len: usize,
    session_id: u64,
    encrypt_data: c_int,
    out: *mut c_int,
) -> crate::smbsign_status {
    guard(|| {
        let rule = |p: &[u8]| Ok(smb2::must_be_encrypted(p, session_id, encrypt_data != 0)?);
        // SAFETY: caller contract.
        unsafe { pdu_answer(pdu, len, out, rule) }
    })
}

/// Whether a receiver checks the signatures of a message (`1`) or ignores
/// SMB2_FLAGS_SIGNED and the Signature field (`0`): only a message that
/// arrived in the clear (`arrived_encrypted` 0) is checked (MS-SMB2 3.2.5.1.3,
/// 3.3.5.2.4).
#[no_mangle]
pub extern "C" fn smbsign_signature_applies(arrived_encrypted: c_int) -> c_int {
    c_int::from(smb2::signature_applies(arrived_encrypted != 0))
}

/// Prepares the message `msg`/`len` (a PDU or compound chain) for
/// encryption, in place: clears SMB2_FLAGS_SIGNED and zeroes the Signature
/// of every PDU (an encrypted message is not signed). Chain errors
/// (TRUNCATED, BAD_PROTOCOL_ID, BAD_NEXT_COMMAND) leave it unchanged.
///
/// # Safety
/// `msg` readable and writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_clear_signatures(
    msg: *mut u8,
    len: usize,
) -> crate::smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let m = unsafe { crate::args::bytes_mut(msg, len)? };
        Ok(smb2::clear_signatures(m)?)
    })
}

/// What a receiver checks in the message `msg`/`len` it decrypted from a
/// TRANSFORM_HEADER carrying `transform_session_id`, before acting on it:
/// not a nested transform (BAD_TRANSFORM), and every PDU's SessionId the
/// transform's (the first PDU's and each unrelated one's; SESSION_MISMATCH:
/// MS-SMB2 3.3.5.2.7 disconnects). A compressed message (FC 'SMB') passes:
/// check it again after decompression. Chain errors as for signing.
///
/// # Safety
/// `msg` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_check_decrypted(
    transform_session_id: u64,
    msg: *const u8,
    len: usize,
) -> crate::smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let m = unsafe { bytes(msg, len)? };
        Ok(smb2::check_decrypted(transform_session_id, m)?)
    })
}
