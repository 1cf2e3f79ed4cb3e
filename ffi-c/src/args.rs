//! Arguments from C: byte slices and fixed arrays from pointer and length
//! (NULL only with length 0), output pointers, and iovec arrays, checked
//! for length, NULL and overlap before any slice is made.

use core::ffi::{c_int, c_void};

use crate::error::*;

/// The C `struct iovec` of `<sys/uio.h>` (POSIX: base pointer, then length).
#[repr(C)]
pub struct iovec {
    /// Start of the segment.
    pub iov_base: *mut c_void,
    /// Length of the segment in bytes.
    pub iov_len: usize,
}

/// Whether any two of the `(start, end)` address ranges overlap (mutable
/// slices over them would alias). Sorts `ranges`.
pub(crate) fn any_overlap(ranges: &mut [(usize, usize)]) -> bool {
    ranges.sort_unstable();
    ranges.windows(2).any(|w| w[1].0 < w[0].1)
}

/// A byte slice from C: NULL is allowed only with length 0.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
) -> Result<&'a [u8], smbsign_status_code> {
    if len > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(SMBSIGN_ERR_NULL_POINTER)
        };
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A mutable byte slice from C: NULL is allowed only with length 0.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads and writes of `len` bytes for `'a`
/// and not aliased by any other live reference.
pub(crate) unsafe fn bytes_mut<'a>(
    ptr: *mut u8,
    len: usize,
) -> Result<&'a mut [u8], smbsign_status_code> {
    if len > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    if ptr.is_null() {
        return if len == 0 {
            Ok(&mut [])
        } else {
            Err(SMBSIGN_ERR_NULL_POINTER)
        };
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity and exclusivity are
    // the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A fixed-size array from C, which must not be NULL.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for reads of `N` bytes.
pub(crate) unsafe fn array<'a, const N: usize>(
    ptr: *const u8,
) -> Result<&'a [u8; N], smbsign_status_code> {
    if ptr.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL; the caller guarantees N readable bytes.
    Ok(unsafe { &*ptr.cast::<[u8; N]>() })
}

/// Writes `value` to a non-NULL output pointer.
///
/// # Safety
/// `out` must be NULL or valid for a write of `N` bytes.
pub(crate) unsafe fn write_out<const N: usize>(
    out: *mut u8,
    value: &[u8; N],
) -> Result<(), smbsign_status_code> {
    if out.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL; the caller guarantees N writable bytes. copy (not
    // copy_nonoverlapping): the output may alias an input the caller passed.
    unsafe { std::ptr::copy(value.as_ptr(), out, N) };
    Ok(())
}

/// Segments above this count are gathered on the heap instead of the stack.
const STACK_IOVS: usize = 16;

/// An empty vector with room for `n` items, or INVALID_ARGUMENT when that
/// much memory cannot be had: a count from the caller never aborts the process.
pub(crate) fn fallible_vec<T>(n: usize) -> Result<Vec<T>, smbsign_status_code> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| SMBSIGN_ERR_INVALID_ARGUMENT)?;
    Ok(v)
}

/// Reads `iovcnt` iovecs as byte slices and calls `f` with them.
///
/// # Safety
/// `iov` must be NULL or point to `iovcnt` iovecs, each NULL-with-length-0 or
/// valid for reads of `iov_len` bytes.
pub(crate) unsafe fn with_iov<'a, R>(
    iov: *const iovec,
    iovcnt: c_int,
    f: impl FnOnce(&[&'a [u8]]) -> Result<R, smbsign_status_code>,
) -> Result<R, smbsign_status_code> {
    let n = usize::try_from(iovcnt).map_err(|_| SMBSIGN_ERR_INVALID_ARGUMENT)?;
    if n > 0 && iov.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    let mut total = 0usize;
    let mut stack: [&'a [u8]; STACK_IOVS] = [&[]; STACK_IOVS];
    let mut heap = Vec::new();
    if n > STACK_IOVS {
        heap = fallible_vec(n)?;
    }
    for i in 0..n {
        // SAFETY: i < iovcnt and the caller guarantees iovcnt readable entries.
        let v = unsafe { &*iov.add(i) };
        total = total
            .checked_add(v.iov_len)
            .ok_or(SMBSIGN_ERR_INVALID_ARGUMENT)?;
        // SAFETY: the caller guarantees each segment is readable for iov_len bytes.
        let s: &'a [u8] = unsafe { bytes(v.iov_base.cast::<u8>(), v.iov_len)? };
        match stack.get_mut(i) {
            Some(slot) if n <= STACK_IOVS => *slot = s,
            _ => heap.push(s),
        }
    }
    if total > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    f(if n <= STACK_IOVS { &stack[..n] } else { &heap })
}

/// Reads `iovcnt` iovecs into a vector of byte slices.
///
/// # Safety
/// As [`with_iov`].
pub(crate) unsafe fn gather<'a>(
    iov: *const iovec,
    iovcnt: c_int,
) -> Result<Vec<&'a [u8]>, smbsign_status_code> {
    // SAFETY: same contract as with_iov.
    unsafe {
        with_iov(iov, iovcnt, |segs| {
            let mut v = fallible_vec(segs.len())?;
            v.extend_from_slice(segs);
            Ok(v)
        })
    }
}

/// Reads `iovcnt` iovecs as mutable byte slices, refusing overlapping segments
/// (which would alias), and calls `f` with them.
///
/// # Safety
/// As [`with_iov`], and each segment must be writable and not otherwise borrowed.
pub(crate) unsafe fn with_iov_mut<R>(
    iov: *const iovec,
    iovcnt: c_int,
    f: impl FnOnce(&mut [&mut [u8]]) -> Result<R, smbsign_status_code>,
) -> Result<R, smbsign_status_code> {
    let n = usize::try_from(iovcnt).map_err(|_| SMBSIGN_ERR_INVALID_ARGUMENT)?;
    if n > 0 && iov.is_null() {
        return Err(SMBSIGN_ERR_NULL_POINTER);
    }
    // Check bounds and overlap before creating any mutable slice.
    let mut ranges = fallible_vec(n)?;
    let mut total = 0usize;
    for i in 0..n {
        // SAFETY: i < iovcnt and the caller guarantees iovcnt readable entries.
        let v = unsafe { &*iov.add(i) };
        total = total
            .checked_add(v.iov_len)
            .ok_or(SMBSIGN_ERR_INVALID_ARGUMENT)?;
        if v.iov_len == 0 {
            continue;
        }
        if v.iov_base.is_null() {
            return Err(SMBSIGN_ERR_NULL_POINTER);
        }
        let start = v.iov_base as usize;
        let end = start
            .checked_add(v.iov_len)
            .ok_or(SMBSIGN_ERR_INVALID_ARGUMENT)?;
        ranges.push((start, end));
    }
    if total > isize::MAX as usize {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    if any_overlap(&mut ranges) {
        return Err(SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    let mut segs = fallible_vec(n)?;
    for i in 0..n {
        // SAFETY: as above; segments were checked not to overlap, so the mutable
        // slices do not alias each other.
        let v = unsafe { &*iov.add(i) };
        segs.push(unsafe { bytes_mut(v.iov_base.cast::<u8>(), v.iov_len)? });
    }
    f(&mut segs)
}

/// # Safety
/// `nonce` must be NULL or valid for reads of 12 bytes.
pub(crate) unsafe fn nonce_ref<'a>(
    nonce: *const u8,
) -> Result<Option<&'a [u8; 12]>, smbsign_status_code> {
    if nonce.is_null() {
        Ok(None)
    } else {
        // SAFETY: non-NULL; the caller guarantees 12 readable bytes.
        Ok(Some(unsafe { array::<12>(nonce)? }))
    }
}
