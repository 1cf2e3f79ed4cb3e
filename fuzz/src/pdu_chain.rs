//! PDU and compound-chain parsing, signing and verification.
//!
//! Input: algorithm selector, 16-byte key, segment-length count and lengths,
//! a bit position to tamper with, then the chain. Checks: contiguous,
//! vectored and batch forms give the same result and bytes; a failed signing
//! leaves the buffer untouched; signatures equal a reference written from
//! MS-SMB2 (chain walk here, MACs from RustCrypto); a signed chain verifies,
//! re-signing a verified chain changes nothing, and any flipped bit is refused.

use smbsign::batch::{self, PduJob};
use smbsign::smb2::{self, Algorithm};

use crate::{algorithm, cuts, flip_bit, reference, signing_key, Input};

const HEADER: usize = 64;

/// The byte ranges of a chain's PDUs by MS-SMB2 2.2.1 (`NextCommand`: 0 for the
/// last PDU, else the 8-aligned offset of the next header), or `None` if malformed.
pub fn reference_pdus(chain: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let pdu = chain.get(start..)?;
        if pdu.len() < HEADER || pdu[..4] != smb2::PROTOCOL_ID {
            return None;
        }
        let next = u32::from_le_bytes(pdu[20..24].try_into().unwrap()) as usize;
        if next == 0 {
            out.push((start, chain.len()));
            return Some(out);
        }
        if !next.is_multiple_of(8) || next < HEADER || next + HEADER > pdu.len() {
            return None;
        }
        out.push((start, start + next));
        start += next;
    }
}

/// The chain signed by the reference: per PDU, SIGNED set, Signature zeroed,
/// MAC over the PDU, GMAC nonce from MessageId, role and CANCEL.
pub fn reference_sign(alg: Algorithm, key: &[u8; 16], chain: &[u8]) -> Option<Vec<u8>> {
    let mut out = chain.to_vec();
    for (s, e) in reference_pdus(chain)? {
        let pdu = &mut out[s..e];
        pdu[16] |= 0x08;
        pdu[48..64].fill(0);
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&pdu[24..32]);
        nonce[8] = (pdu[16] & 1) | (u8::from(pdu[12..14] == [0x0C, 0]) << 1);
        let sig = reference::mac16(alg, key, &nonce, pdu);
        pdu[48..64].copy_from_slice(&sig);
    }
    Some(out)
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let alg = algorithm(inp.byte());
    let raw_key = inp.array::<16>();
    let nseg = usize::from(inp.byte() % 8);
    let lengths = inp.bytes(nseg);
    let tamper = inp.u32();
    let chain = inp.rest();
    let key = signing_key(alg, &raw_key);

    // Verification of the input as given: every form agrees.
    let verified = smb2::verify_pdu(&key, chain);
    let segs = cuts(chain, lengths);
    assert_eq!(smb2::verify_pdu_vectored(&key, &segs), verified);
    let jobs = [PduJob {
        key: &key,
        pdu: chain,
    }];
    assert_eq!(batch::verify_pdus(&jobs), vec![verified]);

    // Signing: every form agrees on the result and the bytes.
    let mut signed = chain.to_vec();
    let result = smb2::sign_pdu(&key, &mut signed);
    let mut owned: Vec<Vec<u8>> = segs.iter().map(|s| s.to_vec()).collect();
    assert_eq!(smb2::sign_pdu_vectored(&key, &mut owned), result);
    assert_eq!(owned.concat(), signed);
    let mut jobs = [PduJob {
        key: &key,
        pdu: chain.to_vec(),
    }];
    assert_eq!(batch::sign_pdus(&mut jobs), vec![result]);
    assert_eq!(jobs[0].pdu, signed);

    match (result, reference_sign(alg, &raw_key, chain)) {
        (Err(e), None) => {
            assert_eq!(signed, chain, "a failed signing wrote to the buffer");
            // Verification checks the whole chain's structure first.
            assert_eq!(verified, Err(e));
        }
        (Ok(()), Some(expected)) => {
            assert_eq!(signed, expected, "signature differs from the reference");
            assert_eq!(smb2::verify_pdu(&key, &signed), Ok(()));
            if verified.is_ok() {
                assert_eq!(signed, chain, "re-signing a verified chain changed it");
            }
            flip_bit(&mut signed, tamper);
            assert!(
                smb2::verify_pdu(&key, &signed).is_err(),
                "tampered chain verified"
            );
        }
        (r, e) => panic!("smbsign {r:?}, reference parses: {}", e.is_some()),
    }
}
