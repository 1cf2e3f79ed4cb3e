//! Batch signing: arrays of jobs, each with its own key, computed together in
//! the multi-buffer kernels. Every job gets its own status; the call returns
//! SMBSIGN_OK when every job succeeded, else the first failing job's status.

use smbsign::batch::{self, Job, PduJob};

use crate::guard::*;
use crate::key::{key_ref, nonce_ref, smbsign_key};

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
    /// Out: this job's result.
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
    /// Out: this job's result.
    pub status: smbsign_status,
}

/// The job array from C.
///
/// # Safety
/// `jobs` NULL with `count` 0, or valid for reads and writes of `count` jobs.
unsafe fn job_slice<'a, T>(jobs: *mut T, count: usize) -> Result<&'a mut [T], smbsign_status> {
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

/// The first failing status, or OK.
fn overall(statuses: impl Iterator<Item = smbsign_status>) -> Result<(), smbsign_status> {
    match statuses.into_iter().find(|&s| s != SMBSIGN_OK) {
        Some(s) => Err(s),
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
            Err(s) => j.status = s,
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
        let jobs = unsafe { job_slice(jobs, count)? };
        // SAFETY: caller contract for each job.
        let (idx, core) = unsafe { core_jobs(jobs) };
        let mut tags = vec![[0u8; 16]; core.len()];
        batch::sign(&core, &mut tags)?;
        for (&i, t) in idx.iter().zip(&tags) {
            jobs[i].tag = *t;
            jobs[i].status = SMBSIGN_OK;
        }
        overall(jobs.iter().map(|j| j.status))
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
        let jobs = unsafe { job_slice(jobs, count)? };
        // SAFETY: caller contract for each job.
        let (idx, core) = unsafe { core_jobs(jobs) };
        let tags: Vec<[u8; 16]> = idx.iter().map(|&i| jobs[i].tag).collect();
        let mut valid = vec![false; core.len()];
        batch::verify(&core, &tags, &mut valid)?;
        for (&i, &v) in idx.iter().zip(&valid) {
            jobs[i].status = if v {
                SMBSIGN_OK
            } else {
                SMBSIGN_ERR_BAD_SIGNATURE
            };
        }
        overall(jobs.iter().map(|j| j.status))
    })
}

/// The PDU buffers of the jobs; INVALID_ARGUMENT if two overlap (they would alias).
///
/// # Safety
/// Each job's `pdu` NULL with `len` 0, or valid for reads and writes of `len` bytes.
unsafe fn pdu_buffers<'a>(
    jobs: &[smbsign_pdu_job],
) -> Result<Vec<Result<&'a mut [u8], smbsign_status>>, smbsign_status> {
    let mut ranges: Vec<(usize, usize)> = jobs
        .iter()
        .filter(|j| !j.pdu.is_null() && j.len > 0)
        .map(|j| (j.pdu as usize, (j.pdu as usize).saturating_add(j.len)))
        .collect();
    if any_overlap(&mut ranges) {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the caller's contract per job; no two buffers overlap (checked).
    Ok(jobs
        .iter()
        .map(|j| unsafe { bytes_mut(j.pdu, j.len) })
        .collect())
}

/// Runs `f` over the jobs whose key and buffer are valid, storing each result.
///
/// # Safety
/// As `smbsign_sign_pdu_batch`.
unsafe fn pdu_batch(
    jobs: *mut smbsign_pdu_job,
    count: usize,
    f: impl FnOnce(&mut [PduJob<'_, &mut [u8]>]) -> Vec<smbsign::Result<()>>,
) -> smbsign_status {
    guard(|| {
        // SAFETY: caller contract.
        let jobs = unsafe { job_slice(jobs, count)? };
        // SAFETY: caller contract per job.
        let bufs = unsafe { pdu_buffers(jobs)? };
        let mut idx = Vec::with_capacity(jobs.len());
        let mut core = Vec::with_capacity(jobs.len());
        for (i, (j, b)) in jobs.iter_mut().zip(bufs).enumerate() {
            // SAFETY: caller contract on the key.
            match unsafe { key_ref(j.key) }.and_then(|k| Ok((k, b?))) {
                Ok((key, pdu)) => {
                    idx.push(i);
                    core.push(PduJob { key, pdu });
                }
                Err(s) => j.status = s,
            }
        }
        let results = f(&mut core);
        drop(core);
        for (&i, r) in idx.iter().zip(results) {
            jobs[i].status = r.map_or_else(smbsign_status::from, |()| SMBSIGN_OK);
        }
        overall(jobs.iter().map(|j| j.status))
    })
}

/// Signs every job's PDU or compound chain in place, as `smbsign_sign_pdu`
/// would, computed together. Per job: OK, or the chain's error (its buffer
/// untouched). Returns OK when every job succeeded, else the first failing
/// job's status; INVALID_ARGUMENT (nothing written) when two buffers overlap.
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
        pdu_batch(jobs, count, |j| batch::sign_pdus(j))
    }
}

/// Verifies every job's PDU or compound chain without modifying it, as
/// `smbsign_verify_pdu` would. Per job: OK, BAD_SIGNATURE, NOT_SIGNED, or
/// the chain's error. Returns OK when every job verified, else the first
/// failing job's status.
///
/// # Safety
/// As `smbsign_sign_pdu_batch` (buffers are only read).
#[no_mangle]
pub unsafe extern "C" fn smbsign_verify_pdu_batch(
    jobs: *mut smbsign_pdu_job,
    count: usize,
) -> smbsign_status {
    // SAFETY: the caller's contract, passed on.
    unsafe {
        pdu_batch(jobs, count, |j| {
            let shared: Vec<PduJob<'_, &[u8]>> = j
                .iter()
                .map(|p| PduJob {
                    key: p.key,
                    pdu: &*p.pdu,
                })
                .collect();
            batch::verify_pdus(&shared)
        })
    }
}
