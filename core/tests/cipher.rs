//! The SMB3 ciphers (`smbsign::cipher`): NIST CAVP GCM and CCM vectors,
//! RustCrypto `aes-gcm` and `ccm` at every length to 1 KiB and beyond, every
//! tier against the portable one, messages split into parts at every
//! boundary, tampering, and the typed errors (buffers untouched).

mod common;

use common::{backends, bytes, field, max_len, records};
use smbsign::cipher::{Cipher, Key, TAG_LEN};
use smbsign::{Backend, Error};

/// RustCrypto's result for `cipher`: ciphertext and tag.
fn reference(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    msg: &[u8],
) -> (Vec<u8>, [u8; 16]) {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use ccm::consts::{U11, U16};
    let mut buf = msg.to_vec();
    macro_rules! run {
        ($t:ty) => {{
            let c = <$t>::new_from_slice(key).unwrap();
            let n = aes_gcm::aead::Nonce::<$t>::try_from(nonce).unwrap();
            c.encrypt_inout_detached(&n, aad, buf.as_mut_slice().into())
                .unwrap()
                .into()
        }};
    }
    let tag: [u8; 16] = match cipher {
        Cipher::Aes128Gcm => run!(aes_gcm::Aes128Gcm),
        Cipher::Aes256Gcm => run!(aes_gcm::Aes256Gcm),
        Cipher::Aes128Ccm => run!(ccm::Ccm<aes::Aes128, U16, U11>),
        Cipher::Aes256Ccm => run!(ccm::Ccm<aes::Aes256, U16, U11>),
    };
    (buf, tag)
}

fn seal(key: &Key, nonce: &[u8], aad: &[u8], msg: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let mut buf = msg.to_vec();
    let tag = key.seal_in_place(nonce, aad, &mut [&mut buf[..]]).unwrap();
    (buf, tag)
}

fn open(key: &Key, nonce: &[u8], aad: &[u8], ct: &[u8], tag: &[u8; 16]) -> Result<Vec<u8>, Error> {
    let mut buf = ct.to_vec();
    let r = key.open_in_place(nonce, aad, &mut [&mut buf[..]], tag);
    match r {
        Ok(()) => Ok(buf),
        Err(e) => {
            assert_eq!(buf, ct, "a failed open must leave the ciphertext");
            Err(e)
        }
    }
}

#[test]
fn ids_and_names() {
    for (i, c) in Cipher::ALL.into_iter().enumerate() {
        assert_eq!(c.id(), i as u16 + 1);
        assert_eq!(Cipher::from_id(c.id()), Ok(c));
        assert_eq!(Cipher::from_name(c.name()), Ok(c));
        assert_eq!(Cipher::from_name(&c.name().to_uppercase()), Ok(c));
        assert_eq!(c.to_string(), c.name());
    }
    assert_eq!(Cipher::Aes128Ccm.name(), "aes-128-ccm");
    assert_eq!(Cipher::Aes256Gcm.name(), "aes-256-gcm");
    assert_eq!(Cipher::from_id(0), Err(Error::UnknownCipher(0)));
    assert_eq!(Cipher::from_id(5), Err(Error::UnknownCipher(5)));
    assert_eq!(
        Cipher::from_name("aes-128-cbc"),
        Err(Error::UnknownCipherName)
    );
    assert_eq!(
        [16, 16, 32, 32],
        Cipher::ALL.map(Cipher::key_len),
        "key lengths by id"
    );
    assert_eq!([11, 12, 11, 12], Cipher::ALL.map(Cipher::nonce_len));
}

#[test]
fn gcm_cavp() {
    for (file, cipher) in [
        ("gcm-aes128-cavp.txt", Cipher::Aes128Gcm),
        ("gcm-aes256-cavp.txt", Cipher::Aes256Gcm),
    ] {
        let recs = records(file);
        assert_eq!(recs.len(), 50, "{file}");
        for b in backends() {
            for r in &recs {
                let key = Key::with_backend(cipher, field(r, "Key"), b).unwrap();
                let (iv, aad, pt) = (field(r, "IV"), field(r, "AAD"), field(r, "PT"));
                let (ct, tag) = seal(&key, iv, aad, pt);
                assert_eq!(ct, field(r, "CT"), "{file} {:?}", b.tier());
                assert_eq!(tag, field(r, "Tag"), "{file} {:?}", b.tier());
                assert_eq!(open(&key, iv, aad, &ct, &tag).unwrap(), pt);
            }
        }
    }
}

#[test]
fn ccm_cavp() {
    for (file, cipher) in [
        ("ccm-aes128-cavp.txt", Cipher::Aes128Ccm),
        ("ccm-aes256-cavp.txt", Cipher::Aes256Ccm),
    ] {
        let recs = records(file);
        assert_eq!(recs.len(), 10, "{file}");
        for b in backends() {
            for r in &recs {
                let key = Key::with_backend(cipher, field(r, "Key"), b).unwrap();
                let (nonce, aad, pt) = (field(r, "Nonce"), field(r, "Adata"), field(r, "Payload"));
                let (ct, tag) = seal(&key, nonce, aad, pt);
                let want = field(r, "CT");
                assert_eq!(ct, want[..pt.len()], "{file} {:?}", b.tier());
                assert_eq!(tag, want[pt.len()..], "{file} {:?}", b.tier());
                assert_eq!(open(&key, nonce, aad, &ct, &tag).unwrap(), pt);
            }
        }
    }
}

/// Every length to 1 KiB (and some beyond), every cipher: the portable tier
/// against RustCrypto, every other tier against the portable one.
#[test]
fn every_length_matches_reference_and_portable() {
    let top = max_len(1024);
    let lens: Vec<usize> = (0..=top).chain([4095, 4097, 65537]).collect();
    let portable = Backend::portable();
    let tiers = backends();
    for cipher in Cipher::ALL {
        let kb = bytes(cipher.id().into(), cipher.key_len());
        let keys: Vec<Key> = tiers
            .iter()
            .map(|&b| Key::with_backend(cipher, &kb, b).unwrap())
            .collect();
        let soft = Key::with_backend(cipher, &kb, portable).unwrap();
        for &len in &lens {
            let msg = bytes(len as u64, len);
            let aad = bytes(!(len as u64), len % 67);
            let nonce = bytes(len as u64 + 7, cipher.nonce_len());
            let (ct, tag) = seal(&soft, &nonce, &aad, &msg);
            if len <= 1024 || len % 2 == 1 {
                assert_eq!(
                    (ct.clone(), tag),
                    reference(cipher, &kb, &nonce, &aad, &msg),
                    "{cipher} {len}"
                );
            }
            for key in &keys {
                let t = key.backend().tier();
                assert_eq!(
                    seal(key, &nonce, &aad, &msg),
                    (ct.clone(), tag),
                    "{cipher} {t:?} {len}"
                );
                assert_eq!(
                    open(key, &nonce, &aad, &ct, &tag).unwrap(),
                    msg,
                    "{cipher} {t:?} {len}"
                );
            }
        }
    }
}

/// Long AAD (CCM's 6-byte length prefix from 0xff00 bytes) and unaligned buffers.
#[test]
fn long_aad_and_unaligned() {
    for cipher in Cipher::ALL {
        let kb = bytes(99, cipher.key_len());
        let nonce = bytes(5, cipher.nonce_len());
        for aad_len in [0xfeff, 0xff00, 0x1_0001] {
            let aad = bytes(aad_len as u64, aad_len);
            let msg = bytes(3, 300);
            let want = reference(cipher, &kb, &nonce, &aad, &msg);
            for b in backends() {
                let key = Key::with_backend(cipher, &kb, b).unwrap();
                assert_eq!(seal(&key, &nonce, &aad, &msg), want, "{cipher} {aad_len}");
            }
        }
        let msg = bytes(11, 1000);
        let aad = bytes(12, 32);
        let want = reference(cipher, &kb, &nonce, &aad, &msg);
        for b in backends() {
            let key = Key::with_backend(cipher, &kb, b).unwrap();
            for shift in 1..16 {
                let mut store = vec![0u8; msg.len() + 16];
                store[shift..shift + msg.len()].copy_from_slice(&msg);
                let buf = &mut store[shift..shift + msg.len()];
                let tag = key
                    .seal_in_place(&nonce, &aad[1..], &mut [&mut *buf])
                    .unwrap();
                let want = reference(cipher, &kb, &nonce, &aad[1..], &msg);
                assert_eq!((buf.to_vec(), tag), want, "{cipher} shift {shift}");
                key.open_in_place(&nonce, &aad[1..], &mut [&mut *buf], &tag)
                    .unwrap();
                assert_eq!(buf, &msg[..]);
            }
            let _ = &want;
        }
    }
}

/// Splits `msg` at `cuts` into parts, seals and opens them in place.
fn sealed_in_parts(
    key: &Key,
    nonce: &[u8],
    aad: &[u8],
    msg: &[u8],
    cuts: &[usize],
) -> (Vec<u8>, [u8; 16]) {
    let mut buf = msg.to_vec();
    let mut parts: Vec<&mut [u8]> = Vec::new();
    let mut rest = &mut buf[..];
    let mut at = 0;
    for &c in cuts {
        let (a, b) = rest.split_at_mut(c - at);
        parts.push(a);
        rest = b;
        at = c;
    }
    parts.push(rest);
    let tag = key.seal_in_place(nonce, aad, &mut parts).unwrap();
    let ct: Vec<u8> = parts.concat();
    key.open_in_place(nonce, aad, &mut parts, &tag).unwrap();
    assert_eq!(parts.concat(), msg);
    (ct, tag)
}

#[test]
fn parts_split_at_every_boundary() {
    for b in backends() {
        for cipher in Cipher::ALL {
            let kb = bytes(7, cipher.key_len());
            let key = Key::with_backend(cipher, &kb, b).unwrap();
            let nonce = bytes(8, cipher.nonce_len());
            let aad = bytes(9, 20);
            for len in [0usize, 1, 15, 16, 17, 47, 100, 130, 300] {
                let msg = bytes(len as u64 + 1, len);
                let want = seal(&key, &nonce, &aad, &msg);
                for cut in 0..=len {
                    assert_eq!(
                        sealed_in_parts(&key, &nonce, &aad, &msg, &[cut]),
                        want,
                        "{cipher} {len} {cut}"
                    );
                }
                if len <= 130 {
                    for c1 in (0..=len).step_by(3) {
                        for c2 in c1..=len {
                            assert_eq!(
                                sealed_in_parts(&key, &nonce, &aad, &msg, &[c1, c2]),
                                want,
                                "{cipher} {len} {c1} {c2}"
                            );
                        }
                    }
                }
                // One byte per part, and empty parts between.
                let ones: Vec<usize> = (1..len).collect();
                assert_eq!(sealed_in_parts(&key, &nonce, &aad, &msg, &ones), want);
                let doubled: Vec<usize> = (0..=len).flat_map(|c| [c, c]).collect();
                assert_eq!(sealed_in_parts(&key, &nonce, &aad, &msg, &doubled), want);
            }
        }
    }
}

#[test]
fn tampering_is_refused_and_the_ciphertext_kept() {
    for b in backends() {
        for cipher in Cipher::ALL {
            let kb = bytes(21, cipher.key_len());
            let key = Key::with_backend(cipher, &kb, b).unwrap();
            let nonce = bytes(22, cipher.nonce_len());
            let aad = bytes(23, 32);
            for len in [0usize, 1, 16, 33, 1000] {
                let msg = bytes(24, len);
                let (ct, tag) = seal(&key, &nonce, &aad, &msg);
                for bit in [0, 7, 64, 127] {
                    let mut t = tag;
                    t[bit / 8] ^= 1 << (bit % 8);
                    assert_eq!(
                        open(&key, &nonce, &aad, &ct, &t),
                        Err(Error::AuthenticationFailed)
                    );
                }
                for i in [0, aad.len() / 2, aad.len() - 1] {
                    let mut a = aad.clone();
                    a[i] ^= 0x80;
                    assert_eq!(
                        open(&key, &nonce, &a, &ct, &tag),
                        Err(Error::AuthenticationFailed)
                    );
                }
                assert_eq!(
                    open(&key, &nonce, &aad[..31], &ct, &tag),
                    Err(Error::AuthenticationFailed)
                );
                for i in [0, len / 2, len.saturating_sub(1)]
                    .into_iter()
                    .filter(|_| len > 0)
                {
                    let mut c = ct.clone();
                    c[i] ^= 4;
                    assert_eq!(
                        open(&key, &nonce, &aad, &c, &tag),
                        Err(Error::AuthenticationFailed)
                    );
                }
                let mut n = nonce.clone();
                n[0] ^= 1;
                assert_eq!(
                    open(&key, &n, &aad, &ct, &tag),
                    Err(Error::AuthenticationFailed)
                );
                let other = Key::with_backend(cipher, &bytes(25, cipher.key_len()), b).unwrap();
                assert_eq!(
                    open(&other, &nonce, &aad, &ct, &tag),
                    Err(Error::AuthenticationFailed)
                );
                // A failed open over parts restores every part.
                if len >= 33 {
                    let mut buf = ct.clone();
                    let (x, y) = buf.split_at_mut(17);
                    let mut t = tag;
                    t[3] ^= 1;
                    assert!(key.open_in_place(&nonce, &aad, &mut [x, y], &t).is_err());
                    assert_eq!(buf, ct);
                }
            }
        }
    }
}

#[test]
fn bad_lengths_are_typed_errors_and_write_nothing() {
    for cipher in Cipher::ALL {
        for len in [0, 1, 15, 17, 24, 31, 33, 64] {
            if len != cipher.key_len() {
                assert_eq!(
                    Key::new(cipher, &vec![1; len]).err(),
                    Some(Error::KeyLength {
                        expected: cipher.key_len(),
                        got: len
                    })
                );
            }
        }
        let key = Key::new(cipher, &vec![1; cipher.key_len()]).unwrap();
        assert_eq!(key.cipher(), cipher);
        let msg = bytes(1, 50);
        for n in [0, 8, 11, 12, 13, 16] {
            if n == cipher.nonce_len() {
                continue;
            }
            let mut buf = msg.clone();
            let e = Error::NonceLength {
                expected: cipher.nonce_len(),
                got: n,
            };
            assert_eq!(
                key.seal_in_place(&vec![0; n], b"", &mut [&mut buf[..]]),
                Err(e)
            );
            assert_eq!(
                key.open_in_place(&vec![0; n], b"", &mut [&mut buf[..]], &[0; TAG_LEN]),
                Err(e)
            );
            assert_eq!(buf, msg);
        }
    }
}

/// An anonymous mapping of `len` bytes that is never touched (the length
/// checks refuse it first), or `None` where the system will not map it.
fn huge(len: usize) -> Option<&'static mut [u8]> {
    // SAFETY: a fresh private anonymous mapping, readable and writable, of
    // `len` bytes; leaked for the test's lifetime, aliased by nothing.
    unsafe {
        let p = libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        );
        (p != libc::MAP_FAILED).then(|| core::slice::from_raw_parts_mut(p.cast::<u8>(), len))
    }
}

#[test]
fn messages_too_long_are_refused() {
    // CCM: 2^32 bytes is one too many for the 4-byte length field.
    let Some(buf) = huge(1 << 32) else {
        eprintln!("skipped: no 4 GiB mapping");
        return;
    };
    for cipher in [Cipher::Aes128Ccm, Cipher::Aes256Ccm] {
        let key = Key::new(cipher, &vec![2; cipher.key_len()]).unwrap();
        let e = Error::MessageLength {
            max: u32::MAX.into(),
            got: 1 << 32,
        };
        assert_eq!(
            key.seal_in_place(&[0; 11], b"", &mut [&mut *buf]).err(),
            Some(e)
        );
        assert_eq!(
            key.open_in_place(&[0; 11], b"", &mut [&mut *buf], &[0; 16])
                .err(),
            Some(e)
        );
        // Over parts the total counts.
        let (a, b) = buf.split_at_mut(1 << 31);
        assert_eq!(key.seal_in_place(&[0; 11], b"", &mut [a, b]).err(), Some(e));
    }
    // GCM: 2^36 - 31 bytes; the mapping is four of 2^34 - 8 bytes.
    let quarter = (1usize << 34) - 8;
    let Some(big) = huge(4 * quarter) else {
        eprintln!("skipped: no 64 GiB mapping");
        return;
    };
    let (a, rest) = big.split_at_mut(quarter);
    let (b, rest) = rest.split_at_mut(quarter);
    let (c, d) = rest.split_at_mut(quarter);
    let mut one = [0u8; 1];
    for cipher in [Cipher::Aes128Gcm, Cipher::Aes256Gcm] {
        let key = Key::new(cipher, &vec![3; cipher.key_len()]).unwrap();
        let e = Error::MessageLength {
            max: (1 << 36) - 32,
            got: (1 << 36) - 31,
        };
        let mut parts: [&mut [u8]; 5] = [&mut *a, &mut *b, &mut *c, &mut *d, &mut one];
        assert_eq!(key.seal_in_place(&[0; 12], b"", &mut parts).err(), Some(e));
        assert_eq!(
            key.open_in_place(&[0; 12], b"", &mut parts, &[0; 16]).err(),
            Some(e)
        );
    }
}

/// The stitched GCM loops take 16-block (256-byte, ymm) and 32-block
/// (512-byte, zmm) groups; parts above 512 bytes cut on and around every
/// 256-byte boundary and every block boundary, and two cuts straddling one,
/// against the contiguous result and RustCrypto (F10).
#[test]
fn parts_across_the_stitched_groups() {
    for b in backends() {
        for cipher in Cipher::ALL {
            let key = Key::with_backend(cipher, &bytes(21, cipher.key_len()), b).unwrap();
            let nonce = bytes(22, cipher.nonce_len());
            let aad = bytes(23, 32);
            for len in [513usize, 1024, 1551, 2048 + 16 * 3 + 5] {
                let msg = bytes(len as u64, len);
                let want = seal(&key, &nonce, &aad, &msg);
                assert_eq!(
                    want,
                    reference(cipher, &bytes(21, cipher.key_len()), &nonce, &aad, &msg),
                    "{cipher} {len} {b:?}"
                );
                // Every cut within 17 bytes of a 256-byte group boundary, every
                // 16-byte block boundary, and every 7th byte elsewhere.
                let near = |c: usize| (1..=len / 256).any(|g| c.abs_diff(g * 256) <= 17);
                for cut in (0..=len).filter(|&c| near(c) || c % 16 == 0 || c % 7 == 0) {
                    assert_eq!(
                        sealed_in_parts(&key, &nonce, &aad, &msg, &[cut]),
                        want,
                        "{cipher} {len} {cut} {b:?}"
                    );
                }
                for g in (1..=len / 256).map(|g| g * 256) {
                    let far = g.saturating_sub(300);
                    for (c1, c2) in [(g - 1, g + 1), (g - 16, g + 16), (far, g + 5), (1, g)] {
                        let c2 = c2.min(len);
                        assert_eq!(
                            sealed_in_parts(&key, &nonce, &aad, &msg, &[c1, c2]),
                            want,
                            "{cipher} {len} {c1} {c2} {b:?}"
                        );
                    }
                }
            }
        }
    }
}

/// The 32-bit CTR counter in block bytes 12..16 (GCM starts it at 2, CCM
/// at 1) carries out of byte 15 after 256 blocks, and out of byte 14 into
/// byte 13 after 65536. A message of 65536 + 40 blocks crosses both, on every
/// tier, whole and in parts cut near the carries, against RustCrypto (F17).
/// A carry into byte 12 needs 2^24 blocks (256 MiB) and is not run here.
#[test]
fn counter_carries_into_byte_13() {
    let len = 16 * (65536 + 40) + 9;
    let msg = bytes(31, len);
    for cipher in Cipher::ALL {
        let kb = bytes(32, cipher.key_len());
        let nonce = bytes(33, cipher.nonce_len());
        let aad = bytes(34, 32);
        let want = reference(cipher, &kb, &nonce, &aad, &msg);
        for b in backends() {
            let key = Key::with_backend(cipher, &kb, b).unwrap();
            assert_eq!(seal(&key, &nonce, &aad, &msg), want, "{cipher} {b:?}");
            // Cut at the blocks whose counters are 0xFF/0x100 and 0xFFFF/0x10000.
            let first = if matches!(cipher, Cipher::Aes128Gcm | Cipher::Aes256Gcm) {
                2
            } else {
                1
            };
            let at = |counter: usize| 16 * (counter - first);
            let cuts = [
                at(0xFF) + 3,
                at(0x100) + 16,
                at(0xFFFF) - 5,
                at(0x10000) + 1,
            ];
            assert_eq!(
                sealed_in_parts(&key, &nonce, &aad, &msg, &cuts),
                want,
                "{cipher} {b:?} parts"
            );
            assert_eq!(open(&key, &nonce, &aad, &want.0, &want.1).unwrap(), msg);
        }
    }
}

/// The carry out of byte 13 into byte 12 of the CTR block: a message of
/// 2^24 + 8 blocks (256 MiB), each cipher on the active backend, against
/// RustCrypto. Ignored by default for its size and time: run with
/// `cargo test -p smbsign --test cipher -- --ignored counter_carries_into_byte_12`.
#[test]
#[ignore = "256 MiB per cipher; run with --ignored"]
fn counter_carries_into_byte_12() {
    let len = 16 * ((1usize << 24) + 8) + 5;
    let msg = bytes(41, len);
    for cipher in Cipher::ALL {
        let kb = bytes(42, cipher.key_len());
        let nonce = bytes(43, cipher.nonce_len());
        let aad = bytes(44, 32);
        let want = reference(cipher, &kb, &nonce, &aad, &msg);
        let key = Key::new(cipher, &kb).unwrap();
        let got = seal(&key, &nonce, &aad, &msg);
        assert!(
            got == want,
            "{cipher}: differs from RustCrypto across the byte-12 carry"
        );
    }
}
