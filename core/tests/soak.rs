//! Concurrency soak: many threads sign and verify at once for a bounded time,
//! with keys shared by every thread and keys each thread makes (and drops) on
//! every backend this CPU has, all three algorithms, and every API shape:
//! one-shot, vectored, verify (good and tampered tags), PDU sign/verify and
//! the batch calls. Every result is checked against a value the portable
//! backend computed before the threads started.
//!
//! `SMBSIGN_SOAK_SECONDS` (default 2) and `SMBSIGN_SOAK_THREADS` (default 16)
//! size it; `tests/sanitizers/run.sh` runs it longer under AddressSanitizer
//! and ThreadSanitizer. It prints the operation count and duration.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use smbsign::batch::{self, Job, PduJob};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::Backend;

/// One message and what the portable backend says about it.
struct Case {
    alg: Algorithm,
    key: [u8; 16],
    nonce: Option<[u8; 12]>,
    msg: Vec<u8>,
    tag: [u8; 16],
    pdu: Vec<u8>,
    signed_pdu: Vec<u8>,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cases() -> Vec<Case> {
    (0..48u64)
        .map(|i| {
            let alg = Algorithm::ALL[i as usize % 3];
            let key: [u8; 16] = common::bytes(i * 7 + 1, 16).try_into().unwrap();
            let nonce = (alg == Algorithm::AesGmac)
                .then(|| common::bytes(i * 7 + 2, 12).try_into().unwrap());
            // Lengths from empty to a few KiB, unaligned.
            let len = [0, 1, 15, 16, 17, 63, 64, 65, 255, 1000, 1500, 4099][i as usize % 12]
                + (i as usize / 12) * 33;
            let msg = common::bytes(i * 7 + 3, len);
            let portable = SigningKey::with_backend(alg, &key, Backend::portable()).unwrap();
            let tag = portable.mac(nonce.as_ref(), &msg).unwrap();
            let mut pdu = common::bytes(i * 7 + 4, 64 + len);
            pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
            pdu[20..24].fill(0);
            let mut signed_pdu = pdu.clone();
            smb2::sign_pdu(&portable, &mut signed_pdu).unwrap();
            Case {
                alg,
                key,
                nonce,
                msg,
                tag,
                pdu,
                signed_pdu,
            }
        })
        .collect()
}

/// Operations one thread ran, by kind.
#[derive(Default, Clone, Copy)]
struct Counts {
    one_shot: u64,
    vectored: u64,
    verify: u64,
    pdu: u64,
    batch: u64,
    keys_made: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.one_shot += o.one_shot;
        self.vectored += o.vectored;
        self.verify += o.verify;
        self.pdu += o.pdu;
        self.batch += o.batch;
        self.keys_made += o.keys_made;
    }

    fn total(&self) -> u64 {
        self.one_shot + self.vectored + self.verify + self.pdu + self.batch + self.keys_made
    }
}

fn worker(t: usize, cases: &[Case], shared: &[SigningKey], stop: &AtomicBool) -> Counts {
    let backends = Backend::available();
    let mut n = Counts::default();
    let mut own: Vec<SigningKey> = Vec::new();
    let mut round = t;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        // Every few rounds, fresh per-thread keys on the next backend.
        if round.is_multiple_of(4) || own.is_empty() {
            let b = backends[round % backends.len()];
            own = cases
                .iter()
                .map(|c| SigningKey::with_backend(c.alg, &c.key, b).unwrap())
                .collect();
            n.keys_made += own.len() as u64;
        }
        let keys = if round.is_multiple_of(2) {
            shared
        } else {
            &own[..]
        };
        for (i, (c, k)) in cases.iter().zip(keys).enumerate() {
            let nonce = c.nonce.as_ref();
            match (i + round) % 5 {
                0 => {
                    assert_eq!(k.mac(nonce, &c.msg).unwrap(), c.tag, "case {i}");
                    n.one_shot += 1;
                }
                1 => {
                    let cut = (round * 31) % (c.msg.len() + 1);
                    let parts = [&c.msg[..cut], &c.msg[cut..]];
                    assert_eq!(k.mac_vectored(nonce, &parts).unwrap(), c.tag, "case {i}");
                    n.vectored += 1;
                }
                2 => {
                    assert!(k.verify(nonce, &c.msg, &c.tag).is_ok(), "case {i}");
                    let mut bad = c.tag;
                    bad[round % 16] ^= 1 << (round % 8);
                    assert!(k.verify(nonce, &c.msg, &bad).is_err(), "case {i}");
                    n.verify += 2;
                }
                3 => {
                    let mut p = c.pdu.clone();
                    smb2::sign_pdu(k, &mut p).unwrap();
                    assert_eq!(p, c.signed_pdu, "case {i}");
                    assert!(smb2::verify_pdu(k, &p).is_ok(), "case {i}");
                    n.pdu += 2;
                }
                _ => {
                    // Everyone reads the same signed PDU, split across segments.
                    let cut = (round * 17) % c.signed_pdu.len();
                    let segs = [&c.signed_pdu[..cut], &c.signed_pdu[cut..]];
                    assert!(smb2::verify_pdu_vectored(k, &segs).is_ok(), "case {i}");
                    n.pdu += 1;
                }
            }
        }
        // Batches over a window of the cases (mixed algorithms and lengths).
        let start = round % cases.len();
        let window: Vec<usize> = (0..16).map(|j| (start + j) % cases.len()).collect();
        let jobs: Vec<Job<'_>> = window
            .iter()
            .map(|&i| Job::new(&keys[i], cases[i].nonce.as_ref(), &cases[i].msg).unwrap())
            .collect();
        let mut tags = vec![[0u8; 16]; jobs.len()];
        batch::sign(&jobs, &mut tags).unwrap();
        for (&i, t) in window.iter().zip(&tags) {
            assert_eq!(*t, cases[i].tag, "batch case {i}");
        }
        let mut valid = vec![false; jobs.len()];
        assert!(batch::verify(&jobs, &tags, &mut valid).unwrap());
        let mut pdus: Vec<PduJob<'_, Vec<u8>>> = window
            .iter()
            .map(|&i| PduJob {
                key: &keys[i],
                pdu: cases[i].pdu.clone(),
            })
            .collect();
        assert!(batch::sign_pdus(&mut pdus).iter().all(Result::is_ok));
        for (&i, p) in window.iter().zip(&pdus) {
            assert_eq!(p.pdu, cases[i].signed_pdu, "PDU batch case {i}");
        }
        assert!(batch::verify_pdus(&pdus).iter().all(Result::is_ok));
        n.batch += 4;
    }
    n
}

#[test]
fn threads_sharing_and_owning_keys_agree_with_portable() {
    let secs = env("SMBSIGN_SOAK_SECONDS", 2);
    let threads = env("SMBSIGN_SOAK_THREADS", 16) as usize;
    let cases = cases();
    let shared: Vec<SigningKey> = cases
        .iter()
        .map(|c| SigningKey::new(c.alg, &c.key).unwrap())
        .collect();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut total = Counts::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (cases, shared, stop) = (&cases, &shared, &stop);
                s.spawn(move || worker(t, cases, shared, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            total.add(h.join().expect("a soak thread failed"));
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    assert!(total.total() > 0);
    eprintln!(
        "soak: {} operations in {elapsed:.1}s on {threads} threads ({} one-shot, {} vectored, \
         {} verify, {} PDU, {} batch calls, {} keys made); every result checked",
        total.total(),
        total.one_shot,
        total.vectored,
        total.verify,
        total.pdu,
        total.batch,
        total.keys_made
    );
}
