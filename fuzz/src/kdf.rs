//! The SP 800-108 KDF and the SMB session-key derivations against a
//! reference written from the definition over RustCrypto's HMAC.
//!
//! Input: key length and key, label length and label, context length and
//! context, output length (0..=1024), segment lengths for the fixed input, a
//! 64-byte preauth hash and a 32-byte full session key.

use smbsign::kdf::{self, CipherKeyLen};
use smbsign::Error;

use crate::{cuts, reference, Input};

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let klen = usize::from(inp.byte());
    let key = inp.bytes(klen);
    let llen = usize::from(inp.byte() % 64);
    let label = inp.bytes(llen);
    let clen = usize::from(inp.byte());
    let context = inp.bytes(clen);
    let out_len = usize::from(inp.u16() % 1025);
    let nseg = usize::from(inp.byte() % 8);
    let lengths = inp.bytes(nseg).to_vec();
    let preauth = inp.array::<64>();
    let full_key = inp.array::<32>();

    let sentinel = 0xA5u8;
    let mut out = vec![sentinel; out_len];
    let r = kdf::smb_kdf(key, label, context, &mut out);
    if out_len == 0 {
        assert_eq!(r, Err(Error::OutputLength(0)));
    } else {
        assert_eq!(r, Ok(()));
        assert_eq!(out, reference::smb_kdf(key, label, context, out_len));
        // The fixed input given in arbitrary pieces.
        let l = u32::try_from(out_len * 8).unwrap().to_be_bytes();
        let fixed = [label, &[0u8][..], context, &l[..]].concat();
        let pieces = cuts(&fixed, &lengths);
        let mut out2 = vec![0u8; out_len];
        kdf::counter_hmac_sha256(key, &pieces, &mut out2).unwrap();
        assert_eq!(out2, out);
    }

    let k30 = kdf::smb30_keys(key).unwrap();
    assert_eq!(
        k30.signing[..],
        reference::smb_kdf(key, b"SMB2AESCMAC\0", b"SmbSign\0", 16)[..]
    );
    assert_eq!(
        k30.application[..],
        reference::smb_kdf(key, b"SMB2APP\0", b"SmbRpc\0", 16)[..]
    );
    assert_eq!(
        k30.client_to_server_key(),
        reference::smb_kdf(key, b"SMB2AESCCM\0", b"ServerIn \0", 16)
    );
    assert_eq!(
        k30.server_to_client_key(),
        reference::smb_kdf(key, b"SMB2AESCCM\0", b"ServerOut\0", 16)
    );

    for cipher in [CipherKeyLen::Aes128, CipherKeyLen::Aes256] {
        let k = kdf::smb311_keys(key, &full_key, &preauth, cipher).unwrap();
        let n = cipher.bytes();
        let src: &[u8] = if n == 32 { &full_key } else { key };
        assert_eq!(
            k.signing[..],
            reference::smb_kdf(key, b"SMBSigningKey\0", &preauth, 16)[..]
        );
        assert_eq!(
            k.application[..],
            reference::smb_kdf(key, b"SMBAppKey\0", &preauth, 16)[..]
        );
        assert_eq!(
            k.client_to_server_key(),
            reference::smb_kdf(src, b"SMBC2SCipherKey\0", &preauth, n)
        );
        assert_eq!(
            k.server_to_client_key(),
            reference::smb_kdf(src, b"SMBS2CCipherKey\0", &preauth, n)
        );
    }
}
