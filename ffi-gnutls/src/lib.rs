//! `libsmbsign_gnutls.so`: preloaded into an unmodified program (Samba's `smbd`,
//! `smbclient`), it defines GnuTLS's HMAC and AEAD entry points and computes
//! AES-128-CMAC, HMAC-SHA256 and AES-128-GMAC (AES-128-GCM with no plaintext)
//! with smbsign; everything else goes to the real GnuTLS unchanged
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
//! FIPS mode, or only the portable tier exists (`policy.rs`). `SMBSIGN_GNUTLS_STATS=FILE` appends this process's counts at exit.

#![deny(unsafe_op_in_unsafe_fn)]

mod policy;
mod real;
mod slots;
mod stats;

use core::ffi::{c_int, c_uint, c_void};
use core::ptr;
use core::sync::atomic::{AtomicU8, Ordering};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libc::iovec;
use smbsign::{cmac, gmac, hmac};

use real::Datum;
use slots::Slots;
use stats::Bucket;

// Values from /usr/include/gnutls/gnutls.h (enums cross the boundary as integers).
const GNUTLS_MAC_SHA256: c_uint = 6;
const GNUTLS_MAC_AES_CMAC_128: c_uint = 203;
const GNUTLS_CIPHER_AES_128_GCM: c_uint = 10;
const GNUTLS_E_INVALID_REQUEST: c_int = -50;
const GNUTLS_E_INTERNAL_ERROR: c_int = -59;
const GCM_NONCE_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

// ---------------------------------------------------------------- mode

const MODE_UNKNOWN: u8 = 0;
const MODE_ACTIVE: u8 = 1;
const MODE_OFF: u8 = 2;
const MODE_FIPS: u8 = 3;
static MODE: AtomicU8 = AtomicU8::new(MODE_UNKNOWN);

/// Whether new handles are smbsign's. Decided on first use, not at load: GnuTLS
/// sets its FIPS flag in its own constructor, which may run after ours.
fn active() -> bool {
    match MODE.load(Ordering::Relaxed) {
        MODE_ACTIVE => true,
        MODE_UNKNOWN => {
            let mode = if std::env::var_os("SMBSIGN_GNUTLS").is_some_and(|v| v == "off") {
                MODE_OFF
            } else {
                // SAFETY: gnutls_fips140_mode_enabled takes no arguments.
                match real::fips140_mode_enabled().map(|f| unsafe { f() }) {
                    Some(0) if policy::passthrough_reason().is_some() => policy::MODE_PASSTHROUGH,
                    Some(0) => MODE_ACTIVE,
                    _ => MODE_FIPS,
                }
            };
            MODE.store(mode, Ordering::Relaxed);
            mode == MODE_ACTIVE
        }
        _ => false,
    }
}

fn mode_name() -> &'static str {
    match MODE.load(Ordering::Relaxed) {
        MODE_ACTIVE => "active",
        MODE_OFF => "off",
        MODE_FIPS => "fips",
        policy::MODE_PASSTHROUGH => "passthrough",
        _ => "unused",
    }
}

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;

extern "C" fn on_load() {
    // SAFETY: registers a handler that only stores to atomics.
    unsafe { libc::pthread_atfork(None, None, Some(stats::reset_in_child)) };
}

#[used]
#[link_section = ".fini_array"]
static ON_UNLOAD: extern "C" fn() = on_unload;

extern "C" fn on_unload() {
    let _ = catch_unwind(|| stats::write_at_exit(mode_name()));
}

// ---------------------------------------------------------------- helpers

/// Runs an entry point's body; a panic becomes `on_panic` instead of crossing
/// into C.
fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// `len` bytes at `p`; `None` for NULL with a non-zero length.
///
/// # Safety
/// A non-NULL `p` must be readable for `len` bytes while the slice is used.
unsafe fn bytes<'a>(p: *const c_void, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if p.is_null() || len > isize::MAX as usize {
        None
    } else {
        // SAFETY: non-NULL, and readable for len bytes per the caller.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) })
    }
}

/// The iovec array, if every entry can be read: no NULL base with a length
/// (GnuTLS skips those) and no length beyond `isize::MAX` (no buffer is that
/// long; GnuTLS's iterator returns such lengths as a negative `ssize_t`), so
/// that whatever GnuTLS makes of such entries stays GnuTLS's.
///
/// # Safety
/// A non-NULL `iov` must point at `cnt` iovecs whose buffers are readable.
unsafe fn iovecs<'a>(iov: *const iovec, cnt: c_int) -> Option<&'a [iovec]> {
    let n = usize::try_from(cnt).ok()?;
    if n == 0 {
        return Some(&[]);
    }
    if iov.is_null() {
        return None;
    }
    // SAFETY: non-NULL and cnt entries long per the caller.
    let v = unsafe { core::slice::from_raw_parts(iov, n) };
    v.iter()
        .all(|e| e.iov_len == 0 || (!e.iov_base.is_null() && e.iov_len <= isize::MAX as usize))
        .then_some(v)
}

fn iov_total(v: &[iovec]) -> u64 {
    v.iter().map(|e| e.iov_len as u64).sum()
}

/// Where a handle leads.
enum Target<T> {
    /// A live own handle.
    Own(*mut T),
    /// An own slot that is not live (used after deinit): never passed on.
    Stale,
    /// GnuTLS's own handle.
    Foreign,
}

fn target<T>(slots: &Slots<T>, h: *const c_void) -> Target<T> {
    match slots.get(h) {
        Some(p) => Target::Own(p),
        None if slots.owns(h) => Target::Stale,
        None => Target::Foreign,
    }
}

// ---------------------------------------------------------------- MAC

enum Mac {
    Hmac(hmac::State<'static>),
    Cmac(cmac::State<'static>),
    /// GnuTLS's handle, for algorithms and keys smbsign does not compute.
    Real(*mut c_void),
}

struct OwnMac {
    mac: Mac,
    bucket: Bucket,
}

static MAC_SLOTS: Slots<OwnMac> = Slots::new();

fn mac_bucket(algorithm: c_uint) -> Bucket {
    match algorithm {
        GNUTLS_MAC_SHA256 => Bucket::HmacSha256,
        GNUTLS_MAC_AES_CMAC_128 => Bucket::AesCmac128,
        _ => Bucket::MacOther,
    }
}

/// The smbsign state for `algorithm` and `key`, if smbsign computes it.
///
/// # Safety
/// As [`bytes`].
unsafe fn own_mac(algorithm: c_uint, key: *const c_void, keylen: usize) -> Option<Mac> {
    // GnuTLS 3.7.9 narrows keylen to an int internally (`_gnutls_mac_init`,
    // `_gnutls_mac_fast`), so a key of 2^32 + 16 bytes is a 16-byte key to it:
    // lengths an int cannot hold stay GnuTLS's, never read here.
    if c_int::try_from(keylen).is_err() {
        return None;
    }
    // SAFETY: GnuTLS's init read the same key (or hmac_fast's caller vouches for it).
    let key = unsafe { bytes(key, keylen) }?;
    match algorithm {
        GNUTLS_MAC_SHA256 => Some(Mac::Hmac(hmac::Key::new(key).into_state())),
        GNUTLS_MAC_AES_CMAC_128 => cmac::Key::from_slice(key)
            .ok()
            .map(|k| Mac::Cmac(k.into_state())),
        _ => None,
    }
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_init`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_init(
    dig: *mut *mut c_void,
    algorithm: c_uint,
    key: *const c_void,
    keylen: usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let (Some(init), Some(deinit)) = (real::hmac_init(), real::hmac_deinit()) else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        // SAFETY: the caller's arguments, unchanged, to the same prototype.
        let rc = unsafe { init(dig, algorithm, key, keylen) };
        if rc < 0 || !active() {
            return rc;
        }
        // SAFETY: GnuTLS's init succeeded, so dig is writable and holds its handle.
        let inner = unsafe { *dig };
        // SAFETY: GnuTLS's init read the same key.
        let computed = unsafe { own_mac(algorithm, key, keylen) };
        let is_computed = computed.is_some();
        let own = Box::new(OwnMac {
            mac: computed.unwrap_or(Mac::Real(inner)),
            bucket: mac_bucket(algorithm),
        });
        // Slots full: the caller keeps GnuTLS's handle (the state drops zeroized).
        if let Ok(h) = MAC_SLOTS.insert(own) {
            if is_computed {
                // SAFETY: GnuTLS's handle, used only to run its checks.
                unsafe { deinit(inner, ptr::null_mut()) };
            }
            // SAFETY: dig is writable (GnuTLS just wrote it).
            unsafe { *dig = h };
        }
        rc
    })
}

/// # Safety
/// As GnuTLS's `gnutls_hmac`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac(
    handle: *mut c_void,
    text: *const c_void,
    len: usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let inner = match target(&MAC_SLOTS, handle) {
            Target::Own(own) => {
                // SAFETY: a live own handle; GnuTLS handles are not shared between
                // threads during a call, and neither are these.
                let own = unsafe { &mut *own };
                // SAFETY: text is readable for len bytes per the API.
                let data = unsafe { bytes(text, len) };
                match (&mut own.mac, data) {
                    (Mac::Real(inner), _) => {
                        stats::forwarded(own.bucket, 0, len as u64);
                        *inner
                    }
                    (_, None) => return GNUTLS_E_INVALID_REQUEST,
                    (Mac::Hmac(st), Some(d)) => {
                        st.update(d);
                        stats::computed(own.bucket, 0, len as u64);
                        return 0;
                    }
                    (Mac::Cmac(st), Some(d)) => {
                        st.update(d);
                        stats::computed(own.bucket, 0, len as u64);
                        return 0;
                    }
                }
            }
            Target::Stale => return GNUTLS_E_INVALID_REQUEST,
            Target::Foreign => {
                stats::forwarded(Bucket::Unwrapped, 0, len as u64);
                handle
            }
        };
        match real::hmac() {
            // SAFETY: GnuTLS's handle and the caller's buffer.
            Some(f) => unsafe { f(inner, text, len) },
            None => GNUTLS_E_INTERNAL_ERROR,
        }
    })
}

/// Writes the MAC of everything absorbed to `digest` and restarts the state,
/// as GnuTLS's output does; a NULL digest leaves the state as it is. Returns
/// false, having done nothing, for a wrapped GnuTLS handle: the caller forwards.
///
/// # Safety
/// `digest` NULL or writable for the algorithm's output length.
unsafe fn own_output(mac: &mut Mac, bucket: Bucket, digest: *mut c_void) -> bool {
    if matches!(mac, Mac::Real(_)) {
        return false;
    }
    if digest.is_null() {
        return true;
    }
    let d = digest.cast::<u8>();
    match mac {
        Mac::Hmac(st) => {
            let out = st.finalize_reset();
            // SAFETY: digest holds gnutls_hmac_get_len(SHA256) = 32 bytes per the API.
            unsafe { ptr::copy_nonoverlapping(out.as_ptr(), d, out.len()) };
        }
        Mac::Cmac(st) => {
            let out = st.finalize_reset();
            // SAFETY: digest holds gnutls_hmac_get_len(AES_CMAC_128) = 16 bytes per the API.
            unsafe { ptr::copy_nonoverlapping(out.as_ptr(), d, out.len()) };
        }
        Mac::Real(_) => return false,
    }
    stats::computed(bucket, 1, 0);
    true
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_output`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_output(handle: *mut c_void, digest: *mut c_void) {
    guard((), || {
        let inner = match target(&MAC_SLOTS, handle) {
            Target::Own(own) => {
                // SAFETY: a live own handle, not shared during the call.
                let own = unsafe { &mut *own };
                // SAFETY: digest per the API.
                if unsafe { own_output(&mut own.mac, own.bucket, digest) } {
                    return;
                }
                stats::forwarded(own.bucket, 1, 0);
                match own.mac {
                    Mac::Real(inner) => inner,
                    _ => return,
                }
            }
            Target::Stale => return,
            Target::Foreign => {
                stats::forwarded(Bucket::Unwrapped, 1, 0);
                handle
            }
        };
        if let Some(f) = real::hmac_output() {
            // SAFETY: GnuTLS's handle and the caller's buffer.
            unsafe { f(inner, digest) }
        }
    })
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_deinit`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_deinit(handle: *mut c_void, digest: *mut c_void) {
    guard((), || {
        let inner = match target(&MAC_SLOTS, handle) {
            Target::Own(_) => {
                let Some(mut own) = MAC_SLOTS.remove(handle) else {
                    return;
                };
                // SAFETY: digest per the API.
                if unsafe { own_output(&mut own.mac, own.bucket, digest) } {
                    return; // own drops here, zeroizing the key
                }
                stats::forwarded(own.bucket, u64::from(!digest.is_null()), 0);
                match own.mac {
                    Mac::Real(inner) => inner,
                    _ => return,
                }
            }
            Target::Stale => return,
            Target::Foreign => handle,
        };
        if let Some(f) = real::hmac_deinit() {
            // SAFETY: GnuTLS's handle, released once, and the caller's buffer.
            unsafe { f(inner, digest) }
        }
    })
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_copy`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_copy(handle: *mut c_void) -> *mut c_void {
    guard(ptr::null_mut(), || {
        let inner = match target(&MAC_SLOTS, handle) {
            Target::Own(own) => {
                // SAFETY: a live own handle, not shared during the call.
                let own = unsafe { &*own };
                let mac = match &own.mac {
                    Mac::Hmac(st) => Mac::Hmac(st.clone()),
                    Mac::Cmac(st) => Mac::Cmac(st.clone()),
                    Mac::Real(inner) => {
                        let Some(copy) = real::hmac_copy() else {
                            return ptr::null_mut();
                        };
                        // SAFETY: GnuTLS's handle.
                        let c = unsafe { copy(*inner) };
                        if c.is_null() {
                            return c;
                        }
                        Mac::Real(c)
                    }
                };
                let bucket = own.bucket;
                return match MAC_SLOTS.insert(Box::new(OwnMac { mac, bucket })) {
                    Ok(h) => h,
                    // Slots full: a GnuTLS copy still works as a foreign handle;
                    // an smbsign state cannot be handed out (NULL, as on ENOMEM).
                    Err(b) => match b.mac {
                        Mac::Real(c) => c,
                        _ => ptr::null_mut(),
                    },
                };
            }
            Target::Stale => return ptr::null_mut(),
            Target::Foreign => handle,
        };
        match real::hmac_copy() {
            // SAFETY: GnuTLS's handle.
            Some(f) => unsafe { f(inner) },
            None => ptr::null_mut(),
        }
    })
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_set_nonce`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_set_nonce(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
) {
    guard((), || {
        let inner = match target(&MAC_SLOTS, handle) {
            // HMAC and CMAC take no nonce; GnuTLS ignores it for them too.
            Target::Own(own) => match unsafe {
                // SAFETY: a live own handle, not shared during the call.
                &(*own).mac
            } {
                Mac::Real(inner) => *inner,
                _ => return,
            },
            Target::Stale => return,
            Target::Foreign => handle,
        };
        if let Some(f) = real::hmac_set_nonce() {
            // SAFETY: GnuTLS's handle and the caller's buffer.
            unsafe { f(inner, nonce, nonce_len) }
        }
    })
}

/// Per algorithm: 0 not probed, 1 GnuTLS allows it, 2 it does not.
static FAST_ALLOWED: [AtomicU8; 2] = [AtomicU8::new(0), AtomicU8::new(0)];

/// Whether GnuTLS's policy allows `algorithm` (its `gnutls_hmac_fast` checks
/// the same as its init), probed once with a throwaway handle.
fn fast_allowed(algorithm: c_uint) -> bool {
    let i = usize::from(algorithm == GNUTLS_MAC_AES_CMAC_128);
    match FAST_ALLOWED[i].load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let (Some(init), Some(deinit)) = (real::hmac_init(), real::hmac_deinit()) else {
                return false;
            };
            let mut h = ptr::null_mut();
            let key = [0u8; 16];
            // SAFETY: a local handle pointer and a 16-byte key.
            let ok = unsafe { init(&mut h, algorithm, key.as_ptr().cast(), key.len()) } == 0;
            if ok {
                // SAFETY: the handle just made.
                unsafe { deinit(h, ptr::null_mut()) };
            }
            FAST_ALLOWED[i].store(if ok { 1 } else { 2 }, Ordering::Relaxed);
            ok
        }
    }
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_fast`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_fast(
    algorithm: c_uint,
    key: *const c_void,
    keylen: usize,
    text: *const c_void,
    len: usize,
    digest: *mut c_void,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let bucket = mac_bucket(algorithm);
        if matches!(algorithm, GNUTLS_MAC_SHA256 | GNUTLS_MAC_AES_CMAC_128)
            && !digest.is_null()
            && active()
            && fast_allowed(algorithm)
        {
            // SAFETY: key and text readable per the API.
            let parts = unsafe { (own_mac(algorithm, key, keylen), bytes(text, len)) };
            if let (Some(mut mac), Some(data)) = parts {
                match &mut mac {
                    Mac::Hmac(st) => st.update(data),
                    Mac::Cmac(st) => st.update(data),
                    Mac::Real(_) => {}
                }
                stats::computed(bucket, 0, len as u64);
                // SAFETY: digest holds the algorithm's output length per the API.
                unsafe { own_output(&mut mac, bucket, digest) };
                return 0;
            }
        }
        stats::forwarded(bucket, 1, len as u64);
        match real::hmac_fast() {
            // SAFETY: the caller's arguments, unchanged, to the same prototype.
            Some(f) => unsafe { f(algorithm, key, keylen, text, len, digest) },
            None => GNUTLS_E_INTERNAL_ERROR,
        }
    })
}

// ---------------------------------------------------------------- AEAD

struct OwnAead {
    /// GnuTLS's handle, for everything but GMAC.
    inner: *mut c_void,
    /// The AES-128-GCM key when smbsign computes this handle's GMACs.
    gmac: Option<gmac::Key>,
    bucket: Bucket,
}

static AEAD_SLOTS: Slots<OwnAead> = Slots::new();

/// The GMAC key for `cipher` and `key`, if smbsign computes it.
///
/// # Safety
/// `key` NULL or a datum whose data is readable for its size.
unsafe fn own_gmac(cipher: c_uint, key: *const Datum) -> Option<gmac::Key> {
    if cipher != GNUTLS_CIPHER_AES_128_GCM || key.is_null() {
        return None;
    }
    // SAFETY: a datum per the caller.
    let k = unsafe { bytes((*key).data.cast(), (*key).size as usize) }?;
    gmac::Key::from_slice(k).ok()
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_init`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_init(
    handle: *mut *mut c_void,
    cipher: c_uint,
    key: *const Datum,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let Some(init) = real::aead_init() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        // SAFETY: the caller's arguments, unchanged, to the same prototype.
        let rc = unsafe { init(handle, cipher, key) };
        if rc < 0 || !active() {
            return rc;
        }
        // SAFETY: GnuTLS's init succeeded, so handle is writable and holds its handle.
        let inner = unsafe { *handle };
        let own = Box::new(OwnAead {
            inner,
            // SAFETY: GnuTLS's init read the same datum.
            gmac: unsafe { own_gmac(cipher, key) },
            bucket: if cipher == GNUTLS_CIPHER_AES_128_GCM {
                Bucket::Aes128Gcm
            } else {
                Bucket::AeadOther
            },
        });
        if let Ok(h) = AEAD_SLOTS.insert(own) {
            // SAFETY: handle is writable (GnuTLS just wrote it).
            unsafe { *handle = h };
        }
        rc
    })
}

/// The GnuTLS handle to forward to, counting the call, or the error to return
/// for a stale own handle.
fn aead_inner(handle: *mut c_void, bytes: u64) -> Result<*mut c_void, c_int> {
    match target(&AEAD_SLOTS, handle) {
        Target::Own(own) => {
            // SAFETY: a live own handle, not shared during the call.
            let own = unsafe { &*own };
            stats::forwarded(own.bucket, 1, bytes);
            Ok(own.inner)
        }
        Target::Stale => Err(GNUTLS_E_INVALID_REQUEST),
        Target::Foreign => {
            stats::forwarded(Bucket::Unwrapped, 1, bytes);
            Ok(handle)
        }
    }
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_set_key`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_set_key(
    handle: *mut c_void,
    key: *const Datum,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let Some(f) = real::aead_set_key() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        match target(&AEAD_SLOTS, handle) {
            Target::Own(own) => {
                // SAFETY: a live own handle, not shared during the call.
                let own = unsafe { &mut *own };
                // SAFETY: GnuTLS's handle and the caller's datum.
                let rc = unsafe { f(own.inner, key) };
                // From here on GnuTLS alone computes this handle: 3.7.9's GCM
                // tags after set_key differ from a fresh init with the same key
                // (seen in tests/gnutls), and byte-for-byte means following it.
                own.gmac = None;
                rc
            }
            Target::Stale => GNUTLS_E_INVALID_REQUEST,
            // SAFETY: the caller's arguments, unchanged.
            Target::Foreign => unsafe { f(handle, key) },
        }
    })
}

/// The GMAC key of a live own handle, when the call is the GMAC case: a
/// 12-byte nonce and no plaintext.
fn gmac_key(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
) -> Option<&'static gmac::Key> {
    if nonce.is_null() || nonce_len != GCM_NONCE_LEN {
        return None;
    }
    let own = AEAD_SLOTS.get(handle)?;
    // SAFETY: a live own handle, not shared during the call.
    unsafe { (*own).gmac.as_ref() }
}

/// The tag over the AAD pieces under the 12-byte nonce at `nonce`.
///
/// # Safety
/// `nonce` readable for 12 bytes.
unsafe fn gmac_tag<'a>(
    key: &gmac::Key,
    nonce: *const c_void,
    aad: impl Iterator<Item = &'a [u8]>,
) -> [u8; GCM_TAG_LEN] {
    // SAFETY: 12 readable bytes per the caller.
    let n: [u8; GCM_NONCE_LEN] = unsafe { *nonce.cast::<[u8; GCM_NONCE_LEN]>() };
    let mut st = key.start(&n);
    let mut total = 0u64;
    for part in aad {
        st.update(part);
        total += part.len() as u64;
    }
    stats::computed(Bucket::Aes128Gcm, 1, total);
    st.finalize()
}

fn iov_slices(v: &[iovec]) -> impl Iterator<Item = &[u8]> {
    v.iter().map(|e| {
        // SAFETY: iovecs() checked every entry (zero length, or a non-NULL base
        // and a length bytes() accepts, so the fallback is never taken).
        unsafe { bytes(e.iov_base, e.iov_len) }.unwrap_or(&[])
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_encryptv2`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_encryptv2(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth_iov: *const iovec,
    auth_iovcnt: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    tag: *mut c_void,
    tag_size: *mut usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        if let Some(key) = gmac_key(handle, nonce, nonce_len) {
            // SAFETY: tag_size, when non-NULL, is readable per the API.
            let want = (!tag_size.is_null()).then(|| unsafe { *tag_size });
            // SAFETY: auth_iov per the API.
            let aad = unsafe { iovecs(auth_iov, auth_iovcnt) };
            if let (0, Some(0 | GCM_TAG_LEN), Some(aad), false) = (iovcnt, want, aad, tag.is_null())
            {
                // SAFETY: nonce is 12 bytes (checked by gmac_key).
                let t = unsafe { gmac_tag(key, nonce, iov_slices(aad)) };
                // SAFETY: tag holds *tag_size (or, for 0, the cipher's 16) bytes
                // per the API; both out-parameters are written only now.
                unsafe {
                    ptr::copy_nonoverlapping(t.as_ptr(), tag.cast::<u8>(), GCM_TAG_LEN);
                    *tag_size = GCM_TAG_LEN;
                }
                return 0;
            }
        }
        let Some(f) = real::aead_encryptv2() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        let inner = match aead_inner(handle, 0) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
        let rc = unsafe {
            f(
                inner,
                nonce,
                nonce_len,
                auth_iov,
                auth_iovcnt,
                iov,
                iovcnt,
                tag,
                tag_size,
            )
        };
        if rc == 0 {
            count_iov_bytes(handle, &[(auth_iov, auth_iovcnt), (iov, iovcnt)]);
        }
        rc
    })
}

/// Adds the bytes of a forwarded call that succeeded (GnuTLS has read every
/// iovec, so they are valid) to its bucket.
fn count_iov_bytes(handle: *mut c_void, lists: &[(*const iovec, c_int)]) {
    let mut total = 0;
    for &(v, n) in lists {
        // SAFETY: GnuTLS just read these iovecs successfully.
        if let Some(v) = unsafe { iovecs(v, n) } {
            total += iov_total(v);
        }
    }
    let bucket = match AEAD_SLOTS.get(handle) {
        // SAFETY: a live own handle, not shared during the call.
        Some(own) => unsafe { (*own).bucket },
        None => Bucket::Unwrapped,
    };
    stats::forwarded(bucket, 0, total);
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_encryptv`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_encryptv(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth_iov: *const iovec,
    auth_iovcnt: c_int,
    tag_size: usize,
    iov: *const iovec,
    iovcnt: c_int,
    ctext: *mut c_void,
    ctext_len: *mut usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        if let Some(key) = gmac_key(handle, nonce, nonce_len) {
            // SAFETY: ctext_len, when non-NULL, is readable per the API.
            let room = (!ctext_len.is_null()).then(|| unsafe { *ctext_len });
            // SAFETY: auth_iov per the API.
            let aad = unsafe { iovecs(auth_iov, auth_iovcnt) };
            if iovcnt == 0
                && matches!(tag_size, 0 | GCM_TAG_LEN)
                && room.is_some_and(|r| r >= GCM_TAG_LEN)
                && !ctext.is_null()
            {
                if let Some(aad) = aad {
                    // SAFETY: nonce is 12 bytes (checked by gmac_key).
                    let t = unsafe { gmac_tag(key, nonce, iov_slices(aad)) };
                    // SAFETY: ctext holds *ctext_len >= 16 bytes; written only now.
                    unsafe {
                        ptr::copy_nonoverlapping(t.as_ptr(), ctext.cast::<u8>(), GCM_TAG_LEN);
                        *ctext_len = GCM_TAG_LEN;
                    }
                    return 0;
                }
            }
        }
        let Some(f) = real::aead_encryptv() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        let inner = match aead_inner(handle, 0) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
        let rc = unsafe {
            f(
                inner,
                nonce,
                nonce_len,
                auth_iov,
                auth_iovcnt,
                tag_size,
                iov,
                iovcnt,
                ctext,
                ctext_len,
            )
        };
        if rc == 0 {
            count_iov_bytes(handle, &[(auth_iov, auth_iovcnt), (iov, iovcnt)]);
        }
        rc
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_encrypt(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth: *const c_void,
    auth_len: usize,
    tag_size: usize,
    ptext: *const c_void,
    ptext_len: usize,
    ctext: *mut c_void,
    ctext_len: *mut usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        if let Some(key) = gmac_key(handle, nonce, nonce_len) {
            // SAFETY: ctext_len, when non-NULL, is readable per the API.
            let room = (!ctext_len.is_null()).then(|| unsafe { *ctext_len });
            // SAFETY: auth readable for auth_len bytes per the API.
            let aad = unsafe { bytes(auth, auth_len) };
            if let (0, true, Some(r), Some(aad), false) = (
                ptext_len,
                matches!(tag_size, 0 | GCM_TAG_LEN),
                room,
                aad,
                ctext.is_null(),
            ) {
                if r >= GCM_TAG_LEN {
                    // SAFETY: nonce is 12 bytes (checked by gmac_key).
                    let t = unsafe { gmac_tag(key, nonce, core::iter::once(aad)) };
                    // SAFETY: ctext holds *ctext_len >= 16 bytes; written only now.
                    unsafe {
                        ptr::copy_nonoverlapping(t.as_ptr(), ctext.cast::<u8>(), GCM_TAG_LEN);
                        *ctext_len = GCM_TAG_LEN;
                    }
                    return 0;
                }
            }
        }
        let Some(f) = real::aead_encrypt() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        let inner = match aead_inner(handle, (auth_len as u64).saturating_add(ptext_len as u64)) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
        unsafe {
            f(
                inner, nonce, nonce_len, auth, auth_len, tag_size, ptext, ptext_len, ctext,
                ctext_len,
            )
        }
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_decrypt`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_decrypt(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth: *const c_void,
    auth_len: usize,
    tag_size: usize,
    ctext: *const c_void,
    ctext_len: usize,
    ptext: *mut c_void,
    ptext_len: *mut usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let Some(f) = real::aead_decrypt() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        let inner = match aead_inner(handle, (auth_len as u64).saturating_add(ctext_len as u64)) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
        unsafe {
            f(
                inner, nonce, nonce_len, auth, auth_len, tag_size, ctext, ctext_len, ptext,
                ptext_len,
            )
        }
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_decryptv2`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_decryptv2(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth_iov: *const iovec,
    auth_iovcnt: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    tag: *mut c_void,
    tag_size: usize,
) -> c_int {
    guard(GNUTLS_E_INTERNAL_ERROR, || {
        let Some(f) = real::aead_decryptv2() else {
            return GNUTLS_E_INTERNAL_ERROR;
        };
        let inner = match aead_inner(handle, 0) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
        let rc = unsafe {
            f(
                inner,
                nonce,
                nonce_len,
                auth_iov,
                auth_iovcnt,
                iov,
                iovcnt,
                tag,
                tag_size,
            )
        };
        if rc == 0 {
            count_iov_bytes(handle, &[(auth_iov, auth_iovcnt), (iov, iovcnt)]);
        }
        rc
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_deinit`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_deinit(handle: *mut c_void) {
    guard((), || {
        let inner = match target(&AEAD_SLOTS, handle) {
            Target::Own(_) => match AEAD_SLOTS.remove(handle) {
                // The GMAC key drops here, zeroized.
                Some(own) => own.inner,
                None => return,
            },
            Target::Stale => return,
            Target::Foreign => handle,
        };
        if let Some(f) = real::aead_deinit() {
            // SAFETY: GnuTLS's handle, released once.
            unsafe { f(inner) }
        }
    })
}
