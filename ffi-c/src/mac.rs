//! The raw MACs outside SMB signing: full-length HMAC-SHA256 (core's `mac::hmac`).

use smbsign::hmac;

use crate::args::*;
use crate::error::*;

/// Full 32-byte HMAC-SHA256 of `msg` under a key of any length, into `out`.
///
/// # Safety
/// `key`/`msg` readable for their lengths; `out` writable for 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_hmac_sha256(
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    len: usize,
    out: *mut u8,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { bytes(key, key_len)? };
        let m = unsafe { bytes(msg, len)? };
        let tag = hmac::Key::new(k).mac(m);
        unsafe { write_out(out, &tag) }
    })
}
