//! Independent implementations (RustCrypto) the targets compare against.

use smbsign::smb2::Algorithm;

/// HMAC-SHA256 (the `hmac` and `sha2` crates).
pub fn hmac_sha256(key: &[u8], pieces: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("any length");
    for p in pieces {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// AES-128-CMAC (the `cmac` and `aes` crates).
pub fn cmac(key: &[u8; 16], msg: &[u8]) -> [u8; 16] {
    use cmac::{KeyInit, Mac};
    let mut m = <cmac::Cmac<aes::Aes128> as KeyInit>::new_from_slice(key).expect("16 bytes");
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// AES-128-GMAC: AES-128-GCM over an empty plaintext with `msg` as AAD (`aes-gcm`).
pub fn gmac(key: &[u8; 16], nonce: &[u8; 12], msg: &[u8]) -> [u8; 16] {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let c = aes_gcm::Aes128Gcm::new_from_slice(key).expect("16 bytes");
    let n = aes_gcm::Nonce::try_from(&nonce[..]).expect("12 bytes");
    let tag = c
        .encrypt(&n, Payload { msg: &[], aad: msg })
        .expect("GCM encrypt");
    tag.try_into().expect("16-byte tag")
}

/// The 16-byte SMB signature of `msg` under `alg`.
pub fn mac16(alg: Algorithm, key: &[u8; 16], nonce: &[u8; 12], msg: &[u8]) -> [u8; 16] {
    match alg {
        Algorithm::HmacSha256 => hmac_sha256(key, &[msg])[..16].try_into().unwrap(),
        Algorithm::AesCmac => cmac(key, msg),
        Algorithm::AesGmac => gmac(key, nonce, msg),
    }
}

/// SP 800-108 counter-mode KDF with HMAC-SHA256 and SMB's fixed input
/// `label || 0x00 || context || [8 * len]_32`, written from the definition.
pub fn smb_kdf(key: &[u8], label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
    let l = u32::try_from(len * 8).expect("small").to_be_bytes();
    let mut out = Vec::with_capacity(len + 32);
    let mut i: u32 = 1;
    while out.len() < len {
        out.extend_from_slice(&hmac_sha256(
            key,
            &[&i.to_be_bytes(), label, &[0], context, &l],
        ));
        i += 1;
    }
    out.truncate(len);
    out
}
