//! Signs and verifies a compound SMB2 request (CREATE + WRITE + CLOSE) with each
//! algorithm, as a server or client would, and shows what tampering does.

use smbsign::smb2::{self, dialect, Algorithm, SigningKey};
use smbsign::{backend_info, kdf};

/// An SMB2 header for `command`, with `body` after it.
fn pdu(command: u16, message_id: u64, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 64];
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p[4..6].copy_from_slice(&64u16.to_le_bytes());
    p[12..14].copy_from_slice(&command.to_le_bytes());
    p[24..32].copy_from_slice(&message_id.to_le_bytes());
    p[40..48].copy_from_slice(&0x0000_4000_0000_0011u64.to_le_bytes()); // SessionId
    p.extend_from_slice(body);
    p
}

/// Links PDUs into a compound chain: each padded to 8 bytes, NextCommand set.
/// Returns the chain and the offset of each PDU.
fn compound(pdus: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for (i, p) in pdus.iter().enumerate() {
        offsets.push(out.len());
        let mut p = p.clone();
        if i + 1 < pdus.len() {
            p.resize(p.len().div_ceil(8) * 8, 0);
            let next = p.len() as u32;
            p[20..24].copy_from_slice(&next.to_le_bytes());
        }
        out.extend_from_slice(&p);
    }
    (out, offsets)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() -> Result<(), smbsign::Error> {
    println!("{:?}", backend_info());
    let (chain, offsets) = compound(&[
        pdu(0x0005, 10, &[0x39; 57]),          // CREATE
        pdu(0x0009, 11, b"hello, signed SMB"), // WRITE
        pdu(0x0006, 12, &[0x18; 24]),          // CLOSE
    ]);
    // SMB 3.0.2-style key derivation from a session key.
    let keys = kdf::smb30_keys(&[0x5a; 16])?;
    for (name, d, negotiated) in [
        ("2.1 HMAC-SHA256", dialect::SMB2_1, None),
        ("3.0.2 AES-CMAC", dialect::SMB3_0_2, None),
        ("3.1.1 AES-GMAC", dialect::SMB3_1_1, Some(2)),
    ] {
        let key = SigningKey::new(Algorithm::for_dialect(d, negotiated)?, &keys.signing)?;
        let mut buf = chain.clone();
        smb2::sign_pdu(&key, &mut buf)?;
        smb2::verify_pdu(&key, &buf)?;
        let sigs: Vec<String> = offsets.iter().map(|&o| hex(&buf[o + 48..o + 64])).collect();
        let last = buf.len() - 1;
        buf[last] ^= 1;
        let tampered = smb2::verify_pdu(&key, &buf).unwrap_err();
        println!(
            "{name:16} signed {} bytes, signatures {sigs:?}; tampered: {tampered}",
            buf.len()
        );
    }
    Ok(())
}
