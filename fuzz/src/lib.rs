//! The checks behind smbsign's fuzz targets, one module per target.
//!
//! Each `check` decodes the fuzzer's bytes into arguments with [`Input`] (short
//! inputs read as zeros, so every input is valid), runs smbsign, and asserts
//! properties that hold for every input: the one-shot, incremental, vectored,
//! batch and C forms agree; every backend equals the portable one; the MACs and
//! the KDF equal independent implementations (RustCrypto); a failed call leaves
//! its output untouched. A panic or a sanitizer report is a finding.

pub mod backend_differential;
pub mod batch;
pub mod c_abi;
pub mod c_abi_transform;
pub mod capture;
pub mod hostile_args;
pub mod kdf;
pub mod mac_incremental;
pub mod pdu_chain;
pub mod reference;
pub mod transform;

use smbsign::smb2::{Algorithm, SigningKey};

/// A cursor over the fuzzer's bytes.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// The next byte, or 0 at the end.
    pub fn byte(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// Up to `n` next bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// The next `N` bytes, zero-padded.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let b = self.bytes(N);
        a[..b.len()].copy_from_slice(b);
        a
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Everything left (the cursor is then at the end).
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// The algorithm a selector byte names.
pub fn algorithm(selector: u8) -> Algorithm {
    match selector % 3 {
        0 => Algorithm::HmacSha256,
        1 => Algorithm::AesCmac,
        _ => Algorithm::AesGmac,
    }
}

/// A signing key from 16 bytes (every 16-byte key is valid).
pub fn signing_key(alg: Algorithm, key: &[u8; 16]) -> SigningKey {
    SigningKey::new(alg, key).expect("16-byte key")
}

/// Splits `msg` into segments whose lengths come from `lengths` in turn
/// (empty segments included); the remainder is the last segment.
pub fn cuts<'a>(msg: &'a [u8], lengths: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(lengths.len() + 1);
    let mut rest = msg;
    for &l in lengths {
        let (a, b) = rest.split_at(usize::from(l).min(rest.len()));
        out.push(a);
        rest = b;
    }
    out.push(rest);
    out
}

/// Flips one bit of `buf` chosen by `at` (nothing for an empty buffer).
pub fn flip_bit(buf: &mut [u8], at: u32) {
    if !buf.is_empty() {
        let i = at as usize % buf.len();
        buf[i] ^= 1 << (at >> 29);
    }
}
