//! The `smbsign._smbsign` extension module: a thin pyo3 shim over the core
//! crate. Buffers are taken through the buffer protocol without copying; the
//! GIL is released for inputs of 4 KiB and more.

mod batch;
mod buffers;
mod capture;
mod keys;
mod macs;
mod pdu;
mod rules;
mod transform;

use pyo3::prelude::*;

/// Registers each class, first proving at compile time that it needs no more
/// than 8-byte alignment: pyo3 places a class's Rust value inside the Python
/// object, which CPython aligns to 16 bytes at most (PyO3/pyo3#3607), while
/// core's key layouts are 64-byte aligned and their kernels rely on it. So a
/// class holds core's keys and states boxed.
macro_rules! add_classes {
    ($m:ident: $($class:ty),+ $(,)?) => {
        $(
            const _: () = assert!(core::mem::align_of::<$class>() <= 8);
            $m.add_class::<$class>()?;
        )+
    };
}

#[pymodule]
fn _smbsign(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    add_classes!(m:
        macs::AesCmac,
        macs::AesGmac,
        macs::HmacSha256,
        pdu::SigningKey,
        rules::Header,
        keys::PreauthHash,
        transform::EncryptionKey,
    );
    m.add_function(wrap_pyfunction!(macs::aes_cmac, m)?)?;
    m.add_function(wrap_pyfunction!(macs::aes_gmac, m)?)?;
    m.add_function(wrap_pyfunction!(macs::hmac_sha256, m)?)?;
    m.add_function(wrap_pyfunction!(pdu::sign_pdu, m)?)?;
    m.add_function(wrap_pyfunction!(pdu::verify_pdu, m)?)?;
    m.add_function(wrap_pyfunction!(pdu::algorithm_for_dialect, m)?)?;
    m.add_function(wrap_pyfunction!(pdu::gmac_nonce, m)?)?;
    m.add_function(wrap_pyfunction!(rules::gmac_nonce_for, m)?)?;
    m.add_function(wrap_pyfunction!(rules::header_for_mac, m)?)?;
    m.add_function(wrap_pyfunction!(rules::verifying_session_ids, m)?)?;
    m.add_function(wrap_pyfunction!(rules::signing_exemption, m)?)?;
    m.add_function(wrap_pyfunction!(rules::skips_verification, m)?)?;
    m.add_function(wrap_pyfunction!(rules::must_be_signed, m)?)?;
    m.add_function(wrap_pyfunction!(rules::session_requires_signing, m)?)?;
    m.add_function(wrap_pyfunction!(batch::sign_batch, m)?)?;
    m.add_function(wrap_pyfunction!(batch::verify_batch, m)?)?;
    m.add_function(wrap_pyfunction!(batch::sign_pdus, m)?)?;
    m.add_function(wrap_pyfunction!(batch::verify_pdus, m)?)?;
    m.add_function(wrap_pyfunction!(batch::encrypt_batch, m)?)?;
    m.add_function(wrap_pyfunction!(batch::decrypt_batch, m)?)?;
    m.add_function(wrap_pyfunction!(keys::kdf, m)?)?;
    m.add_function(wrap_pyfunction!(keys::kbkdf_hmac_sha256, m)?)?;
    m.add_function(wrap_pyfunction!(keys::smb30_keys, m)?)?;
    m.add_function(wrap_pyfunction!(keys::smb311_keys, m)?)?;
    m.add_function(wrap_pyfunction!(keys::backend_info, m)?)?;
    m.add_function(wrap_pyfunction!(capture::check_capture_json, m)?)?;
    m.add_function(wrap_pyfunction!(transform::encrypt_message, m)?)?;
    m.add_function(wrap_pyfunction!(transform::decrypt_message, m)?)?;
    m.add_function(wrap_pyfunction!(transform::encrypt_in_place, m)?)?;
    m.add_function(wrap_pyfunction!(transform::decrypt_in_place, m)?)?;
    m.add_function(wrap_pyfunction!(transform::transform_session_id, m)?)?;
    m.add_function(wrap_pyfunction!(transform::cipher_for_dialect, m)?)?;
    m.add_function(wrap_pyfunction!(transform::check_decrypted, m)?)?;
    m.add("MIN_MESSAGE_LEN", smbsign::smb2::transform::MIN_MESSAGE_LEN)?;
    m.add_function(wrap_pyfunction!(transform::clear_signatures, m)?)?;
    m.add_function(wrap_pyfunction!(keys::session_cipher_keys, m)?)?;
    m.add_function(wrap_pyfunction!(rules::encryption_exemption, m)?)?;
    m.add_function(wrap_pyfunction!(rules::must_be_encrypted, m)?)?;
    m.add_function(wrap_pyfunction!(rules::signature_applies, m)?)?;
    Ok(())
}
