//! SMB2 PDU signing: the header view, the GMAC nonce, compound-chain walking,
//! dialect-to-algorithm selection (MS-SMB2 3.1.4.1, 3.1.5.1), and the rules of
//! which key verifies which PDU and which messages must be signed ([`rules`]).
//!
//! Signing sets `SMB2_FLAGS_SIGNED`, zeroes the Signature field, MACs the PDU
//! and writes the signature; in a compound chain each PDU is signed over its own
//! bytes (up to `NextCommand`, the last to the end of the buffer). The chain is
//! walked once: each header is read and checked once and every signature is
//! computed from that copy and the walked layout; only when the whole chain is
//! valid and every signature computed is anything written. So a buffer is written
//! only when the operation succeeds, even if another thread scribbles on it meanwhile.
//! Verification never modifies the buffer: the header is MACed from a copy.

mod algorithm;
pub(crate) mod chain;
pub mod encryption;
pub(crate) mod header;
pub mod rules;
pub mod transform;

use core::ops::{Deref, DerefMut};

pub use algorithm::{
    cipher_for_dialect, dialect, session_cipher_keys, session_signing_key, Algorithm,
};
pub use encryption::{
    check_decrypted, clear_signatures, encryption_exemption, must_be_encrypted, signature_applies,
    EncryptionExemption,
};
pub use header::{
    gmac_nonce, gmac_nonce_for, Header, COMMAND_CANCEL, FLAGS_ASYNC_COMMAND,
    FLAGS_RELATED_OPERATIONS, FLAGS_SERVER_TO_REDIR, FLAGS_SIGNED, HEADER_LEN, PROTOCOL_ID,
    SIGNATURE_LEN, SIGNATURE_OFFSET,
};
pub use rules::{
    must_be_signed, response_should_be_signed, session_requires_signing, signing_exemption,
    verifying_session, verifying_sessions, Exemption,
};

use crate::backend::{self, Backend};
use crate::error::{Error, Result};
use crate::mac::{cmac, gmac, hmac};
use crate::scrub::{self, Bytes};
use chain::Pdu;
use header::{nonce_of, u32_at, FLAGS_OFFSET};

/// Length of every SMB2 signing key (MS-SMB2: Session.SigningKey is 16 bytes).
pub const KEY_LEN: usize = 16;

/// A session's signing key for one algorithm.
// The GMAC variant carries its GHASH key powers inline (about 700 bytes): keys
// live as long as a session, and inline state keeps signing free of indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum SigningKey {
    /// HMAC-SHA256 (SMB 2.0.2, 2.1, or 3.1.1 with SigningAlgorithmId 0).
    HmacSha256(hmac::Key),
    /// AES-128-CMAC (SMB 3.0, 3.0.2, 3.1.1 default).
    AesCmac(cmac::Key),
    /// AES-128-GMAC (SMB 3.1.1 with SigningAlgorithmId 2).
    AesGmac(gmac::Key),
}

impl SigningKey {
    /// A key for `algorithm` on the process-wide backend; `key` must be 16 bytes.
    pub fn new(algorithm: Algorithm, key: &[u8]) -> Result<SigningKey> {
        SigningKey::with_backend(algorithm, key, backend::active())
    }

    /// A key for `algorithm` on an explicit backend.
    pub fn with_backend(algorithm: Algorithm, key: &[u8], backend: Backend) -> Result<SigningKey> {
        let k: &[u8; KEY_LEN] = key.try_into().map_err(|_| Error::KeyLength {
            expected: KEY_LEN,
            got: key.len(),
        })?;
        // One erasure around the key and its move into the enum.
        Ok(scrub::after(Bytes::GMAC_KEY, || match algorithm {
            Algorithm::HmacSha256 => SigningKey::HmacSha256(hmac::Key::setup(k, backend)),
            Algorithm::AesCmac => SigningKey::AesCmac(cmac::Key::setup(k, backend)),
            Algorithm::AesGmac => SigningKey::AesGmac(gmac::Key::setup(k, backend)),
        }))
    }

    /// The signing key of a session on a connection of `dialect`: the algorithm
    /// from [`Algorithm::for_dialect`] (`negotiated` is the 3.1.1
    /// SigningAlgorithmId) and the key from [`session_signing_key`].
    pub fn for_session(
        dialect: u16,
        negotiated: Option<u16>,
        session_key: &[u8],
        preauth_hash: &[u8; 64],
    ) -> Result<SigningKey> {
        let algorithm = Algorithm::for_dialect(dialect, negotiated)?;
        let mut k = session_signing_key(dialect, session_key, preauth_hash)?;
        let key = SigningKey::new(algorithm, &k);
        zeroize::Zeroize::zeroize(&mut k);
        key
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::HmacSha256(_) => Algorithm::HmacSha256,
            SigningKey::AesCmac(_) => Algorithm::AesCmac,
            SigningKey::AesGmac(_) => Algorithm::AesGmac,
        }
    }

    /// The 16-byte MAC of the concatenation of `parts`. AES-GMAC requires a
    /// nonce ([`Error::MissingNonce`]); the others refuse one ([`Error::UnexpectedNonce`]).
    pub fn mac_vectored<B: Deref<Target = [u8]>>(
        &self,
        nonce: Option<&[u8; gmac::NONCE_LEN]>,
        parts: &[B],
    ) -> Result<[u8; 16]> {
        // Each algorithm's own vectored MAC: GMAC's reads up to five parts in
        // place through the fused kernels, and each erases only its own
        // path's stack. A generic stream erased at GMAC's deepest size cost
        // the C ABI's `smbsign_mac_iov` 60-130 ns per call over one part.
        match (self, nonce) {
            (SigningKey::HmacSha256(k), None) => {
                let full = k.mac_vectored(parts);
                let mut tag = [0u8; 16];
                tag.copy_from_slice(&full[..16]);
                Ok(tag)
            }
            (SigningKey::AesCmac(k), None) => Ok(k.mac_vectored(parts)),
            (SigningKey::AesGmac(k), Some(n)) => Ok(k.mac_vectored(n, parts)),
            (SigningKey::AesGmac(_), None) => Err(Error::MissingNonce),
            (_, Some(_)) => Err(Error::UnexpectedNonce),
        }
    }

    /// How much stack this key's MAC computations use for `len` bytes in all
    /// (see [`crate::scrub`]).
    fn scrub_bytes(&self, len: usize) -> usize {
        match self {
            SigningKey::HmacSha256(k) => Bytes::pdu_hmac(&k.backend()),
            SigningKey::AesCmac(k) => Bytes::pdu_cmac(&k.backend()),
            SigningKey::AesGmac(k) => Bytes::pdu_gmac(&k.backend(), len),
        }
    }

    /// The 16-byte MAC of `msg` (see [`SigningKey::mac_vectored`] for the nonce rule).
    // Inline: callers then call the algorithm's MAC directly and its tag lands
    // in their own aligned slot, not at offset 2 of a returned Result
    // (docs/tuning.md: "`SigningKey::mac` inlined").
    #[inline]
    pub fn mac(&self, nonce: Option<&[u8; gmac::NONCE_LEN]>, msg: &[u8]) -> Result<[u8; 16]> {
        match (self, nonce) {
            (SigningKey::HmacSha256(k), None) => Ok(k.mac16(msg)),
            (SigningKey::AesCmac(k), None) => Ok(k.mac(msg)),
            (SigningKey::AesGmac(k), Some(n)) => Ok(k.mac(n, msg)),
            (SigningKey::AesGmac(_), None) => Err(Error::MissingNonce),
            (_, Some(_)) => Err(Error::UnexpectedNonce),
        }
    }

    /// Whether `tag` is the 16-byte MAC of `msg`, compared in constant time
    /// ([`Error::TagMismatch`] if not; nonce rule as [`SigningKey::mac`]).
    pub fn verify(
        &self,
        nonce: Option<&[u8; gmac::NONCE_LEN]>,
        msg: &[u8],
        tag: &[u8],
    ) -> Result<()> {
        let t = self.mac(nonce, msg)?;
        if crate::ct::eq(&t, tag) {
            Ok(())
        } else {
            Err(Error::TagMismatch)
        }
    }

    /// The signature of one validated PDU, with its header as given in `header`.
    fn pdu_signature<B: Deref<Target = [u8]>>(
        &self,
        segs: &[B],
        pdu: &Pdu,
        header: &[u8; HEADER_LEN],
    ) -> [u8; 16] {
        let nonce = nonce_of(header);
        // GMAC's short-message paths and CMAC want the whole message at once:
        // when the body lies in one segment (always so for contiguous PDUs),
        // hand it over. The streaming state below is as fast for HMAC.
        if let Some(body) = chain::contiguous(segs, pdu.start + HEADER_LEN, pdu.end) {
            match self {
                SigningKey::AesGmac(k) => return k.mac2(&nonce, header, body),
                SigningKey::AesCmac(k) => return k.mac2(header, body),
                SigningKey::HmacSha256(_) => {}
            }
        }
        let mut st = match self {
            SigningKey::HmacSha256(k) => MacState::Hmac(k.start()),
            SigningKey::AesCmac(k) => MacState::Cmac(k.start()),
            SigningKey::AesGmac(k) => MacState::Gmac(k.begin(&nonce)),
        };
        st.update(header);
        chain::for_each_piece(segs, pdu.start + HEADER_LEN, pdu.end, |p| st.update(p));
        st.finalize()
    }
}

impl SigningKey {
    /// The Flags word (SIGNED set) and signature to write into one walked PDU,
    /// computed from its header copy.
    fn pdu_flags_and_signature<B: Deref<Target = [u8]>>(
        &self,
        segs: &[B],
        pdu: &Pdu,
    ) -> ([u8; 4], [u8; 16]) {
        let header = mac_header(&pdu.header, true);
        let sig = self.pdu_signature(segs, pdu, &header);
        let flags = header[FLAGS_OFFSET..FLAGS_OFFSET + 4].try_into().unwrap();
        (flags, sig)
    }

    /// Whether one walked PDU is signed and its signature matches (constant time).
    fn check_pdu<B: Deref<Target = [u8]>>(&self, segs: &[B], pdu: &Pdu) -> Result<()> {
        if u32_at(&pdu.header, FLAGS_OFFSET) & FLAGS_SIGNED == 0 {
            return Err(Error::NotSigned { offset: pdu.start });
        }
        let header = mac_header(&pdu.header, false);
        let sig = self.pdu_signature(segs, pdu, &header);
        let got = &pdu.header[SIGNATURE_OFFSET..SIGNATURE_OFFSET + SIGNATURE_LEN];
        if crate::ct::eq(&sig, got) {
            Ok(())
        } else {
            Err(Error::BadSignature { offset: pdu.start })
        }
    }
}

enum MacState<'k> {
    Hmac(hmac::State<'k>),
    Cmac(cmac::State<'k>),
    Gmac(gmac::State<'k>),
}

// Without the stack erasure: every caller erases once around the whole PDU.
impl MacState<'_> {
    fn update(&mut self, data: &[u8]) {
        match self {
            MacState::Hmac(s) => s.absorb(data),
            MacState::Cmac(s) => s.absorb(data),
            MacState::Gmac(s) => s.absorb(data),
        }
    }

    fn finalize(self) -> [u8; 16] {
        match self {
            MacState::Hmac(s) => s.finish16(),
            MacState::Cmac(s) => s.finish(),
            MacState::Gmac(s) => s.finish(),
        }
    }
}

/// The header as it is MACed: Signature zeroed and, when signing, SIGNED set.
pub(crate) fn mac_header(h: &[u8; HEADER_LEN], set_signed: bool) -> [u8; HEADER_LEN] {
    let mut m = *h;
    m[SIGNATURE_OFFSET..SIGNATURE_OFFSET + SIGNATURE_LEN].fill(0);
    if set_signed {
        let flags = u32_at(h, FLAGS_OFFSET) | FLAGS_SIGNED;
        m[FLAGS_OFFSET..FLAGS_OFFSET + 4].copy_from_slice(&flags.to_le_bytes());
    }
    m
}

/// A PDU header as it is MACed for verification: the first 64 bytes of
/// `pdu` with the Signature field zeroed.
pub fn header_for_mac(pdu: &[u8]) -> Result<[u8; HEADER_LEN]> {
    Ok(mac_header(header::header_of(pdu)?, false))
}

/// The byte range of each PDU of a compound chain, in order: each PDU runs
/// to its `NextCommand`, the last to the end of `buf` (the ranges signing MACs).
pub fn chain_ranges(buf: &[u8]) -> Result<Vec<core::ops::Range<usize>>> {
    let mut out = Vec::new();
    chain::walk(&[buf], |pdu| out.push(pdu.start..pdu.end))?;
    Ok(out)
}

/// Signs a PDU or compound chain in place.
pub fn sign_pdu(key: &SigningKey, pdu: &mut [u8]) -> Result<()> {
    sign_pdu_vectored(key, &mut [pdu])
}

/// Verifies a PDU or compound chain without modifying it: `Ok(())` when every
/// PDU is signed and its signature matches, compared in constant time.
pub fn verify_pdu(key: &SigningKey, pdu: &[u8]) -> Result<()> {
    verify_pdu_vectored(key, &[pdu])
}

/// Signs a PDU or compound chain spread over `segs` (header, body, payload...),
/// in place. Headers may straddle segments. Nothing is written unless the
/// whole chain is valid; the signatures (16 bytes each) are all computed
/// before the first is written.
pub fn sign_pdu_vectored<B: DerefMut<Target = [u8]>>(
    key: &SigningKey,
    segs: &mut [B],
) -> Result<()> {
    let len = chain::total_len(&*segs);
    scrub::after(key.scrub_bytes(len), || sign_chain(key, segs))
}

fn sign_chain<B: DerefMut<Target = [u8]>>(key: &SigningKey, segs: &mut [B]) -> Result<()> {
    // A lone PDU (the common case): checked, then signed and written.
    let total = chain::total_len(&*segs);
    let first = chain::pdu_at(&*segs, 0, total)?;
    if first.end == total {
        let (flags, sig) = key.pdu_flags_and_signature(&*segs, &first);
        chain::write(segs, FLAGS_OFFSET, &flags);
        chain::write(segs, SIGNATURE_OFFSET, &sig);
        return Ok(());
    }
    // A chain: (start of the PDU, its Flags word with SIGNED set, its
    // signature) for each; the first few on the stack, more spill.
    const INLINE: usize = 4;
    let mut inline = [(0usize, [0u8; 4], [0u8; 16]); INLINE];
    let mut count = 0;
    let mut spill = Vec::new();
    chain::walk_from(&*segs, first, |pdu| {
        let (flags, sig) = key.pdu_flags_and_signature(&*segs, &pdu);
        match inline.get_mut(count) {
            Some(slot) => *slot = (pdu.start, flags, sig),
            None => spill.push((pdu.start, flags, sig)),
        }
        count += 1;
    })?;
    for &(start, flags, sig) in inline[..count.min(INLINE)].iter().chain(&spill) {
        chain::write(segs, start + FLAGS_OFFSET, &flags);
        chain::write(segs, start + SIGNATURE_OFFSET, &sig);
    }
    Ok(())
}

/// Verifies a PDU or compound chain spread over `segs` without modifying it.
/// Fails with [`Error::NotSigned`] for a PDU without `SMB2_FLAGS_SIGNED`, and
/// [`Error::BadSignature`] naming the first PDU whose signature does not match;
/// a malformed chain's error takes precedence over both.
pub fn verify_pdu_vectored<B: Deref<Target = [u8]>>(key: &SigningKey, segs: &[B]) -> Result<()> {
    scrub::after(key.scrub_bytes(chain::total_len(segs)), || {
        let mut verdict = Ok(());
        chain::walk(segs, |pdu| {
            if verdict.is_ok() {
                verdict = key.check_pdu(segs, &pdu);
            }
        })?;
        verdict
    })
}
