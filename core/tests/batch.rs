//! Proves batch signing: every batch result equals the one-shot result (and
//! the portable tier's), on random batches of 1..=64 jobs with mixed lengths
//! (0..=64 KiB, unaligned), mixed keys and mixed algorithms, on every backend
//! and every multi-buffer kernel the CPU has (`Backend::batch_variants`);
//! every length 0..=1100 in one batch; PDU lists equal `sign_pdu` per chain,
//! with malformed chains reported and untouched; verification flags exactly
//! the corrupted jobs; output slices of the wrong length are refused.

mod common;

use common::{backends, batch_backends, bytes, cases, max_len};
use proptest::prelude::*;
use smbsign::batch::{self, Job, PduJob};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::{Backend, Error};

const ALGS: [Algorithm; 3] = [
    Algorithm::HmacSha256,
    Algorithm::AesCmac,
    Algorithm::AesGmac,
];

/// A job description: algorithm, which of the batch's keys, length, data seed, offset.
#[derive(Clone, Debug)]
struct Spec {
    alg: usize,
    key: usize,
    len: usize,
    seed: u64,
    off: usize,
}

fn spec() -> impl Strategy<Value = Spec> {
    let big = max_len(64 * 1024);
    (
        0..3usize,
        0..4usize,
        prop_oneof![0..=96usize, 0..=1100usize, 0..=big],
        any::<u64>(),
        0..16usize,
    )
        .prop_map(|(alg, key, len, seed, off)| Spec {
            alg,
            key,
            len,
            seed,
            off,
        })
}

/// Keys `[alg][k]` on `backend`, from `seed`.
fn keys(backend: Backend, seed: u64) -> Vec<Vec<SigningKey>> {
    ALGS.iter()
        .enumerate()
        .map(|(a, &alg)| {
            (0..4)
                .map(|k| {
                    let raw = bytes(seed ^ (a as u64 * 16 + k), 16);
                    SigningKey::with_backend(alg, &raw, backend).unwrap()
                })
                .collect()
        })
        .collect()
}

fn nonce_of(s: &Spec) -> Option<[u8; 12]> {
    (ALGS[s.alg] == Algorithm::AesGmac).then(|| bytes(s.seed ^ 0x55, 12).try_into().unwrap())
}

/// Signs `specs` as one batch on `backend` and checks every tag against the
/// one-shot API on that backend and on the portable one; then verification.
fn check_batch(backend: Backend, key_seed: u64, specs: &[Spec]) {
    let ks = keys(backend, key_seed);
    let portable = keys(Backend::portable(), key_seed);
    let bufs: Vec<Vec<u8>> = specs.iter().map(|s| bytes(s.seed, s.len + s.off)).collect();
    let nonces: Vec<Option<[u8; 12]>> = specs.iter().map(nonce_of).collect();
    let jobs: Vec<Job<'_>> = specs
        .iter()
        .zip(&bufs)
        .zip(&nonces)
        .map(|((s, b), n)| Job::new(&ks[s.alg][s.key], n.as_ref(), &b[s.off..]).unwrap())
        .collect();
    let mut tags = vec![[0u8; 16]; jobs.len()];
    batch::sign(&jobs, &mut tags).unwrap();
    for (i, s) in specs.iter().enumerate() {
        let msg = &bufs[i][s.off..];
        let n = nonces[i].as_ref();
        let one_shot = ks[s.alg][s.key].mac(n, msg).unwrap();
        assert_eq!(
            tags[i],
            one_shot,
            "{:?} {} {} job {i} {s:?}",
            backend.tier(),
            backend.aes_batch_name(),
            backend.sha256_batch_name()
        );
        assert_eq!(tags[i], portable[s.alg][s.key].mac(n, msg).unwrap());
    }
    let mut valid = vec![false; jobs.len()];
    assert!(batch::verify(&jobs, &tags, &mut valid).unwrap());
    assert!(valid.iter().all(|&v| v));
    // Corrupt one tag: exactly that job fails.
    let victim = (key_seed as usize) % jobs.len();
    tags[victim][(key_seed as usize / 7) % 16] ^= 1 << (key_seed % 8);
    assert!(!batch::verify(&jobs, &tags, &mut valid).unwrap());
    for (i, &v) in valid.iter().enumerate() {
        assert_eq!(v, i != victim, "job {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(48)))]

    #[test]
    fn random_batches_equal_one_shot_on_every_backend(
        key_seed in any::<u64>(),
        specs in proptest::collection::vec(spec(), 1..=64),
    ) {
        for b in batch_backends() {
            check_batch(b, key_seed, &specs);
        }
    }
}

#[test]
fn every_length_to_1100_in_one_batch() {
    let specs: Vec<Spec> = (0..=1100usize)
        .map(|len| Spec {
            alg: len % 3,
            key: len % 4,
            len,
            seed: len as u64,
            off: len % 16,
        })
        .collect();
    for b in batch_backends() {
        check_batch(b, 99, &specs);
    }
}

#[test]
fn gmac_every_length_to_1100_in_one_batch() {
    // Paired short-message kernel or one-shot, whichever the batch picks per length.
    let specs: Vec<Spec> = (0..=1100usize)
        .map(|len| Spec {
            alg: ALGS.iter().position(|&a| a == Algorithm::AesGmac).unwrap(),
            key: len % 4,
            len,
            seed: len as u64,
            off: len % 16,
        })
        .collect();
    for b in backends() {
        check_batch(b, 77, &specs);
    }
}

#[test]
fn equal_lengths_fill_every_lane() {
    // Batches of one algorithm and one length: every lane busy, refilled in step.
    for b in batch_backends() {
        for alg in 0..3 {
            for (n, len) in [
                (1, 0),
                (7, 16),
                (16, 64),
                (17, 64),
                (33, 256),
                (33, 2048),
                (64, 4096),
            ] {
                let specs: Vec<Spec> = (0..n)
                    .map(|i| Spec {
                        alg,
                        key: i % 4,
                        len,
                        seed: (i * 31 + len) as u64,
                        off: 0,
                    })
                    .collect();
                check_batch(b, (alg * 1000 + n) as u64, &specs);
            }
        }
    }
}

/// A PDU list: chains of 1..=4 PDUs with mixed body lengths, message ids and roles.
fn chains(seed: u64, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|c| {
            let s = seed.wrapping_add(c as u64 * 7919);
            let n = 1 + (s % 4) as usize;
            let mut buf = Vec::new();
            for i in 0..n {
                let body = ((s >> (8 * i)) % 700) as usize;
                let mut p = bytes(s ^ i as u64, 64 + body);
                p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
                p[12..14].copy_from_slice(&[8, 0, 0x0C, 0][(i % 2) * 2..][..2]);
                p[16..20].copy_from_slice(&((s as u32 >> i) & 1).to_le_bytes());
                p[20..24].fill(0);
                if i + 1 < n {
                    p.resize(p.len().div_ceil(8) * 8, 0);
                    let next = p.len() as u32;
                    p[20..24].copy_from_slice(&next.to_le_bytes());
                }
                buf.extend_from_slice(&p);
            }
            buf
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(48)))]

    #[test]
    fn pdu_lists_equal_sign_pdu_per_chain(
        seed in any::<u64>(),
        count in 1usize..=40,
        picks in proptest::collection::vec((0..3usize, 0..4usize), 40),
        broken in proptest::option::of(0usize..40),
    ) {
        for b in batch_backends() {
            let ks = keys(b, seed);
            let originals = chains(seed, count);
            let mut bufs = originals.clone();
            let broken = broken.filter(|&i| i < count);
            if let Some(i) = broken {
                bufs[i][0] = 0; // not an SMB2 PDU
            }
            let key_of = |i: usize| &ks[picks[i].0][picks[i].1];
            let mut jobs: Vec<PduJob<'_, &mut [u8]>> = bufs
                .iter_mut()
                .enumerate()
                .map(|(i, p)| PduJob { key: key_of(i), pdu: p.as_mut_slice() })
                .collect();
            let results = batch::sign_pdus(&mut jobs);
            drop(jobs);
            for i in 0..count {
                if Some(i) == broken {
                    prop_assert_eq!(results[i], Err(Error::BadProtocolId { offset: 0 }));
                    let mut untouched = originals[i].clone();
                    untouched[0] = 0;
                    prop_assert_eq!(&bufs[i], &untouched);
                    continue;
                }
                prop_assert_eq!(results[i], Ok(()));
                let mut one = originals[i].clone();
                smb2::sign_pdu(key_of(i), &mut one).unwrap();
                prop_assert_eq!(&bufs[i], &one);
            }
            // Verification: all good, then one corrupted byte and one unsigned PDU.
            let vjobs: Vec<PduJob<'_, &[u8]>> = bufs
                .iter()
                .enumerate()
                .map(|(i, p)| PduJob { key: key_of(i), pdu: p.as_slice() })
                .collect();
            for (i, r) in batch::verify_pdus(&vjobs).into_iter().enumerate() {
                prop_assert_eq!(r, if Some(i) == broken { Err(Error::BadProtocolId { offset: 0 }) } else { Ok(()) });
            }
            let victim = (seed as usize) % count;
            if Some(victim) != broken {
                let mut tampered = bufs.clone();
                let at = tampered[victim].len() - 1;
                tampered[victim][at] ^= 0x80;
                let mut unsigned = bufs.clone();
                unsigned[victim][16] &= !(smb2::FLAGS_SIGNED as u8);
                for (bad, want) in [
                    (&tampered, smb2::verify_pdu(key_of(victim), &tampered[victim]).unwrap_err()),
                    (&unsigned, Error::NotSigned { offset: 0 }),
                ] {
                    let vjobs: Vec<PduJob<'_, &[u8]>> = bad
                        .iter()
                        .enumerate()
                        .map(|(i, p)| PduJob { key: key_of(i), pdu: p.as_slice() })
                        .collect();
                    let res = batch::verify_pdus(&vjobs);
                    prop_assert_eq!(res[victim], Err(want));
                    let expected_kind = matches!(want, Error::BadSignature { .. } | Error::NotSigned { .. });
                    prop_assert!(expected_kind, "unexpected error {:?}", want);
                    for (i, r) in res.iter().enumerate() {
                        if i != victim && Some(i) != broken {
                            prop_assert_eq!(*r, Ok(()));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn wrong_output_lengths_and_nonce_rules_are_refused() {
    let cmac = SigningKey::new(Algorithm::AesCmac, &[1; 16]).unwrap();
    let gmac = SigningKey::new(Algorithm::AesGmac, &[2; 16]).unwrap();
    assert_eq!(
        Job::new(&gmac, None, b"x").unwrap_err(),
        Error::MissingNonce
    );
    assert_eq!(
        Job::new(&cmac, Some(&[0; 12]), b"x").unwrap_err(),
        Error::UnexpectedNonce
    );
    let jobs = [Job::new(&cmac, None, b"abc").unwrap(); 3];
    let mut tags = [[7u8; 16]; 2];
    assert_eq!(
        batch::sign(&jobs, &mut tags),
        Err(Error::BatchLength {
            jobs: 3,
            outputs: 2
        })
    );
    assert_eq!(tags, [[7u8; 16]; 2]);
    let mut valid = [false; 3];
    assert_eq!(
        batch::verify(&jobs, &[[0; 16]; 3], &mut valid[..1]),
        Err(Error::BatchLength {
            jobs: 3,
            outputs: 1
        })
    );
    // Empty batches are fine.
    assert_eq!(batch::sign(&[], &mut []), Ok(()));
    assert!(batch::sign_pdus::<&mut [u8]>(&mut []).is_empty());
}
