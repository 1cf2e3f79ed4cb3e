//! Key derivation: SP 800-108 KBKDF with HMAC-SHA256, the SMB KDF, and the
//! SMB 3.0 and 3.1.1 session key sets (core's `kdf`).

use smbsign::kdf::{self, CipherKeyLen, SessionKeys};

use crate::args::*;
use crate::error::*;

/// The keys of an SMB 3.x session.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct smbsign_session_keys {
    /// Session.SigningKey.
    pub signing: [u8; 16],
    /// Session.ApplicationKey.
    pub application: [u8; 16],
    /// Client-to-server cipher key (client EncryptionKey, server DecryptionKey);
    /// the first `cipher_key_len` bytes are meaningful.
    pub client_to_server: [u8; 32],
    /// Server-to-client cipher key (client DecryptionKey, server EncryptionKey).
    pub server_to_client: [u8; 32],
    /// 16 or 32.
    pub cipher_key_len: u32,
}

fn export(k: &SessionKeys) -> smbsign_session_keys {
    smbsign_session_keys {
        signing: k.signing,
        application: k.application,
        client_to_server: k.client_to_server,
        server_to_client: k.server_to_client,
        cipher_key_len: k.cipher_key_len as u32,
    }
}

/// # Safety
/// `out` must be NULL or valid for a write of the struct.
unsafe fn write_keys(
    out: *mut smbsign_session_keys,
    k: &SessionKeys,
) -> Result<(), smbsign_status_code> {
    if out.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL, writable per the caller's contract.
    unsafe { out.write(export(k)) };
    Ok(())
}

/// The longest KDF output, in bytes: SP 800-108's `[L]_32` field counts the
/// output in bits, so at most 2^32 - 1 bits (536,870,911 bytes). Longer
/// requests fail with SMBSIGN_ERR_OUTPUT_LENGTH before anything is allocated.
// A literal, for cbindgen; the assertion ties it to the core's bound.
pub const SMBSIGN_KDF_MAX_OUTPUT: usize = 536_870_911;
const _: () = assert!(SMBSIGN_KDF_MAX_OUTPUT == kdf::MAX_OUTPUT_LEN);

/// Validates a KDF output argument, then runs `derive` into it. Order: `out`
/// NULL with a non-zero `out_len` is NULL_POINTER; `out_len` 0 or over
/// [`SMBSIGN_KDF_MAX_OUTPUT`] is OUTPUT_LENGTH. Nothing sized by the caller is
/// allocated: the output is derived straight into `out`, unless `out`
/// overlaps an input (`inputs`), in which case the inputs (not the output)
/// are copied first, with a fallible allocation (INTERNAL if it fails).
///
/// # Safety
/// `out` NULL or writable for `out_len` bytes; `inputs` readable.
unsafe fn kdf_into(
    out: *mut u8,
    out_len: usize,
    inputs: &[&[u8]],
    derive: impl FnOnce(&[&[u8]], &mut [u8]) -> smbsign::Result<()>,
) -> Result<(), smbsign_status_code> {
    if out.is_null() && out_len != 0 {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    kdf::check_output_len(out_len)?;
    let (lo, hi) = (out as usize, out as usize + out_len);
    let aliased = inputs
        .iter()
        .any(|i| !i.is_empty() && (i.as_ptr() as usize) < hi && lo < i.as_ptr() as usize + i.len());
    let mut owned: Vec<Vec<u8>> = Vec::new();
    if aliased {
        for i in inputs {
            let mut v = Vec::new();
            v.try_reserve_exact(i.len())
                .map_err(|_| SMBSIGN_ERR_INTERNAL)?;
            v.extend_from_slice(i);
            owned.push(v);
        }
    }
    // SAFETY: non-NULL, 1..=SMBSIGN_KDF_MAX_OUTPUT bytes, writable per the caller's
    // contract. When it overlaps an input, the inputs were copied above and
    // the caller's input slices are not used again.
    let o = unsafe { bytes_mut(out, out_len)? };
    let r = if aliased {
        let copies: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        derive(&copies, o)
    } else {
        derive(inputs, o)
    };
    for v in &mut owned {
        zeroize::Zeroize::zeroize(v.as_mut_slice());
    }
    Ok(r?)
}

/// SP 800-108 counter-mode KDF, PRF HMAC-SHA256, 32-bit counter before the
/// fixed input: fills `out`/`out_len` (OUTPUT_LENGTH if 0 or over
/// SMBSIGN_KDF_MAX_OUTPUT; NULL_POINTER for NULL `out`, checked first).
///
/// # Safety
/// Inputs readable for their lengths; `out` writable for `out_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_kbkdf_hmac_sha256(
    key: *const u8,
    key_len: usize,
    fixed_input: *const u8,
    fixed_len: usize,
    out: *mut u8,
    out_len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { bytes(key, key_len)? };
        let f = unsafe { bytes(fixed_input, fixed_len)? };
        unsafe {
            kdf_into(out, out_len, &[k, f], |i, o| {
                kdf::counter_hmac_sha256(i[0], &[i[1]], o)
            })
        }
    })
}

/// The SMB KDF: `KDF(key, label || 0x00 || context || [8*out_len]_32)`. Pass SMB's
/// labels with their trailing NUL (e.g. "SMBSigningKey" plus 1 byte). Errors as
/// `smbsign_kbkdf_hmac_sha256`.
///
/// # Safety
/// Inputs readable for their lengths; `out` writable for `out_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_kdf(
    key: *const u8,
    key_len: usize,
    label: *const u8,
    label_len: usize,
    context: *const u8,
    context_len: usize,
    out: *mut u8,
    out_len: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY (all): caller contract.
        let k = unsafe { bytes(key, key_len)? };
        let l = unsafe { bytes(label, label_len)? };
        let c = unsafe { bytes(context, context_len)? };
        unsafe {
            kdf_into(out, out_len, &[k, l, c], |i, o| {
                kdf::smb_kdf(i[0], i[1], i[2], o)
            })
        }
    })
}

/// SMB 3.0 / 3.0.2 session keys from the session key.
///
/// # Safety
/// `session_key` readable for `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_smb30_keys(
    session_key: *const u8,
    len: usize,
    out: *mut smbsign_session_keys,
) -> smbsign_status {
    guard(|| {
        // SAFETY (both): caller contract.
        let k = unsafe { bytes(session_key, len)? };
        let keys = kdf::smb30_keys(k)?;
        unsafe { write_keys(out, &keys) }
    })
}

/// SMB 3.1.1 session keys: signing and application keys from `session_key`,
/// cipher keys of `cipher_key_len` (16 or 32) bytes, from `full_session_key` when 32.
///
/// # Safety
/// Keys readable for their lengths; `preauth_hash` readable for 64 bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_smb311_keys(
    session_key: *const u8,
    len: usize,
    full_session_key: *const u8,
    full_len: usize,
    preauth_hash: *const u8,
    cipher_key_len: u32,
    out: *mut smbsign_session_keys,
) -> smbsign_status {
    guard(|| {
        let cipher = match cipher_key_len {
            16 => CipherKeyLen::Aes128,
            32 => CipherKeyLen::Aes256,
            _ => return Err(SMBSIGN_ERR_INVALID_ARGUMENT),
        };
        // SAFETY (all): caller contract.
        let k = unsafe { bytes(session_key, len)? };
        let full = unsafe { bytes(full_session_key, full_len)? };
        let h = unsafe { array::<64>(preauth_hash)? };
        let keys = kdf::smb311_keys(k, full, h, cipher)?;
        unsafe { write_keys(out, &keys) }
    })
}

/// A session's keys as `dialect` and `cipher` (a CipherId, 1 to 4) prescribe
/// (core's `session_cipher_keys`, MS-SMB2 3.2.5.3.1 / 3.3.5.5.3): 3.0 and
/// 3.0.2 (AES-128-CCM only, else UNKNOWN_CIPHER) derive from the first 16
/// bytes of `session_key`; 3.1.1 derives the signing and application keys from
/// them and the cipher keys from the whole `session_key` for the AES-256
/// ciphers (Session.FullSessionKey, 32 bytes), from its first 16 bytes
/// otherwise. `session_key` is the authentication protocol's whole key: pass
/// it untruncated, the rule is applied here. `preauth_hash` (64 bytes) is read
/// only for 3.1.1 and may be NULL otherwise. 2.x: UNSUPPORTED_DIALECT.
///
/// # Safety
/// `session_key` readable for `len` bytes; `preauth_hash` readable for 64
/// bytes (or NULL for 3.0/3.0.2); `out` writable.
#[no_mangle]
pub unsafe extern "C" fn smbsign_session_cipher_keys(
    dialect: u16,
    cipher: u16,
    session_key: *const u8,
    len: usize,
    preauth_hash: *const u8,
    out: *mut smbsign_session_keys,
) -> smbsign_status {
    guard(|| {
        let c = smbsign::cipher::Cipher::from_id(cipher)?;
        // SAFETY (all): caller contract.
        let k = unsafe { bytes(session_key, len)? };
        let zero = [0u8; 64];
        let h = if preauth_hash.is_null() && dialect != smbsign::smb2::dialect::SMB3_1_1 {
            &zero
        } else {
            unsafe { array::<64>(preauth_hash)? }
        };
        let keys = smbsign::smb2::session_cipher_keys(dialect, c, k, h)?;
        unsafe { write_keys(out, &keys) }
    })
}
