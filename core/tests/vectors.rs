//! Proves every available backend reproduces the published vectors: RFC 4493 /
//! SP 800-38B (CMAC), RFC 4231 (HMAC-SHA256), NIST CAVP GCM with empty plaintext
//! (GMAC) and NIST CAVP SP 800-108 counter-mode KBKDF with HMAC-SHA256.

mod common;

use common::{backends, field, records};
use smbsign::{cmac, gmac, hmac, kdf};

#[test]
fn cmac_sp800_38b() {
    let recs = records("cmac-aes128.txt");
    assert_eq!(recs.len(), 4);
    for b in backends() {
        for r in &recs {
            let key = cmac::Key::with_backend(field(r, "KEY").try_into().unwrap(), b);
            assert_eq!(
                key.mac(field(r, "MESSAGE")),
                field(r, "OUTPUT"),
                "{:?}",
                b.tier()
            );
            assert!(key.verify(field(r, "MESSAGE"), field(r, "OUTPUT")).is_ok());
        }
    }
}

#[test]
fn hmac_rfc4231() {
    let recs = records("hmac-sha256-rfc4231.txt");
    assert_eq!(recs.len(), 6);
    for b in backends() {
        for r in &recs {
            let key = hmac::Key::with_backend(field(r, "Key"), b);
            assert_eq!(key.mac(field(r, "Msg")), field(r, "MD"), "{:?}", b.tier());
            assert_eq!(key.mac16(field(r, "Msg")), field(r, "MD")[..16]);
        }
    }
}

#[test]
fn gmac_cavp() {
    let recs = records("gmac-aes128-cavp.txt");
    assert_eq!(recs.len(), 75);
    for b in backends() {
        for r in &recs {
            let key = gmac::Key::with_backend(field(r, "Key").try_into().unwrap(), b);
            let nonce: &[u8; 12] = field(r, "IV").try_into().unwrap();
            assert_eq!(
                key.mac(nonce, field(r, "AAD")),
                field(r, "Tag"),
                "{:?}",
                b.tier()
            );
        }
    }
}

#[test]
fn kbkdf_cavp() {
    let recs = records("kbkdf-ctr-hmac-sha256.txt");
    assert_eq!(recs.len(), 40);
    for r in &recs {
        let bits = u32::from_be_bytes(field(r, "L").try_into().unwrap()) as usize;
        let want = field(r, "KO");
        assert_eq!(want.len() * 8, bits);
        let mut out = vec![0u8; want.len()];
        kdf::counter_hmac_sha256(field(r, "KI"), &[field(r, "FixedInputData")], &mut out).unwrap();
        assert_eq!(out, want);
    }
}

#[test]
fn key_setup_agrees_across_tiers() {
    // Round keys and GHASH key powers are computed by each tier's own kernels;
    // keys made on every tier must produce the portable tier's tags.
    let portable = smbsign::Backend::portable();
    for seed in 0..64u8 {
        let key: [u8; 16] = core::array::from_fn(|i| seed.wrapping_mul(37).wrapping_add(i as u8));
        let msg: Vec<u8> = (0..(seed as usize * 13)).map(|i| i as u8).collect();
        let want_c = cmac::Key::with_backend(&key, portable).mac(&msg);
        let want_g = gmac::Key::with_backend(&key, portable).mac(&[seed; 12], &msg);
        for b in backends() {
            assert_eq!(
                cmac::Key::with_backend(&key, b).mac(&msg),
                want_c,
                "{:?}",
                b.tier()
            );
            assert_eq!(
                gmac::Key::with_backend(&key, b).mac(&[seed; 12], &msg),
                want_g,
                "{:?}",
                b.tier()
            );
        }
    }
}

#[test]
fn key_types_are_send_sync_clone() {
    // Keys are shared between threads by servers and bindings.
    fn assert_shareable<T: Send + Sync + Clone>() {}
    assert_shareable::<cmac::Key>();
    assert_shareable::<gmac::Key>();
    assert_shareable::<hmac::Key>();
    assert_shareable::<smbsign::SigningKey>();
    assert_shareable::<smbsign::PreauthHash>();
    assert_shareable::<smbsign::kdf::SessionKeys>();
}
