//! AES-128-CMAC (RFC 4493, NIST SP 800-38B): the signature of SMB 3.0, 3.0.2
//! and, by default, 3.1.1.

use super::{copy_short, KeyRef};

use zeroize::Zeroize;

use crate::backend::{self, Backend, RoundKeys};
use crate::error::{Error, Result};
use crate::scrub::{self, Bytes};

/// Tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Key length in bytes.
pub const KEY_LEN: usize = 16;

/// An AES-128-CMAC key: round keys and the subkeys K1, K2, computed once.
/// Zeroized on drop.
#[derive(Clone)]
pub struct Key {
    pub(crate) rk: RoundKeys,
    pub(crate) k1: [u8; 16],
    pub(crate) k2: [u8; 16],
    backend: Backend,
}

/// Doubling in GF(2^128) with CMAC's big-endian convention (SP 800-38B 6.1).
fn dbl(b: &[u8; 16]) -> [u8; 16] {
    let v = u128::from_be_bytes(*b);
    // The reduction constant is applied by mask, not by branch.
    let carry = 0u128.wrapping_sub(v >> 127);
    ((v << 1) ^ (carry & 0x87)).to_be_bytes()
}

impl Key {
    /// Expands `key` for the process-wide backend ([`backend::active`]).
    #[must_use]
    #[inline(always)]
    pub fn new(key: &[u8; KEY_LEN]) -> Key {
        Key::with_backend(key, backend::active())
    }

    /// Like [`Key::new`] for a key of unchecked length: [`Error::KeyLength`] unless 16 bytes.
    pub fn from_slice(key: &[u8]) -> Result<Key> {
        let k: &[u8; KEY_LEN] = key.try_into().map_err(|_| Error::KeyLength {
            expected: KEY_LEN,
            got: key.len(),
        })?;
        Ok(Key::new(k))
    }

    /// Expands `key` for an explicit backend (tests and benchmarks pin tiers this way).
    #[must_use]
    // Inline: the key is returned by value, and a frame of its own would
    // keep a copy above the erased region.
    #[inline(always)]
    pub fn with_backend(key: &[u8; KEY_LEN], backend: Backend) -> Key {
        scrub::after(Bytes::cmac(&backend), || Key::setup(key, backend))
    }

    pub(crate) fn setup(key: &[u8; KEY_LEN], backend: Backend) -> Key {
        let rk = backend.expand_aes_key(key);
        let mut l = [0u8; 16];
        backend.aes_encrypt(&rk, &mut l);
        let k1 = dbl(&l);
        let k2 = dbl(&k1);
        l.zeroize();
        Key {
            rk,
            k1,
            k2,
            backend,
        }
    }

    /// The backend this key computes with.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The CMAC of `msg`.
    #[must_use]
    #[inline]
    pub fn mac(&self, msg: &[u8]) -> [u8; TAG_LEN] {
        scrub::after(Bytes::cmac(&self.backend), || self.tag(msg)).to_le_bytes()
    }

    /// The CMAC of `msg`, its bytes as a little-endian `u128`: returned in
    /// two registers, not through the caller's stack (as `gmac::Key::tag2`).
    fn tag(&self, msg: &[u8]) -> u128 {
        // Every block but the last goes straight through the kernel; the last
        // (complete or padded) gets its subkey.
        let full = if msg.is_empty() {
            0
        } else {
            (msg.len() - 1) / 16 * 16
        };
        let mut state = [0u8; 16];
        self.backend.cbc_mac(&self.rk, &mut state, &msg[..full]);
        u128::from_le_bytes(self.finish(state, &msg[full..]))
    }

    /// The CMAC of `a || b`, `a` whole blocks (an SMB header copy and the PDU
    /// body), without the stack erasure: for callers that erase once around
    /// a whole computation. Both are read where they lie, as [`Key::mac`]
    /// reads one message (the incremental state would copy into its buffer).
    pub(crate) fn mac2(&self, a: &[u8], b: &[u8]) -> [u8; TAG_LEN] {
        debug_assert!(a.len().is_multiple_of(16));
        if b.is_empty() {
            return self.tag(a).to_le_bytes();
        }
        let mut state = [0u8; 16];
        self.backend.cbc_mac(&self.rk, &mut state, a);
        let full = (b.len() - 1) / 16 * 16;
        if full > 0 {
            self.backend.cbc_mac(&self.rk, &mut state, &b[..full]);
        }
        self.finish(state, &b[full..])
    }

    /// The CMAC of the concatenation of `parts`.
    #[must_use]
    pub fn mac_vectored<B: core::ops::Deref<Target = [u8]>>(&self, parts: &[B]) -> [u8; TAG_LEN] {
        scrub::after(Bytes::cmac(&self.backend), || {
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

    /// Starts an incremental computation that owns this key (for long-lived
    /// states, such as a language binding's MAC object).
    #[must_use]
    pub fn into_state(self) -> State<'static> {
        State::new(KeyRef::Owned(Box::new(self)))
    }

    /// Whether `tag` is the CMAC of `msg`, compared in constant time.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> Result<()> {
        let mut t = self.mac(msg);
        let ok = crate::ct::eq(&t, tag);
        t.zeroize();
        if ok {
            Ok(())
        } else {
            Err(Error::TagMismatch)
        }
    }

    /// The last block (0..=16 message bytes) as CBC-MAC'ed: complete and masked
    /// with K1, or padded with `80 00..` and masked with K2. Key-dependent.
    pub(crate) fn last_block(&self, last: &[u8]) -> [u8; 16] {
        // Copied by fixed-size moves and masked as one `u128`: a run-time
        // length `copy_from_slice` (a call to `memcpy`) and a byte-wise xor
        // were about 60 instructions of a 64-byte MAC (callgrind, issue 25).
        let mut block = [0u8; 16];
        copy_short(&mut block, last);
        let subkey = if last.len() == 16 {
            &self.k1
        } else {
            block[last.len()] = 0x80;
            &self.k2
        };
        (u128::from_ne_bytes(block) ^ u128::from_ne_bytes(*subkey)).to_ne_bytes()
    }

    /// Applies the last block (0..=16 bytes) and returns the tag.
    fn finish(&self, mut state: [u8; 16], last: &[u8]) -> [u8; TAG_LEN] {
        let mut block = self.last_block(last);
        self.backend.cbc_mac(&self.rk, &mut state, &block);
        block.zeroize();
        state
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.rk.zeroize();
        self.k1.zeroize();
        self.k2.zeroize();
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("cmac::Key").finish_non_exhaustive()
    }
}

/// An incremental CMAC computation. The last block is held back until
/// [`State::finalize`], since it alone is combined with a subkey.
#[derive(Clone)]
pub struct State<'k> {
    key: KeyRef<'k, Key>,
    state: [u8; 16],
    buf: [u8; HELD],
    buf_len: usize,
}

/// Message bytes a state holds back before running the kernel: updates that
/// fit are only copied, touching no key and needing no stack erasure, and
/// run as one chain later (Samba signs a header, a zeroed signature and a
/// body as three updates: a 64-byte message costs one kernel call and one
/// erasure, not two and four). A multiple of 16. Not more: a state lives on
/// the stack in the PDU paths and `Key::mac_vectored`, and 256 made them
/// deeper than their erasure sizes (`scrub::Bytes`); a caller that wants to
/// hold more holds it itself and hands it to [`State::finalize_reset_with`].
const HELD: usize = 64;

impl<'k> State<'k> {
    fn new(key: KeyRef<'k, Key>) -> Self {
        State {
            key,
            state: [0; 16],
            buf: [0; HELD],
            buf_len: 0,
        }
    }

    /// Absorbs `data`.
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        if self.hold(data) {
            return;
        }
        self.update_through_kernel(data);
    }

    /// [`State::update`] of what does not fit the held bytes, out of line so
    /// that a held update (most of Samba's) saves no registers and sets up no
    /// frame for the erasure.
    #[inline(never)]
    fn update_through_kernel(&mut self, data: &[u8]) {
        scrub::after(Bytes::cmac(&self.key.backend), || self.absorb(data));
    }

    /// Copies `data` into the held bytes if it fits; false, doing nothing, else.
    #[inline]
    fn hold(&mut self, data: &[u8]) -> bool {
        if data.len() > HELD - self.buf_len {
            return false;
        }
        copy_short(&mut self.buf[self.buf_len..], data);
        self.buf_len += data.len();
        true
    }

    /// [`State::update`] without the stack erasure, for callers that erase
    /// once around a whole computation.
    pub(crate) fn absorb(&mut self, mut data: &[u8]) {
        // Only what joins held bytes, or a lone partial block, is held: the
        // bulk of a PDU goes through the kernel where it lies (copying a whole
        // header into the state first made a 64-byte PDU 30% slower).
        if (self.buf_len > 0 || data.len() <= 16) && self.hold(data) {
            return;
        }
        // `data` is not empty here: empty data is always held.
        // `data` overflows the held bytes, so more follows them: they go
        // through the kernel, topped up to whole blocks first (HELD is a
        // multiple of 16 and data.len() > HELD - buf_len, so some of `data`
        // is left after).
        if self.buf_len > 0 {
            let take = (16 - self.buf_len % 16) % 16;
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            data = &data[take..];
            let held = self.buf_len + take;
            self.key
                .backend
                .cbc_mac(&self.key.rk, &mut self.state, &self.buf[..held]);
            self.buf_len = 0;
        }
        // Keep the final 1..=16 bytes back; everything before is whole blocks.
        let keep = (data.len() - 1) % 16 + 1;
        let (bulk, rest) = data.split_at(data.len() - keep);
        self.key
            .backend
            .cbc_mac(&self.key.rk, &mut self.state, bulk);
        self.buf[..keep].copy_from_slice(rest);
        self.buf_len = keep;
    }

    /// The tag of the state and held bytes: all but the last 1..=16 held
    /// bytes through the kernel, then the last block with its subkey.
    fn tag(&self) -> [u8; TAG_LEN] {
        let held = &self.buf[..self.buf_len];
        let full = held.len().saturating_sub(1) / 16 * 16;
        let mut state = self.state;
        if full > 0 {
            self.key
                .backend
                .cbc_mac(&self.key.rk, &mut state, &held[..full]);
        }
        self.key.finish(state, &held[full..])
    }

    /// The tag of everything absorbed.
    #[must_use]
    pub fn finalize(self) -> [u8; TAG_LEN] {
        scrub::after(Bytes::cmac(&self.key.backend), || self.finish())
    }

    /// [`State::finalize`] without the stack erasure (see [`State::absorb`]).
    pub(crate) fn finish(self) -> [u8; TAG_LEN] {
        self.tag()
    }

    /// The tag of everything absorbed, leaving the state as if just started
    /// with the same key (for APIs whose handle outlives one message, like
    /// GnuTLS's `gnutls_hmac_output`), without copying the key.
    #[must_use]
    pub fn finalize_reset(&mut self) -> [u8; TAG_LEN] {
        scrub::after(Bytes::cmac(&self.key.backend), || {
            let tag = self.tag();
            self.state.zeroize();
            self.buf_len = 0;
            tag
        })
    }

    /// [`State::update`] with `data`, then [`State::finalize_reset`], under
    /// one stack erasure: for a caller that holds a message's last bytes
    /// itself (the GnuTLS preload holds Samba's header, signature and a
    /// short body), so that the message costs one erasure, as the one-shot
    /// MAC does, not one for the update and one for the tag.
    #[must_use]
    pub fn finalize_reset_with(&mut self, data: &[u8]) -> [u8; TAG_LEN] {
        scrub::after(Bytes::cmac(&self.key.backend), || {
            let tag = if self.buf_len == 0 && !data.is_empty() {
                // Nothing held: `data` is the message's end, read in place
                // (all but its last 1..=16 bytes through the kernel, then the
                // last block with its subkey), as the one-shot MAC reads it.
                let full = (data.len() - 1) / 16 * 16;
                let mut state = self.state;
                if full > 0 {
                    self.key
                        .backend
                        .cbc_mac(&self.key.rk, &mut state, &data[..full]);
                }
                self.key.finish(state, &data[full..])
            } else {
                self.absorb(data);
                self.tag()
            };
            self.state.zeroize();
            self.buf_len = 0;
            tag
        })
    }
}

impl Drop for State<'_> {
    // The chaining value is key-dependent; the buffer holds only message bytes.
    fn drop(&mut self) {
        self.state.zeroize();
    }
}
