//! The AEAD family: `gnutls_aead_cipher_*`. AES-128-GCM with no plaintext is
//! GMAC, computed here; AES-128/256-GCM and AES-128/256-CCM encrypt and
//! decrypt (the v2 in-place iovec calls, `encryptv` and the one-shot calls)
//! are computed here on SMB's parameters (GCM nonce 12, CCM nonce 11, the
//! full 16-byte tag, buffers present, large enough and not overlapping other
//! than exactly in place); everything else goes to GnuTLS's handle inside.
//!
//! A computed call that fails (a tag that does not match) leaves the caller's
//! buffers as they were and is then made again by GnuTLS, so that the error
//! code and what the buffers hold afterwards are GnuTLS's own.

use core::ffi::{c_int, c_uint, c_void};
use core::ptr;

use libc::iovec;
use smbsign::cipher::{self, Cipher};
use smbsign::gmac;

use crate::args::{
    bytes, disjoint, guard, iov_parts, iov_slice, iov_slice_mut, iov_total, iovecs, target,
    IovList, Target,
};
use crate::mode;
use crate::real::{self, Datum, GNUTLS_E_INTERNAL_ERROR, GNUTLS_E_INVALID_REQUEST};
use crate::slots::Slots;
use crate::stats::{self, Bucket, Tally};

// Values from /usr/include/gnutls/gnutls.h.
const GNUTLS_CIPHER_AES_128_GCM: c_uint = 10;
const GNUTLS_CIPHER_AES_256_GCM: c_uint = 11;
const GNUTLS_CIPHER_AES_128_CCM: c_uint = 19;
const GNUTLS_CIPHER_AES_256_CCM: c_uint = 20;
const GNUTLS_E_DECRYPTION_FAILED: c_int = -24;
const GCM_TAG_LEN: usize = 16;
const TAG_LEN: usize = cipher::TAG_LEN;

struct OwnAead {
    /// GnuTLS's handle, for everything smbsign does not compute.
    inner: *mut c_void,
    /// The AES-128-GCM key when smbsign computes this handle's GMACs.
    gmac: Option<gmac::Key>,
    /// The cipher key when smbsign computes this handle's encrypt and decrypt
    /// calls (zeroized on drop).
    key: Option<cipher::Key>,
}

/// The SMB3 cipher and stats bucket of a GnuTLS cipher id.
fn smb_cipher(cipher: c_uint) -> (Option<Cipher>, Bucket) {
    match cipher {
        GNUTLS_CIPHER_AES_128_GCM => (Some(Cipher::Aes128Gcm), Bucket::Aes128Gcm),
        GNUTLS_CIPHER_AES_256_GCM => (Some(Cipher::Aes256Gcm), Bucket::Aes256Gcm),
        GNUTLS_CIPHER_AES_128_CCM => (Some(Cipher::Aes128Ccm), Bucket::Aes128Ccm),
        GNUTLS_CIPHER_AES_256_CCM => (Some(Cipher::Aes256Ccm), Bucket::Aes256Ccm),
        _ => (None, Bucket::AeadOther),
    }
}

/// The cipher key for `cipher` and `key`, if smbsign computes it.
///
/// # Safety
/// `key` NULL or a datum whose data is readable for its size.
unsafe fn own_key(cipher: Option<Cipher>, key: *const Datum) -> Option<cipher::Key> {
    let cipher = cipher?;
    if key.is_null() || (cipher.is_gcm() && crate::policy::gcm_to_gnutls()) {
        return None;
    }
    // SAFETY: a datum per the caller.
    let k = unsafe { bytes((*key).data.cast(), (*key).size as usize) }?;
    cipher::Key::new(cipher, k).ok()
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
        let (smb, bucket) = smb_cipher(cipher);
        let own = Box::new(OwnAead {
            inner,
            // SAFETY: GnuTLS's init read the same datum.
            gmac: unsafe { own_gmac(cipher, key) },
            // SAFETY: as above.
            key: unsafe { own_key(smb, key) },
        });
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
                // The same for the ciphers: one rule, and no doubt (both keys
                // drop here, zeroized).
                own.gmac = None;
                own.key = None;
                rc
            }
            Target::Stale => GNUTLS_E_INVALID_REQUEST,
            // SAFETY: the caller's arguments, unchanged.
            Target::Foreign => unsafe { f(handle, key) },
        }
    })
}

/// The additional data (or plaintext) of an encrypt call, as the caller passed it.
#[derive(Clone, Copy)]
enum Input {
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
    aad: Input,
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
        Input::Flat(p, n) => {
            // SAFETY: readable for n bytes per the API.
            let Some(d) = (unsafe { bytes(p, n) }) else {
                return false;
            };
            (u128::from_le_bytes(key.mac(nonce, d)), n as u64)
        }
        Input::Iov(v, n) => {
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

/// The cipher key and tally of a live own handle whose encrypt and decrypt
/// calls smbsign computes, and `nonce` copied, when it is that cipher's SMB
/// nonce (GCM 12 bytes, CCM 11); else `None` and the call goes to GnuTLS.
///
/// # Safety
/// `nonce` NULL or readable for `nonce_len` bytes.
unsafe fn own_cipher<'a>(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
) -> Option<(&'a cipher::Key, &'a Tally, [u8; 12])> {
    let (own, tally) = AEAD_SLOTS.get(handle)?;
    // SAFETY: a live own handle, not shared during the call.
    let key = unsafe { (*own).key.as_ref() }?;
    if nonce.is_null() || nonce_len != key.cipher().nonce_len() {
        return None;
    }
    let mut n = [0u8; 12];
    // SAFETY: nonce_len (11 or 12) readable bytes per the caller.
    unsafe { ptr::copy_nonoverlapping(nonce.cast::<u8>(), n.as_mut_ptr(), nonce_len) };
    Some((key, tally, n))
}

/// Ranges of memory a call touches, on the stack for Samba's few iovecs.
struct Ranges {
    stack: [(usize, usize); 24],
    len: usize,
    heap: Vec<(usize, usize)>,
}

impl Ranges {
    fn new() -> Ranges {
        Ranges {
            stack: [(0, 0); 24],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn push(&mut self, p: *const c_void, len: usize) {
        let r = (p as usize, len);
        if self.heap.is_empty() && self.len < self.stack.len() {
            self.stack[self.len] = r;
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack[..self.len]);
            }
            self.heap.push(r);
        }
    }

    /// Every iovec's buffer and the iovec array itself.
    fn push_iov(&mut self, v: &[iovec]) {
        self.push(v.as_ptr().cast(), core::mem::size_of_val(v));
        for e in v {
            self.push(e.iov_base, e.iov_len);
        }
    }

    fn disjoint(&mut self) -> bool {
        if self.heap.is_empty() {
            disjoint(&mut self.stack[..self.len])
        } else {
            disjoint(&mut self.heap)
        }
    }
}

/// The AAD iovecs' concatenation, copied before anything is written (so that
/// it is read once, as GnuTLS reads it first), in `stack` when it fits; `None`
/// (the call goes to GnuTLS) when the lengths overflow or no copy can be
/// allocated (never an abort where GnuTLS would have answered).
fn gather<'b>(v: &[iovec], stack: &'b mut [u8; 64], heap: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    let total = v.iter().try_fold(0usize, |n, e| n.checked_add(e.iov_len))?;
    if total <= stack.len() {
        let mut at = 0;
        for e in v {
            stack[at..at + e.iov_len].copy_from_slice(iov_slice(e));
            at += e.iov_len;
        }
        Some(&stack[..total])
    } else {
        heap.try_reserve_exact(total).ok()?;
        for e in v {
            heap.extend_from_slice(iov_slice(e));
        }
        Some(heap)
    }
}

/// Runs `f` on the iovecs' buffers as mutable parts (on the stack for up to 8).
///
/// # Safety
/// The buffers writable and pairwise disjoint, and nothing else referring
/// to them used while `f` runs.
unsafe fn with_parts<R>(v: &[iovec], f: impl FnOnce(&mut [&mut [u8]]) -> R) -> R {
    const STACK: usize = 8;
    if v.len() <= STACK {
        let mut a: [&mut [u8]; STACK] = Default::default();
        for (p, e) in a.iter_mut().zip(v) {
            // SAFETY: writable and unaliased per the caller.
            *p = unsafe { iov_slice_mut(e) };
        }
        f(&mut a[..v.len()])
    } else {
        // SAFETY: as above.
        let mut p: Vec<&mut [u8]> = v.iter().map(|e| unsafe { iov_slice_mut(e) }).collect();
        f(&mut p)
    }
}

/// Whether `tag_size` asks for the full tag (0 is the cipher's default, 16).
fn full_tag(tag_size: usize) -> bool {
    matches!(tag_size, 0 | TAG_LEN)
}

/// `gnutls_aead_cipher_encryptv2` computed here, if the call is one smbsign
/// takes (see the module doc): encrypts `iov` in place, writes the tag and
/// 16 to `*tag_size`, and returns true; else touches nothing and returns false.
///
/// # Safety
/// The caller's arguments per the API.
#[allow(clippy::too_many_arguments)]
unsafe fn seal_v2(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth_iov: *const iovec,
    auth_iovcnt: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    tag: *mut c_void,
    tag_size: *mut usize,
) -> bool {
    // SAFETY: the nonce per the API.
    let Some((key, tally, n)) = (unsafe { own_cipher(handle, nonce, nonce_len) }) else {
        return false;
    };
    // SAFETY: tag_size, when non-NULL, is readable per the API.
    if tag.is_null() || tag_size.is_null() || !full_tag(unsafe { *tag_size }) {
        return false;
    }
    // SAFETY: the iovecs per the API.
    let (Some(a), Some(v)) = (unsafe { iovecs(auth_iov, auth_iovcnt) }, unsafe {
        iovecs(iov, iovcnt)
    }) else {
        return false;
    };
    let mut r = Ranges::new();
    r.push_iov(v);
    r.push(tag, TAG_LEN);
    r.push(tag_size.cast(), core::mem::size_of::<usize>());
    if !r.disjoint() {
        return false;
    }
    let (mut stack, mut heap) = ([0u8; 64], Vec::new());
    let Some(aad) = gather(a, &mut stack, &mut heap) else {
        return false;
    };
    let nonce = &n[..nonce_len];
    // SAFETY: the buffers are writable (in place, per the API) and disjoint
    // from each other and from the tag (checked); the AAD is a copy.
    let Ok(t) = (unsafe { with_parts(v, |p| key.seal_in_place(nonce, aad, p)) }) else {
        return false;
    };
    // SAFETY: tag holds 16 bytes (*tag_size 0 or 16 per the API) and tag_size
    // is writable; both disjoint from the message (checked).
    unsafe {
        ptr::copy_nonoverlapping(t.as_ptr(), tag.cast::<u8>(), TAG_LEN);
        *tag_size = TAG_LEN;
    }
    let len: u64 = v.iter().map(|e| e.iov_len as u64).sum();
    tally.computed(1, aad.len() as u64 + len);
    tally.encrypted(len);
    true
}

/// `gnutls_aead_cipher_decryptv2` computed here when the call is one smbsign
/// takes and the tag matches: decrypts `iov` in place and returns true; else
/// (the tag does not match either) the buffers hold what they held and it
/// returns false.
///
/// # Safety
/// The caller's arguments per the API.
#[allow(clippy::too_many_arguments)]
unsafe fn open_v2(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    auth_iov: *const iovec,
    auth_iovcnt: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    tag: *const c_void,
    tag_size: usize,
) -> bool {
    // SAFETY: the nonce per the API.
    let Some((key, tally, n)) = (unsafe { own_cipher(handle, nonce, nonce_len) }) else {
        return false;
    };
    if tag.is_null() || !full_tag(tag_size) {
        return false;
    }
    // SAFETY: the iovecs per the API.
    let (Some(a), Some(v)) = (unsafe { iovecs(auth_iov, auth_iovcnt) }, unsafe {
        iovecs(iov, iovcnt)
    }) else {
        return false;
    };
    let mut r = Ranges::new();
    r.push_iov(v);
    r.push(tag, TAG_LEN);
    if !r.disjoint() {
        return false;
    }
    let mut t = [0u8; TAG_LEN];
    // SAFETY: 16 readable tag bytes (tag_size 0 or 16 per the API).
    unsafe { ptr::copy_nonoverlapping(tag.cast::<u8>(), t.as_mut_ptr(), TAG_LEN) };
    let (mut stack, mut heap) = ([0u8; 64], Vec::new());
    let Some(aad) = gather(a, &mut stack, &mut heap) else {
        return false;
    };
    let nonce = &n[..nonce_len];
    // SAFETY: as in seal_v2.
    if unsafe { with_parts(v, |p| key.open_in_place(nonce, aad, p, &t)) }.is_err() {
        return false;
    }
    let len: u64 = v.iter().map(|e| e.iov_len as u64).sum();
    tally.computed(1, aad.len() as u64 + len);
    tally.decrypted(len);
    true
}

/// The plaintext lengths core takes for `key` (longer messages go to GnuTLS).
fn fits_message(key: &cipher::Key, len: usize) -> bool {
    len as u64 <= key.cipher().max_message_len()
}

/// `gnutls_aead_cipher_encrypt` (`aad` flat) or `gnutls_aead_cipher_encryptv`
/// (`aad` and the plaintext in iovecs) computed here, if the call is one
/// smbsign takes: writes ciphertext || tag to `ctext` and the length to
/// `*ctext_len`, returns true; else touches nothing and returns false. The
/// plaintext may be `ctext` itself (in place), else must not overlap it.
///
/// # Safety
/// The caller's arguments per the API.
#[allow(clippy::too_many_arguments)]
unsafe fn seal_out(
    handle: *mut c_void,
    nonce: *const c_void,
    nonce_len: usize,
    aad: Input,
    tag_size: usize,
    ptext: Input,
    ctext: *mut c_void,
    ctext_len: *mut usize,
) -> bool {
    // SAFETY: the nonce per the API.
    let Some((key, tally, n)) = (unsafe { own_cipher(handle, nonce, nonce_len) }) else {
        return false;
    };
    if !full_tag(tag_size) || ctext.is_null() || ctext_len.is_null() {
        return false;
    }
    let mut r = Ranges::new();
    // The AAD and plaintext as slices, or as iovecs.
    let (a_flat, a_iov) = match aad {
        // SAFETY: readable per the API.
        Input::Flat(p, len) => (Some(unsafe { bytes(p, len) }), None),
        // SAFETY: the iovecs per the API.
        Input::Iov(v, cnt) => (None, Some(unsafe { iovecs(v, cnt) })),
    };
    let mut in_place = false;
    let (len, p_iov) = match ptext {
        Input::Flat(p, len) => {
            // SAFETY: readable per the API (checked, not kept).
            if unsafe { bytes(p, len) }.is_none() {
                return false;
            }
            if p == ctext.cast_const() {
                in_place = true;
            } else {
                r.push(p, len);
            }
            (len, None)
        }
        Input::Iov(v, cnt) => {
            // SAFETY: the iovecs per the API.
            let Some(v) = (unsafe { iovecs(v, cnt) }) else {
                return false;
            };
            r.push_iov(v);
            let Some(len) = v.iter().try_fold(0usize, |n, e| n.checked_add(e.iov_len)) else {
                return false;
            };
            (len, Some(v))
        }
    };
    let Some(need) = len.checked_add(TAG_LEN) else {
        return false;
    };
    // SAFETY: ctext_len readable per the API.
    if unsafe { *ctext_len } < need || !fits_message(key, len) || need > isize::MAX as usize {
        return false;
    }
    match (a_flat, a_iov) {
        (Some(Some(a)), _) => r.push(a.as_ptr().cast(), a.len()),
        (_, Some(Some(v))) => r.push_iov(v),
        _ => return false,
    }
    r.push(ctext, need);
    r.push(ctext_len.cast(), core::mem::size_of::<usize>());
    if !r.disjoint() {
        return false;
    }
    let (mut stack, mut heap) = ([0u8; 64], Vec::new());
    let aad: &[u8] = match (a_flat, a_iov) {
        (Some(Some(a)), _) => a,
        (_, Some(Some(v))) => match gather(v, &mut stack, &mut heap) {
            Some(a) => a,
            None => return false,
        },
        _ => return false,
    };
    // SAFETY: ctext writable for *ctext_len >= need bytes per the API and
    // disjoint from the AAD and a plaintext not in place (checked).
    let out = unsafe { core::slice::from_raw_parts_mut(ctext.cast::<u8>(), need) };
    let (body, tail) = out.split_at_mut(len);
    match (ptext, p_iov) {
        (Input::Flat(p, _), _) if !in_place && len > 0 => {
            // SAFETY: len readable bytes, disjoint from ctext (checked).
            body.copy_from_slice(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) });
        }
        (_, Some(v)) => {
            let mut at = 0;
            for e in v {
                body[at..at + e.iov_len].copy_from_slice(iov_slice(e));
                at += e.iov_len;
            }
        }
        _ => {}
    }
    let nonce = &n[..nonce_len];
    // Cannot fail: the nonce and lengths were checked above.
    let Ok(t) = key.seal_in_place(nonce, aad, &mut [body]) else {
        return false;
    };
    tail.copy_from_slice(&t);
    // SAFETY: writable per the API, disjoint from ctext (checked).
    unsafe { *ctext_len = need };
    tally.computed(1, aad.len() as u64 + len as u64);
    tally.encrypted(len as u64);
    true
}

/// `gnutls_aead_cipher_decrypt` computed here when the call is one smbsign
/// takes and the tag matches: writes the plaintext to `ptext` and its length
/// to `*ptext_len`, returns true; else leaves `ptext` as it was and returns
/// false. Decrypts in a copy, so that `ptext` is written only once verified.
///
/// # Safety
/// The caller's arguments per the API.
#[allow(clippy::too_many_arguments)]
unsafe fn open_out(
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
) -> bool {
    // SAFETY: the nonce per the API.
    let Some((key, tally, n)) = (unsafe { own_cipher(handle, nonce, nonce_len) }) else {
        return false;
    };
    if !full_tag(tag_size) || ctext_len < TAG_LEN || ptext.is_null() || ptext_len.is_null() {
        return false;
    }
    let len = ctext_len - TAG_LEN;
    // SAFETY: ptext_len readable per the API.
    if unsafe { *ptext_len } < len || !fits_message(key, len) {
        return false;
    }
    // SAFETY: readable per the API.
    let (Some(a), Some(c)) = (unsafe { bytes(auth, auth_len) }, unsafe {
        bytes(ctext, ctext_len)
    }) else {
        return false;
    };
    let mut r = Ranges::new();
    r.push(auth, auth_len);
    r.push(ptext_len.cast(), core::mem::size_of::<usize>());
    if ptext.cast_const() != ctext {
        r.push(ctext, ctext_len);
    }
    r.push(ptext, len);
    if !r.disjoint() {
        return false;
    }
    let (body, t) = c.split_at(len);
    let t: &[u8; TAG_LEN] = t.try_into().unwrap_or(&[0; TAG_LEN]);
    // A copy that cannot be allocated sends the call to GnuTLS (no abort).
    let mut tmp = Vec::new();
    if tmp.try_reserve_exact(len).is_err() {
        return false;
    }
    tmp.extend_from_slice(body);
    let nonce = &n[..nonce_len];
    let ok = key.open_in_place(nonce, a, &mut [&mut tmp[..]], t).is_ok();
    if ok {
        // SAFETY: ptext writable for *ptext_len >= len bytes per the API; it
        // may be ctext itself (in place), so a copy that allows overlap. No
        // slice of ctext is used after this.
        unsafe {
            ptr::copy(tmp.as_ptr(), ptext.cast::<u8>(), len);
            *ptext_len = len;
        }
        tally.computed(1, auth_len as u64 + len as u64);
        tally.decrypted(len as u64);
    }
    wipe_plaintext(&mut tmp);
    ok
}

/// Wipes a buffer that held plaintext.
fn wipe_plaintext(b: &mut [u8]) {
    for x in b.iter_mut() {
        // SAFETY: a valid &mut u8; volatile so that the wipe is not elided.
        unsafe { ptr::write_volatile(x, 0) };
    }
}

/// Counts a decrypt call that returned `GNUTLS_E_DECRYPTION_FAILED`.
fn count_tag_failure(handle: *mut c_void, rc: c_int) {
    if rc != GNUTLS_E_DECRYPTION_FAILED {
        return;
    }
    match target(&AEAD_SLOTS, handle) {
        Target::Own(_, tally) => tally.tag_failure(),
        Target::Stale => {}
        Target::Foreign => stats::tag_failure(Bucket::Unwrapped),
    }
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
        let aad = Input::Iov(auth_iov, auth_iovcnt);
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
        // SAFETY: the caller's arguments per the API.
        if unsafe {
            seal_v2(
                handle,
                nonce,
                nonce_len,
                auth_iov,
                auth_iovcnt,
                iov,
                iovcnt,
                tag,
                tag_size,
            )
        } {
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
        let aad = Input::Iov(auth_iov, auth_iovcnt);
        // SAFETY: ctext_len, when non-NULL, is readable per the API.
        let fits = || iovcnt == 0 && unsafe { room_for_tag(tag_size, ctext, ctext_len) };
        // SAFETY: the caller's arguments per the API (see fits).
        if unsafe { gmac_shortcut(handle, nonce, nonce_len, aad, fits, ctext, ctext_len) } {
            return 0;
        }
        let ptext = Input::Iov(iov, iovcnt);
        // SAFETY: the caller's arguments per the API.
        if unsafe {
            seal_out(
                handle, nonce, nonce_len, aad, tag_size, ptext, ctext, ctext_len,
            )
        } {
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
        let aad = Input::Flat(auth, auth_len);
        // SAFETY: ctext_len, when non-NULL, is readable per the API.
        let fits = || ptext_len == 0 && unsafe { room_for_tag(tag_size, ctext, ctext_len) };
        // SAFETY: the caller's arguments per the API (see fits).
        if unsafe { gmac_shortcut(handle, nonce, nonce_len, aad, fits, ctext, ctext_len) } {
            return 0;
        }
        let pt = Input::Flat(ptext, ptext_len);
        // SAFETY: the caller's arguments per the API.
        if unsafe {
            seal_out(
                handle, nonce, nonce_len, aad, tag_size, pt, ctext, ctext_len,
            )
        } {
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
        // SAFETY: the caller's arguments per the API.
        if unsafe {
            open_out(
                handle, nonce, nonce_len, auth, auth_len, tag_size, ctext, ctext_len, ptext,
                ptext_len,
            )
        } {
            return 0;
        }
        let bytes = (auth_len as u64).saturating_add(ctext_len as u64);
        let rc = forward_args!(handle, real::aead_decrypt(), bytes, &[];
            nonce, nonce_len, auth, auth_len, tag_size, ctext, ctext_len, ptext, ptext_len);
        count_tag_failure(handle, rc);
        rc
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
        // SAFETY: the caller's arguments per the API.
        if unsafe {
            open_v2(
                handle,
                nonce,
                nonce_len,
                auth_iov,
                auth_iovcnt,
                iov,
                iovcnt,
                tag,
                tag_size,
            )
        } {
            return 0;
        }
        let lists = [(auth_iov, auth_iovcnt), (iov, iovcnt)];
        let rc = forward_args!(handle, real::aead_decryptv2(), 0, &lists;
            nonce, nonce_len, auth_iov, auth_iovcnt, iov, iovcnt, tag, tag_size);
        count_tag_failure(handle, rc);
        rc
    })
}

/// # Safety
/// As GnuTLS's `gnutls_aead_cipher_deinit`.
#[no_mangle]
pub unsafe extern "C" fn gnutls_aead_cipher_deinit(handle: *mut c_void) {
    guard((), || {
        let inner = match target(&AEAD_SLOTS, handle) {
            Target::Own(..) => match AEAD_SLOTS.remove(handle) {
                // The GMAC and cipher keys drop here, zeroized.
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
