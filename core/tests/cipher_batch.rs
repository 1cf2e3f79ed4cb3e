//! Cipher batches (`batch::seal`, `batch::open`, and the transform batches
//! `batch::encrypt_in_place`, `batch::decrypt_in_place`): on every backend
//! and lanes kernel this CPU has, every result equals the single-message
//! call on the portable tier and RustCrypto's `ccm` / `aes-gcm`: every lane
//! count 1..=70, mixed lengths 0..=1024 and long ones, AES-128 and AES-256
//! keys in one batch, GCM jobs among CCM ones, messages in parts split at
//! every boundary, and tampered members (only they fail, their buffers hold
//! the ciphertext again, the others decrypt).

mod common;

use common::{batch_backends, bytes, max_len};

/// Every backend with each CCM lanes kernel this CPU has, once per (tier,
/// kernel): the SHA-256 lanes variants of `batch_backends` change nothing here.
fn ccm_backends() -> Vec<Backend> {
    let mut out: Vec<Backend> = Vec::new();
    for b in batch_backends() {
        let key = |x: &Backend| (x.tier(), x.ccm_batch_name());
        if !out.iter().any(|o| key(o) == key(&b)) {
            out.push(b);
        }
    }
    out
}
use smbsign::batch::{self, CipherJob, DecryptJob, EncryptJob};
use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::transform::{self, EncryptionKey, NonceSource};
use smbsign::{Backend, Error};

/// RustCrypto's ciphertext and tag.
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

/// One message of a test batch: which key, its nonce, AAD and plaintext,
/// and where its parts are cut.
#[derive(Clone, Debug)]
struct Spec {
    key: usize,
    nonce: Vec<u8>,
    aad: Vec<u8>,
    plain: Vec<u8>,
    cuts: Vec<usize>,
}

/// The keys a batch draws on: two of each CCM size, one of each GCM size.
const CIPHERS: [Cipher; 6] = [
    Cipher::Aes128Ccm,
    Cipher::Aes256Ccm,
    Cipher::Aes128Ccm,
    Cipher::Aes256Ccm,
    Cipher::Aes128Gcm,
    Cipher::Aes256Gcm,
];

fn raw_key(i: usize) -> Vec<u8> {
    bytes(1000 + i as u64, CIPHERS[i].key_len())
}

fn keys(b: Backend) -> Vec<Key> {
    (0..CIPHERS.len())
        .map(|i| Key::with_backend(CIPHERS[i], &raw_key(i), b).unwrap())
        .collect()
}

/// `buf` cut at `cuts` (sorted, each at most `buf.len()`) into parts.
fn split<'a>(mut buf: &'a mut [u8], cuts: &[usize]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let (a, rest) = buf.split_at_mut(c - at);
        out.push(a);
        buf = rest;
        at = c;
    }
    out.push(buf);
    out
}

/// Seals `specs` as one batch on `b`, checks every tag and ciphertext
/// against the portable single-message call and RustCrypto, then opens the
/// batch with the members in `tampered` corrupted (tag, ciphertext or AAD by
/// turns) and checks that exactly those fail, hold their ciphertext, and the
/// others give back the plaintext.
fn check(b: Backend, specs: &[Spec], tampered: &[usize]) {
    let ks = keys(b);
    let portable = keys(Backend::portable());
    let what = |i: usize| {
        let s = &specs[i];
        format!(
            "{} {} job {i}/{}: {} bytes, aad {}, cuts {:?}",
            b.tier().name(),
            b.ccm_batch_name(),
            specs.len(),
            s.plain.len(),
            s.aad.len(),
            s.cuts
        )
    };
    let expect: Vec<(Vec<u8>, [u8; 16])> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut buf = s.plain.clone();
            let tag = portable[s.key]
                .seal_in_place(&s.nonce, &s.aad, &mut [&mut buf[..]])
                .unwrap();
            let r = reference(CIPHERS[s.key], &raw_key(s.key), &s.nonce, &s.aad, &s.plain);
            assert_eq!(
                (&buf, &tag),
                (&r.0, &r.1),
                "portable vs RustCrypto: {}",
                what(i)
            );
            (buf, tag)
        })
        .collect();

    let mut bufs: Vec<Vec<u8>> = specs.iter().map(|s| s.plain.clone()).collect();
    let mut tags = vec![[0u8; 16]; specs.len()];
    {
        let mut parts: Vec<Vec<&mut [u8]>> = bufs
            .iter_mut()
            .zip(specs)
            .map(|(buf, s)| split(buf, &s.cuts))
            .collect();
        let mut jobs: Vec<CipherJob<'_, '_>> = parts
            .iter_mut()
            .zip(specs)
            .map(|(p, s)| CipherJob::new(&ks[s.key], &s.nonce, &s.aad, p).unwrap())
            .collect();
        batch::seal(&mut jobs, &mut tags).unwrap();
    }
    for i in 0..specs.len() {
        assert_eq!(bufs[i], expect[i].0, "ciphertext: {}", what(i));
        assert_eq!(tags[i], expect[i].1, "tag: {}", what(i));
    }

    // Tamper: tag, ciphertext byte, or AAD byte, in turns.
    let mut aads: Vec<Vec<u8>> = specs.iter().map(|s| s.aad.clone()).collect();
    for (n, &i) in tampered.iter().enumerate() {
        match n % 3 {
            1 if !bufs[i].is_empty() => {
                let at = (n * 7919) % bufs[i].len();
                bufs[i][at] ^= 0x20;
            }
            2 if !aads[i].is_empty() => {
                let at = n % aads[i].len();
                aads[i][at] ^= 1;
            }
            _ => tags[i][n % 16] ^= 0x80,
        }
    }
    let sent = bufs.clone();
    let mut valid = vec![false; specs.len()];
    let all = {
        let mut parts: Vec<Vec<&mut [u8]>> = bufs
            .iter_mut()
            .zip(specs)
            .map(|(buf, s)| split(buf, &s.cuts))
            .collect();
        let mut jobs: Vec<CipherJob<'_, '_>> = parts
            .iter_mut()
            .zip(specs.iter().zip(&aads))
            .map(|(p, (s, aad))| CipherJob::new(&ks[s.key], &s.nonce, aad, p).unwrap())
            .collect();
        batch::open(&mut jobs, &tags, &mut valid).unwrap()
    };
    assert_eq!(all, tampered.is_empty());
    for i in 0..specs.len() {
        if tampered.contains(&i) {
            assert!(!valid[i], "tampered yet valid: {}", what(i));
            assert_eq!(bufs[i], sent[i], "refused, not restored: {}", what(i));
        } else {
            assert!(valid[i], "refused: {}", what(i));
            assert_eq!(bufs[i], specs[i].plain, "plaintext: {}", what(i));
        }
    }
}

/// A spec from seed `seed`: key `key`, `len` bytes, an AAD mostly of an
/// SMB2 transform's 32 bytes, 0-3 cuts.
fn spec(seed: u64, key: usize, len: usize) -> Spec {
    let r = bytes(seed, 8);
    let aad_len = match r[0] % 4 {
        0 => 0,
        1 => usize::from(r[1]) % 70,
        _ => 32,
    };
    let mut cuts: Vec<usize> = (0..r[2] % 4)
        .map(|k| usize::from(r[3 + k as usize]) * (len + 1) / 256)
        .collect();
    cuts.sort_unstable();
    Spec {
        key,
        nonce: bytes(seed ^ 0x5555, CIPHERS[key].nonce_len()),
        aad: bytes(seed ^ 0xaaaa, aad_len),
        plain: bytes(seed ^ 0x1234, len),
        cuts,
    }
}

#[test]
fn every_lane_count_with_mixed_lengths_and_tampering() {
    let top = max_len(1024);
    for b in ccm_backends() {
        for n in 1..=70usize {
            let specs: Vec<Spec> = (0..n)
                .map(|i| {
                    let seed = (n * 1000 + i) as u64;
                    let r = bytes(seed, 3);
                    // Mostly CCM (both sizes, two keys each), a GCM job in eight.
                    let key = if r[0].is_multiple_of(8) {
                        4 + usize::from(r[1] % 2)
                    } else {
                        usize::from(r[1] % 4)
                    };
                    let len = (usize::from(r[1]) << 8 | usize::from(r[2])) % (top + 1);
                    spec(seed, key, len)
                })
                .collect();
            let tampered: Vec<usize> = (0..n).filter(|i| (i * 31 + n) % 11 == 0).collect();
            check(b, &specs, &tampered);
        }
    }
}

#[test]
fn every_length_to_1100_in_one_batch() {
    let top = max_len(1100);
    for b in ccm_backends() {
        let specs: Vec<Spec> = (0..=top)
            .map(|len| spec(len as u64 + 77, len % 4, len))
            .collect();
        let tampered: Vec<usize> = (0..=top).filter(|i| i % 97 == 3).collect();
        check(b, &specs, &tampered);
    }
}

#[test]
fn long_messages_and_long_aad() {
    let lens = [4096 * 16 + 5, 70_001, 4096, 4095, 300_000];
    for b in ccm_backends() {
        let mut specs: Vec<Spec> = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| spec(i as u64 + 900, i % 4, len))
            .collect();
        // An AAD past the 2-byte length prefix (0xff00 bytes and more).
        specs[1].aad = bytes(5, 0xff00 + 3);
        specs.extend((0..40).map(|i| spec(i + 3000, (i % 4) as usize, (i as usize * 37) % 300)));
        check(b, &specs, &[0, 3, 17]);
    }
}

#[test]
fn parts_split_at_every_boundary() {
    for b in ccm_backends() {
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100] {
            let mut specs = Vec::new();
            for c1 in 0..=len {
                for c2 in c1..=len {
                    let mut s = spec((len * 10_000 + c1 * 100 + c2) as u64, (c1 + c2) % 4, len);
                    s.cuts = vec![c1, c2];
                    specs.push(s);
                }
            }
            // Every kind of lane neighbour: a long message in the same batch.
            specs.push(spec(1, 0, 5000));
            let tampered: Vec<usize> = (0..specs.len()).filter(|i| i % 13 == 5).collect();
            check(b, &specs, &tampered);
        }
    }
}

#[test]
fn many_parts_and_empty_parts() {
    for b in ccm_backends() {
        let mut specs = Vec::new();
        for len in [0usize, 5, 16, 40, 200, 1000] {
            for step in [1usize, 3, 7, 16, 17] {
                let mut s = spec((len * 31 + step) as u64, len % 4, len);
                // Cuts every `step` bytes, with repeated cuts (empty parts).
                s.cuts = (0..=len).step_by(step).flat_map(|c| [c, c]).collect();
                specs.push(s);
            }
        }
        check(b, &specs, &[2, 9]);
    }
}

#[test]
fn job_and_batch_errors() {
    let k = Key::new(Cipher::Aes128Ccm, &[1; 16]).unwrap();
    let mut m = [0u8; 20];
    let mut p = [&mut m[..]];
    assert!(matches!(
        CipherJob::new(&k, &[0; 12], b"", &mut p),
        Err(Error::NonceLength {
            expected: 11,
            got: 12
        })
    ));
    {
        let mut jobs = [CipherJob::new(&k, &[0; 11], b"", &mut p).unwrap()];
        let mut tags = [[0u8; 16]; 2];
        assert!(matches!(
            batch::seal(&mut jobs, &mut tags),
            Err(Error::BatchLength {
                jobs: 1,
                outputs: 2
            })
        ));
        let mut valid = [false; 1];
        assert!(matches!(
            batch::open(&mut jobs, &tags, &mut valid),
            Err(Error::BatchLength {
                jobs: 1,
                outputs: 2
            })
        ));
    }
    assert_eq!(m, [0; 20], "a refused batch writes nothing");
    // An empty batch.
    assert!(batch::seal(&mut [], &mut []).is_ok());
    assert!(batch::open(&mut [], &[], &mut []).unwrap());
}

#[test]
fn transform_batches_equal_single_messages() {
    for b in ccm_backends() {
        let ekeys: Vec<EncryptionKey> = Cipher::ALL
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let k = Key::with_backend(c, &bytes(i as u64, c.key_len()), b).unwrap();
                EncryptionKey::with_nonces(k, NonceSource::with_fixed(c, [1, 2, 3, 4], 100))
            })
            .collect();
        let n = 67;
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| bytes(i as u64, 64 + (i * 53) % 1500))
            .collect();
        let nonces: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                bytes(
                    500 + i as u64,
                    if i % 5 == 0 {
                        16
                    } else {
                        ekeys[i % 4].cipher().nonce_len()
                    },
                )
            })
            .collect();
        let wire = |m: &[u8]| {
            let mut w = vec![0u8; 52];
            w.extend_from_slice(m);
            w
        };
        // Single-message reference, explicit nonces.
        let expect: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                transform::encrypt_to_vec(ekeys[i % 4].key(), &nonces[i], i as u64, &msgs[i])
                    .unwrap()
            })
            .collect();
        let mut bufs: Vec<Vec<u8>> = msgs.iter().map(|m| wire(m)).collect();
        // Refused jobs among them: no header room, no message, a bad nonce length.
        bufs.push(vec![0; 51]);
        bufs.push(vec![0; 52]);
        bufs.push(wire(&[b'x'; 64]));
        let bad_nonce = [0u8; 13];
        let results = {
            let mut jobs: Vec<EncryptJob<'_>> = bufs
                .iter_mut()
                .enumerate()
                .map(|(i, buf)| EncryptJob {
                    key: &ekeys[i % 4],
                    nonce: Some(if i < n {
                        &nonces[i][..]
                    } else {
                        &bad_nonce[..]
                    }),
                    session_id: i as u64,
                    buf,
                })
                .collect();
            jobs[n].nonce = None;
            jobs[n + 1].nonce = None;
            batch::encrypt_in_place(&mut jobs)
        };
        for i in 0..n {
            assert!(results[i].is_ok(), "{i}");
            assert_eq!(bufs[i], expect[i], "{} job {i}", b.ccm_batch_name());
        }
        assert!(matches!(
            results[n],
            Err(Error::TransformTruncated { len: 51 })
        ));
        assert!(matches!(
            results[n + 1],
            Err(Error::MessageTooShort { min: 64, got: 0 })
        ));
        assert!(matches!(results[n + 2], Err(Error::NonceLength { .. })));
        assert_eq!(bufs[n], vec![0; 51]);
        assert_eq!(bufs[n + 2], wire(&[b'x'; 64]), "refused: nothing written");
        // Refused jobs spent no nonce of their key's source.
        for k in &ekeys {
            assert_eq!(k.nonces().peek(), 100);
        }

        // The key's nonce source: as `EncryptionKey::encrypt_message`, in job order.
        let mut drawn: Vec<Vec<u8>> = msgs[..8].iter().map(|m| wire(m)).collect();
        {
            let mut jobs: Vec<EncryptJob<'_>> = drawn
                .iter_mut()
                .map(|buf| EncryptJob {
                    key: &ekeys[0],
                    nonce: None,
                    session_id: 9,
                    buf,
                })
                .collect();
            assert!(batch::encrypt_in_place(&mut jobs).iter().all(Result::is_ok));
        }
        for (j, w) in drawn.iter().enumerate() {
            let h = transform::TransformHeader::new(w).unwrap();
            assert_eq!(&h.nonce_field()[..8], &(100 + j as u64).to_le_bytes());
            assert_eq!(
                transform::decrypt_to_vec(ekeys[0].key(), w).unwrap(),
                msgs[j]
            );
        }

        // Decrypt the batch back, with tampered and malformed members.
        let mut dec: Vec<Vec<u8>> = expect.clone();
        for i in (0..n).step_by(9) {
            let l = dec[i].len();
            dec[i][l - 1] ^= 4;
        }
        dec.push(vec![0xfd, b'S', b'M', b'B']);
        let mut wrong_size = expect[1].clone();
        wrong_size.push(0);
        dec.push(wrong_size);
        let sent = dec.clone();
        let results = {
            let mut jobs: Vec<DecryptJob<'_>> = dec
                .iter_mut()
                .enumerate()
                .map(|(i, buf)| DecryptJob {
                    key: ekeys[i % 4].key(),
                    buf,
                })
                .collect();
            batch::decrypt_in_place(&mut jobs)
        };
        for i in 0..n {
            if i % 9 == 0 {
                assert!(
                    matches!(results[i], Err(Error::AuthenticationFailed)),
                    "{i}"
                );
                assert_eq!(dec[i], sent[i], "refused, not restored: {i}");
            } else {
                assert!(results[i].is_ok(), "{i}: {:?}", results[i]);
                assert_eq!(&dec[i][52..], &msgs[i][..]);
                assert_eq!(&dec[i][..52], &sent[i][..52], "header kept");
            }
        }
        assert!(matches!(results[n], Err(Error::TransformTruncated { .. })));
        assert!(matches!(
            results[n + 1],
            Err(Error::TransformSizeMismatch { .. })
        ));
        assert_eq!(dec[n + 1], sent[n + 1]);
    }
}
