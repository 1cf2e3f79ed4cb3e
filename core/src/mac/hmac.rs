//! HMAC-SHA256 (RFC 2104, FIPS 198-1): the signature of SMB 2.0.2 and 2.1
//! (first 16 bytes of the output) and the PRF of the SP 800-108 KDF.

use super::KeyRef;

use zeroize::Zeroize;

use crate::backend::{self, Backend};
use crate::error::{Error, Result};
use crate::scrub::{self, Bytes};

/// Full HMAC-SHA256 output length in bytes.
pub const OUTPUT_LEN: usize = 32;
/// The SMB2 signature length: the output truncated to its first 16 bytes.
pub const TAG_LEN: usize = 16;

pub(crate) const BLOCK: usize = 64;
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// An HMAC-SHA256 key: the SHA-256 states after the ipad and opad blocks,
/// computed once, so a message costs its own blocks plus one outer block.
/// Zeroized on drop.
#[derive(Clone)]
pub struct Key {
    pub(crate) inner: [u32; 8],
    pub(crate) outer: [u32; 8],
    backend: Backend,
}

impl Key {
    /// Prepares `key` (any length; longer than 64 bytes is hashed first, per RFC 2104)
    /// for the process-wide backend.
    #[must_use]
    #[inline(always)]
    pub fn new(key: &[u8]) -> Key {
        Key::with_backend(key, backend::active())
    }

    /// Prepares `key` for an explicit backend.
    #[must_use]
    // Inline: the key is returned by value, and a frame of its own would
    // keep a copy above the erased region.
    #[inline(always)]
    pub fn with_backend(key: &[u8], backend: Backend) -> Key {
        scrub::after(Bytes::hmac(&backend), || Key::setup(key, backend))
    }

    pub(crate) fn setup(key: &[u8], backend: Backend) -> Key {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut st = Sha256State::new(IV, 0);
            st.update(&backend, key);
            block[..32].copy_from_slice(&st.finish(&backend));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; BLOCK];
        let mut state = |byte: u8| {
            for (p, k) in pad.iter_mut().zip(&block) {
                *p = k ^ byte;
            }
            let mut s = IV;
            backend.sha256_compress(&mut s, &pad);
            s
        };
        let inner = state(0x36);
        let outer = state(0x5c);
        block.zeroize();
        pad.zeroize();
        Key {
            inner,
            outer,
            backend,
        }
    }

    /// The backend this key computes with.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full 32-byte HMAC of `msg`.
    #[must_use]
    pub fn mac(&self, msg: &[u8]) -> [u8; OUTPUT_LEN] {
        scrub::after(Bytes::hmac(&self.backend), || {
            let mut st = self.start();
            st.absorb(msg);
            st.finish()
        })
    }

    /// The 16-byte SMB2 signature of `msg` (the HMAC truncated).
    #[must_use]
    #[inline]
    pub fn mac16(&self, msg: &[u8]) -> [u8; TAG_LEN] {
        self.tag16(msg).to_le_bytes()
    }

    /// [`Key::mac16`] as a little-endian `u128`: returned in two registers,
    /// not through the caller's stack (as `gmac::Key::tag2`).
    fn tag16(&self, msg: &[u8]) -> u128 {
        let full = self.mac(msg);
        u128::from_le_bytes(full[..TAG_LEN].try_into().unwrap())
    }

    /// The full HMAC of the concatenation of `parts`.
    #[must_use]
    pub fn mac_vectored<B: core::ops::Deref<Target = [u8]>>(
        &self,
        parts: &[B],
    ) -> [u8; OUTPUT_LEN] {
        scrub::after(Bytes::hmac(&self.backend), || {
            let mut st = self.start();
            for p in parts {
                st.absorb(p);
            }
            st.finish()
        })
    }

    /// Starts an incremental computation borrowing this key.
    #[must_use]
    pub fn start(&self) -> State<'_> {
        State::new(KeyRef::Borrowed(self))
    }

    /// Starts an incremental computation that owns this key.
    #[must_use]
    pub fn into_state(self) -> State<'static> {
        State::new(KeyRef::Owned(Box::new(self)))
    }

    /// Whether `tag` (16 or 32 bytes: the truncated or full output) is the HMAC
    /// of `msg`, compared in constant time.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> Result<()> {
        let mut t = self.mac(msg);
        let ok = (tag.len() == TAG_LEN || tag.len() == OUTPUT_LEN)
            && crate::ct::eq(&t[..tag.len()], tag);
        t.zeroize();
        if ok {
            Ok(())
        } else {
            Err(Error::TagMismatch)
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("hmac::Key").finish_non_exhaustive()
    }
}

/// A SHA-256 computation resumed from a saved state.
#[derive(Clone)]
struct Sha256State {
    h: [u32; 8],
    buf: [u8; BLOCK],
    buf_len: usize,
    /// Bytes absorbed, including any blocks folded into the starting state.
    total: u64,
}

impl Sha256State {
    fn new(h: [u32; 8], already: u64) -> Self {
        Sha256State {
            h,
            buf: [0; BLOCK],
            buf_len: 0,
            total: already,
        }
    }

    /// Buffers `data` if it fits in the block buffer (filling it is left
    /// for the next update or the finish to compress), so no compression
    /// (and no key-dependent computation) runs; false, doing nothing, else.
    #[inline]
    fn hold(&mut self, data: &[u8]) -> bool {
        if data.len() > BLOCK - self.buf_len {
            return false;
        }
        super::copy_short(&mut self.buf[self.buf_len..], data);
        self.buf_len += data.len();
        self.total = self.total.wrapping_add(data.len() as u64);
        true
    }

    fn update(&mut self, backend: &Backend, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (BLOCK - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < BLOCK {
                return;
            }
            backend.sha256_compress(&mut self.h, &self.buf);
            self.buf_len = 0;
        }
        let full = data.len() / BLOCK * BLOCK;
        backend.sha256_compress(&mut self.h, &data[..full]);
        let rest = &data[full..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Pads and compresses the last one or two blocks; returns the state words.
    fn finish_words(&mut self, backend: &Backend) -> [u32; 8] {
        // Padding: 0x80, zeros, 64-bit big-endian bit length. Built in the
        // buffer itself when it fits, so a short message costs no extra copies.
        let bits = self.total.wrapping_mul(8).to_be_bytes();
        if self.buf_len == BLOCK {
            // A block `hold` filled: compressed only now.
            backend.sha256_compress(&mut self.h, &self.buf);
            self.buf_len = 0;
        }
        let n = self.buf_len;
        self.buf[n] = 0x80;
        if n < BLOCK - 8 {
            self.buf[n + 1..BLOCK - 8].fill(0);
            self.buf[BLOCK - 8..].copy_from_slice(&bits);
            backend.sha256_compress(&mut self.h, &self.buf);
        } else {
            self.buf[n + 1..].fill(0);
            backend.sha256_compress(&mut self.h, &self.buf);
            let mut last = [0u8; BLOCK];
            last[BLOCK - 8..].copy_from_slice(&bits);
            backend.sha256_compress(&mut self.h, &last);
        }
        self.h
    }

    fn finish(&mut self, backend: &Backend) -> [u8; 32] {
        words_to_bytes(&self.finish_words(backend))
    }
}

/// The one block of HMAC-SHA256's outer hash after the opad block: the inner
/// digest, 0x80, zeros, and the bit length of opad block + digest (96 bytes =
/// 768 bits). Key-dependent: callers erase it.
pub(crate) fn outer_block(inner: &[u32; 8]) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..32].copy_from_slice(&words_to_bytes(inner));
    block[32] = 0x80;
    block[BLOCK - 8..].copy_from_slice(&768u64.to_be_bytes());
    block
}

pub(crate) fn words_to_bytes(w: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(w) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

impl Drop for Sha256State {
    // The chaining value descends from the key's pad states; the buffer holds
    // only message bytes.
    fn drop(&mut self) {
        self.h.zeroize();
    }
}

/// An incremental HMAC-SHA256 computation.
#[derive(Clone)]
pub struct State<'k> {
    key: KeyRef<'k, Key>,
    sha: Sha256State,
}

impl<'k> State<'k> {
    fn new(key: KeyRef<'k, Key>) -> Self {
        let sha = Sha256State::new(key.inner, BLOCK as u64);
        State { key, sha }
    }

    /// Absorbs `data`.
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        // An update that only fills the block buffer copies message bytes and
        // touches no key: nothing to erase (Samba's header and signature
        // updates; each erasure costs about as much as a short update).
        if self.sha.hold(data) {
            return;
        }
        self.update_through_kernel(data);
    }

    /// [`State::update`] of what does not fit the block buffer, out of line
    /// so that a held update saves no registers and sets up no frame for the
    /// erasure.
    #[inline(never)]
    fn update_through_kernel(&mut self, data: &[u8]) {
        scrub::after(Bytes::hmac(&self.key.backend), || self.absorb(data));
    }

    /// [`State::update`] without the stack erasure, for callers that erase
    /// once around a whole computation.
    pub(crate) fn absorb(&mut self, data: &[u8]) {
        self.sha.update(&self.key.backend, data);
    }

    /// The full 32-byte HMAC of everything absorbed.
    #[must_use]
    pub fn finalize(self) -> [u8; OUTPUT_LEN] {
        scrub::after(Bytes::hmac(&self.key.backend), || self.finish())
    }

    /// [`State::finalize`] without the stack erasure (see [`State::absorb`]).
    pub(crate) fn finish(mut self) -> [u8; OUTPUT_LEN] {
        let backend = self.key.backend;
        let mut inner = self.sha.finish_words(&backend);
        let mut block = outer_block(&inner);
        let mut h = self.key.outer;
        backend.sha256_compress(&mut h, &block);
        inner.zeroize();
        block[..32].zeroize();
        let out = words_to_bytes(&h);
        h.zeroize();
        out
    }

    /// The 16-byte SMB2 signature of everything absorbed.
    #[must_use]
    pub fn finalize16(self) -> [u8; TAG_LEN] {
        self.finalize()[..TAG_LEN].try_into().unwrap()
    }

    /// [`State::finalize16`] without the stack erasure (see [`State::absorb`]).
    pub(crate) fn finish16(self) -> [u8; TAG_LEN] {
        self.finish()[..TAG_LEN].try_into().unwrap()
    }

    /// The full 32-byte HMAC of everything absorbed, leaving the state as if
    /// just started with the same key (for APIs whose handle outlives one
    /// message, like GnuTLS's `gnutls_hmac_output`), without copying the key.
    #[must_use]
    pub fn finalize_reset(&mut self) -> [u8; OUTPUT_LEN] {
        let fresh = Sha256State::new(self.key.inner, BLOCK as u64);
        let sha = core::mem::replace(&mut self.sha, fresh);
        State {
            key: KeyRef::Borrowed(&self.key),
            sha,
        }
        .finalize()
    }
}
