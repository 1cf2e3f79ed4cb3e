//! The incremental MAC APIs with arbitrary update splits against the one-shot
//! result and against RustCrypto.
//!
//! Input: algorithm selector, segment-length count and lengths, a tamper
//! position, for HMAC a key length and key (any length), else a 16-byte key
//! (and a 12-byte nonce for GMAC), then the message.

use smbsign::smb2::SigningKey;
use smbsign::{cmac, gmac, hmac, Algorithm, Error};

use crate::{algorithm, cuts, flip_bit, reference, Input};

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let alg = algorithm(inp.byte());
    let nseg = usize::from(inp.byte() % 32);
    let lengths = inp.bytes(nseg);
    let tamper = inp.u32();
    match alg {
        Algorithm::HmacSha256 => {
            let klen = usize::from(inp.byte());
            let raw_key = inp.bytes(klen);
            let msg = inp.rest();
            let parts = cuts(msg, lengths);
            let key = hmac::Key::new(raw_key);
            let tag = key.mac(msg);
            assert_eq!(tag, reference::hmac_sha256(raw_key, &[msg]));
            let mut st = key.start();
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize(), tag);
            let mut st = key.clone().into_state();
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize16(), tag[..16]);
            assert_eq!(key.mac_vectored(&parts), tag);
            assert_eq!(key.mac16(msg), tag[..16]);
            check_verify(|t| key.verify(msg, t), &tag, tamper);
            check_verify(|t| key.verify(msg, t), &tag[..16], tamper);
            assert_eq!(key.verify(msg, &tag[..15]), Err(Error::TagMismatch));
            if let Ok(k16) = <&[u8; 16]>::try_from(raw_key) {
                check_signing_key(alg, k16, None, msg, &parts, tamper);
            }
        }
        Algorithm::AesCmac => {
            let raw_key = inp.array::<16>();
            let msg = inp.rest();
            let parts = cuts(msg, lengths);
            let key = cmac::Key::new(&raw_key);
            let tag = key.mac(msg);
            assert_eq!(tag, reference::cmac(&raw_key, msg));
            let mut st = key.start();
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize(), tag);
            let mut st = key.clone().into_state();
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize(), tag);
            assert_eq!(key.mac_vectored(&parts), tag);
            check_verify(|t| key.verify(msg, t), &tag, tamper);
            check_signing_key(alg, &raw_key, None, msg, &parts, tamper);
        }
        Algorithm::AesGmac => {
            let raw_key = inp.array::<16>();
            let nonce = inp.array::<12>();
            let msg = inp.rest();
            let parts = cuts(msg, lengths);
            let key = gmac::Key::new(&raw_key);
            let tag = key.mac(&nonce, msg);
            assert_eq!(tag, reference::gmac(&raw_key, &nonce, msg));
            let mut st = key.start(&nonce);
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize(), tag);
            let mut st = key.clone().into_state(&nonce);
            parts.iter().for_each(|p| st.update(p));
            assert_eq!(st.finalize(), tag);
            assert_eq!(key.mac_vectored(&nonce, &parts), tag);
            check_verify(|t| key.verify(&nonce, msg, t), &tag, tamper);
            check_signing_key(alg, &raw_key, Some(&nonce), msg, &parts, tamper);
        }
    }
}

/// `verify` accepts `tag` and refuses it with one bit flipped or one byte short.
fn check_verify(verify: impl Fn(&[u8]) -> smbsign::Result<()>, tag: &[u8], tamper: u32) {
    assert_eq!(verify(tag), Ok(()));
    let mut bad = tag.to_vec();
    flip_bit(&mut bad, tamper);
    assert_eq!(verify(&bad), Err(Error::TagMismatch));
    assert_eq!(verify(&tag[1..]), Err(Error::TagMismatch));
}

/// The algorithm-generic [`SigningKey`] API agrees, and enforces the nonce rule.
fn check_signing_key(
    alg: Algorithm,
    raw_key: &[u8; 16],
    nonce: Option<&[u8; 12]>,
    msg: &[u8],
    parts: &[&[u8]],
    tamper: u32,
) {
    let key = SigningKey::new(alg, raw_key).unwrap();
    let tag = key.mac(nonce, msg).unwrap();
    assert_eq!(
        tag,
        reference::mac16(alg, raw_key, nonce.unwrap_or(&[0; 12]), msg)
    );
    assert_eq!(key.mac_vectored(nonce, parts), Ok(tag));
    check_verify(|t| key.verify(nonce, msg, t), &tag, tamper);
    let wrong = match nonce {
        Some(_) => None,
        None => Some(&[0u8; 12]),
    };
    let expected = if nonce.is_some() {
        Error::MissingNonce
    } else {
        Error::UnexpectedNonce
    };
    assert_eq!(key.mac(wrong, msg), Err(expected));
    assert_eq!(key.mac_vectored(wrong, parts), Err(expected));
}
