//! Batch signing: arrays of jobs, each with its own key, computed together in
//! the multi-buffer kernels. Every job gets its own status; the call returns
//! SMBSIGN_OK when every job succeeded, else the first failing job's status.
//!
//! Status rule: once the job array itself is usable (non-NULL, sane count),
//! every job's `status` is written on every path. It is first set to
//! SMBSIGN_ERR_INTERNAL, so that no early return (or caught panic) can leave a
//! caller's stale or zero-initialised SMBSIGN_OK in place.

use smbsign::batch::{self, DecryptJob, EncryptJob, Job, PduJob};

use crate::args::*;
use crate::error::*;
use crate::smb2::{key_ref, smbsign_key};
use crate::transform::{cipher_key_ref, nonce_arg, smbsign_cipher_key, SMBSIGN_NONCE_FIELD_LEN};

/// One message of `smbsign_sign_batch` / `smbsign_verify_batch`.
#[repr(C)]
pub struct smbsign_job {
    /// The key (any algorithm; jobs may mix algorithms and keys).
    pub key: *const smbsign_key,
    /// 12-byte nonce for AES-GMAC; NULL for the others.
    pub nonce: *const u8,
    /// The message.
    pub msg: *const u8,
    /// Its length in bytes.
    pub len: usize,
    /// Out (sign): the 16-byte MAC. In (verify): the tag to check.
    pub tag: [u8; 16],
    /// Out: this job's result (an `smbsign_status_code` value; never read).
    pub status: smbsign_status,
}

/// One PDU or compound chain of `smbsign_sign_pdu_batch` / `smbsign_verify_pdu_batch`.
#[repr(C)]
pub struct smbsign_pdu_job {
    /// The session's key.
    pub key: *const smbsign_key,
    /// The PDU or chain (written in place when signing).
    pub pdu: *mut u8,
    /// Its length in bytes.
    pub len: usize,
    /// Out: this job's result (an `smbsign_status_code` value; never read).
    pub status: smbsign_status,
}

/// One transform message of `smbsign_encrypt_batch` / `smbsign_decrypt_batch`,
/// laid out as `smbsign_encrypt` / `smbsign_decrypt` take it.
#[repr(C)]
pub struct smbsign_cipher_job {
    /// The session's cipher key (jobs may mix keys and ciphers).
    pub key: *const smbsign_cipher_key,
    /// Encrypt: NULL and 0 for the key's nonce source, or an explicit nonce
    /// (11 CCM, 12 GCM, or the whole 16-byte field), as `smbsign_encrypt`.
    /// Decrypt: not read.
    pub nonce: *const u8,
    /// Length of `nonce`.
    pub nonce_len: usize,
    /// Encrypt: the SessionId the header carries. Decrypt: not read.
    pub session_id: u64,
    /// Encrypt: 52 bytes of header room, then the message. Decrypt: the whole
    /// transform message. Written in place.
    pub buf: *mut u8,
    /// Its length in bytes.
    pub len: usize,
    /// Out: this job's result (an `smbsign_status_code` value; never read).
    pub status: smbsign_status,
}

/// The job array from C.
///
/// # Safety
/// `jobs` NULL with `count` 0, or valid for reads and writes of `count` jobs.
unsafe fn job_slice<'a, T>(jobs: *mut T, count: usize) -> Result<&'a mut [T], smbsign_status_code> {
    if count == 0 {
        return Ok(&mut []);
    }
    if jobs.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    if count > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, size bounded; validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(jobs, count) })
}

/// A job array whose every status has been set to INTERNAL (see the module doc).
trait Statuses {
    fn status_mut(&mut self) -> &mut smbsign_status;
}
impl Statuses for smbsign_job {
    fn status_mut(&mut self) -> &mut smbsign_status {
        &mut self.status
    }
}
impl Statuses for smbsign_pdu_job {
    fn status_mut(&mut self) -> &mut smbsign_status {
        &mut self.status
    }
}
impl Statuses for smbsign_cipher_job {
    fn status_mut(&mut self) -> &mut smbsign_status {
        &mut self.status
    }
}

/// The job array from C with every status preset to INTERNAL.
///
/// # Safety
/// As [`job_slice`].
unsafe fn jobs_preset<'a, T: Statuses>(
    jobs: *mut T,
    count: usize,
) -> Result<&'a mut [T], smbsign_status_code> {
    // SAFETY: the caller's contract, passed on.
    let jobs = unsafe { job_slice(jobs, count)? };
    for j in jobs.iter_mut() {
        *j.status_mut() = SMBSIGN_ERR_INTERNAL.int();
    }
    Ok(jobs)
}

/// The first failing status, or OK. Statuses here were all written by this
/// library, but the check is a checked conversion anyway.
fn overall<T: Statuses>(jobs: &mut [T]) -> Result<(), smbsign_status_code> {
    match jobs
        .iter_mut()
        .map(|j| *j.status_mut())
        .find(|&s| s != SMBSIGN_OK.int())
    {
        Some(s) => Err(smbsign_status_code::from_int(s).unwrap_or(SMBSIGN_ERR_INTERNAL)),
        None => Ok(()),
    }
}

/// Checks each job's arguments; the valid ones as core jobs with their indices.
///
/// # Safety
/// Each job's pointers as `smbsign_mac` requires.
unsafe fn core_jobs<'a>(jobs: &mut [smbsign_job]) -> (Vec<usize>, Vec<Job<'a>>) {
    let mut idx = Vec::with_capacity(jobs.len());
    let mut out = Vec::with_capacity(jobs.len());
    for (i, j) in jobs.iter_mut().enumerate() {
        // SAFETY (all three): the caller's contract for each job.
        let made = unsafe { key_ref(j.key) }.and_then(|k| {
            let n = unsafe { nonce_ref(j.nonce)? };
            let m = unsafe { bytes(j.msg, j.len)? };
            Ok(Job::new(k, n, m)?)
        });
        match made {
            Ok(job) => {
                idx.push(i);
                out.push(job);
            }
            Err(s) => j.status = s.int(),
        }
    }
    (idx, out)
}

/// Computes the 16-byte MAC of every job into its `tag`, computed together in
/// the multi-buffer kernels. Per job: OK, or NULL_POINTER, INVALID_ARGUMENT,
/// MISSING_NONCE or UNEXPECTED_NONCE (its tag untouched). Returns OK when every
/// job succeeded, else the first failing job's status; NULL_POINTER (nothing
/// written) for NULL `jobs` with a non-zero count.
///
/// # Safety
/// `jobs` valid for `count` jobs, each with pointers as `smbsign_mac` requires.
#[no_mangle]
pub unsafe extern "C" fn smbsign_sign_batch(
    jobs: *mut smbsign_job,
    count: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let jobs = unsafe { jobs_preset(jobs, count)? };
        // SAFETY: caller contract for each job.
        let (idx, core) = unsafe { core_jobs(jobs) };
        let mut tags = vec![[0u8; 16]; core.len()];
        let done = batch::sign(&core, &mut tags).map_err(smbsign_status_code::from);
        for (&i, t) in idx.iter().zip(&tags) {
            match done {
                Ok(()) => {
                    jobs[i].tag = *t;
                    jobs[i].status = SMBSIGN_OK.int();
                }
                Err(s) => jobs[i].status = s.int(),
            }
        }
        overall(jobs)
    })
}

/// Checks every job's `tag` (compared in constant time). Per job: OK,
/// BAD_SIGNATURE, or an argument error as `smbsign_sign_batch`. Returns OK
/// when every job verified, else the first failing job's status.
///
/// # Safety
/// As `smbsign_sign_batch`.
#[no_mangle]
pub unsafe extern "C" fn smbsign_verify_batch(
    jobs: *mut smbsign_job,
    count: usize,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let jobs = unsafe { jobs_preset(jobs, count)? };
        // SAFETY: caller contract for each job.
        let (idx, core) = unsafe { core_jobs(jobs) };
        let tags: Vec<[u8; 16]> = idx.iter().map(|&i| jobs[i].tag).collect();
        let mut valid = vec![false; core.len()];
        let done = batch::verify(&core, &tags, &mut valid).map_err(smbsign_status_code::from);
        for (&i, &v) in idx.iter().zip(&valid) {
            jobs[i].status = match done {
                Ok(_) if v => SMBSIGN_OK.int(),
                Ok(_) => SMBSIGN_ERR_BAD_SIGNATURE.int(),
                Err(s) => s.int(),
            };
        }
        overall(jobs)
    })
}

/// Whether each job's buffer overlaps another job's buffer. Only jobs that
/// would otherwise become slices count (a key, a non-NULL buffer of a valid
/// non-zero length): a job refused for its own reason aliases nothing, and
/// must not get an innocent neighbour refused.
fn overlapping(jobs: &[smbsign_pdu_job]) -> Vec<bool> {
    overlapping_buffers(jobs.iter().map(|j| (j.key.is_null(), j.pdu, j.len)))
}

/// [`overlapping`] over `(key is NULL, buffer, length)` of each job.
fn overlapping_buffers(jobs: impl ExactSizeIterator<Item = (bool, *mut u8, usize)>) -> Vec<bool> {
    let n = jobs.len();
    let mut ranges: Vec<(usize, usize, usize)> = jobs
        .enumerate()
        .filter(|(_, (no_key, buf, len))| {
            !no_key && !buf.is_null() && *len > 0 && *len <= isize::MAX as usize
        })
        .map(|(i, (_, buf, len))| (buf as usize, (buf as usize).saturating_add(len), i))
        .collect();
    ranges.sort_unstable();
    let mut hit = vec![false; n];
    // Sorted by start: a range overlaps an earlier one iff it starts before the
    // furthest end seen so far (that range's owner is marked too).
    let mut reach: Option<(usize, usize)> = None; // (furthest end, its job)
    for &(start, end, i) in &ranges {
        if let Some((far, owner)) = reach {
            if start < far {
                hit[i] = true;
                hit[owner] = true;
            }
        }
        if reach.is_none_or(|(far, _)| end > far) {
            reach = Some((end, i));
        }
    }
    hit
}

/// A read-only PDU buffer (shared slices may overlap).
///
/// # Safety
/// As [`bytes`].
unsafe fn shared<'a>(pdu: *mut u8, len: usize) -> Result<&'a [u8], smbsign_status_code> {
    // SAFETY: the caller's contract, passed on.
    unsafe { bytes(pdu, len) }
}

/// Runs `f` over the jobs whose key and buffer are valid (and, when
/// `exclusive`, whose buffer overlaps no other job's: it would alias a mutable
/// slice), storing each job's result.
///
/// # Safety
/// `jobs` valid for `count` jobs; each `key` NULL or a live handle, each `pdu`
/// NULL with `len` 0 or valid for `len` bytes (reads, and writes when `exclusive`).
unsafe fn pdu_batch<'a, B: 'a>(
    jobs: *mut smbsign_pdu_job,
    count: usize,
    exclusive: bool,
    make: unsafe fn(*mut u8, usize) -> Result<B, smbsign_status_code>,
    f: impl FnOnce(&mut [PduJob<'_, B>]) -> Vec<smbsign::Result<()>>,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let jobs = unsafe { jobs_preset(jobs, count)? };
        let refused = if exclusive {
            overlapping(jobs)
        } else {
            vec![false; jobs.len()]
        };
        let mut idx = Vec::with_capacity(jobs.len());
        let mut core = Vec::with_capacity(jobs.len());
        for (i, j) in jobs.iter_mut().enumerate() {
            // SAFETY: caller contract on the key.
            let made = unsafe { key_ref(j.key) }.and_then(|key| {
                if refused[i] {
                    return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
                }
                // SAFETY: the caller's contract on the buffer; when
                // `exclusive`, it overlaps no other job's (checked above).
                let pdu = unsafe { make(j.pdu, j.len)? };
                Ok(PduJob { key, pdu })
            });
            match made {
                Ok(job) => {
                    idx.push(i);
                    core.push(job);
                }
                Err(s) => j.status = s.int(),
            }
        }
        let results = f(&mut core);
        drop(core);
        for (&i, r) in idx.iter().zip(results) {
            jobs[i].status = r.map_or_else(|e| smbsign_status_code::from(e).int(), |()| 0);
        }
        overall(jobs)
    })
}

/// Signs every job's PDU or compound chain in place, as `smbsign_sign_pdu`
/// would, computed together. Per job: OK, or the chain's error (its buffer
/// untouched); INVALID_ARGUMENT (buffer untouched) for each job whose buffer
/// overlaps another job's, since signing one would change the other's input.
/// The other jobs are signed. Returns OK when every job succeeded, else the
/// first failing job's status. Every job's status is written whenever `jobs`
/// is usable (not NULL with a non-zero count).
///
/// # Safety
/// `jobs` valid for `count` jobs; each `key` a live handle, each `pdu`
/// readable and writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_sign_pdu_batch(
    jobs: *mut smbsign_pdu_job,
    count: usize,
) -> smbsign_status {
    // SAFETY: the caller's contract, passed on.
    // (A closure: the function item is not general over the buffer lifetime.)
    #[allow(clippy::redundant_closure)]
    unsafe {
        pdu_batch(jobs, count, true, bytes_mut, |j| batch::sign_pdus(j))
    }
}

/// Verifies every job's PDU or compound chain without modifying it, as
/// `smbsign_verify_pdu` would. Per job: OK, BAD_SIGNATURE, NOT_SIGNED, or
/// the chain's error. Buffers are only read, so jobs may share or overlap
/// buffers (each is verified on its own). Returns OK when every job verified,
/// else the first failing job's status; every job's status is written.
///
/// # Safety
/// `jobs` valid for `count` jobs; each `key` a live handle, each `pdu`
/// readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_verify_pdu_batch(
    jobs: *mut smbsign_pdu_job,
    count: usize,
) -> smbsign_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { pdu_batch(jobs, count, false, shared, |j| batch::verify_pdus(j)) }
}

/// Runs `f` over the cipher jobs whose key, nonce (when `encrypt`) and
/// buffer are valid and whose buffer overlaps no other job's (it would
/// alias a mutable slice: INVALID_ARGUMENT), storing each job's result.
///
/// # Safety
/// `jobs` valid for `count` jobs; each `key` NULL or a live handle, each
/// `nonce` NULL or readable for `nonce_len` bytes (when `encrypt`), each `buf`
/// NULL with `len` 0 or readable and writable for `len` bytes.
unsafe fn cipher_batch(
    jobs: *mut smbsign_cipher_job,
    count: usize,
    encrypt: bool,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let jobs = unsafe { jobs_preset(jobs, count)? };
        let refused = overlapping_buffers(jobs.iter().map(|j| (j.key.is_null(), j.buf, j.len)));
        // The nonces are copied before any mutable view of a buffer exists
        // (a nonce may point into a job's own header room).
        let mut nonces = Vec::with_capacity(jobs.len());
        for j in jobs.iter_mut() {
            // SAFETY: caller contract on the nonce.
            let n = if encrypt {
                unsafe { nonce_arg(j.nonce, j.nonce_len) }
            } else {
                Ok(([0; SMBSIGN_NONCE_FIELD_LEN], 0))
            };
            nonces.push(n);
        }
        let mut idx = Vec::with_capacity(jobs.len());
        let mut enc = Vec::new();
        let mut dec = Vec::new();
        for (i, j) in jobs.iter_mut().enumerate() {
            // SAFETY: caller contract on the key.
            let made = unsafe { cipher_key_ref(j.key) }.and_then(|key| {
                if refused[i] {
                    return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
                }
                let (n, n_len) = nonces[i]?;
                // SAFETY: the caller's contract on the buffer; it overlaps
                // no other job's (checked above).
                let buf = unsafe { bytes_mut(j.buf, j.len)? };
                Ok((key, n, n_len, j.session_id, buf))
            });
            match made {
                Ok((key, n, n_len, session_id, buf)) => {
                    idx.push(i);
                    if encrypt {
                        enc.push((key, n, n_len, session_id, buf));
                    } else {
                        dec.push(DecryptJob {
                            key: key.key(),
                            buf,
                        });
                    }
                }
                Err(s) => j.status = s.int(),
            }
        }
        let results = if encrypt {
            let mut ejobs: Vec<EncryptJob<'_>> = enc
                .iter_mut()
                .map(|(key, n, n_len, session_id, buf)| EncryptJob {
                    key,
                    nonce: (*n_len > 0).then(|| &n[..*n_len]),
                    session_id: *session_id,
                    buf,
                })
                .collect();
            batch::encrypt_in_place(&mut ejobs)
        } else {
            batch::decrypt_in_place(&mut dec)
        };
        drop(enc);
        drop(dec);
        for (&i, r) in idx.iter().zip(results) {
            jobs[i].status = r.map_or_else(|e| smbsign_status_code::from(e).int(), |()| 0);
        }
        overall(jobs)
    })
}

/// Encrypts every job's message in place, as `smbsign_encrypt` would, in one
/// call: the AES-CCM jobs computed together in the CCM lanes kernels, the
/// AES-GCM ones one by one. Per job: OK, or `smbsign_encrypt`'s errors
/// (nothing written; a refused job spends no nonce of its key's source);
/// INVALID_ARGUMENT (nothing written) for each job whose buffer overlaps
/// another job's. The other jobs are encrypted. Returns OK when every job
/// succeeded, else the first failing job's status; every job's status is
/// written whenever `jobs` is usable (not NULL with a non-zero count).
///
/// # Safety
/// `jobs` valid for `count` jobs; each `key` a live handle, each `nonce` NULL
/// or readable for `nonce_len` bytes, each `buf` readable and writable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smbsign_encrypt_batch(
    jobs: *mut smbsign_cipher_job,
    count: usize,
) -> smbsign_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { cipher_batch(jobs, count, true) }
}

/// Decrypts every job's transform message in place, as `smbsign_decrypt`
/// would, in one call (CCM jobs together, as `smbsign_encrypt_batch`).
/// Per job: OK (the SMB2 message at `buf + 52`), BAD_TRANSFORM (nothing
/// written), BAD_SIGNATURE (the buffer holds the ciphertext again when the
/// call returns; CCM decrypts in place to check and encrypts back, so do
/// not read the buffers from another thread during the call),
/// INVALID_ARGUMENT for overlapping buffers. A bad tag in one job does not
/// affect the others. Returns OK when every job decrypted, else the first
/// failing job's status; every job's status is written.
///
/// # Safety
/// As `smbsign_encrypt_batch` (`nonce`, `nonce_len` and `session_id` are not read).
#[no_mangle]
pub unsafe extern "C" fn smbsign_decrypt_batch(
    jobs: *mut smbsign_cipher_job,
    count: usize,
) -> smbsign_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { cipher_batch(jobs, count, false) }
}
