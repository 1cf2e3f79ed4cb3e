//! The SMB 3.1.1 preauth integrity hash (core's `preauth`).

use core::ffi::c_int;

use smbsign::PreauthHash;

use crate::args::*;
use crate::error::*;

/// Chains one message into a preauth integrity hash in place:
/// `hash = SHA-512(hash || msg)`. Start from 64 zero bytes.
///
/// # Safety
/// `hash` readable and writable for 64 bytes; `msg` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_preauth_update(
    hash: *mut u8,
    msg: *const u8,
    len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let mut h = PreauthHash::from_value(*unsafe { array::<64>(hash)? });
        h.update(unsafe { bytes(msg, len)? });
        unsafe { write_out(hash, h.value()) }
    })
}

/// `smbsign_preauth_update` with the message given as `iovcnt` segments.
///
/// # Safety
/// `hash` readable and writable for 64 bytes; `iov` points to `iovcnt` readable segments.
#[no_mangle]
pub unsafe extern "C" fn smbsign_preauth_update_iov(
    hash: *mut u8,
    iov: *const iovec,
    iovcnt: c_int,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let mut h = PreauthHash::from_value(*unsafe { array::<64>(hash)? });
        let segs = unsafe { gather(iov, iovcnt)? };
        h.update_vectored(&segs);
        unsafe { write_out(hash, h.value()) }
    })
}
