//! The C ABI of smbsign: opaque key handles, result codes, `catch_unwind` at
//! every entry point. No signing logic lives here; every rule is in the core
//! crate, and this layer only checks pointers and lengths and translates types.
//!
//! The header `include/smbsign.h` is generated from this crate by cbindgen and
//! checked in; `tests/header.rs` fails when it is out of date.

#![allow(non_camel_case_types)]

mod batch;
mod guard;
mod info;
mod kdf;
mod key;
mod rules;

pub use batch::{
    smbsign_job, smbsign_pdu_job, smbsign_sign_batch, smbsign_sign_pdu_batch, smbsign_verify_batch,
    smbsign_verify_pdu_batch,
};
pub use guard::{smbsign_status, smbsign_status_code};
pub use info::{smbsign_backend_name, smbsign_strerror, smbsign_version};
pub use kdf::{
    smbsign_hmac_sha256, smbsign_kbkdf_hmac_sha256, smbsign_kdf, smbsign_preauth_update,
    smbsign_preauth_update_iov, smbsign_session_keys, smbsign_smb30_keys, smbsign_smb311_keys,
    SMBSIGN_KDF_MAX_OUTPUT,
};
pub use key::{
    iovec, smbsign_algorithm, smbsign_algorithm_for_dialect, smbsign_key, smbsign_key_algorithm,
    smbsign_key_free, smbsign_key_new, smbsign_mac, smbsign_mac_iov, smbsign_sign_pdu,
    smbsign_sign_pdu_iov, smbsign_verify_pdu, smbsign_verify_pdu_iov,
};
pub use rules::{
    smbsign_gmac_nonce_for, smbsign_must_be_signed, smbsign_skips_verification,
    smbsign_verifying_sessions,
};
