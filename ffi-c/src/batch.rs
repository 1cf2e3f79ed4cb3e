//! Batch signing: arrays of jobs, each with its own key, computed together in
//! the multi-buffer kernels. Every job gets its own status; the call returns
//! SMBSIGN_OK when every job succeeded, else the first failing job's status.
//!
//! Status rule: once the job array itself is usable (non-NULL, sane count),
//! every job's `status` is written on every path. It is first set to
//! SMBSIGN_ERR_INTERNAL, so that no early return (or caught panic) can leave a
//! caller's stale or zero-initialised SMBSIGN_OK in place.

use smbsign::batch::{self, Job, PduJob};

use crate::args::*;
use crate::error::*;
use crate::smb2::{key_ref, smbsign_key};

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
    let mut ranges: Vec<(usize, usize, usize)> = jobs
        .iter()
        .enumerate()
        .filter(|(_, j)| {
            !j.key.is_null() && !j.pdu.is_null() && j.len > 0 && j.len <= isize::MAX as usize
        })
        .map(|(i, j)| (j.pdu as usize, (j.pdu as usize).saturating_add(j.len), i))
        .collect();
    ranges.sort_unstable();
    let mut hit = vec![false; jobs.len()];
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
