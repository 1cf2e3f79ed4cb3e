//! `libsmbsign_gnutls.so`: preloaded into an unmodified program (Samba's `smbd`,
//! `smbclient`), it defines GnuTLS's HMAC and AEAD entry points and computes
//! AES-128-CMAC, HMAC-SHA256 and AES-128-GMAC (AES-128-GCM with no plaintext),
//! and SMB3 encryption (AES-128/256-GCM and -CCM on SMB's parameters), with
//! smbsign; everything else goes to the real GnuTLS unchanged
//! (`dlsym(RTLD_NEXT)`), including its error codes.
//!
//! Every init first runs GnuTLS's own init with the caller's arguments, so
//! argument checks, policy (`is_mac_algo_allowed`) and error codes are
//! GnuTLS's. On success it returns an own handle (a slot address, see
//! `slots.rs`) holding either smbsign's state or GnuTLS's handle; calls on an own
//! handle that smbsign does not compute go to that inner handle. Handles that
//! are not own (made while stepped aside, or when the slots are full) go to
//! GnuTLS as they are.
//!
//! Steps aside (pure pass-through) when `SMBSIGN_GNUTLS=off`, GnuTLS runs in
//! FIPS mode, or only the portable tier exists (`policy`). `SMBSIGN_GNUTLS_STATS=FILE` appends this process's counts at exit.
//!
//! Modules: `mode` (active or stepped aside), `policy` (the portable-only default), `args` (the caller's pointers
//! checked, handle lookup, the panic guard), `mac` (`gnutls_hmac_*`), `aead`
//! (`gnutls_aead_cipher_*`), over `slots` (own handles), `stats` and `real`
//! (GnuTLS's functions).

#![deny(unsafe_op_in_unsafe_fn)]

mod aead;
mod args;
mod mac;
mod mode;
mod policy;
mod real;
mod slots;
mod stats;

use std::panic::catch_unwind;

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;

extern "C" fn on_load() {
    // SAFETY: registers a handler that only stores to atomics.
    unsafe { libc::pthread_atfork(None, None, Some(reset_in_child)) };
}

/// A forked child reports only its own work.
extern "C" fn reset_in_child() {
    stats::reset_in_child(&[mac::tallies(), aead::tallies()]);
}

#[used]
#[link_section = ".fini_array"]
static ON_UNLOAD: extern "C" fn() = on_unload;

extern "C" fn on_unload() {
    let _ = catch_unwind(|| stats::write_at_exit(mode::name(), &[mac::tallies(), aead::tallies()]));
}
