//! The MAC family: `gnutls_hmac_*` for HMAC-SHA256 and AES-128-CMAC.

use core::ffi::{c_int, c_uint, c_void};
use core::ptr;
use core::sync::atomic::{AtomicU8, Ordering};

use smbsign::{cmac, hmac};

use crate::args::{bytes, guard, target, Target};
use crate::real::{GNUTLS_E_INTERNAL_ERROR, GNUTLS_E_INVALID_REQUEST};
use crate::slots::Slots;
use crate::stats::{self, Bucket, Tally};
use crate::{mode, real};

// Values from /usr/include/gnutls/gnutls.h (enums cross the boundary as integers).
const GNUTLS_MAC_SHA256: c_uint = 6;
const GNUTLS_MAC_AES_CMAC_128: c_uint = 203;

// The CMAC variant carries its held bytes inline: a `Mac` lives boxed in its
// slot (`OwnMac`) and is moved only at init, while a boxed `Held` would cost
// every update a pointer chase.
// An explicit tag byte: with the niche layout each call decoded the variant
// in six instructions.
#[allow(clippy::large_enum_variant)]
#[repr(u8)]
enum Mac {
    Hmac(hmac::State<'static>),
    Cmac(cmac::State<'static>, Held),
    /// GnuTLS's handle, for algorithms and keys smbsign does not compute.
    Real(*mut c_void),
}

/// Message bytes a CMAC handle holds before its state sees them: Samba's
/// header, zeroed signature and a body of up to 192 bytes reach the state
/// in one piece at `gnutls_hmac_output` ([`cmac::State::finalize_reset_with`]),
/// so such a message costs one stack erasure and one kernel pass, as the C
/// ABI's one-shot MAC does; the state's own 64 held bytes took the 48 + 16
/// and sent an 80-byte message's body through a second erasure (200 of the
/// preload's 410 instructions over the C ABI at 80 bytes). Message bytes
/// only: nothing to zeroize. On the heap with the state, so no frame deepens.
const CMAC_HELD: usize = 256;

#[derive(Clone)]
struct Held {
    buf: [u8; CMAC_HELD],
    len: usize,
}

impl Held {
    fn new() -> Held {
        Held {
            buf: [0; CMAC_HELD],
            len: 0,
        }
    }

    /// Appends `data` if it fits; false, holding nothing more, else. Up to
    /// 64 bytes by fixed-size, possibly overlapping moves (Samba's 48-byte
    /// header and 16-byte signature): a `copy_from_slice` of a run-time
    /// length is a call to `memcpy`, a third of the update's instructions.
    #[inline(always)]
    fn push(&mut self, data: &[u8]) -> bool {
        let n = data.len();
        let Some(room) = self.buf.get_mut(self.len..self.len + n) else {
            return false;
        };
        if n > 64 {
            room.copy_from_slice(data);
        } else if n >= 32 {
            room[..16].copy_from_slice(&data[..16]);
            room[16..32].copy_from_slice(&data[16..32]);
            room[n - 32..n - 16].copy_from_slice(&data[n - 32..n - 16]);
            room[n - 16..].copy_from_slice(&data[n - 16..]);
        } else if n >= 16 {
            room[..16].copy_from_slice(&data[..16]);
            room[n - 16..].copy_from_slice(&data[n - 16..]);
        } else if n >= 8 {
            room[..8].copy_from_slice(&data[..8]);
            room[n - 8..].copy_from_slice(&data[n - 8..]);
        } else {
            for (d, s) in room.iter_mut().zip(data) {
                *d = *s;
            }
        }
        self.len += n;
        true
    }

    /// The held bytes, no longer held.
    #[inline(always)]
    fn take(&mut self) -> &[u8] {
        let n = core::mem::take(&mut self.len);
        &self.buf[..n]
    }
}

/// [`gnutls_hmac`]'s update of a CMAC handle: held, or everything held so
/// far and `data` through the state.
#[inline(always)]
fn cmac_update(st: &mut cmac::State<'static>, held: &mut Held, data: &[u8]) {
    if !held.push(data) {
        cmac_update_through(st, held, data);
    }
}

#[inline(never)]
fn cmac_update_through(st: &mut cmac::State<'static>, held: &mut Held, data: &[u8]) {
    st.update(held.take());
    st.update(data);
}

struct OwnMac {
    mac: Mac,
}

static MAC_SLOTS: Slots<OwnMac> = Slots::new();

/// The tallies of every MAC handle (for the stats report).
pub fn tallies() -> &'static [Tally] {
    MAC_SLOTS.tallies()
}

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
            .map(|k| Mac::Cmac(k.into_state(), Held::new())),
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
        if rc < 0 || !mode::active() {
            return rc;
        }
        // SAFETY: GnuTLS's init succeeded, so dig is writable and holds its handle.
        let inner = unsafe { *dig };
        // SAFETY: GnuTLS's init read the same key.
        let computed = unsafe { own_mac(algorithm, key, keylen) };
        let is_computed = computed.is_some();
        let own = Box::new(OwnMac {
            mac: computed.unwrap_or(Mac::Real(inner)),
        });
        // Slots full: the caller keeps GnuTLS's handle (the state drops zeroized).
        if let Ok(h) = MAC_SLOTS.insert(own, mac_bucket(algorithm)) {
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
        // The computed case first and alone: Samba makes three of these per
        // signature, and with the forwarding paths beside it every call
        // saved five registers and walked the `Target` match.
        if let Some((own, tally)) = MAC_SLOTS.get(handle) {
            // SAFETY: a live own handle; GnuTLS handles are not shared between
            // threads during a call, and neither are these.
            let own = unsafe { &mut *own };
            // SAFETY: text is readable for len bytes per the API.
            // Counted before the update (which cannot fail), so that nothing
            // is live across the update's call into the kernel path.
            if let Some(d) = unsafe { bytes(text, len) } {
                match &mut own.mac {
                    Mac::Cmac(st, held) => {
                        tally.computed(0, len as u64);
                        cmac_update(st, held, d);
                    }
                    Mac::Hmac(st) => {
                        tally.computed(0, len as u64);
                        st.update(d);
                    }
                    Mac::Real(_) => {
                        // SAFETY: the caller's arguments, per the API.
                        return unsafe { hmac_not_computed(handle, text, len) };
                    }
                }
                return 0;
            }
        }
        // SAFETY: the caller's arguments, per the API.
        unsafe { hmac_not_computed(handle, text, len) }
    })
}

/// [`gnutls_hmac`] on a handle smbsign does not compute (GnuTLS's, a wrapped
/// one, a stale one) or with unreadable text.
///
/// # Safety
/// As GnuTLS's `gnutls_hmac`.
#[cold]
#[inline(never)]
unsafe fn hmac_not_computed(handle: *mut c_void, text: *const c_void, len: usize) -> c_int {
    let inner = match target(&MAC_SLOTS, handle) {
        Target::Own(own, tally) => {
            // SAFETY: a live own handle, not shared during the call.
            match unsafe { &(*own).mac } {
                Mac::Real(inner) => {
                    tally.forwarded(0, len as u64);
                    *inner
                }
                // An own state: gnutls_hmac found the text unreadable.
                _ => return GNUTLS_E_INVALID_REQUEST,
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
}

/// Writes the MAC of everything absorbed to `digest` and restarts the state,
/// as GnuTLS's output does; a NULL digest leaves the state as it is. Returns
/// false, having done nothing, for a wrapped GnuTLS handle: the caller forwards.
///
/// # Safety
/// `digest` NULL or writable for the algorithm's output length.
unsafe fn own_output(mac: &mut Mac, digest: *mut c_void) -> bool {
    if digest.is_null() {
        return !matches!(mac, Mac::Real(_));
    }
    let d = digest.cast::<u8>();
    match mac {
        Mac::Hmac(st) => {
            let out = st.finalize_reset();
            // SAFETY: digest holds gnutls_hmac_get_len(SHA256) = 32 bytes per the API.
            unsafe { ptr::copy_nonoverlapping(out.as_ptr(), d, out.len()) };
        }
        Mac::Cmac(st, held) => {
            let out = st.finalize_reset_with(held.take());
            // SAFETY: digest holds gnutls_hmac_get_len(AES_CMAC_128) = 16 bytes per the API.
            unsafe { ptr::copy_nonoverlapping(out.as_ptr(), d, out.len()) };
        }
        Mac::Real(_) => return false,
    }
    true
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_output`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_output(handle: *mut c_void, digest: *mut c_void) {
    guard((), || {
        // The computed case first and alone, as in `gnutls_hmac`.
        if !digest.is_null() {
            if let Some((own, tally)) = MAC_SLOTS.get(handle) {
                // SAFETY: a live own handle, not shared during the call.
                let own = unsafe { &mut *own };
                if !matches!(own.mac, Mac::Real(_)) {
                    tally.computed(1, 0);
                    // SAFETY: digest per the API.
                    unsafe { own_output(&mut own.mac, digest) };
                    return;
                }
            }
        }
        // SAFETY: the caller's arguments, per the API.
        unsafe { hmac_output_not_computed(handle, digest) }
    })
}

/// [`gnutls_hmac_output`] on a handle smbsign does not compute, or with a
/// NULL digest.
///
/// # Safety
/// As GnuTLS's `gnutls_hmac_output`.
#[cold]
#[inline(never)]
unsafe fn hmac_output_not_computed(handle: *mut c_void, digest: *mut c_void) {
    let inner = match target(&MAC_SLOTS, handle) {
        Target::Own(own, tally) => {
            // SAFETY: a live own handle, not shared during the call.
            let own = unsafe { &mut *own };
            // SAFETY: digest per the API.
            if unsafe { own_output(&mut own.mac, digest) } {
                if !digest.is_null() {
                    tally.computed(1, 0);
                }
                return;
            }
            tally.forwarded(1, 0);
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
}

/// # Safety
/// As GnuTLS's `gnutls_hmac_deinit`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_hmac_deinit(handle: *mut c_void, digest: *mut c_void) {
    guard((), || {
        let inner = match target(&MAC_SLOTS, handle) {
            Target::Own(own, tally) => {
                // SAFETY: a live own handle, not shared during the call.
                let real = match unsafe { &(*own).mac } {
                    Mac::Real(inner) => Some(*inner),
                    _ => None,
                };
                // Counted before the slot's tally moves to the totals.
                let output = u64::from(!digest.is_null());
                match real {
                    None => tally.computed(output, 0),
                    Some(_) => tally.forwarded(output, 0),
                }
                let Some(mut own) = MAC_SLOTS.remove(handle) else {
                    return;
                };
                match real {
                    None => {
                        // SAFETY: digest per the API.
                        unsafe { own_output(&mut own.mac, digest) };
                        return; // own drops here, zeroizing the key
                    }
                    Some(inner) => inner,
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
            Target::Own(own, tally) => {
                // SAFETY: a live own handle, not shared during the call.
                let own = unsafe { &*own };
                let mac = match &own.mac {
                    Mac::Hmac(st) => Mac::Hmac(st.clone()),
                    Mac::Cmac(st, held) => Mac::Cmac(st.clone(), held.clone()),
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
                return match MAC_SLOTS.insert(Box::new(OwnMac { mac }), tally.bucket()) {
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
            Target::Own(own, _) => match unsafe {
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
            && mode::active()
            && fast_allowed(algorithm)
        {
            // SAFETY: key and text readable per the API.
            let parts = unsafe { (own_mac(algorithm, key, keylen), bytes(text, len)) };
            if let (Some(mut mac), Some(data)) = parts {
                match &mut mac {
                    Mac::Hmac(st) => st.update(data),
                    Mac::Cmac(st, held) => cmac_update(st, held, data),
                    Mac::Real(_) => {}
                }
                // SAFETY: digest holds the algorithm's output length per the API.
                unsafe { own_output(&mut mac, digest) };
                stats::computed(bucket, 1, len as u64);
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
