//! AES-128-GMAC: AES-GCM with an empty plaintext and the message as additional
//! authenticated data (NIST SP 800-38D), the signature of SMB 3.1.1 when
//! SIGNING_CAPABILITIES negotiates it.
//!
//! `tag = GHASH_H(msg || pad || [bitlen(msg)]_64 || 0^64) ^ E_K(nonce || 0^31 || 1)`,
//! `H = E_K(0^128)`. GHASH runs in the POLYVAL domain (RFC 8452 appendix A).

use super::KeyRef;

use zeroize::Zeroize;

use crate::backend::{self, Backend, HPowers, RoundKeys};
use crate::error::{Error, Result};
use crate::scrub::{self, Bytes};

/// Tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Key length in bytes.
pub const KEY_LEN: usize = 16;
/// Nonce length in bytes (96-bit IV).
pub const NONCE_LEN: usize = 12;

/// Messages up to this length are hashed in one kernel call together with
/// their padding and length block (one reduction for the whole message).
const ONE_CALL_MAX: usize = 512;

/// An AES-128-GMAC key: round keys and the powers of the hash key the active
/// GHASH kernel aggregates over, computed once. Zeroized on drop.
#[derive(Clone)]
pub struct Key {
    pub(crate) rk: RoundKeys,
    powers: HPowers,
    backend: Backend,
}

/// Two parts of at most this many bytes in all (Samba's header-only
/// message: a 48-byte header and the zeroed signature) are joined and MACed
/// as one ([`Key::tag_joined_one`]; docs/tuning.md: "Short GMAC parts joined").
const JOIN_MAX: usize = 64;

/// Parts [`Key::mac_parts`] splits at odd places for the fused kernels
/// (Samba signs up to five: header, zeroed signature, body, dynamic part,
/// padding).
pub const PARTS_MAX: usize = 8;

/// Splits the message `parts` (at most [`PARTS_MAX`], at least one) into
/// whole-block segments, written to `segs` (their count returned), and the
/// rest, returned as the tail. Segments and tail point into `parts` except for
/// a block that straddles parts, gathered in `scratch` (at most one per part:
/// each starts at a part boundary and ends in a later part, or is the tail).
/// Only message bytes are copied: `scratch` needs no wiping.
fn segments<'a>(
    parts: &[&'a [u8]],
    scratch: &'a mut [[u8; 16]; PARTS_MAX],
    segs: &mut [&'a [u8]; 2 * PARTS_MAX],
) -> (usize, &'a [u8]) {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let last = parts.len() - 1;
    let start_last = total - parts[last].len();
    // The tail lies in the last part from the first block boundary at or after
    // its start; if no boundary falls inside it, the tail is gathered too.
    let boundary = start_last.next_multiple_of(16);
    let head_end = boundary.min(total);
    // Segments as (part, start, end); part = usize::MAX marks a scratch block.
    let mut spans = [(0usize, 0usize, 0usize); 2 * PARTS_MAX];
    let (mut n, mut k, mut fill, mut off) = (0, 0, 0, 0);
    for (i, p) in parts.iter().enumerate() {
        let here = head_end.saturating_sub(off).min(p.len());
        let mut pos = 0;
        while pos < here {
            if fill > 0 {
                let take = (16 - fill).min(here - pos);
                scratch[k][fill..fill + take].copy_from_slice(&p[pos..pos + take]);
                fill += take;
                pos += take;
                if fill == 16 {
                    spans[n] = (usize::MAX, k, 16);
                    (n, k, fill) = (n + 1, k + 1, 0);
                }
                continue;
            }
            let whole = (here - pos) / 16 * 16;
            if whole > 0 {
                spans[n] = (i, pos, pos + whole);
                n += 1;
                pos += whole;
            }
            let rest = here - pos;
            if rest > 0 {
                scratch[k][..rest].copy_from_slice(&p[pos..here]);
                fill = rest;
                pos = here;
            }
        }
        off += p.len();
    }
    let gathered_tail = fill;
    let scratch: &'a [[u8; 16]; PARTS_MAX] = scratch;
    for (seg, &(i, a, b)) in segs.iter_mut().zip(&spans[..n]) {
        *seg = if i == usize::MAX {
            &scratch[a][..b]
        } else {
            &parts[i][a..b]
        };
    }
    let tail = if boundary <= total {
        &parts[last][boundary - start_last..]
    } else {
        &scratch[k][..gathered_tail]
    };
    (n, tail)
}

/// `v * x` in POLYVAL's field; the reduction is applied by mask.
pub(crate) fn mul_x(v: u128) -> u128 {
    let mask = 0u128.wrapping_sub(v >> 127);
    (v << 1) ^ (mask & 0xC200_0000_0000_0000_0000_0000_0000_0001)
}

/// `[bitlen(A)]_64 || [bitlen(C) = 0]_64`, big-endian.
fn length_block(len: u64) -> [u8; 16] {
    (u128::from(len.wrapping_mul(8)) << 64).to_be_bytes()
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

    /// Expands `key` for an explicit backend.
    #[must_use]
    // Inline: the key is returned by value, and a frame of its own would
    // keep a copy above the erased region.
    #[inline(always)]
    pub fn with_backend(key: &[u8; KEY_LEN], backend: Backend) -> Key {
        scrub::after(Bytes::GMAC_KEY, || Key::setup(key, backend))
    }

    pub(crate) fn setup(key: &[u8; KEY_LEN], backend: Backend) -> Key {
        let rk = backend.expand_aes_key(key);
        let mut h = [0u8; 16];
        backend.aes_encrypt(&rk, &mut h);
        let mut hv = mul_x(u128::from_be_bytes(h));
        let powers = backend.ghash_powers(hv);
        h.zeroize();
        hv.zeroize();
        Key {
            rk,
            powers,
            backend,
        }
    }

    /// The backend this key computes with.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The hash key powers (for the batch kernels).
    pub(crate) fn powers(&self) -> &HPowers {
        &self.powers
    }

    /// The pre-counter block `nonce || 0^31 || 1`.
    pub(crate) fn j0(nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
        // Assembled in a register: byte stores followed by a 16-byte load
        // would stall store forwarding.
        let lo = u64::from_le_bytes(nonce[..8].try_into().unwrap());
        let hi = u32::from_le_bytes(nonce[8..].try_into().unwrap());
        (u128::from(lo) | (u128::from(hi) << 64) | (1u128 << 120)).to_le_bytes()
    }

    fn tag_mask(&self, nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
        let mut j0 = Key::j0(nonce);
        self.backend.aes_encrypt(&self.rk, &mut j0);
        j0
    }

    /// The tag's bytes as a little-endian `u128`.
    fn finish(&self, acc: u128, mask: [u8; 16]) -> u128 {
        // tag = ByteReverse(acc) ^ mask, as two 128-bit operations.
        acc.swap_bytes() ^ u128::from_le_bytes(mask)
    }

    /// The GMAC of `msg` under `nonce`.
    #[must_use]
    #[inline]
    pub fn mac(&self, nonce: &[u8; NONCE_LEN], msg: &[u8]) -> [u8; TAG_LEN] {
        scrub::after(Bytes::gmac(&self.backend, msg.len()), || {
            self.tag2(nonce, msg, &[])
        })
        .to_le_bytes()
    }

    /// The GMAC of `a || b` (see [`Key::tag2`]), without the stack erasure:
    /// for callers that erase once around a whole computation.
    #[inline]
    pub(crate) fn mac2(&self, nonce: &[u8; NONCE_LEN], a: &[u8], b: &[u8]) -> [u8; TAG_LEN] {
        self.tag2(nonce, a, b).to_le_bytes()
    }

    /// The GMAC of `a || b` (an SMB header copy and the PDU body, or a message
    /// and nothing), its bytes as a little-endian `u128`: on x86's SIMD tiers
    /// a fused kernel at any length (`Backend::gmac_one_pass`, then
    /// `Backend::gmac_fused` for the short messages it leaves); elsewhere up
    /// to [`ONE_CALL_MAX`] bytes one GHASH kernel call, streaming beyond. A `u128`
    /// comes back in two registers where a `[u8; 16]` would come back through
    /// the caller's stack (the kernels return it the same way): one store and
    /// reload less per MAC, which a C caller pays in full.
    fn tag2(&self, nonce: &[u8; NONCE_LEN], a: &[u8], b: &[u8]) -> u128 {
        // One part is passed as `a` (batches hand messages over as `b`), so the
        // one-part kernels take it without a copy.
        let (a, b) = if a.is_empty() { (b, a) } else { (a, b) };
        if let Some(tag) = self
            .backend
            .gmac_one_pass(&self.rk, &self.powers, nonce, a, b)
        {
            return tag;
        }
        if a.len() + b.len() > ONE_CALL_MAX {
            return self.tag_stream(nonce, a, b);
        }
        if let Some(tag) = self.backend.gmac_fused(&self.rk, &self.powers, nonce, a, b) {
            return tag;
        }
        self.tag_joined(nonce, a, b)
    }

    /// [`Key::tag2`] through [`State`]. In a frame of its own, as is
    /// [`Key::tag_joined`]: inlined, their buffers made `tag2`'s frame 680
    /// bytes deep for the fused kernels too, and every call erased it.
    #[inline(never)]
    fn tag_stream(&self, nonce: &[u8; NONCE_LEN], a: &[u8], b: &[u8]) -> u128 {
        let mut st = State::new(KeyRef::Borrowed(self), nonce);
        st.absorb(a);
        st.absorb(b);
        u128::from_le_bytes(st.finish())
    }

    /// [`Key::tag2`] by one GHASH kernel call over a joined copy, for
    /// backends without a fused kernel for the message.
    #[inline(never)]
    fn tag_joined(&self, nonce: &[u8; NONCE_LEN], a: &[u8], b: &[u8]) -> u128 {
        let len = a.len() + b.len();
        let mask = self.tag_mask(nonce);
        // The common SMB header-only case gets a small buffer to clear.
        let acc = if len <= 48 {
            self.ghash_joined::<64>(a, b)
        } else {
            self.ghash_joined::<{ ONE_CALL_MAX + 32 }>(a, b)
        };
        self.finish(acc, mask)
    }

    /// GHASH of `a || b || zero padding || length block` in one kernel call,
    /// joined in an `N`-byte stack buffer (`N` >= the padded length + 16). The
    /// buffer holds only (public) message bytes: it is not zeroized.
    fn ghash_joined<const N: usize>(&self, a: &[u8], b: &[u8]) -> u128 {
        let len = a.len() + b.len();
        let mut buf = [0u8; N];
        buf[..a.len()].copy_from_slice(a);
        buf[a.len()..len].copy_from_slice(b);
        let padded = len.div_ceil(16) * 16;
        buf[padded..padded + 16].copy_from_slice(&length_block(len as u64));
        let mut acc = 0u128;
        self.backend
            .ghash(&self.powers, &mut acc, &buf[..padded + 16]);
        acc
    }

    /// The GMAC of the concatenation of `parts` under `nonce`. Up to
    /// [`PARTS_MAX`] parts go to the fused kernels read in place (see
    /// [`Key::mac_parts`]); more stream.
    #[must_use]
    pub fn mac_vectored<B: core::ops::Deref<Target = [u8]>>(
        &self,
        nonce: &[u8; NONCE_LEN],
        parts: &[B],
    ) -> [u8; TAG_LEN] {
        scrub::after_sized(|| {
            if parts.len() <= PARTS_MAX {
                let mut refs: [&[u8]; PARTS_MAX] = [&[]; PARTS_MAX];
                for (r, p) in refs.iter_mut().zip(parts) {
                    *r = p;
                }
                let refs = &refs[..parts.len()];
                let (bytes, in_place) = self.parts_shape(refs);
                return (self.parts_tag(nonce, refs, in_place).to_le_bytes(), bytes);
            }
            (self.stream(nonce, parts), Bytes::gmac_parts(&self.backend))
        })
    }

    /// The GMAC of the concatenation of `parts` under `nonce`, the shape of
    /// Samba's AAD (header, zeroed signature, body pieces). Whole-block parts
    /// followed by one of any length (Samba's three parts) go to the fused
    /// kernels as they lie; other splits of up to [`PARTS_MAX`] parts gather
    /// only the blocks that straddle parts; longer lists, or tiers without a
    /// fused kernel for the length, stream.
    #[must_use]
    pub fn mac_parts(&self, nonce: &[u8; NONCE_LEN], parts: &[&[u8]]) -> [u8; TAG_LEN] {
        // The size is found before the call, so the tag comes back in two
        // registers (as a `u128`): through memory, written as two 8-byte
        // halves and read as one 16-byte block, it stalled store forwarding
        // (a quarter of the preload's own time per 80-byte call).
        let (bytes, in_place) = self.parts_shape(parts);
        scrub::after(bytes, || self.parts_tag(nonce, parts, in_place)).to_le_bytes()
    }

    /// The stack [`Key::parts_tag`] uses on `parts`' path, and whether the
    /// parts lie as the fused kernels read them (whole-block parts, then one
    /// of any length: Samba's three), from one walk of the parts (it took
    /// three: two here, one more in `parts_tag`).
    #[inline]
    fn parts_shape(&self, parts: &[&[u8]]) -> (usize, bool) {
        let mut len = 0;
        let mut in_place = true;
        if let Some((last, head)) = parts.split_last() {
            for p in head {
                in_place &= p.len().is_multiple_of(16);
                len += p.len();
            }
            len += last.len();
        }
        if in_place {
            (Bytes::gmac_fused_parts(&self.backend, len), true)
        } else {
            (Bytes::gmac_parts(&self.backend), false)
        }
    }

    /// [`Key::mac_parts`] without the stack erasure (its callers erase once),
    /// the tag's bytes as a little-endian `u128`; `in_place` from
    /// [`Key::parts_shape`]. Parts that lie as the fused kernels read them
    /// take them from here; other splits go through [`Key::parts_gather`] in
    /// a frame of its own, so its scratch blocks do not deepen (and cost the
    /// erasure of) the common case.
    fn parts_tag(&self, nonce: &[u8; NONCE_LEN], parts: &[&[u8]], in_place: bool) -> u128 {
        let Some((last, head)) = parts.split_last() else {
            return self.tag2(nonce, &[], &[]);
        };
        if in_place {
            if let Some(t) = self.tag_head(nonce, head, last) {
                return t;
            }
        }
        u128::from_le_bytes(self.parts_gather(nonce, parts))
    }

    /// The tag of `parts` split at odd places: the blocks that straddle parts
    /// gathered ([`segments`]), then a fused kernel; or, for more than
    /// [`PARTS_MAX`] parts or where this backend has no fused kernel for the
    /// length, streamed.
    #[inline(never)]
    fn parts_gather(&self, nonce: &[u8; NONCE_LEN], parts: &[&[u8]]) -> [u8; TAG_LEN] {
        let tag = if parts.len() <= PARTS_MAX {
            let mut scratch = [[0u8; 16]; PARTS_MAX];
            let mut segs: [&[u8]; 2 * PARTS_MAX] = [&[]; 2 * PARTS_MAX];
            let (n, tail) = segments(parts, &mut scratch, &mut segs);
            self.tag_head(nonce, &segs[..n], tail)
        } else {
            None
        };
        match tag {
            Some(t) => t.to_le_bytes(),
            None => self.stream(nonce, parts),
        }
    }

    /// The tag of `head || b` (`head` whole-block parts) by a fused kernel, or
    /// `None` where this backend must stream.
    fn tag_head(&self, nonce: &[u8; NONCE_LEN], head: &[&[u8]], b: &[u8]) -> Option<u128> {
        match head {
            [] => Some(self.tag2(nonce, b, &[])),
            [a] if a.len() + b.len() <= JOIN_MAX => Some(self.tag_joined_one(nonce, a, b)),
            [a] => Some(self.tag2(nonce, a, b)),
            _ => self
                .backend
                .gmac_parts(&self.rk, &self.powers, nonce, head, b),
        }
    }

    /// [`Key::tag_head`] of two parts of at most [`JOIN_MAX`] bytes in all,
    /// joined in a stack buffer and MACed as one part: the one-part short
    /// kernels (`pclmul::gmac_short_tail`, the zmm tier's masked one) are
    /// the C ABI's for such a message, and cheaper than the two-part fused
    /// one (xmm tier, Samba's 48-byte header and zeroed signature through
    /// the preload: 205 against 140 instructions of kernel). The buffer holds
    /// only (public) message bytes: it is not zeroized.
    fn tag_joined_one(&self, nonce: &[u8; NONCE_LEN], a: &[u8], b: &[u8]) -> u128 {
        let mut buf = [0u8; JOIN_MAX];
        let n = a.len() + b.len();
        super::copy_short(&mut buf, a);
        super::copy_short(&mut buf[a.len()..], b);
        self.tag2(nonce, &buf[..n], &[])
    }

    /// The GMAC of the concatenation of `parts` through [`State`], without
    /// the stack erasure (its callers erase once).
    fn stream<B: core::ops::Deref<Target = [u8]>>(
        &self,
        nonce: &[u8; NONCE_LEN],
        parts: &[B],
    ) -> [u8; TAG_LEN] {
        let mut st = State::new(KeyRef::Borrowed(self), nonce);
        for p in parts {
            st.absorb(p);
        }
        st.finish()
    }

    /// Starts an incremental computation under `nonce`, borrowing this key.
    #[must_use]
    pub fn start(&self, nonce: &[u8; NONCE_LEN]) -> State<'_> {
        scrub::after(Bytes::gmac(&self.backend, 0), || {
            State::new(KeyRef::Borrowed(self), nonce)
        })
    }

    /// [`Key::start`] without the stack erasure, for callers that erase
    /// once around a whole computation.
    pub(crate) fn begin(&self, nonce: &[u8; NONCE_LEN]) -> State<'_> {
        State::new(KeyRef::Borrowed(self), nonce)
    }

    /// Starts an incremental computation that owns this key.
    #[must_use]
    pub fn into_state(self, nonce: &[u8; NONCE_LEN]) -> State<'static> {
        let bytes = Bytes::gmac(&self.backend, 0);
        scrub::after(bytes, || State::new(KeyRef::Owned(Box::new(self)), nonce))
    }

    /// Whether `tag` is the GMAC of `msg` under `nonce`, compared in constant time.
    pub fn verify(&self, nonce: &[u8; NONCE_LEN], msg: &[u8], tag: &[u8]) -> Result<()> {
        let mut t = self.mac(nonce, msg);
        let ok = crate::ct::eq(&t, tag);
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
        self.rk.zeroize();
        self.powers.h.zeroize();
        self.powers.karatsuba.zeroize();
        if let Some(w) = self.powers.wide.as_mut() {
            w.zeroize();
        }
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("gmac::Key").finish_non_exhaustive()
    }
}

/// An incremental GMAC computation.
#[derive(Clone)]
pub struct State<'k> {
    key: KeyRef<'k, Key>,
    mask: [u8; 16],
    acc: u128,
    buf: [u8; 16],
    buf_len: usize,
    total: u64,
}

impl<'k> State<'k> {
    fn new(key: KeyRef<'k, Key>, nonce: &[u8; NONCE_LEN]) -> Self {
        let mask = key.tag_mask(nonce);
        State {
            key,
            mask,
            acc: 0,
            buf: [0; 16],
            buf_len: 0,
            total: 0,
        }
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        scrub::after(Bytes::gmac(&self.key.backend, usize::MAX), || {
            self.absorb(data)
        });
    }

    /// [`State::update`] without the stack erasure (see [`Key::begin`]).
    pub(crate) fn absorb(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (16 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 16 {
                return;
            }
            self.key
                .backend
                .ghash(&self.key.powers, &mut self.acc, &self.buf);
            self.buf_len = 0;
        }
        let full = data.len() / 16 * 16;
        self.key
            .backend
            .ghash(&self.key.powers, &mut self.acc, &data[..full]);
        let rest = &data[full..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// The tag of everything absorbed.
    #[must_use]
    pub fn finalize(self) -> [u8; TAG_LEN] {
        scrub::after(Bytes::gmac(&self.key.backend, 0), || self.finish())
    }

    /// [`State::finalize`] without the stack erasure (see [`Key::begin`]).
    pub(crate) fn finish(mut self) -> [u8; TAG_LEN] {
        let mut tail = [0u8; 32];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        let padded = self.buf_len.div_ceil(16) * 16;
        tail[padded..padded + 16].copy_from_slice(&length_block(self.total));
        self.key
            .backend
            .ghash(&self.key.powers, &mut self.acc, &tail[..padded + 16]);
        self.key.finish(self.acc, self.mask).to_le_bytes()
    }
}

impl Drop for State<'_> {
    // The accumulator is a polynomial in H over known data and the mask is
    // E_K(J0): both key-dependent. The buffer holds only message bytes.
    fn drop(&mut self) {
        self.mask.zeroize();
        self.acc.zeroize();
    }
}
