//! Proves the session-level helpers the capture checker builds on: the signing
//! key per dialect equals the KDF key set's (or the session key for 2.x),
//! `SigningKey::for_session` picks the dialect's algorithm, `chain_ranges`
//! splits a compound chain as signing does, and `verify_pdus_each` gives one
//! verdict per PDU agreeing with the one-shot `verify_pdu` of each.

use smbsign::batch::{self, PduJob};
use smbsign::kdf::{self, CipherKeyLen};
use smbsign::smb2::{self, dialect, Algorithm, SigningKey};
use smbsign::Error;

const SK: [u8; 16] = *b"0123456789abcdef";

#[test]
fn signing_key_per_dialect() {
    let h = [7u8; 64];
    assert_eq!(
        smb2::session_signing_key(dialect::SMB2_0_2, &SK, &h).unwrap(),
        SK
    );
    assert_eq!(
        smb2::session_signing_key(dialect::SMB2_1, &SK[..10], &h).unwrap()[10..],
        [0; 6]
    );
    let k30 = kdf::smb30_keys(&SK).unwrap();
    assert_eq!(
        smb2::session_signing_key(dialect::SMB3_0, &SK, &h).unwrap(),
        k30.signing
    );
    assert_eq!(
        smb2::session_signing_key(dialect::SMB3_0_2, &SK, &h).unwrap(),
        k30.signing
    );
    let k311 = kdf::smb311_keys(&SK, &SK, &h, CipherKeyLen::Aes128).unwrap();
    assert_eq!(
        smb2::session_signing_key(dialect::SMB3_1_1, &SK, &h).unwrap(),
        k311.signing
    );
    // A longer (Kerberos) key: its first 16 bytes.
    let long = [SK.as_slice(), &[9; 16]].concat();
    assert_eq!(
        smb2::session_signing_key(dialect::SMB3_1_1, &long, &h).unwrap(),
        k311.signing
    );
    assert_eq!(
        smb2::session_signing_key(0x0222, &SK, &h),
        Err(Error::UnsupportedDialect(0x0222))
    );
}

fn pdu(len: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; len];
    p[..64].fill(0);
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p
}

fn chain() -> Vec<u8> {
    let mut a = pdu(104, 1);
    a[20] = 104;
    let mut b = pdu(80, 2);
    b[20] = 80;
    [a, b, pdu(70, 3)].concat()
}

#[test]
fn for_session_signs_as_the_dialect_prescribes() {
    let h = [3u8; 64];
    for (d, alg, want) in [
        (dialect::SMB2_1, None, Algorithm::HmacSha256),
        (dialect::SMB3_0_2, None, Algorithm::AesCmac),
        (dialect::SMB3_1_1, None, Algorithm::AesCmac),
        (dialect::SMB3_1_1, Some(2), Algorithm::AesGmac),
        (dialect::SMB3_1_1, Some(0), Algorithm::HmacSha256),
    ] {
        let key = SigningKey::for_session(d, alg, &SK, &h).unwrap();
        assert_eq!(key.algorithm(), want);
        let reference =
            SigningKey::new(want, &smb2::session_signing_key(d, &SK, &h).unwrap()).unwrap();
        let mut a = chain();
        let mut b = chain();
        smb2::sign_pdu(&key, &mut a).unwrap();
        smb2::sign_pdu(&reference, &mut b).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn chain_ranges_and_header_for_mac() {
    let c = chain();
    assert_eq!(
        smb2::chain_ranges(&c).unwrap(),
        vec![0..104, 104..184, 184..254]
    );
    let mut bad = c.clone();
    bad[20] = 100;
    assert!(matches!(
        smb2::chain_ranges(&bad),
        Err(Error::BadNextCommand { .. })
    ));
    let mut signed = pdu(100, 5);
    let key = SigningKey::new(Algorithm::AesCmac, &SK).unwrap();
    smb2::sign_pdu(&key, &mut signed).unwrap();
    let h = smb2::header_for_mac(&signed).unwrap();
    assert_eq!(h[48..64], [0; 16]);
    assert_eq!(h[..48], signed[..48]);
    assert_eq!(
        key.mac(None, &[&h[..], &signed[64..]].concat()).unwrap()[..],
        signed[48..64]
    );
    assert!(smb2::header_for_mac(&signed[..63]).is_err());
}

#[test]
fn verify_pdus_each_gives_one_verdict_per_pdu() {
    let keys: Vec<SigningKey> = [
        Algorithm::HmacSha256,
        Algorithm::AesCmac,
        Algorithm::AesGmac,
    ]
    .into_iter()
    .map(|a| SigningKey::new(a, &SK).unwrap())
    .collect();
    for key in &keys {
        let mut good = chain();
        smb2::sign_pdu(key, &mut good).unwrap();
        let mut middle = good.clone();
        middle[150] ^= 1;
        let mut unsigned_last = good.clone();
        unsigned_last[184 + 16] &= !8;
        let malformed = good[..100].to_vec();
        let bufs = [&good, &middle, &unsigned_last, &malformed];
        let jobs: Vec<PduJob<'_, &[u8]>> =
            bufs.iter().map(|b| PduJob { key, pdu: &b[..] }).collect();
        let each = batch::verify_pdus_each(&jobs);
        assert_eq!(each[0], Ok(vec![Ok(()), Ok(()), Ok(())]));
        assert_eq!(
            each[1],
            Ok(vec![
                Ok(()),
                Err(Error::BadSignature { offset: 104 }),
                Ok(())
            ])
        );
        assert_eq!(
            each[2],
            Ok(vec![Ok(()), Ok(()), Err(Error::NotSigned { offset: 184 })])
        );
        assert!(each[3].is_err());
        let whole = batch::verify_pdus(&jobs);
        for (b, w) in bufs.iter().zip(&whole) {
            assert_eq!(*w, smb2::verify_pdu(key, b));
        }
    }
}
