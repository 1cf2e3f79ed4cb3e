//! The C ABI of smbsign: opaque key handles, result codes, `catch_unwind` at
//! every entry point. No signing logic lives here; every rule is in the core
//! crate, and this layer only checks pointers and lengths and translates types.
//!
//! The header `include/smbsign.h` is generated from this crate by cbindgen and
//! checked in; `tests/header.rs` fails when it is out of date.

#![allow(non_camel_case_types)]

// One file per core module faced (smb2, transform, mac, kdf, preauth, batch, backend),
// plus the status codes (error) and the pointer checks (args) they share.
mod args;
mod backend;
mod batch;
mod error;
mod kdf;
mod mac;
mod preauth;
mod rules;
mod smb2;
mod transform;

pub use args::iovec;
pub use backend::{smbsign_backend_name, smbsign_version};
pub use batch::{
    smbsign_cipher_job, smbsign_decrypt_batch, smbsign_encrypt_batch, smbsign_job, smbsign_pdu_job,
    smbsign_sign_batch, smbsign_sign_pdu_batch, smbsign_verify_batch, smbsign_verify_pdu_batch,
};
pub use error::{smbsign_status, smbsign_status_code, smbsign_strerror};
pub use kdf::{
    smbsign_kbkdf_hmac_sha256, smbsign_kdf, smbsign_session_cipher_keys, smbsign_session_keys,
    smbsign_smb30_keys, smbsign_smb311_keys, SMBSIGN_KDF_MAX_OUTPUT,
};
pub use mac::smbsign_hmac_sha256;
pub use preauth::{smbsign_preauth_update, smbsign_preauth_update_iov};
pub use rules::{
    smbsign_check_decrypted, smbsign_clear_signatures, smbsign_gmac_nonce_for,
    smbsign_must_be_encrypted, smbsign_must_be_signed, smbsign_signature_applies,
    smbsign_skips_verification, smbsign_verifying_sessions,
};
pub use smb2::{
    smbsign_algorithm, smbsign_algorithm_for_dialect, smbsign_key, smbsign_key_algorithm,
    smbsign_key_free, smbsign_key_new, smbsign_mac, smbsign_mac_iov, smbsign_sign_pdu,
    smbsign_sign_pdu_iov, smbsign_verify_pdu, smbsign_verify_pdu_iov,
};
pub use transform::{
    smbsign_cipher, smbsign_cipher_for_dialect, smbsign_cipher_key, smbsign_cipher_key_cipher,
    smbsign_cipher_key_free, smbsign_cipher_key_new, smbsign_cipher_key_new_with_nonces,
    smbsign_decrypt, smbsign_decrypt_iov, smbsign_encrypt, smbsign_encrypt_iov, smbsign_next_nonce,
    smbsign_transform_header, SMBSIGN_NONCE_FIELD_LEN, SMBSIGN_TRANSFORM_HEADER_LEN,
};
