//! Every backend this CPU supports (with each zmm GHASH loop it has) against
//! the portable one: one-shot and incremental MACs, PDU signing and a small
//! batch.
//!
//! Input: segment-length count and lengths, HMAC key length and key, a
//! 16-byte key, a 12-byte nonce, then the message.

use smbsign::batch::{self, Job};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::{cmac, gmac, hmac, Backend};

use crate::{cuts, Input};

/// Everything one backend computes for the input.
#[derive(Debug, PartialEq, Eq)]
struct Outputs {
    hmac: [u8; 32],
    hmac_split: [u8; 32],
    cmac: [u8; 16],
    cmac_split: [u8; 16],
    gmac: [u8; 16],
    gmac_split: [u8; 16],
    pdus: Vec<Vec<u8>>,
    batch: Vec<[u8; 16]>,
}

fn outputs(
    b: Backend,
    hkey: &[u8],
    key: &[u8; 16],
    nonce: &[u8; 12],
    msg: &[u8],
    parts: &[&[u8]],
) -> Outputs {
    let h = hmac::Key::with_backend(hkey, b);
    let c = cmac::Key::with_backend(key, b);
    let g = gmac::Key::with_backend(key, b);
    let mut hs = h.start();
    let mut cs = c.start();
    let mut gs = g.start(nonce);
    for p in parts {
        hs.update(p);
        cs.update(p);
        gs.update(p);
    }
    // The message as a PDU: a valid header start, NextCommand 0.
    let mut pdu = msg.to_vec();
    if pdu.len() >= smb2::HEADER_LEN {
        pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
        pdu[20..24].fill(0);
    }
    let keys: Vec<SigningKey> = Algorithm::ALL
        .iter()
        .map(|&a| SigningKey::with_backend(a, key, b).unwrap())
        .collect();
    let pdus = keys
        .iter()
        .map(|k| {
            let mut p = pdu.clone();
            match smb2::sign_pdu(k, &mut p) {
                Ok(()) => p,
                Err(_) => Vec::new(),
            }
        })
        .collect();
    // A batch: each algorithm over every part, so lanes of unequal lengths run together.
    let jobs: Vec<Job<'_>> = keys
        .iter()
        .flat_map(|k| {
            let n = (k.algorithm() == Algorithm::AesGmac).then_some(nonce);
            parts.iter().map(move |p| Job::new(k, n, p).unwrap())
        })
        .collect();
    let mut tags = vec![[0u8; 16]; jobs.len()];
    batch::sign(&jobs, &mut tags).unwrap();
    Outputs {
        hmac: h.mac(msg),
        hmac_split: hs.finalize(),
        cmac: c.mac(msg),
        cmac_split: cs.finalize(),
        gmac: g.mac(nonce, msg),
        gmac_split: gs.finalize(),
        pdus,
        batch: tags,
    }
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let nseg = usize::from(inp.byte() % 16);
    let lengths = inp.bytes(nseg);
    let hlen = usize::from(inp.byte());
    let hkey = inp.bytes(hlen);
    let key = inp.array::<16>();
    let nonce = inp.array::<12>();
    let msg = inp.rest();
    let parts = cuts(msg, lengths);
    let portable = outputs(Backend::portable(), hkey, &key, &nonce, msg, &parts);
    assert_eq!(portable.hmac, portable.hmac_split);
    assert_eq!(portable.cmac, portable.cmac_split);
    assert_eq!(portable.gmac, portable.gmac_split);
    // Each tier with each long-message GHASH loop the CPU has.
    for b in Backend::available()
        .iter()
        .flat_map(Backend::ghash_variants)
    {
        let got = outputs(b, hkey, &key, &nonce, msg, &parts);
        assert_eq!(
            got,
            portable,
            "backend {:?} ({}) differs from portable",
            b.tier(),
            b.aes_gmac_name()
        );
    }
}
