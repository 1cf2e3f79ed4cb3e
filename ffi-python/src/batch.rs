//! Batch signing and encryption: lists of jobs computed together in the
//! multi-buffer kernels.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use smbsign::batch::{self, DecryptJob, EncryptJob, Job, PduJob};

use crate::buffers::{fixed, maybe_detach, Bytes};
use crate::pdu::{value_error, SigningKey};
use crate::transform::{session_id, EncryptionKey};

/// One `(key, data[, nonce])` job, its buffer export held.
struct PyJob<'py> {
    key: PyRef<'py, SigningKey>,
    data: Bytes,
    nonce: Option<[u8; 12]>,
}

fn parse_job<'py>(obj: &Bound<'py, PyAny>, i: usize) -> PyResult<PyJob<'py>> {
    let t = obj.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!("job {i}: expected a (key, data[, nonce]) tuple"))
    })?;
    if !(2..=3).contains(&t.len()) {
        return Err(PyTypeError::new_err(format!(
            "job {i}: expected (key, data[, nonce]), got {} items",
            t.len()
        )));
    }
    let key = t
        .get_item(0)?
        .extract::<PyRef<'py, SigningKey>>()
        .map_err(|_| PyTypeError::new_err(format!("job {i}: the key must be a SigningKey")))?;
    let data = Bytes::new(&t.get_item(1)?, "data")?;
    let nonce = match t.get_item(2) {
        Ok(n) if !n.is_none() => Some(fixed::<12>(&n, "nonce")?),
        _ => None,
    };
    Ok(PyJob { key, data, nonce })
}

fn core_jobs<'a>(jobs: &'a [PyJob<'_>]) -> PyResult<Vec<Job<'a>>> {
    jobs.iter()
        .enumerate()
        .map(|(i, j)| {
            Job::new(&j.key.0, j.nonce.as_ref(), j.data.as_slice())
                .map_err(|e| PyValueError::new_err(format!("job {i}: {e}")))
        })
        .collect()
}

fn parse_all<'py>(jobs: &Bound<'py, PyAny>) -> PyResult<Vec<PyJob<'py>>> {
    jobs.try_iter()?
        .enumerate()
        .map(|(i, j)| parse_job(&j?, i))
        .collect()
}

/// The 16-byte MAC of every job of `jobs`, an iterable of `(key, data)` or
/// `(key, data, nonce)` tuples (`key` a SigningKey; the nonce for AES-GMAC
/// only), computed together. Raises TypeError or ValueError naming the first
/// bad job, before anything is computed.
#[pyfunction]
pub fn sign_batch<'py>(
    py: Python<'py>,
    jobs: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let parsed = parse_all(jobs)?;
    let core = core_jobs(&parsed)?;
    let total = parsed.iter().map(|j| j.data.len()).sum();
    let mut tags = vec![[0u8; 16]; core.len()];
    maybe_detach(py, total, || batch::sign(&core, &mut tags)).map_err(value_error)?;
    Ok(tags.iter().map(|t| PyBytes::new(py, t)).collect())
}

/// Whether each `tags[i]` is the MAC of `jobs[i]` (jobs as `sign_batch`),
/// compared in constant time: a list of bools.
#[pyfunction]
pub fn verify_batch(
    py: Python<'_>,
    jobs: &Bound<'_, PyAny>,
    tags: &Bound<'_, PyAny>,
) -> PyResult<Vec<bool>> {
    let parsed = parse_all(jobs)?;
    let core = core_jobs(&parsed)?;
    // A tag of the wrong length is not the MAC: that job is False (as
    // `SigningKey.verify`), compared against a zero tag so it still runs.
    let given: Vec<Option<[u8; 16]>> = tags
        .try_iter()?
        .map(|t| Ok(Bytes::new(&t?, "tag")?.as_slice().try_into().ok()))
        .collect::<PyResult<_>>()?;
    let tags: Vec<[u8; 16]> = given.iter().map(|t| t.unwrap_or([0; 16])).collect();
    if tags.len() != core.len() {
        return Err(PyValueError::new_err(format!(
            "{} jobs but {} tags",
            core.len(),
            tags.len()
        )));
    }
    let total = parsed.iter().map(|j| j.data.len()).sum();
    let mut valid = vec![false; core.len()];
    maybe_detach(py, total, || batch::verify(&core, &tags, &mut valid)).map_err(value_error)?;
    Ok(valid
        .iter()
        .zip(&given)
        .map(|(&v, t)| v && t.is_some())
        .collect())
}

/// `(key, pdu)` pairs with their buffer exports held (writable when signing).
fn parse_pdus<'py>(
    jobs: &Bound<'py, PyAny>,
    writable: bool,
) -> PyResult<Vec<(PyRef<'py, SigningKey>, Bytes)>> {
    let mut out = Vec::new();
    for (i, j) in jobs.try_iter()?.enumerate() {
        let j = j?;
        let t = j
            .cast::<PyTuple>()
            .ok()
            .filter(|t| t.len() == 2)
            .ok_or_else(|| PyTypeError::new_err(format!("job {i}: expected a (key, pdu) tuple")))?;
        let key = t
            .get_item(0)?
            .extract::<PyRef<'py, SigningKey>>()
            .map_err(|_| PyTypeError::new_err(format!("job {i}: the key must be a SigningKey")))?;
        let pdu = t.get_item(1)?;
        let b = if writable {
            Bytes::new_mut(&pdu, "pdu")?
        } else {
            Bytes::new(&pdu, "pdu")?
        };
        out.push((key, b));
    }
    if writable {
        // Two jobs over the same memory would alias.
        let mut ranges: Vec<(usize, usize)> = out
            .iter()
            .map(|(_, b)| b.as_slice())
            .filter(|s| !s.is_empty())
            .map(|s| (s.as_ptr() as usize, s.as_ptr() as usize + s.len()))
            .collect();
        ranges.sort_unstable();
        if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(PyValueError::new_err("two jobs' PDU buffers overlap"));
        }
    }
    Ok(out)
}

/// Signs every `(key, pdu)` job's PDU or compound chain in place (writable
/// buffers), computed together. Returns one entry per job: None when signed,
/// or the ValueError describing its malformed chain (that buffer untouched).
#[pyfunction]
pub fn sign_pdus(py: Python<'_>, jobs: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyErr>>> {
    let mut parsed = parse_pdus(jobs, true)?;
    let total = parsed.iter().map(|(_, b)| b.len()).sum();
    let mut core: Vec<PduJob<'_, &mut [u8]>> = parsed
        .iter_mut()
        .map(|(k, b)| PduJob {
            key: &k.0,
            pdu: b.as_mut(),
        })
        .collect();
    let results = maybe_detach(py, total, || batch::sign_pdus(&mut core));
    Ok(results
        .into_iter()
        .map(|r| r.err().map(value_error))
        .collect())
}

/// Whether every `(key, pdu)` job's PDU or compound chain is signed and its
/// signatures match (constant-time): a list of bools, False also for a
/// malformed chain. Buffers are not modified.
#[pyfunction]
pub fn verify_pdus(py: Python<'_>, jobs: &Bound<'_, PyAny>) -> PyResult<Vec<bool>> {
    let parsed = parse_pdus(jobs, false)?;
    let total = parsed.iter().map(|(_, b)| b.len()).sum();
    let core: Vec<PduJob<'_, &[u8]>> = parsed
        .iter()
        .map(|(k, b)| PduJob {
            key: &k.0,
            pdu: b.as_slice(),
        })
        .collect();
    let results = maybe_detach(py, total, || batch::verify_pdus(&core));
    Ok(results.iter().map(Result::is_ok).collect())
}

/// Refuses two writable buffers over the same memory (they would alias).
fn no_overlap<'b>(bufs: impl Iterator<Item = &'b Bytes>, what: &str) -> PyResult<()> {
    let mut ranges: Vec<(usize, usize)> = bufs
        .map(Bytes::as_slice)
        .filter(|s| !s.is_empty())
        .map(|s| (s.as_ptr() as usize, s.as_ptr() as usize + s.len()))
        .collect();
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(PyValueError::new_err(format!(
            "two jobs' {what} buffers overlap"
        )));
    }
    Ok(())
}

/// A `(key, ...)` job tuple of `n` items (`lo..=hi`) and its EncryptionKey.
fn cipher_tuple<'a, 'py>(
    j: &'a Bound<'py, PyAny>,
    i: usize,
    shape: &str,
    lens: core::ops::RangeInclusive<usize>,
) -> PyResult<(&'a Bound<'py, PyTuple>, PyRef<'py, EncryptionKey>)> {
    let t = j
        .cast::<PyTuple>()
        .ok()
        .filter(|t| lens.contains(&t.len()))
        .ok_or_else(|| PyTypeError::new_err(format!("job {i}: expected a {shape} tuple")))?;
    let key = t
        .get_item(0)?
        .extract::<PyRef<'py, EncryptionKey>>()
        .map_err(|_| PyTypeError::new_err(format!("job {i}: the key must be an EncryptionKey")))?;
    Ok((t, key))
}

/// Encrypts every `(key, session_id, buffer)` or `(key, session_id, buffer,
/// nonce)` job in place, as `encrypt_in_place` would (writable buffers laid
/// out as on the wire: 52 bytes of header room, then the message), computed
/// together (AES-CCM jobs in the CCM lanes kernels). Returns one entry per
/// job: None when encrypted, or the ValueError that refused it (nothing
/// written, no nonce spent). TypeError or ValueError for a malformed job list
/// (overlapping buffers), before anything is written.
#[pyfunction]
pub fn encrypt_batch(py: Python<'_>, jobs: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyErr>>> {
    let mut parsed = Vec::new();
    for (i, j) in jobs.try_iter()?.enumerate() {
        let j = j?;
        let (t, key) = cipher_tuple(&j, i, "(key, session_id, buffer[, nonce])", 3..=4)?;
        let sid = session_id(&t.get_item(1)?)?;
        let buf = Bytes::new_mut(&t.get_item(2)?, "buffer")?;
        let nonce = match t.get_item(3) {
            Ok(n) if !n.is_none() => Some(Bytes::new(&n, "nonce")?),
            _ => None,
        };
        parsed.push((key, sid, buf, nonce));
    }
    no_overlap(parsed.iter().map(|(_, _, b, _)| b), "message")?;
    let total = parsed.iter().map(|(_, _, b, _)| b.len()).sum();
    let mut core: Vec<EncryptJob<'_>> = parsed
        .iter_mut()
        .map(|(k, sid, b, n)| EncryptJob {
            key: &k.0,
            nonce: n.as_ref().map(Bytes::as_slice),
            session_id: *sid,
            buf: b.as_mut(),
        })
        .collect();
    let results = maybe_detach(py, total, || batch::encrypt_in_place(&mut core));
    Ok(results
        .into_iter()
        .map(|r| r.err().map(value_error))
        .collect())
}

/// Decrypts every `(key, buffer)` job's whole transform message in place, as
/// `decrypt_in_place` would (the SMB2 message is then `buffer[52:]`),
/// computed together. Returns one entry per job: None when decrypted, or the
/// ValueError that refused it (a malformed header, or a tag that does not
/// match: that buffer holds exactly what it held). TypeError or ValueError
/// for a malformed job list, before anything is written.
#[pyfunction]
pub fn decrypt_batch(py: Python<'_>, jobs: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyErr>>> {
    let mut parsed = Vec::new();
    for (i, j) in jobs.try_iter()?.enumerate() {
        let j = j?;
        let (t, key) = cipher_tuple(&j, i, "(key, buffer)", 2..=2)?;
        let buf = Bytes::new_mut(&t.get_item(1)?, "buffer")?;
        parsed.push((key, buf));
    }
    no_overlap(parsed.iter().map(|(_, b)| b), "message")?;
    let total = parsed.iter().map(|(_, b)| b.len()).sum();
    let mut core: Vec<DecryptJob<'_>> = parsed
        .iter_mut()
        .map(|(k, b)| DecryptJob {
            key: k.0.key(),
            buf: b.as_mut(),
        })
        .collect();
    let results = maybe_detach(py, total, || batch::decrypt_in_place(&mut core));
    Ok(results
        .into_iter()
        .map(|r| r.err().map(value_error))
        .collect())
}
