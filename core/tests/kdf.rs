//! Proves the SMB key derivations and preauth hash: Microsoft's published SMB 3.0
//! and 3.1.1 vectors, an independent recomputation with the `hmac` crate for
//! every label, and the SP 800-108 edge cases (multi-block output, bad lengths).

mod common;

use common::{field, records, ref_hmac};
use smbsign::kdf::{self, CipherKeyLen};
use smbsign::{Error, PreauthHash};

#[test]
fn microsoft_key_vectors() {
    let recs = records("smb-kdf-microsoft.txt");
    assert_eq!(recs.len(), 3);
    for r in &recs {
        let sk = field(r, "SessionKey");
        let keys = match field(r, "Dialect") {
            [0x03, 0x00] => kdf::smb30_keys(sk).unwrap(),
            [0x03, 0x11] => {
                let h: &[u8; 64] = field(r, "PreauthHash").try_into().unwrap();
                kdf::smb311_keys(sk, sk, h, CipherKeyLen::Aes128).unwrap()
            }
            d => panic!("dialect {d:?}"),
        };
        let check = |name: &str, got: &[u8]| {
            let want = field(r, name);
            if !want.is_empty() {
                assert_eq!(got, want, "{name}");
            }
        };
        check("SigningKey", &keys.signing);
        check("ApplicationKey", &keys.application);
        check("ClientToServer", keys.client_to_server_key());
        check("ServerToClient", keys.server_to_client_key());
    }
}

#[test]
fn microsoft_preauth_chain() {
    let recs = records("preauth-smb311-microsoft.txt");
    assert_eq!(recs.len(), 5);
    let mut h = PreauthHash::new();
    assert_eq!(h.value(), &[0u8; 64]);
    for r in &recs {
        let msg = field(r, "Message");
        // Vectored and contiguous updates agree.
        let mut v = h.clone();
        v.update_vectored(&[&msg[..7], &msg[7..64], &msg[64..]]);
        h.update(msg);
        assert_eq!(h.value(), field(r, "Hash"));
        assert_eq!(v.value(), h.value());
    }
}

/// The SMB KDF computed independently: HMAC(key, [1]_32 || label || 0 || ctx || [L]_32) ...
fn ref_smb_kdf(key: &[u8], label: &[u8], ctx: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 1u32;
    while out.len() < len {
        let mut input = i.to_be_bytes().to_vec();
        input.extend_from_slice(label);
        input.push(0);
        input.extend_from_slice(ctx);
        input.extend_from_slice(&((len * 8) as u32).to_be_bytes());
        out.extend_from_slice(&ref_hmac(key, &input));
        i += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn every_label_against_independent_hmac() {
    let sk = common::bytes(7, 16);
    let full = common::bytes(8, 32);
    let h: [u8; 64] = common::bytes(9, 64).try_into().unwrap();
    let k30 = kdf::smb30_keys(&sk).unwrap();
    assert_eq!(
        k30.signing.to_vec(),
        ref_smb_kdf(&sk, b"SMB2AESCMAC\0", b"SmbSign\0", 16)
    );
    assert_eq!(
        k30.application.to_vec(),
        ref_smb_kdf(&sk, b"SMB2APP\0", b"SmbRpc\0", 16)
    );
    assert_eq!(
        k30.client_to_server_key(),
        ref_smb_kdf(&sk, b"SMB2AESCCM\0", b"ServerIn \0", 16)
    );
    assert_eq!(
        k30.server_to_client_key(),
        ref_smb_kdf(&sk, b"SMB2AESCCM\0", b"ServerOut\0", 16)
    );
    for (cipher, n, src) in [
        (CipherKeyLen::Aes128, 16, &sk),
        (CipherKeyLen::Aes256, 32, &full),
    ] {
        let k = kdf::smb311_keys(&sk, &full, &h, cipher).unwrap();
        assert_eq!(k.cipher_key_len, n);
        assert_eq!(
            k.signing.to_vec(),
            ref_smb_kdf(&sk, b"SMBSigningKey\0", &h, 16)
        );
        assert_eq!(
            k.application.to_vec(),
            ref_smb_kdf(&sk, b"SMBAppKey\0", &h, 16)
        );
        assert_eq!(
            k.client_to_server_key(),
            ref_smb_kdf(src, b"SMBC2SCipherKey\0", &h, n)
        );
        assert_eq!(
            k.server_to_client_key(),
            ref_smb_kdf(src, b"SMBS2CCipherKey\0", &h, n)
        );
    }
}

#[test]
fn multi_block_and_bad_lengths() {
    let key = common::bytes(11, 40);
    for len in [1, 15, 16, 31, 32, 33, 64, 65, 100] {
        let mut out = vec![0u8; len];
        kdf::smb_kdf(&key, b"L\0", b"C", &mut out).unwrap();
        assert_eq!(out, ref_smb_kdf(&key, b"L\0", b"C", len), "len {len}");
    }
    let mut empty = [0u8; 0];
    assert_eq!(
        kdf::smb_kdf(&key, b"L", b"C", &mut empty),
        Err(Error::OutputLength(0))
    );
}
