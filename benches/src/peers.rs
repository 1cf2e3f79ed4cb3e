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
        assert_eq!(st, smbsign_ffi::smbsign_status_code::SMBSIGN_OK);
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
        assert_eq!(st, smbsign_ffi::smbsign_status_code::SMBSIGN_OK);
        out
    }
}

impl Drop for CAbiKey {
    fn drop(&mut self) {
        // SAFETY: the handle came from smbsign_key_new and is freed once.
        unsafe { smbsign_ffi::smbsign_key_free(self.0) }
    }
}

#[cfg(target_arch = "x86_64")]
extern "C" {
    fn peer_imb_new() -> *mut c_void;
    fn peer_imb_free(m: *mut c_void);
    fn peer_imb_version() -> *const c_char;
    fn peer_imb_arch() -> *const c_char;
    fn peer_imb_key_new(m: *mut c_void, alg: c_int, key: *const u8) -> *mut c_void;
    fn peer_imb_key_free(k: *mut c_void);
    fn peer_imb_batch(
        m: *mut c_void,
        keys: *const *mut c_void,
        msgs: *const *const u8,
        lens: *const usize,
        n: usize,
        tags: *mut u8,
    ) -> c_int;
}

/// intel-ipsec-mb's multi-buffer manager (x86-64): batches of HMAC-SHA256 and
/// AES-CMAC jobs through its job API (submit all, then flush).
#[cfg(target_arch = "x86_64")]
pub struct IpsecMb {
    mgr: *mut c_void,
    keys: Vec<*mut c_void>,
}

#[cfg(target_arch = "x86_64")]
impl IpsecMb {
    /// A manager with one precomputed key per entry of `keys` (HMAC-SHA256 or AES-CMAC).
    pub fn new(alg: Algorithm, keys: &[[u8; 16]]) -> IpsecMb {
        let code = match alg {
            Algorithm::HmacSha256 => 0,
            Algorithm::AesCmac => 1,
            Algorithm::AesGmac => panic!("the batch peer covers HMAC and CMAC"),
        };
        // SAFETY: no arguments; NULL is checked.
        let mgr = unsafe { peer_imb_new() };
        assert!(!mgr.is_null(), "intel-ipsec-mb manager init failed");
        let keys = keys
            .iter()
            .map(|k| {
                // SAFETY: live manager; k is 16 readable bytes.
                let h = unsafe { peer_imb_key_new(mgr, code, k.as_ptr()) };
                assert!(!h.is_null());
                h
            })
            .collect();
        IpsecMb { mgr, keys }
    }

    /// Tags of `msgs[i]` under key `key_of[i]`.
    pub fn batch(&self, key_of: &[usize], msgs: &[&[u8]], tags: &mut [[u8; 16]]) {
        assert!(key_of.len() == msgs.len() && msgs.len() == tags.len());
        let keys: Vec<*mut c_void> = key_of.iter().map(|&k| self.keys[k]).collect();
        let ptrs: Vec<*const u8> = msgs.iter().map(|m| m.as_ptr()).collect();
        let lens: Vec<usize> = msgs.iter().map(|m| m.len()).collect();
        // SAFETY: live manager and keys; every array holds msgs.len() entries;
        // each message pointer is valid for its length; tags has 16 bytes per message.
        let rc = unsafe {
            peer_imb_batch(
                self.mgr,
                keys.as_ptr(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                msgs.len(),
                tags.as_mut_ptr().cast(),
            )
        };
        assert_eq!(rc, 0, "intel-ipsec-mb job failed");
    }

    /// "intel-ipsec-mb VERSION (ARCH manager)".
    pub fn describe() -> String {
        // SAFETY: both return static NUL-terminated strings (the arch after a manager init).
        unsafe {
            format!(
                "intel-ipsec-mb {} ({} manager)",
                CStr::from_ptr(peer_imb_version()).to_string_lossy(),
                CStr::from_ptr(peer_imb_arch()).to_string_lossy()
            )
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Drop for IpsecMb {
    fn drop(&mut self) {
        // SAFETY: handles came from the matching _new calls and are freed once.
        unsafe {
            for &k in &self.keys {
                peer_imb_key_free(k);
            }
            peer_imb_free(self.mgr);
        }
    }
}
