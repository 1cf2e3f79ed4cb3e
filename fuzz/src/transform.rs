//! SMB3 encryption (smb2::transform): arbitrary bytes as a transform message are
//! refused with the buffer unchanged (or, had a tag been forged, decrypted);
//! arbitrary messages, nonces, session ids and iovec cuts encrypt to what the
//! contiguous form gives (GCM: what RustCrypto `aes-gcm` gives), decrypt back,
//! and with any one bit flipped are refused with the buffer unchanged.
//!
//! Input: cipher (1 byte), key (32 bytes, the cipher's length used), mode, then
//! for mode 0 the transform message; otherwise nonce form, 16 nonce bytes,
//! session id (8), cut count and lengths, the bit to flip (4), the message.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::transform::{self, TransformHeader, AAD, TRANSFORM_HEADER_LEN};
use smbsign::Error;

use crate::{flip_bit, Input};

/// `buf` split into mutable pieces of `lengths` (then the rest).
fn cuts_mut<'a>(mut buf: &'a mut [u8], lengths: &[u8]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::with_capacity(lengths.len() + 1);
    for &l in lengths {
        let (a, b) = buf.split_at_mut(usize::from(l).min(buf.len()));
        out.push(a);
        buf = b;
    }
    out.push(buf);
    out
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let cipher = Cipher::ALL[usize::from(inp.byte() % 4)];
    let key_bytes = inp.array::<32>();
    let key = &key_bytes[..cipher.key_len()];
    let k = Key::new(cipher, key).unwrap();
    if inp.byte() & 1 == 0 {
        let before = inp.bytes(usize::MAX).to_vec();
        let mut buf = before.clone();
        let r = transform::decrypt_in_place(&k, &mut buf).map(|_| ());
        match TransformHeader::parse(&before) {
            Err(e) => assert_eq!(r, Err(e)),
            Ok(_) => assert!(r.is_ok() || r == Err(Error::AuthenticationFailed)),
        }
        if r.is_err() {
            assert_eq!(buf, before, "a refused message changed the buffer");
        }
        return;
    }
    let full = inp.byte() & 1 == 1;
    let nonce_bytes = inp.array::<16>();
    let nonce = &nonce_bytes[..if full { 16 } else { cipher.nonce_len() }];
    let session_id = u64::from_le_bytes(inp.array::<8>());
    let ncuts = usize::from(inp.byte() % 6);
    let lengths = inp.bytes(ncuts).to_vec();
    let flip = inp.u32();
    let msg = inp.bytes(usize::MAX);

    let mut m = msg.to_vec();
    let r = transform::encrypt_message(&k, nonce, session_id, &mut cuts_mut(&mut m, &lengths));
    if msg.len() < transform::MIN_MESSAGE_LEN {
        assert_eq!(
            r,
            Err(Error::MessageTooShort {
                min: transform::MIN_MESSAGE_LEN,
                got: msg.len()
            })
        );
        assert_eq!(m, msg, "a refused message changed the buffer");
        return;
    }
    let header = r.unwrap();
    let mut wire = header.to_vec();
    wire.extend_from_slice(&m);
    assert_eq!(
        wire,
        transform::encrypt_to_vec(&k, nonce, session_id, msg).unwrap()
    );
    if matches!(cipher, Cipher::Aes128Gcm | Cipher::Aes256Gcm) {
        let n = aes_gcm::Nonce::try_from(&nonce[..12]).unwrap();
        let p = Payload {
            msg,
            aad: &wire[AAD],
        };
        let want = if cipher == Cipher::Aes128Gcm {
            aes_gcm::Aes128Gcm::new_from_slice(key)
                .unwrap()
                .encrypt(&n, p)
        } else {
            aes_gcm::Aes256Gcm::new_from_slice(key)
                .unwrap()
                .encrypt(&n, p)
        }
        .unwrap();
        assert_eq!(&wire[TRANSFORM_HEADER_LEN..], &want[..msg.len()]);
        assert_eq!(&wire[4..20], &want[msg.len()..]);
    }
    // Back, over the same cuts.
    let mut body = m.clone();
    transform::decrypt_message(&k, &header, &mut cuts_mut(&mut body, &lengths)).unwrap();
    assert_eq!(body, msg);
    // Any one bit flipped (ProtocolId included) is refused, the buffer unchanged.
    let mut bad = wire.clone();
    flip_bit(&mut bad, flip);
    let before = bad.clone();
    assert!(transform::decrypt_in_place(&k, &mut bad).is_err());
    assert_eq!(bad, before);
}
