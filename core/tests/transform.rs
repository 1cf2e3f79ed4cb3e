//! Proves SMB 3.x encryption (smb2::transform): Microsoft's twelve published
//! transform messages both ways, contiguous and over iovecs; the header
//! checks; tampering refused with the ciphertext restored; compound chains;
//! AES-GCM against RustCrypto `aes-gcm`; the nonce source's uniqueness and
//! exhaustion; and the cipher keys per dialect.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use common::{field, records};
use smbsign::cipher::{Cipher, Key};
use smbsign::kdf;
use smbsign::smb2::transform::{
    self, decrypt_in_place, decrypt_message, decrypt_to_vec, encrypt_in_place, encrypt_message,
    encrypt_to_vec, EncryptionKey, NonceSource, TransformHeader, AAD, TRANSFORM_HEADER_LEN,
};
use smbsign::smb2::{self, cipher_for_dialect, dialect, session_cipher_keys};
use smbsign::Error;

/// One published record: cipher, key, transform message, plaintext.
type Published = (Cipher, Vec<u8>, Vec<u8>, Vec<u8>);

fn microsoft() -> Vec<Published> {
    let recs = records("smb-transform-microsoft.txt");
    assert_eq!(recs.len(), 12);
    recs.iter()
        .map(|r| {
            let id = u16::from_be_bytes(field(r, "CipherId").try_into().unwrap());
            (
                Cipher::from_id(id).unwrap(),
                field(r, "Key").to_vec(),
                field(r, "TransformedMessage").to_vec(),
                field(r, "Plaintext").to_vec(),
            )
        })
        .collect()
}

/// `buf` split into mutable pieces at `cuts` (ascending offsets).
fn split<'a>(mut buf: &'a mut [u8], cuts: &[usize]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let (a, b) = buf.split_at_mut(c - at);
        out.push(a);
        buf = b;
        at = c;
    }
    out.push(buf);
    out
}

#[test]
fn microsoft_messages_both_ways() {
    for (i, (cipher, key, tm, pt)) in microsoft().into_iter().enumerate() {
        let k = Key::new(cipher, &key).unwrap();
        let (h, _) = TransformHeader::parse(&tm).unwrap();
        assert_eq!(h.original_message_size() as usize, pt.len(), "record {i}");
        assert!(h.session_id() == 0x8e40014000011 || h.session_id() >> 32 == 0x1000);
        // Decrypt: whole, in place, and over iovecs cut at odd places.
        assert_eq!(decrypt_to_vec(&k, &tm).unwrap(), pt, "record {i}");
        let mut buf = tm.clone();
        assert_eq!(decrypt_in_place(&k, &mut buf).unwrap(), &pt[..]);
        let mut body = tm[TRANSFORM_HEADER_LEN..].to_vec();
        let head: [u8; 52] = tm[..52].try_into().unwrap();
        decrypt_message(&k, &head, &mut split(&mut body, &[1, 17, 64, 65])).unwrap();
        assert_eq!(body, pt);
        // Encrypt with the published 16-byte nonce field: the same bytes.
        let nonce = h.nonce_field();
        assert_eq!(encrypt_to_vec(&k, nonce, h.session_id(), &pt).unwrap(), tm);
        let mut msg = pt.clone();
        let got =
            encrypt_message(&k, nonce, h.session_id(), &mut split(&mut msg, &[3, 64])).unwrap();
        assert_eq!(&got[..], &tm[..52]);
        assert_eq!(msg, &tm[52..]);
    }
}

#[test]
fn header_checks() {
    let (cipher, key, tm, _) = microsoft().remove(4);
    let k = Key::new(cipher, &key).unwrap();
    assert_eq!(
        TransformHeader::new(&tm[..51]),
        Err(Error::TransformTruncated { len: 51 })
    );
    assert_eq!(
        TransformHeader::parse(&tm[..52]),
        Err(Error::TransformTruncated { len: 52 })
    );
    let mut bad = tm.clone();
    bad[0] = 0xFE;
    assert_eq!(decrypt_to_vec(&k, &bad), Err(Error::BadTransformProtocolId));
    for flags in [0u16, 2, 0x0101, 0xFFFF] {
        let mut bad = tm.clone();
        bad[42..44].copy_from_slice(&flags.to_le_bytes());
        assert_eq!(
            decrypt_to_vec(&k, &bad),
            Err(Error::BadTransformFlags(flags))
        );
    }
    assert_eq!(
        decrypt_to_vec(&k, &tm[..tm.len() - 1]),
        Err(Error::TransformSizeMismatch {
            original: 0x87,
            got: 0x86
        })
    );
    let mut longer = tm.clone();
    longer.push(0);
    assert!(matches!(
        decrypt_to_vec(&k, &longer),
        Err(Error::TransformSizeMismatch { .. })
    ));
    // Encryption refuses messages shorter than an SMB2 header, bad nonce
    // lengths, and no room.
    for n in [0, 1, 63] {
        assert_eq!(
            encrypt_to_vec(&k, &[0; 12], 1, &vec![0xFE; n]),
            Err(Error::MessageTooShort { min: 64, got: n })
        );
    }
    assert!(encrypt_to_vec(&k, &[0; 12], 1, &[0xFE; 64]).is_ok());
    for n in [0, 11, 13, 15, 17] {
        assert_eq!(
            encrypt_to_vec(&k, &vec![0; n], 1, b"x"),
            Err(Error::NonceLength {
                expected: 12,
                got: n
            })
        );
    }
    let mut small = [7u8; 52];
    assert_eq!(
        encrypt_in_place(&k, &[0; 12], 1, &mut small[..51]),
        Err(Error::TransformTruncated { len: 51 })
    );
    assert_eq!(
        encrypt_in_place(&k, &[0; 12], 1, &mut small),
        Err(Error::MessageTooShort { min: 64, got: 0 })
    );
    assert_eq!(small, [7u8; 52]);
    let mut short = [7u8; 52 + 63];
    assert_eq!(
        encrypt_in_place(&k, &[0; 12], 1, &mut short),
        Err(Error::MessageTooShort { min: 64, got: 63 })
    );
    assert_eq!(short, [7u8; 52 + 63]);
    // OriginalMessageSize below 64 is refused before the tag is checked,
    // whatever follows (here exactly that many bytes, so sizes agree).
    for n in [1usize, 16, 63] {
        let mut t = tm[..52 + n].to_vec();
        t[36..40].copy_from_slice(&(n as u32).to_le_bytes());
        assert_eq!(
            TransformHeader::parse(&t).err(),
            Some(Error::OriginalSizeTooSmall { original: n as u32 })
        );
        assert_eq!(
            decrypt_to_vec(&k, &t),
            Err(Error::OriginalSizeTooSmall { original: n as u32 })
        );
        let before = t.clone();
        assert_eq!(
            decrypt_in_place(&k, &mut t).err(),
            Some(Error::OriginalSizeTooSmall { original: n as u32 })
        );
        assert_eq!(t, before);
    }
    // The nonce's padding and Reserved are accepted as sent: they are AAD.
    let mut msg = b"\xfeSMB padding and reserved".to_vec();
    msg.resize(64, 0);
    let mut nonce = [0x5Au8; 16];
    nonce[..12].copy_from_slice(&[1; 12]);
    let mut sent = encrypt_to_vec(&k, &nonce, 9, &msg).unwrap();
    assert_eq!(&sent[20..36], &nonce);
    assert_eq!(decrypt_to_vec(&k, &sent).unwrap(), msg);
    // Reserved is written zero; a sender's non-zero Reserved would verify
    // only if authenticated so, and any change to it fails the tag.
    assert_eq!(&sent[40..42], &[0, 0]);
    sent[40] = 1;
    assert_eq!(decrypt_to_vec(&k, &sent), Err(Error::AuthenticationFailed));
}

#[test]
fn tampering_is_refused_and_the_ciphertext_restored() {
    for (i, (cipher, key, tm, _)) in microsoft().into_iter().enumerate() {
        let k = Key::new(cipher, &key).unwrap();
        // Every byte the tag covers or is (Signature, AAD, ciphertext); the
        // header checks catch Flags and OriginalMessageSize before the tag.
        for pos in (4..tm.len()).filter(|p| !(36..40).contains(p) && !(42..44).contains(p)) {
            let mut buf = tm.clone();
            buf[pos] ^= 0x01;
            let before = buf.clone();
            assert_eq!(
                decrypt_in_place(&k, &mut buf).err(),
                Some(Error::AuthenticationFailed),
                "record {i} byte {pos}"
            );
            assert_eq!(buf, before, "record {i} byte {pos}: buffer changed");
        }
        // The other direction's key.
        let other = Key::new(cipher, &[0x11; 16]).unwrap();
        assert_eq!(
            decrypt_to_vec(&other, &tm),
            Err(Error::AuthenticationFailed)
        );
    }
}

/// A chain of `n` PDUs linked by NextCommand (8-aligned), bodies of `lens`.
fn chain(lens: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &l) in lens.iter().enumerate() {
        let start = out.len();
        let mut pdu = vec![0u8; 64 + l];
        pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
        pdu[4] = 64;
        pdu[24..32].copy_from_slice(&(i as u64 + 5).to_le_bytes());
        pdu[64..]
            .iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (i * 31 + j) as u8);
        out.extend_from_slice(&pdu);
        if i + 1 < lens.len() {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            let next = (out.len() - start) as u32;
            out[start + 20..start + 24].copy_from_slice(&next.to_le_bytes());
        }
    }
    out
}

#[test]
fn compound_chain_inside_one_transform() {
    let plain = chain(&[24, 100, 9]);
    assert_eq!(smb2::chain_ranges(&plain).unwrap().len(), 3);
    for cipher in Cipher::ALL {
        let k = EncryptionKey::new(cipher, &vec![0x42; cipher.key_len()]).unwrap();
        // Encrypt over iovecs cut inside headers and across PDU boundaries.
        let mut msg = plain.clone();
        let h = k
            .encrypt_message(0x1122, &mut split(&mut msg, &[10, 88, 90, 200]))
            .unwrap();
        assert_ne!(msg, plain);
        let mut wire = h.to_vec();
        wire.extend_from_slice(&msg);
        let (hv, _) = TransformHeader::parse(&wire).unwrap();
        assert_eq!(hv.original_message_size() as usize, plain.len());
        assert_eq!(hv.session_id(), 0x1122);
        let got = decrypt_to_vec(k.key(), &wire).unwrap();
        assert_eq!(got, plain, "{cipher:?}");
        // The decrypted chain is a chain again: three PDUs, walked as before.
        assert_eq!(
            smb2::chain_ranges(&got).unwrap(),
            smb2::chain_ranges(&plain).unwrap()
        );
    }
    // Encrypted messages carry no signatures (the tag protects them), but a
    // chain that was signed comes back byte for byte, so it still verifies.
    let sk = smb2::SigningKey::new(smb2::Algorithm::AesGmac, &[9; 16]).unwrap();
    let mut signed = plain.clone();
    smb2::sign_pdu(&sk, &mut signed).unwrap();
    let k = Key::new(Cipher::Aes128Ccm, &[1; 16]).unwrap();
    let wire = encrypt_to_vec(&k, &[7; 11], 3, &signed).unwrap();
    let back = decrypt_to_vec(&k, &wire).unwrap();
    assert_eq!(back, signed);
    smb2::verify_pdu(&sk, &back).unwrap();
}

#[test]
fn gcm_against_rustcrypto() {
    for (cipher, klen) in [(Cipher::Aes128Gcm, 16), (Cipher::Aes256Gcm, 32)] {
        for (seed, len) in [
            (1u64, 64usize),
            (2, 65),
            (3, 79),
            (4, 80),
            (5, 1000),
            (6, 70000),
        ] {
            let key = common::bytes(seed, klen);
            let nonce = common::bytes(seed + 100, 12);
            let msg = common::bytes(seed + 200, len);
            let k = Key::new(cipher, &key).unwrap();
            let wire = encrypt_to_vec(&k, &nonce, seed << 40, &msg).unwrap();
            // The transform built by hand with RustCrypto: ciphertext || tag.
            let aad = &wire[AAD];
            let n = aes_gcm::Nonce::try_from(nonce.as_slice()).unwrap();
            let p = Payload { msg: &msg, aad };
            let mut out = if klen == 16 {
                aes_gcm::Aes128Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt(&n, p)
            } else {
                aes_gcm::Aes256Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt(&n, p)
            }
            .unwrap();
            let tag = out.split_off(len);
            let ct = out;
            let mut want = vec![0xFD, b'S', b'M', b'B'];
            want.extend_from_slice(&tag);
            want.extend_from_slice(&nonce);
            want.extend_from_slice(&[0; 4]);
            want.extend_from_slice(&(len as u32).to_le_bytes());
            want.extend_from_slice(&[0, 0, 1, 0]);
            want.extend_from_slice(&(seed << 40).to_le_bytes());
            want.extend_from_slice(&ct);
            assert_eq!(wire, want, "{cipher:?} len {len}");
            assert_eq!(decrypt_to_vec(&k, &wire).unwrap(), msg);
        }
    }
}

#[test]
fn nonce_source_layout_and_exhaustion() {
    let s = NonceSource::with_fixed(Cipher::Aes128Gcm, [1, 2, 3, 4], 7);
    let n = s.next().unwrap();
    assert_eq!(n, [7, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]);
    assert_eq!(s.peek(), 8);
    let c = NonceSource::with_fixed(Cipher::Aes256Ccm, [1, 2, 3, 4], 0x0102);
    assert_eq!(
        c.next().unwrap(),
        [2, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0]
    );
    let e = NonceSource::with_fixed(Cipher::Aes128Ccm, [0; 4], u64::MAX - 2);
    assert_eq!(e.next().unwrap()[..8], (u64::MAX - 2).to_le_bytes());
    assert_eq!(e.next().unwrap()[..8], (u64::MAX - 1).to_le_bytes());
    assert_eq!(e.next(), Err(Error::NoncesExhausted));
    assert_eq!(e.next(), Err(Error::NoncesExhausted));
    // An exhausted key refuses to encrypt, and leaves the message as it was.
    let k = EncryptionKey::with_nonces(Key::new(Cipher::Aes128Ccm, &[1; 16]).unwrap(), e);
    let mut msg = [0x5Au8; 64];
    assert_eq!(
        k.encrypt_message(1, &mut [&mut msg[..]]),
        Err(Error::NoncesExhausted)
    );
    assert_eq!(msg, [0x5Au8; 64]);
    // Two random sources start apart: in the counter (below 2^63) and in the
    // fixed field (with overwhelming probability; a fixed start of 0 made
    // CCM sources for one key collide after about 5,600 keys).
    let (a, b) = (
        NonceSource::new(Cipher::Aes128Ccm).unwrap(),
        NonceSource::new(Cipher::Aes128Ccm).unwrap(),
    );
    assert!(a.peek() < 1 << 63 && b.peek() < 1 << 63);
    assert_ne!(a.peek(), b.peek());
    let (a, b) = (a.next().unwrap(), b.next().unwrap());
    assert_ne!(a[..8], b[..8]);
    assert_ne!(a[8..11], b[8..11]);
}

#[test]
fn nonces_unique_across_threads() {
    let k = Arc::new(EncryptionKey::new(Cipher::Aes128Gcm, &[3; 16]).unwrap());
    let start = k.nonces().peek();
    assert!(start < 1 << 63, "a new source starts below 2^63");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let k = Arc::clone(&k);
            std::thread::spawn(move || {
                (0..2000)
                    .map(|i| {
                        let mut m = [0xFE; 64];
                        m[..2].copy_from_slice(&[t as u8, i as u8]);
                        let h = k.encrypt_message(t, &mut [&mut m[..]]).unwrap();
                        <[u8; 16]>::try_from(&h[20..36]).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in threads {
        for n in t.join().unwrap() {
            assert!(seen.insert(n), "nonce {n:02x?} used twice");
        }
    }
    assert_eq!(seen.len(), 16000);
    // Every counter value from the start, once.
    let mut counters: Vec<u64> = seen
        .iter()
        .map(|n| u64::from_le_bytes(n[..8].try_into().unwrap()))
        .collect();
    counters.sort_unstable();
    assert!(counters.iter().copied().eq(start..start + 16000));
    assert_eq!(k.nonces().peek(), start + 16000);
    // A refused message spends no nonce.
    assert_eq!(
        k.encrypt_message(1, &mut []),
        Err(Error::MessageTooShort { min: 64, got: 0 })
    );
    assert_eq!(
        k.encrypt_message(1, &mut [&mut [0u8; 40][..], &mut [0u8; 23][..]]),
        Err(Error::MessageTooShort { min: 64, got: 63 })
    );
    assert_eq!(k.nonces().peek(), start + 16000);
}

#[test]
fn cipher_per_dialect() {
    assert_eq!(
        cipher_for_dialect(dialect::SMB3_0, None),
        Ok(Cipher::Aes128Ccm)
    );
    assert_eq!(
        cipher_for_dialect(dialect::SMB3_0_2, Some(2)),
        Ok(Cipher::Aes128Ccm)
    );
    for c in Cipher::ALL {
        assert_eq!(cipher_for_dialect(dialect::SMB3_1_1, Some(c.id())), Ok(c));
    }
    assert_eq!(
        cipher_for_dialect(dialect::SMB3_1_1, None),
        Err(Error::UnknownCipher(0))
    );
    assert_eq!(
        cipher_for_dialect(dialect::SMB3_1_1, Some(5)),
        Err(Error::UnknownCipher(5))
    );
    assert_eq!(
        cipher_for_dialect(dialect::SMB2_1, None),
        Err(Error::UnsupportedDialect(0x0210))
    );
}

#[test]
fn cipher_keys_per_dialect() {
    let h = [0u8; 64];
    // SMB 3.0 (Microsoft's example): client encrypts with ServerIn, decrypts with ServerOut.
    let sk = hex::decode("B4546771B515F766A86735532DD6C4F0").unwrap();
    let k = session_cipher_keys(dialect::SMB3_0, Cipher::Aes128Ccm, &sk, &h).unwrap();
    assert_eq!(
        hex::encode_upper(k.client_to_server_key()),
        "261B72350558F2E9DCF613070383EDBF"
    );
    assert_eq!(
        hex::encode_upper(k.server_to_client_key()),
        "8FE2B57EC34D2DB5B1A9727F526BBDB5"
    );
    assert_eq!(
        session_cipher_keys(dialect::SMB3_0_2, Cipher::Aes128Gcm, &sk, &h).map(|_| ()),
        Err(Error::CipherNotInDialect {
            dialect: 0x0302,
            cipher: 2
        })
    );
    assert_eq!(
        session_cipher_keys(dialect::SMB2_1, Cipher::Aes128Ccm, &sk, &h).map(|_| ()),
        Err(Error::UnsupportedDialect(0x0210))
    );
    // SMB 3.1.1 (Appendix A.1 GCM and A.2 CCM of Microsoft's 3.1.1 encryption post).
    for (cipher, sk, hash, c2s, s2c) in [
        (
            Cipher::Aes128Gcm,
            "419FDDF34C1E001909D362AE7FB6AF79",
            "B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770",
            "A2F5E80E5D59103034F32E52F698E5EC",
            "748C50868C90F302962A5C35F5F9A8BF",
        ),
        (
            Cipher::Aes128Ccm,
            "07B7F69C1E2581662DF6987E88F9E891",
            "DECF98A420718718F22090D3580FCC5E484BD310FA1268210C6E86335A8891E767F5BCD99FA5A7859D665AD07A73EA94E1BCDB7CFA69A6962A28A244138340B1",
            "DFAAA31AAE40A2485D47AC4DF09FDA1D",
            "95C544AEF6072680DA1CE49A68A97FA6",
        ),
    ] {
        let hash: [u8; 64] = hex::decode(hash).unwrap().try_into().unwrap();
        let k = session_cipher_keys(dialect::SMB3_1_1, cipher, &hex::decode(sk).unwrap(), &hash).unwrap();
        assert_eq!(hex::encode_upper(k.client_to_server_key()), c2s);
        assert_eq!(hex::encode_upper(k.server_to_client_key()), s2c);
    }
    // AES-256, against values computed independently (Python's hmac, SP
    // 800-108 counter mode: HMAC-SHA256(K, 00000001 || label || 00 ||
    // preauth hash || L), K the whole 32-byte key for the cipher keys, its
    // first 16 bytes for the signing key): key 00..1f, hash 40..7f.
    let full: Vec<u8> = (0..32).collect();
    let hash: [u8; 64] = core::array::from_fn(|i| 64 + i as u8);
    for c in [Cipher::Aes256Ccm, Cipher::Aes256Gcm] {
        let k = session_cipher_keys(dialect::SMB3_1_1, c, &full, &hash).unwrap();
        assert_eq!(
            hex::encode_upper(k.client_to_server_key()),
            "7D3335053F32AE6565011C5C16510232FB06B5982C69499D627B0F226ABC6E43"
        );
        assert_eq!(
            hex::encode_upper(k.server_to_client_key()),
            "64114A8BFD6D30D9144EC6CF05B31F9C8E53B06A496E62C4CB950AE1EAD5EB9B"
        );
        assert_eq!(
            hex::encode_upper(k.signing),
            "2967990E1F65BC89F97ECE0D6F541FC3"
        );
        // The last 16 bytes of the key change the cipher keys, not the signing key.
        let mut other = full.clone();
        other[31] ^= 1;
        let o = session_cipher_keys(dialect::SMB3_1_1, c, &other, &hash).unwrap();
        assert_ne!(o.client_to_server_key(), k.client_to_server_key());
        assert_ne!(o.server_to_client_key(), k.server_to_client_key());
        assert_eq!(o.signing, k.signing);
    }
    // AES-256: L = 256 from the whole (here 32-byte) session key; the
    // signing key still from its first 16 bytes.
    let full = common::bytes(77, 32);
    let hash: [u8; 64] = common::bytes(78, 64).try_into().unwrap();
    for c in [Cipher::Aes256Ccm, Cipher::Aes256Gcm] {
        let k = session_cipher_keys(dialect::SMB3_1_1, c, &full, &hash).unwrap();
        let want = kdf::smb311_keys(&full[..16], &full, &hash, kdf::CipherKeyLen::Aes256).unwrap();
        assert_eq!(k.cipher_key_len, 32);
        assert_eq!(k.client_to_server_key(), want.client_to_server_key());
        assert_eq!(k.server_to_client_key(), want.server_to_client_key());
        let mut one = [0u8; 32];
        kdf::smb_kdf(&full, b"SMBC2SCipherKey\0", &hash, &mut one).unwrap();
        assert_eq!(k.client_to_server_key(), one);
        assert_eq!(k.signing, want.signing);
        // The keys work: a round trip under each direction.
        let ek = EncryptionKey::new(c, k.server_to_client_key()).unwrap();
        let mut m = [0xFEu8; 64];
        let hd = ek.encrypt_message(5, &mut [&mut m[..]]).unwrap();
        assert_ne!(m, [0xFEu8; 64]);
        ek.decrypt_message(&hd, &mut [&mut m[..]]).unwrap();
        assert_eq!(m, [0xFEu8; 64]);
    }
    // AES-128 from a longer key uses its first 16 bytes.
    let k = session_cipher_keys(dialect::SMB3_1_1, Cipher::Aes128Gcm, &full, &hash).unwrap();
    let want =
        kdf::smb311_keys(&full[..16], &full[..16], &hash, kdf::CipherKeyLen::Aes128).unwrap();
    assert_eq!(k.client_to_server_key(), want.client_to_server_key());
    assert!(transform::is_transform(b"\xfdSMB"));
    assert!(!transform::is_transform(b"\xfeSMB"));
}
