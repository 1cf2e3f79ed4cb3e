//! The SMB3 encryption rules (`smbsign::smb2::encryption`): which messages
//! must be encrypted, that an encrypted message goes unsigned, and what a
//! receiver refuses in a decrypted message (nested transform, SessionId other
//! than the TRANSFORM_HEADER's).

use smbsign::smb2::{
    self, check_decrypted, clear_signatures, encryption_exemption, must_be_encrypted,
    signature_applies, EncryptionExemption,
};
use smbsign::Error;

/// A PDU: command, flags, session, body of `body` bytes.
fn pdu(command: u16, flags: u32, session: u64, body: usize) -> Vec<u8> {
    let mut p = vec![0u8; 64 + body];
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p[4] = 64;
    p[12..14].copy_from_slice(&command.to_le_bytes());
    p[16..20].copy_from_slice(&flags.to_le_bytes());
    p[40..48].copy_from_slice(&session.to_le_bytes());
    p
}

/// PDUs chained by NextCommand (each padded to 8).
fn chain(pdus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in pdus.iter().enumerate() {
        let start = out.len();
        out.extend_from_slice(p);
        if i + 1 < pdus.len() {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            let next = (out.len() - start) as u32;
            out[start + 20..start + 24].copy_from_slice(&next.to_le_bytes());
        }
    }
    out
}

const READ: u16 = 0x0008;
const NEGOTIATE: u16 = 0x0000;
const SESSION_SETUP: u16 = 0x0001;

#[test]
fn which_messages_must_be_encrypted() {
    let read = pdu(READ, 0, 7, 48);
    assert!(must_be_encrypted(&read, 7, true).unwrap());
    assert!(!must_be_encrypted(&read, 7, false).unwrap());
    assert_eq!(encryption_exemption(&read, 7).unwrap(), None);
    // No session: no key to encrypt with.
    assert_eq!(
        encryption_exemption(&read, 0).unwrap(),
        Some(EncryptionExemption::NoSession)
    );
    assert!(!must_be_encrypted(&read, 0, true).unwrap());
    // NEGOTIATE, even with a session id.
    let neg = pdu(NEGOTIATE, 0, 7, 36);
    assert_eq!(
        encryption_exemption(&neg, 7).unwrap(),
        Some(EncryptionExemption::Negotiate)
    );
    assert!(!must_be_encrypted(&neg, 7, true).unwrap());
    // A binding SESSION_SETUP request is exempt; a re-authentication is not.
    let mut bind = pdu(SESSION_SETUP, 0, 7, 24);
    bind[64 + 2] = smb2::encryption::SESSION_FLAG_BINDING;
    assert_eq!(
        encryption_exemption(&bind, 7).unwrap(),
        Some(EncryptionExemption::SessionBinding)
    );
    assert!(!must_be_encrypted(&bind, 7, true).unwrap());
    let reauth = pdu(SESSION_SETUP, 0, 7, 24);
    assert!(must_be_encrypted(&reauth, 7, true).unwrap());
    // The binding bit in a response's body means nothing (SessionFlags there).
    let mut resp = pdu(SESSION_SETUP, smb2::FLAGS_SERVER_TO_REDIR, 7, 8);
    resp[64 + 2] = 0x01;
    assert!(must_be_encrypted(&resp, 7, true).unwrap());
    // A SESSION_SETUP request with no body byte for Flags: no binding claimed.
    assert!(must_be_encrypted(&pdu(SESSION_SETUP, 0, 7, 2), 7, true).unwrap());
    // Malformed headers are errors, not answers.
    assert!(matches!(
        must_be_encrypted(&read[..63], 7, true),
        Err(Error::Truncated { .. })
    ));
    let mut foreign = read.clone();
    foreign[0] = 0xFD;
    assert!(must_be_encrypted(&foreign, 7, true).is_err());
    for e in [
        EncryptionExemption::NoSession,
        EncryptionExemption::Negotiate,
        EncryptionExemption::SessionBinding,
    ] {
        assert!(e.reason().contains("MS-SMB2"));
    }
}

#[test]
fn encrypted_messages_are_not_signed() {
    assert!(signature_applies(false));
    assert!(!signature_applies(true));
    let key = smb2::SigningKey::new(smb2::Algorithm::AesCmac, &[5; 16]).unwrap();
    let mut c = chain(&[pdu(READ, 0, 7, 49), pdu(READ, 0, 7, 10), pdu(READ, 0, 7, 0)]);
    smb2::sign_pdu(&key, &mut c).unwrap();
    let ranges = smb2::chain_ranges(&c).unwrap();
    assert_eq!(ranges.len(), 3);
    let signed = c.clone();
    clear_signatures(&mut c).unwrap();
    for r in &ranges {
        let p = &c[r.clone()];
        let flags = u32::from_le_bytes(p[16..20].try_into().unwrap());
        assert_eq!(flags & smb2::FLAGS_SIGNED, 0);
        assert_eq!(&p[48..64], &[0; 16]);
    }
    // Only the flag bit and the signatures changed.
    let mut back = c.clone();
    for r in &ranges {
        back[r.start + 16] |= 0x08;
        back[r.start + 48..r.start + 64].copy_from_slice(&signed[r.start + 48..r.start + 64]);
    }
    assert_eq!(back, signed);
    // A malformed chain is refused with nothing written.
    let mut bad = signed.clone();
    bad[20] = 3; // NextCommand unaligned
    let before = bad.clone();
    assert!(matches!(
        clear_signatures(&mut bad),
        Err(Error::BadNextCommand { .. })
    ));
    assert_eq!(bad, before);
}

#[test]
fn decrypted_message_session_ids_and_nesting() {
    let related = smb2::FLAGS_RELATED_OPERATIONS;
    // One PDU: its SessionId must be the transform's.
    assert_eq!(check_decrypted(7, &pdu(READ, 0, 7, 8)), Ok(()));
    assert_eq!(
        check_decrypted(7, &pdu(READ, 0, 8, 8)),
        Err(Error::TransformSessionMismatch {
            transform: 7,
            session: 8,
            offset: 0
        })
    );
    // A chain: unrelated PDUs each carry the transform's session; a related
    // one takes its predecessor's, whatever its own field says (0xFFFF.. by
    // convention).
    let ok = chain(&[
        pdu(READ, 0, 7, 9),
        pdu(READ, related, u64::MAX, 3),
        pdu(READ, 0, 7, 0),
    ]);
    assert_eq!(check_decrypted(7, &ok), Ok(()));
    let second_start = smb2::chain_ranges(&ok).unwrap()[2].start;
    let bad = chain(&[
        pdu(READ, 0, 7, 9),
        pdu(READ, related, u64::MAX, 3),
        pdu(READ, 0, 9, 0),
    ]);
    assert_eq!(
        check_decrypted(7, &bad),
        Err(Error::TransformSessionMismatch {
            transform: 7,
            session: 9,
            offset: second_start
        })
    );
    // The first PDU is checked even when it claims to be related.
    assert!(matches!(
        check_decrypted(7, &pdu(READ, related, 9, 0)),
        Err(Error::TransformSessionMismatch { .. })
    ));
    // A nested transform is refused; a compressed one waits for decompression.
    let mut nested = pdu(READ, 0, 7, 8);
    nested[..4].copy_from_slice(&[0xFD, b'S', b'M', b'B']);
    assert_eq!(check_decrypted(7, &nested), Err(Error::NestedTransform));
    let mut compressed = pdu(READ, 0, 7, 8);
    compressed[..4].copy_from_slice(&smb2::encryption::COMPRESSION_PROTOCOL_ID);
    assert_eq!(check_decrypted(7, &compressed), Ok(()));
    // Malformed chains fail as the walk does.
    assert!(matches!(
        check_decrypted(7, &[0xFE, b'S', b'M', b'B', 0]),
        Err(Error::Truncated { .. })
    ));
}
