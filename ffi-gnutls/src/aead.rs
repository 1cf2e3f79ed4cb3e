//! The AEAD family: `gnutls_aead_cipher_*`. AES-128-GCM with no plaintext is
//! GMAC, computed here; everything else goes to GnuTLS's handle inside.

use core::ffi::{c_int, c_uint, c_void};
use core::ptr;

use libc::iovec;
use smbsign::gmac;

use crate::args::{bytes, guard, iov_parts, iov_slice, iov_total, target, IovList, Target};
use crate::mode;
use crate::real::{self, Datum, GNUTLS_E_INTERNAL_ERROR, GNUTLS_E_INVALID_REQUEST};
use crate::slots::Slots;
use crate::stats::{self, Bucket, Tally};

// Values from /usr/include/gnutls/gnutls.h.
const GNUTLS_CIPHER_AES_128_GCM: c_uint = 10;
const GCM_TAG_LEN: usize = 16;

struct OwnAead {
    /// GnuTLS's handle, for everything but GMAC.
    inner: *mut c_void,
    /// The AES-128-GCM key when smbsign computes this handle's GMACs.
    gmac: Option<gmac::Key>,
}

static AEAD_SLOTS: Slots<OwnAead> = Slots::new();

/// The tallies of every AEAD handle (for the stats report).
pub fn tallies() -> &'static [Tally] {
    AEAD_SLOTS.tallies()
}

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
        if rc < 0 || !mode::active() {
            return rc;
        }
        // SAFETY: GnuTLS's init succeeded, so handle is writable and holds its handle.
        let inner = unsafe { *handle };
        let own = Box::new(OwnAead {
            inner,
            // SAFETY: GnuTLS's init read the same datum.
            gmac: unsafe { own_gmac(cipher, key) },
        });
        let bucket = if cipher == GNUTLS_CIPHER_AES_128_GCM {
            Bucket::Aes128Gcm
        } else {
            Bucket::AeadOther
        };
        if let Ok(h) = AEAD_SLOTS.insert(own, bucket) {
            // SAFETY: handle is writable (GnuTLS just wrote it).
            unsafe { *handle = h };
        }
        rc
    })
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
            Target::Own(own, _) => {
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

/// The additional data of an encrypt call, as the caller passed it.
#[derive(Clone, Copy)]
enum Aad {
    Iov(*const iovec, c_int),
    Flat(*const c_void, usize),
}

/// The GMAC shortcut shared by the encrypt entry points. When `handle` is a
/// live own handle with a GMAC key, the nonce is 12 bytes, the AAD is
/// readable and `fits` holds (the entry point's own rules: no plaintext, a
/// tag size of 0 or 16, room for the tag), writes the tag to `out`, 16 to
/// `*out_len`, and returns true; else touches nothing and returns false, and
/// the caller forwards to GnuTLS.
///
/// # Safety
/// `nonce` NULL or readable for `nonce_len` bytes; `aad` as the API reads it;
/// when `fits` returns true, `out` writable for 16 bytes and `out_len` writable.
#[inline]
unsafe fn gmac_shortcut(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    aad: Aad,
    fits: impl FnOnce() -> bool,
    out: *mut c_void,
    out_len: *mut usize,
) -> bool {
    let Some((own, tally)) = AEAD_SLOTS.get(handle) else {
        return false;
    };
    // SAFETY: a live own handle, not shared during the call.
    let Some(key) = (unsafe { (*own).gmac.as_ref() }) else {
        return false;
    };
    if nonce.is_null() || nonce_len != gmac::NONCE_LEN || !fits() {
        return false;
    }
    // SAFETY: 12 readable bytes (checked non-NULL, length per the API).
    let nonce = unsafe { &*nonce.cast::<[u8; gmac::NONCE_LEN]>() };
    let (tag, len) = match aad {
        Aad::Flat(p, n) => {
            // SAFETY: readable for n bytes per the API.
            let Some(d) = (unsafe { bytes(p, n) }) else {
                return false;
            };
            (u128::from_le_bytes(key.mac(nonce, d)), n as u64)
        }
        Aad::Iov(v, n) => {
            let mut parts: [&[u8]; gmac::PARTS_MAX] = [&[]; gmac::PARTS_MAX];
            // SAFETY: the iovecs per the API.
            let Some(list) = (unsafe { iov_parts(v, n, &mut parts) }) else {
                return false;
            };
            match list {
                // Straight to mac_parts: mac_vectored would copy the slices
                // again. The tag comes back in registers: returned through
                // memory with the length beside it, it was stored as two
                // 8-byte halves and reloaded as one 16-byte block, which
                // stalls store forwarding (+5-8 ns at 4 KiB on the zmm tier).
                IovList::Few { count, total } => (
                    u128::from_le_bytes(key.mac_parts(nonce, &parts[..count])),
                    total,
                ),
                IovList::Many(v) => (gmac_stream(key, nonce, v), iov_len_sum(v)),
            }
        }
    };
    // SAFETY: out holds 16 bytes and out_len is writable (fits said so); both
    // are written only now. The tag goes from registers straight to `out`:
    // copied through a stack slot it was stored as two 8-byte halves and
    // reloaded as one 16-byte block, which stalls store forwarding.
    unsafe {
        ptr::write_unaligned(out.cast::<u128>(), tag.to_le());
        *out_len = GCM_TAG_LEN;
    }
    tally.computed(1, len);
    true
}

/// Whether an encrypt call with a ciphertext buffer (`out`, `*out_len` bytes)
/// asks for a GCM tag (size 0, the default, or 16) and has room for it.
///
/// # Safety
/// `out_len` NULL or readable.
unsafe fn room_for_tag(tag_size: usize, out: *mut c_void, out_len: *const usize) -> bool {
    // SAFETY: non-NULL, readable per the caller.
    matches!(tag_size, 0 | GCM_TAG_LEN)
        && !out.is_null()
        && !out_len.is_null()
        && unsafe { *out_len } >= GCM_TAG_LEN
}

/// The GMAC of the iovecs' concatenation, streamed (lists longer than
/// Samba's up to five parts, which go to `gmac::Key::mac_parts` read in
/// place). The tag's bytes as a little-endian `u128` (returned in two
/// registers).
#[inline(never)]
fn gmac_stream(key: &gmac::Key, nonce: &[u8; gmac::NONCE_LEN], v: &[iovec]) -> u128 {
    let mut st = key.start(nonce);
    for e in v {
        st.update(iov_slice(e));
    }
    u128::from_le_bytes(st.finalize())
}

/// The bytes in an iovec list [`iov_parts`] accepted.
fn iov_len_sum(v: &[iovec]) -> u64 {
    v.iter().map(|e| e.iov_len as u64).sum()
}

/// Forwards a call to GnuTLS's handle (the inner one of an own handle, else
/// the caller's) through `f`, GnuTLS's function, and counts it: one call with
/// `bytes`, plus the bytes of the iovec `lists` once GnuTLS succeeded (it
/// has read them, so they are valid). A stale own handle is refused, never
/// passed on.
fn forward<F>(
    handle: *mut c_void,
    f: Option<F>,
    bytes: u64,
    lists: &[(*const iovec, c_int)],
    call: impl FnOnce(F, *mut c_void) -> c_int,
) -> c_int {
    let Some(f) = f else {
        return GNUTLS_E_INTERNAL_ERROR;
    };
    let (inner, tally) = match target(&AEAD_SLOTS, handle) {
        // SAFETY: a live own handle, not shared during the call.
        Target::Own(own, tally) => (unsafe { (*own).inner }, Some(tally)),
        Target::Stale => return GNUTLS_E_INVALID_REQUEST,
        Target::Foreign => (handle, None),
    };
    let rc = call(f, inner);
    let total = bytes + if rc == 0 { iov_total(lists) } else { 0 };
    match tally {
        Some(t) => t.forwarded(1, total),
        None => stats::forwarded(Bucket::Unwrapped, 1, total),
    }
    rc
}

/// [`forward`] with the entry point's own arguments after GnuTLS's handle:
/// `forward_args!(handle, real fn, bytes, iovec lists; arguments...)`.
macro_rules! forward_args {
    ($handle:expr, $f:expr, $bytes:expr, $lists:expr; $($arg:expr),*) => {
        forward($handle, $f, $bytes, $lists, |f, inner| {
            // SAFETY: GnuTLS's handle and the caller's other arguments, unchanged.
            unsafe { f(inner, $($arg),*) }
        })
    };
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
        let aad = Aad::Iov(auth_iov, auth_iovcnt);
        // SAFETY: tag_size, when non-NULL, is readable per the API, and tag
        // holds *tag_size (or, for 0, the cipher's 16) bytes.
        let fits = || {
            iovcnt == 0 && !tag.is_null() && !tag_size.is_null() && {
                matches!(unsafe { *tag_size }, 0 | GCM_TAG_LEN)
            }
        };
        // SAFETY: the caller's arguments per the API (see fits).
        if unsafe { gmac_shortcut(handle, nonce, nonce_len, aad, fits, tag, tag_size) } {
            return 0;
        }
        let lists = [(auth_iov, auth_iovcnt), (iov, iovcnt)];
        forward_args!(handle, real::aead_encryptv2(), 0, &lists;
            nonce, nonce_len, auth_iov, auth_iovcnt, iov, iovcnt, tag, tag_size)
    })
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
        let aad = Aad::Iov(auth_iov, auth_iovcnt);
        // SAFETY: ctext_len, when non-NULL, is readable per the API.
        let fits = || iovcnt == 0 && unsafe { room_for_tag(tag_size, ctext, ctext_len) };
        // SAFETY: the caller's arguments per the API (see fits).
        if unsafe { gmac_shortcut(handle, nonce, nonce_len, aad, fits, ctext, ctext_len) } {
            return 0;
        }
        let lists = [(auth_iov, auth_iovcnt), (iov, iovcnt)];
        forward_args!(handle, real::aead_encryptv(), 0, &lists;
            nonce, nonce_len, auth_iov, auth_iovcnt, tag_size, iov, iovcnt, ctext, ctext_len)
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
        let aad = Aad::Flat(auth, auth_len);
        // SAFETY: ctext_len, when non-NULL, is readable per the API.
        let fits = || ptext_len == 0 && unsafe { room_for_tag(tag_size, ctext, ctext_len) };
        // SAFETY: the caller's arguments per the API (see fits).
        if unsafe { gmac_shortcut(handle, nonce, nonce_len, aad, fits, ctext, ctext_len) } {
            return 0;
        }
        let bytes = (auth_len as u64).saturating_add(ptext_len as u64);
        forward_args!(handle, real::aead_encrypt(), bytes, &[];
            nonce, nonce_len, auth, auth_len, tag_size, ptext, ptext_len, ctext, ctext_len)
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
        let bytes = (auth_len as u64).saturating_add(ctext_len as u64);
        forward_args!(handle, real::aead_decrypt(), bytes, &[];
            nonce, nonce_len, auth, auth_len, tag_size, ctext, ctext_len, ptext, ptext_len)
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
        let lists = [(auth_iov, auth_iovcnt), (iov, iovcnt)];
        forward_args!(handle, real::aead_decryptv2(), 0, &lists;
            nonce, nonce_len, auth_iov, auth_iovcnt, iov, iovcnt, tag, tag_size)
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_deinit`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_deinit(handle: *mut c_void) {
    guard((), || {
        let inner = match target(&AEAD_SLOTS, handle) {
            Target::Own(..) => match AEAD_SLOTS.remove(handle) {
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
