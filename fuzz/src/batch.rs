//! Batch signing and verification against RustCrypto, message by message.
//!
//! Input: a backend selector, a key seed, a tamper selector, then jobs, each
//! an algorithm selector, key index, 12-byte nonce, length (0..=2047) and
//! that many message bytes, until the input runs out (at most 64 jobs).

use smbsign::batch::{self, Job, PduJob};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::{Backend, Error};

use crate::{algorithm, reference, Input};

struct Spec<'a> {
    alg: Algorithm,
    key: [u8; 16],
    nonce: [u8; 12],
    msg: &'a [u8],
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    // Every tier and every multi-buffer kernel variant its CPU has.
    let backends: Vec<Backend> = Backend::available()
        .iter()
        .flat_map(Backend::batch_variants)
        .collect();
    let backend = backends[usize::from(inp.byte()) % backends.len()];
    let seed = inp.array::<16>();
    let tamper = inp.u16();
    let mut specs = Vec::new();
    while specs.len() < 64 {
        let sel = inp.byte();
        let mut key = seed;
        key[0] ^= sel >> 4; // up to 16 distinct keys per algorithm
        let nonce = inp.array::<12>();
        let len = usize::from(inp.u16() % 2048);
        let msg = inp.bytes(len);
        specs.push(Spec {
            alg: algorithm(sel),
            key,
            nonce,
            msg,
        });
        if msg.len() < len {
            break;
        }
    }
    let keys: Vec<SigningKey> = specs
        .iter()
        .map(|s| SigningKey::with_backend(s.alg, &s.key, backend).unwrap())
        .collect();
    let jobs: Vec<Job<'_>> = specs
        .iter()
        .zip(&keys)
        .map(|(s, k)| {
            let n = (s.alg == Algorithm::AesGmac).then_some(&s.nonce);
            let wrong = match n {
                Some(_) => (None, Error::MissingNonce),
                None => (Some(&s.nonce), Error::UnexpectedNonce),
            };
            assert_eq!(Job::new(k, wrong.0, s.msg).err(), Some(wrong.1));
            Job::new(k, n, s.msg).unwrap()
        })
        .collect();
    let expected: Vec<[u8; 16]> = specs
        .iter()
        .map(|s| reference::mac16(s.alg, &s.key, &s.nonce, s.msg))
        .collect();

    // A wrong-length output is refused with nothing written.
    let mut short = vec![[7u8; 16]; jobs.len() - 1];
    assert!(matches!(
        batch::sign(&jobs, &mut short),
        Err(Error::BatchLength { .. })
    ));
    assert!(short.iter().all(|t| *t == [7u8; 16]));

    let mut tags = vec![[0u8; 16]; jobs.len()];
    batch::sign(&jobs, &mut tags).unwrap();
    assert_eq!(tags, expected);
    let mut valid = vec![false; jobs.len()];
    assert_eq!(batch::verify(&jobs, &tags, &mut valid), Ok(true));
    assert!(valid.iter().all(|&v| v));
    let bad = usize::from(tamper) % jobs.len();
    tags[bad][usize::from(tamper >> 8) % 16] ^= 1 << (tamper >> 13);
    assert_eq!(batch::verify(&jobs, &tags, &mut valid), Ok(false));
    for (i, v) in valid.iter().enumerate() {
        assert_eq!(*v, i != bad);
    }

    // The messages as PDUs (those long enough), signed together and one by one.
    let mut pdu_jobs: Vec<PduJob<'_, Vec<u8>>> = specs
        .iter()
        .zip(&keys)
        .filter(|(s, _)| s.msg.len() >= smb2::HEADER_LEN)
        .map(|(s, k)| {
            let mut pdu = s.msg.to_vec();
            pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
            pdu[20..24].fill(0);
            PduJob { key: k, pdu }
        })
        .collect();
    let one_by_one: Vec<Vec<u8>> = pdu_jobs
        .iter()
        .map(|j| {
            let mut p = j.pdu.clone();
            smb2::sign_pdu(j.key, &mut p).unwrap();
            p
        })
        .collect();
    assert!(batch::sign_pdus(&mut pdu_jobs).iter().all(Result::is_ok));
    for (j, p) in pdu_jobs.iter().zip(&one_by_one) {
        assert_eq!(&j.pdu, p);
    }
    assert!(batch::verify_pdus(&pdu_jobs).iter().all(Result::is_ok));
}
