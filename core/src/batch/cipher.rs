//! Batches of SMB3 cipher messages: many messages sealed or opened in one
//! call, each under its own key, nonce and AAD, in place over its parts.
//!
//! AES-CCM messages run through the CCM lanes kernels (`batch/ccm.rs`):
//! one CCM message is a CBC-MAC chain at the AES latency bound, many fill
//! the pipeline. AES-GCM messages go one by one through the single-message
//! path, already throughput-bound; the API is the same for both. Every
//! result equals the single-message one ([`Key::seal_in_place`],
//! [`Key::open_in_place`]).
//!
//! ```
//! use smbsign::batch::{self, CipherJob};
//! use smbsign::cipher::{Cipher, Key};
//!
//! let ccm = Key::new(Cipher::Aes128Ccm, &[1; 16])?;
//! let gcm = Key::new(Cipher::Aes256Gcm, &[2; 32])?;
//! let (mut a, mut b) = (*b"first message", *b"second message");
//! let mut pa = [&mut a[..]];
//! let mut pb = [&mut b[..]];
//! let mut jobs = [
//!     CipherJob::new(&ccm, &[3; 11], b"aad", &mut pa)?,
//!     CipherJob::new(&gcm, &[4; 12], b"aad", &mut pb)?,
//! ];
//! let mut tags = [[0u8; 16]; 2];
//! batch::seal(&mut jobs, &mut tags)?;
//! let mut ok = [false; 2];
//! assert!(batch::open(&mut jobs, &tags, &mut ok)?);
//! drop(jobs);
//! assert_eq!(&a, b"first message");
//! # Ok::<(), smbsign::Error>(())
//! ```

use super::ccm::{self, Msg};
use crate::cipher::{Key, TAG_LEN};
use crate::error::{Error, Result};
use crate::scrub::{self, Bytes};

/// One message of a cipher batch: a key, its nonce and AAD, and the message
/// in one part or several, encrypted or decrypted in place.
#[derive(Debug)]
pub struct CipherJob<'s, 'b> {
    key: &'s Key,
    nonce: &'s [u8],
    aad: &'s [u8],
    parts: &'s mut [&'b mut [u8]],
}

impl<'s, 'b> CipherJob<'s, 'b> {
    /// A job for `key` with `nonce` ([`crate::cipher::Cipher::nonce_len`]
    /// bytes), `aad` and the message in `parts`; the checks of
    /// [`Key::seal_in_place`] ([`Error::NonceLength`],
    /// [`Error::MessageLength`], [`Error::AadLength`]) are made here.
    pub fn new(
        key: &'s Key,
        nonce: &'s [u8],
        aad: &'s [u8],
        parts: &'s mut [&'b mut [u8]],
    ) -> Result<CipherJob<'s, 'b>> {
        key.check(nonce, aad, parts)?;
        Ok(CipherJob {
            key,
            nonce,
            aad,
            parts,
        })
    }

    /// The job's key.
    #[must_use]
    pub fn key(&self) -> &'s Key {
        self.key
    }
}

fn check_len(jobs: usize, outputs: usize) -> Result<()> {
    if jobs == outputs {
        Ok(())
    } else {
        Err(Error::BatchLength { jobs, outputs })
    }
}

/// The CCM jobs as the lanes pass takes them, with their indices.
fn ccm_msgs<'a, 's, 'b>(jobs: &'a mut [CipherJob<'s, 'b>]) -> (Vec<usize>, Vec<Msg<'a, 'b>>) {
    let mut idx = Vec::new();
    let mut msgs = Vec::new();
    for (i, j) in jobs.iter_mut().enumerate() {
        if !j.key.is_gcm() {
            idx.push(i);
            msgs.push(Msg {
                backend: j.key.backend(),
                key: j.key.aes(),
                nonce: j.nonce,
                aad: j.aad,
                parts: &mut *j.parts,
            });
        }
    }
    (idx, msgs)
}

/// Encrypts every job's message in place and writes its tag, `tags[i]` for
/// `jobs[i]`; [`Error::BatchLength`] (and nothing written) unless
/// `tags.len() == jobs.len()`.
pub fn seal(jobs: &mut [CipherJob<'_, '_>], tags: &mut [[u8; TAG_LEN]]) -> Result<()> {
    check_len(jobs.len(), tags.len())?;
    scrub::after(Bytes::CIPHER_BATCH, || seal_jobs(jobs, tags));
    Ok(())
}

/// [`seal`]'s computation, without the stack erasure.
fn seal_jobs(jobs: &mut [CipherJob<'_, '_>], tags: &mut [[u8; TAG_LEN]]) {
    for (j, t) in jobs.iter_mut().zip(tags.iter_mut()) {
        if j.key.is_gcm() {
            *t = j
                .key
                .seal_in_place(j.nonce, j.aad, j.parts)
                .expect("checked in CipherJob::new");
        }
    }
    let (idx, mut msgs) = ccm_msgs(jobs);
    if msgs.is_empty() {
        return;
    }
    let mut out = vec![[0u8; TAG_LEN]; msgs.len()];
    ccm::seal(&mut msgs, &mut out);
    for (&i, t) in idx.iter().zip(&out) {
        tags[i] = *t;
    }
    crate::wipe::wipe(&mut out);
}

/// Verifies every job's tag (`tags[i]` for `jobs[i]`) and decrypts its
/// message in place: `valid[i]` says whether it matched; returns whether all
/// did. A job whose tag does not match holds its ciphertext again when the
/// call returns (as [`Key::open_in_place`]: CCM decrypts to check and
/// encrypts back, so during the call its buffer holds unverified
/// plaintext); the others are unaffected. [`Error::BatchLength`] (nothing
/// written) unless `tags` and `valid` have one entry per job.
pub fn open(
    jobs: &mut [CipherJob<'_, '_>],
    tags: &[[u8; TAG_LEN]],
    valid: &mut [bool],
) -> Result<bool> {
    check_len(jobs.len(), tags.len())?;
    check_len(jobs.len(), valid.len())?;
    scrub::after(Bytes::CIPHER_BATCH, || open_jobs(jobs, tags, valid));
    Ok(valid.iter().all(|&v| v))
}

/// [`open`]'s computation, without the stack erasure.
fn open_jobs(jobs: &mut [CipherJob<'_, '_>], tags: &[[u8; TAG_LEN]], valid: &mut [bool]) {
    for ((j, t), v) in jobs.iter_mut().zip(tags).zip(valid.iter_mut()) {
        if j.key.is_gcm() {
            // The arguments were checked in `CipherJob::new`: only the tag can fail.
            *v = j.key.open_in_place(j.nonce, j.aad, j.parts, t).is_ok();
        }
    }
    let (idx, mut msgs) = ccm_msgs(jobs);
    if msgs.is_empty() {
        return;
    }
    let ccm_tags: Vec<[u8; TAG_LEN]> = idx.iter().map(|&i| tags[i]).collect();
    let mut ok = vec![false; msgs.len()];
    ccm::open(&mut msgs, &ccm_tags, &mut ok);
    for (&i, &o) in idx.iter().zip(&ok) {
        valid[i] = o;
    }
}
