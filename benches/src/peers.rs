//! Peer implementations for the criterion suite: OpenSSL 3 (from source) and
//! GnuTLS through `shim/peers.c`, and the RustCrypto crates. Each is a keyed
//! object computing a 16-byte MAC per message, as a signer would use it.

use core::ffi::{c_char, c_int, c_void, CStr};

use smbsign::smb2::Algorithm;
// Links the OpenSSL that openssl-src built; the shim calls into it.
use openssl_sys as _;

extern "C" {
    fn peer_ossl_new(alg: c_int, key: *const u8, klen: usize) -> *mut c_void;
    fn peer_ossl_mac(
        h: *mut c_void,
        nonce: *const u8,
        msg: *const u8,
        len: usize,
        out: *mut u8,
    ) -> c_int;
    fn peer_ossl_free(h: *mut c_void);
    fn peer_ossl_version() -> *const c_char;
    fn peer_gnutls_new(alg: c_int, key: *const u8, klen: usize) -> *mut c_void;
    fn peer_gnutls_mac(
        h: *mut c_void,
        nonce: *const u8,
        msg: *const u8,
        len: usize,
        out: *mut u8,
    ) -> c_int;
    fn peer_gnutls_free(h: *mut c_void);
    fn peer_gnutls_version() -> *const c_char;
}

/// Which C library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// OpenSSL 3, EVP_MAC.
    OpenSsl,
    /// GnuTLS, gnutls_hmac.
    GnuTls,
}

/// A keyed MAC context of a C peer library.
pub struct CMac {
    lib: Lib,
    handle: *mut c_void,
}

impl CMac {
    /// A context for `alg` under the 16-byte `key`.
    pub fn new(lib: Lib, alg: Algorithm, key: &[u8; 16]) -> CMac {
        // SAFETY: the shim copies the key; pointer and length describe `key`.
        let handle = unsafe {
            match lib {
                Lib::OpenSsl => peer_ossl_new(alg.id().into(), key.as_ptr(), 16),
                Lib::GnuTls => peer_gnutls_new(alg.id().into(), key.as_ptr(), 16),
            }
        };
        assert!(!handle.is_null(), "{lib:?} refused {alg:?}");
        CMac { lib, handle }
    }

    /// The 16-byte MAC of `msg` (`nonce` is used by GMAC only).
    pub fn mac(&mut self, nonce: &[u8; 12], msg: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: handle is live; nonce/msg/out are valid for 12/len/16 bytes.
        let rc = unsafe {
            match self.lib {
                Lib::OpenSsl => peer_ossl_mac(
                    self.handle,
                    nonce.as_ptr(),
                    msg.as_ptr(),
                    msg.len(),
                    out.as_mut_ptr(),
                ),
                Lib::GnuTls => peer_gnutls_mac(
                    self.handle,
                    nonce.as_ptr(),
                    msg.as_ptr(),
                    msg.len(),
                    out.as_mut_ptr(),
                ),
            }
        };
        assert_eq!(rc, 0, "{:?} failed", self.lib);
        out
    }
}

impl Drop for CMac {
    fn drop(&mut self) {
        // SAFETY: handle came from the matching _new and is freed once.
        unsafe {
            match self.lib {
                Lib::OpenSsl => peer_ossl_free(self.handle),
                Lib::GnuTls => peer_gnutls_free(self.handle),
            }
        }
    }
}

/// Version strings of the C peers, e.g. ("OpenSSL 3.6.0 ...", "3.7.9").
pub fn versions() -> (String, String) {
    // SAFETY: both return static NUL-terminated strings.
    unsafe {
        (
            CStr::from_ptr(peer_ossl_version())
                .to_string_lossy()
                .into_owned(),
            CStr::from_ptr(peer_gnutls_version())
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The RustCrypto crates' MAC of `msg`: `cmac`+`aes`, `aes-gcm`, `hmac`+`sha2`.
pub enum RustCrypto {
    /// HMAC-SHA256 (truncated to 16 bytes).
    Hmac(hmac::Hmac<sha2::Sha256>),
    /// AES-128-CMAC.
    Cmac(cmac::Cmac<aes::Aes128>),
    /// AES-128-GCM with an empty plaintext.
    Gmac(aes_gcm::Aes128Gcm),
}

impl RustCrypto {
    /// A keyed instance.
    pub fn new(alg: Algorithm, key: &[u8; 16]) -> RustCrypto {
        use aes_gcm::aead::KeyInit as _;
        match alg {
            Algorithm::HmacSha256 => RustCrypto::Hmac(
                <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(key).unwrap(),
            ),
            Algorithm::AesCmac => RustCrypto::Cmac(
                <cmac::Cmac<aes::Aes128> as cmac::KeyInit>::new_from_slice(key).unwrap(),
            ),
            Algorithm::AesGmac => {
                RustCrypto::Gmac(aes_gcm::Aes128Gcm::new_from_slice(key).unwrap())
            }
        }
    }

    /// The 16-byte MAC of `msg`.
    pub fn mac(&self, nonce: &[u8; 12], msg: &[u8]) -> [u8; 16] {
        match self {
            RustCrypto::Hmac(h) => {
                use hmac::Mac as _;
                let mut m = h.clone();
                m.update(msg);
                m.finalize().into_bytes()[..16].try_into().unwrap()
            }
            RustCrypto::Cmac(c) => {
                use cmac::Mac as _;
                let mut m = c.clone();
                m.update(msg);
                m.finalize().into_bytes().into()
            }
            RustCrypto::Gmac(g) => {
                use aes_gcm::aead::AeadInOut as _;
                let n = aes_gcm::Nonce::try_from(&nonce[..]).unwrap();
                let tag = g
                    .encrypt_inout_detached(&n, msg, (&mut [][..]).into())
                    .unwrap();
                tag.into()
            }
        }
    }
}

/// The 16-byte MAC through the C ABI (`smbsign_mac` on a key handle), for
/// measuring the per-call cost of the C entry point next to the Rust API.
pub struct CAbiKey(*mut smbsign_ffi::smbsign_key);

impl CAbiKey {
    /// A handle for `alg` under `key`.
    pub fn new(alg: Algorithm, key: &[u8; 16]) -> CAbiKey {
        let mut h = core::ptr::null_mut();
        // SAFETY: key is 16 readable bytes; h is a valid out-pointer.
        let st = unsafe { smbsign_ffi::smbsign_key_new(alg.id(), key.as_ptr(), 16, &mut h) };
        assert_eq!(st, smbsign_ffi::smbsign_status::SMBSIGN_OK);
        CAbiKey(h)
    }

    /// `smbsign_mac` of `msg`.
    pub fn mac(&self, nonce: Option<&[u8; 12]>, msg: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        let n = nonce.map_or(core::ptr::null(), |n| n.as_ptr());
        // SAFETY: live handle; msg/out valid for their lengths; nonce NULL or 12 bytes.
        let st = unsafe {
            smbsign_ffi::smbsign_mac(self.0, n, msg.as_ptr(), msg.len(), out.as_mut_ptr())
        };
        assert_eq!(st, smbsign_ffi::smbsign_status::SMBSIGN_OK);
        out
    }
}

impl Drop for CAbiKey {
    fn drop(&mut self) {
        // SAFETY: the handle came from smbsign_key_new and is freed once.
        unsafe { smbsign_ffi::smbsign_key_free(self.0) }
    }
}
