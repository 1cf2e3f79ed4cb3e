//! Proves the C ABI's rule functions give core's answers: the nonce from its
//! fields, the verifying session of each chain PDU (related operations
//! inherit), must-be-signed and skips-verification, and their error codes
//! (NULL pointers, short buffers, a too-small output array).

use core::ffi::c_int;

use smbsign_ffi::*;

fn pdu(command: u16, flags: u32, status: u32, message_id: u64, session_id: u64) -> Vec<u8> {
    let mut p = vec![0u8; 72];
    p[..4].copy_from_slice(&[0xFE, b'S', b'M', b'B']);
    p[4..6].copy_from_slice(&64u16.to_le_bytes());
    p[8..12].copy_from_slice(&status.to_le_bytes());
    p[12..14].copy_from_slice(&command.to_le_bytes());
    p[16..20].copy_from_slice(&flags.to_le_bytes());
    p[24..32].copy_from_slice(&message_id.to_le_bytes());
    p[40..48].copy_from_slice(&session_id.to_le_bytes());
    p
}

#[test]
fn nonce_sessions_and_signing_rules() {
    let mut n = [0u8; 12];
    // SAFETY (every call below): buffers of the stated lengths, live for the call.
    assert_eq!(
        unsafe { smbsign_gmac_nonce_for(0x0102, 1, 0x0C, n.as_mut_ptr()) },
        0
    );
    assert_eq!(n, [2, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
    assert_eq!(
        unsafe { smbsign_gmac_nonce_for(1, 0, 5, core::ptr::null_mut()) },
        smbsign_status_code::SMBSIGN_ERR_NULL_POINTER as c_int
    );

    let mut chain = pdu(5, 0, 0, 1, 0xA);
    chain[20..24].copy_from_slice(&72u32.to_le_bytes());
    chain.extend(pdu(5, 0x4, 0, 2, 0xB)); // related: A's session
    let mut ids = [0u64; 2];
    let mut count = 0usize;
    let rc = unsafe {
        smbsign_verifying_sessions(chain.as_ptr(), chain.len(), ids.as_mut_ptr(), 2, &mut count)
    };
    assert_eq!((rc, count, ids), (0, 2, [0xA, 0xA]));
    let mut one = [0u64; 1];
    let rc = unsafe {
        smbsign_verifying_sessions(chain.as_ptr(), chain.len(), one.as_mut_ptr(), 1, &mut count)
    };
    assert_eq!(
        (rc, count, one),
        (
            smbsign_status_code::SMBSIGN_ERR_INVALID_ARGUMENT as c_int,
            2,
            [0]
        )
    );
    let rc =
        unsafe { smbsign_verifying_sessions(chain.as_ptr(), 10, ids.as_mut_ptr(), 2, &mut count) };
    assert_eq!(rc, smbsign_status_code::SMBSIGN_ERR_TRUNCATED as c_int);

    let mut out: c_int = -1;
    let echo = pdu(13, 1, 0, 7, 0xA);
    assert_eq!(
        unsafe { smbsign_must_be_signed(echo.as_ptr(), echo.len(), 0xA, 1, &mut out) },
        0
    );
    assert_eq!(out, 1);
    assert_eq!(
        unsafe { smbsign_must_be_signed(echo.as_ptr(), echo.len(), 0xA, 0, &mut out) },
        0
    );
    assert_eq!(out, 0);
    let interim = pdu(13, 1 | 2, 0x103, 7, 0xA);
    assert_eq!(
        unsafe { smbsign_must_be_signed(interim.as_ptr(), interim.len(), 0xA, 1, &mut out) },
        0
    );
    assert_eq!(out, 0);
    assert_eq!(
        unsafe { smbsign_skips_verification(interim.as_ptr(), interim.len(), 0xA, &mut out) },
        0
    );
    assert_eq!(out, 1);
    assert_eq!(
        unsafe { smbsign_skips_verification(echo.as_ptr(), echo.len(), 0xA, &mut out) },
        0
    );
    assert_eq!(out, 0);
    assert_eq!(
        unsafe { smbsign_must_be_signed(echo.as_ptr(), 63, 0xA, 1, &mut out) },
        smbsign_status_code::SMBSIGN_ERR_TRUNCATED as c_int
    );
    assert_eq!(
        unsafe { smbsign_must_be_signed(echo.as_ptr(), echo.len(), 0xA, 1, core::ptr::null_mut()) },
        smbsign_status_code::SMBSIGN_ERR_NULL_POINTER as c_int
    );
}
