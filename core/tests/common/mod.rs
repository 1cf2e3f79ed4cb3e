//! Shared test helpers: vector-file parsing, reference implementations, backends.
#![allow(dead_code)]

use std::path::PathBuf;

use smbsign::{Backend, Tier};

/// Parses a `KEY = hex` record file (records separated by blank lines; `#` comments).
pub fn records(name: &str) -> Vec<Vec<(String, Vec<u8>)>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut out = Vec::new();
    let mut rec = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !rec.is_empty() {
                out.push(std::mem::take(&mut rec));
            }
            continue;
        }
        let (k, v) = line.split_once('=').expect("key = value");
        let v = v.trim();
        let bytes = if k.trim() == "L" {
            v.parse::<u32>().unwrap().to_be_bytes().to_vec()
        } else {
            hex::decode(v).unwrap()
        };
        rec.push((k.trim().to_string(), bytes));
    }
    out
}

pub fn field<'a>(rec: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &rec.iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

/// Every backend this CPU supports, portable first, each followed by its
/// variants with the other long-message GHASH loops the CPU has
/// (`Backend::ghash_variants`: on an Intel AVX-512 CPU the zmm tier's
/// VBMI-Karatsuba loop beside the GFNI one it picks). Under
/// `SMBSIGN_TEST_TIERS` (comma-separated names) only those tiers.
pub fn backends() -> Vec<Backend> {
    let tiers = match std::env::var("SMBSIGN_TEST_TIERS") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|n| Backend::with_tier(Tier::from_name(n).unwrap()).expect("tier available"))
            .collect(),
        _ => Backend::available(),
    };
    tiers.iter().flat_map(Backend::ghash_variants).collect()
}

/// [`backends`], each followed by its variants with every other multi-buffer
/// kernel this CPU supports (`Backend::batch_variants`), so batch tests reach
/// kernels no tier picks here (e.g. the AVX2 SHA-256 lanes beside SHA-NI).
pub fn batch_backends() -> Vec<Backend> {
    backends()
        .iter()
        .flat_map(Backend::batch_variants)
        .collect()
}

pub fn ref_cmac(key: &[u8], msg: &[u8]) -> [u8; 16] {
    use cmac::{KeyInit, Mac};
    let mut m = <cmac::Cmac<aes::Aes128> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

pub fn ref_hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

pub fn ref_gmac(key: &[u8], nonce: &[u8], msg: &[u8]) -> [u8; 16] {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let c = aes_gcm::Aes128Gcm::new_from_slice(key).unwrap();
    let n = aes_gcm::Nonce::try_from(nonce).unwrap();
    let out = c.encrypt(&n, Payload { msg: &[], aad: msg }).unwrap();
    out.try_into().unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), for fixed sweeps.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// Cases for proptest: `SMBSIGN_PROPTEST_CASES` or the default.
pub fn cases(default: u32) -> u32 {
    std::env::var("SMBSIGN_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Largest message length for sweeps: `SMBSIGN_TEST_MAX_LEN` or the default
/// (emulated runs lower it).
pub fn max_len(default: usize) -> usize {
    std::env::var("SMBSIGN_TEST_MAX_LEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
