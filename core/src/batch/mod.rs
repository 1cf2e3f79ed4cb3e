//! Batch signing: many independent messages or PDUs per call, computed
//! together in the SIMD lanes of the backend's lanes kernels.
//!
//! A single CMAC or HMAC message is a chain of dependent AES or SHA-256 steps,
//! so its speed is the instructions' latency. Independent messages fill the
//! pipelines instead, as many chains at once as the kernel the backend picked
//! has lanes ([`crate::BackendInfo`] names it):
//! - AES-CMAC: 8 (AES-NI, ARMv8), 16 (VAES on ymm) or 32 (VAES on zmm);
//! - HMAC-SHA256: two streams (SHA-NI, ARMv8 SHA2), four SHA-NI streams in
//!   AVX-512VL registers, 8 lanes (AVX2, where the CPU has no SHA-NI) or 16
//!   (AVX-512 on zmm);
//! - AES-GMAC: short messages two per VAES+VPCLMULQDQ pass on the avx2 tier,
//!   at the lengths where that beats one-shot; every other GMAC job runs the
//!   one-shot path, at its cost.
//!
//! A lane is refilled as soon as its message ends (the scheduler in
//! `batch/lanes.rs`), and the longest messages start first, so mixed lengths
//! do not wait for the longest.
//!
//! Every job has its own key (jobs may mix algorithms and sessions); every
//! result equals the one-shot result ([`SigningKey::mac`], [`crate::sign_pdu`]).
//! A batch runs on the backend of each algorithm group's first key.
//!
//! ```
//! use smbsign::batch::{self, Job};
//! use smbsign::smb2::{Algorithm, SigningKey};
//!
//! let cmac = SigningKey::new(Algorithm::AesCmac, &[1; 16])?;
//! let gmac = SigningKey::new(Algorithm::AesGmac, &[2; 16])?;
//! let jobs = [
//!     Job::new(&cmac, None, b"first message")?,
//!     Job::new(&gmac, Some(&[7; 12]), b"second message")?,
//! ];
//! let mut tags = [[0u8; 16]; 2];
//! batch::sign(&jobs, &mut tags)?;
//! assert_eq!(tags[0], cmac.mac(None, b"first message")?);
//! let mut ok = [false; 2];
//! assert!(batch::verify(&jobs, &tags, &mut ok)?);
//! # Ok::<(), smbsign::Error>(())
//! ```

mod ccm;
mod cipher;
mod cmac;
mod engine;
mod gmac;
mod hmac;
mod item;
pub(crate) mod lanes;
mod pdu;
mod transform;

pub use cipher::{open, seal, CipherJob};
pub use pdu::{
    sign_pdus, verify_chains_keyed, verify_pdus, verify_pdus_each, KeyedChainJob, PduJob,
};
pub use transform::{decrypt_in_place, encrypt_in_place, DecryptJob, EncryptJob};

use item::Item;

use crate::error::{Error, Result};
use crate::mac::gmac::NONCE_LEN;
use crate::scrub::{self, Bytes};
use crate::smb2::{Algorithm, SigningKey};

/// One message of a batch: a key, the message, and for AES-GMAC its nonce.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    key: &'a SigningKey,
    nonce: [u8; NONCE_LEN],
    msg: &'a [u8],
}

impl<'a> Job<'a> {
    /// A job MACing `msg` with `key`. AES-GMAC requires a nonce
    /// ([`Error::MissingNonce`]); the others refuse one ([`Error::UnexpectedNonce`]).
    pub fn new(
        key: &'a SigningKey,
        nonce: Option<&[u8; NONCE_LEN]>,
        msg: &'a [u8],
    ) -> Result<Job<'a>> {
        let nonce = match (key.algorithm(), nonce) {
            (Algorithm::AesGmac, Some(n)) => *n,
            (Algorithm::AesGmac, None) => return Err(Error::MissingNonce),
            (_, None) => [0; NONCE_LEN],
            (_, Some(_)) => return Err(Error::UnexpectedNonce),
        };
        Ok(Job { key, nonce, msg })
    }

    /// The job's key.
    #[must_use]
    pub fn key(&self) -> &'a SigningKey {
        self.key
    }

    /// The job's message.
    #[must_use]
    pub fn message(&self) -> &'a [u8] {
        self.msg
    }
}

/// The 16-byte tag of every job, `tags[i]` for `jobs[i]`.
/// [`Error::BatchLength`] (and nothing written) unless `tags.len() == jobs.len()`.
pub fn sign(jobs: &[Job<'_>], tags: &mut [[u8; 16]]) -> Result<()> {
    if tags.len() != jobs.len() {
        return Err(Error::BatchLength {
            jobs: jobs.len(),
            outputs: tags.len(),
        });
    }
    scrub::after_sized(|| ((), Bytes::batch(tag_jobs(jobs, tags))));
    Ok(())
}

/// [`sign`]'s computation, without the stack erasure; whether any job went
/// through a lane kernel (not GMAC).
fn tag_jobs(jobs: &[Job<'_>], tags: &mut [[u8; 16]]) -> bool {
    // GMAC jobs straight from `jobs` (no engine items, no index lists: this
    // path must cost no more per job than a one-shot call); the lane kernels'
    // items only when the batch has CMAC or HMAC jobs.
    let others = gmac::compute(
        jobs.iter()
            .map(|j| gmac::Msg::of(j.key, &j.nonce, &[], j.msg)),
        tags,
    );
    if others {
        let items: Vec<Item<'_>> = jobs
            .iter()
            .map(|j| Item {
                key: j.key,
                nonce: j.nonce,
                head: &[],
                body: j.msg,
            })
            .collect();
        engine::compute_lanes(&items, tags);
    }
    others
}

/// Checks every job's tag: `valid[i]` says whether `tags[i]` is the MAC of
/// `jobs[i]` (compared in constant time); returns whether all are.
/// [`Error::BatchLength`] unless `tags` and `valid` have one entry per job.
pub fn verify(jobs: &[Job<'_>], tags: &[[u8; 16]], valid: &mut [bool]) -> Result<bool> {
    for outputs in [tags.len(), valid.len()] {
        if outputs != jobs.len() {
            return Err(Error::BatchLength {
                jobs: jobs.len(),
                outputs,
            });
        }
    }
    let mut computed = vec![[0u8; 16]; jobs.len()];
    let all = scrub::after_sized(|| {
        let lanes = tag_jobs(jobs, &mut computed);
        let mut all = true;
        for ((c, t), v) in computed.iter().zip(tags).zip(valid.iter_mut()) {
            *v = crate::ct::eq(c, t);
            all &= *v;
        }
        (all, Bytes::batch(lanes))
    });
    crate::wipe::wipe(&mut computed);
    Ok(all)
}
