//! The caller's arguments as Rust sees them, checked the way GnuTLS would
//! have read them, what a handle leads to, and the guard every entry point
//! runs in.

use core::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libc::iovec;

use crate::slots::Slots;
use crate::stats::Tally;

/// Runs an entry point's body; a panic becomes `on_panic` instead of crossing
/// into C.
pub fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// `len` bytes at `p`; `None` for NULL with a non-zero length.
///
/// # Safety
/// A non-NULL `p` must be readable for `len` bytes while the slice is used.
pub unsafe fn bytes<'a>(p: *const c_void, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if p.is_null() || len > isize::MAX as usize {
        None
    } else {
        // SAFETY: non-NULL, and readable for len bytes per the caller.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) })
    }
}

/// The iovec array, if every entry can be read: no NULL base with a length
/// (GnuTLS skips those) and no length beyond `isize::MAX` (no buffer is that
/// long; GnuTLS's iterator returns such lengths as a negative `ssize_t`), so
/// that whatever GnuTLS makes of such entries stays GnuTLS's.
///
/// # Safety
/// A non-NULL `iov` must point at `cnt` iovecs whose buffers are readable.
pub unsafe fn iovecs<'a>(iov: *const iovec, cnt: c_int) -> Option<&'a [iovec]> {
    let n = usize::try_from(cnt).ok()?;
    if n == 0 {
        return Some(&[]);
    }
    if iov.is_null() {
        return None;
    }
    // SAFETY: non-NULL and cnt entries long per the caller.
    let v = unsafe { core::slice::from_raw_parts(iov, n) };
    v.iter()
        .all(|e| e.iov_len == 0 || (!e.iov_base.is_null() && e.iov_len <= isize::MAX as usize))
        .then_some(v)
}

/// An iovec list as [`iov_parts`] read it.
pub enum IovList<'a> {
    /// No more entries than the parts given: the first `count` parts are
    /// their buffers, `total` bytes in all.
    Few { count: usize, total: u64 },
    /// More entries than that, every one readable.
    Many(&'a [iovec]),
}

/// The iovec list, checked entry by entry as [`iovecs`] checks it; a list
/// of no more entries than `parts` holds is turned into byte slices in
/// `parts` and summed in the same pass (Samba's GMAC: three entries;
/// separate check, slice and sum walks cost the preload 30 instructions a
/// call). `None` where `iovecs` refuses the list.
///
/// # Safety
/// As [`iovecs`].
#[inline]
pub unsafe fn iov_parts<'a>(
    iov: *const iovec,
    cnt: c_int,
    parts: &mut [&'a [u8]],
) -> Option<IovList<'a>> {
    let n = usize::try_from(cnt).ok()?;
    if n > parts.len() {
        // SAFETY: as the caller's.
        return unsafe { iovecs(iov, cnt) }.map(IovList::Many);
    }
    if n > 0 && iov.is_null() {
        return None;
    }
    let mut total = 0u64;
    for (i, p) in parts[..n].iter_mut().enumerate() {
        // SAFETY: i < cnt, and iov points at cnt iovecs per the caller.
        let e = unsafe { &*iov.add(i) };
        *p = if e.iov_len == 0 {
            &[]
        } else if e.iov_base.is_null() || e.iov_len > isize::MAX as usize {
            return None;
        } else {
            total = total.saturating_add(e.iov_len as u64);
            // SAFETY: non-NULL, and readable for iov_len bytes per the caller.
            unsafe { core::slice::from_raw_parts(e.iov_base.cast::<u8>(), e.iov_len) }
        };
    }
    Some(IovList::Few { count: n, total })
}

/// The buffer of an entry of a list [`iovecs`] accepted.
pub fn iov_slice(e: &iovec) -> &[u8] {
    // SAFETY: iovecs() checked the entry (zero length, or a non-NULL base and
    // a length bytes() accepts, so the fallback is never taken).
    unsafe { bytes(e.iov_base, e.iov_len) }.unwrap_or(&[])
}

/// The buffer of an entry of a list [`iovecs`] accepted, to write in place.
///
/// # Safety
/// The entry's buffer must be writable, and no other reference to it (or to
/// memory overlapping it) may be used while the slice lives.
pub unsafe fn iov_slice_mut<'a>(e: &iovec) -> &'a mut [u8] {
    if e.iov_len == 0 {
        return &mut [];
    }
    // SAFETY: iovecs() checked the entry (a non-NULL base, a length up to
    // isize::MAX); writable and unaliased per the caller.
    unsafe { core::slice::from_raw_parts_mut(e.iov_base.cast::<u8>(), e.iov_len) }
}

/// Whether the byte ranges `(address, length)` are pairwise disjoint (empty
/// ones ignored). May sort `ranges`.
pub fn disjoint(ranges: &mut [(usize, usize)]) -> bool {
    let end = |r: &(usize, usize)| r.0.checked_add(r.1);
    // Samba's calls have about six: comparing pairs beats sorting.
    if ranges.len() <= 8 {
        for (i, a) in ranges.iter().enumerate().filter(|(_, r)| r.1 != 0) {
            let Some(a_end) = end(a) else {
                return false;
            };
            for b in ranges[i + 1..].iter().filter(|r| r.1 != 0) {
                let Some(b_end) = end(b) else {
                    return false;
                };
                if a.0 < b_end && b.0 < a_end {
                    return false;
                }
            }
        }
        return true;
    }
    ranges.sort_unstable();
    let mut end = 0usize;
    for &(start, len) in ranges.iter().filter(|r| r.1 != 0) {
        if start < end {
            return false;
        }
        let Some(e) = start.checked_add(len) else {
            return false;
        };
        end = e;
    }
    true
}

/// Bytes in the iovec lists of a call GnuTLS completed (so it read them all).
pub fn iov_total(lists: &[(*const iovec, c_int)]) -> u64 {
    let mut total = 0;
    for &(v, n) in lists {
        // SAFETY: GnuTLS just read these iovecs successfully.
        if let Some(v) = unsafe { iovecs(v, n) } {
            total += v.iter().map(|e| e.iov_len as u64).sum::<u64>();
        }
    }
    total
}

/// Where a handle leads.
pub enum Target<'s, T> {
    /// A live own handle and its counts.
    Own(*mut T, &'s Tally),
    /// An own slot that is not live (used after deinit): never passed on.
    Stale,
    /// GnuTLS's own handle.
    Foreign,
}

/// A range check on the handle's address and one load: no table walk.
#[inline]
pub fn target<T>(slots: &Slots<T>, h: *const c_void) -> Target<'_, T> {
    match slots.get(h) {
        Some((p, tally)) => Target::Own(p, tally),
        None if slots.owns(h) => Target::Stale,
        None => Target::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::disjoint;

    /// The pairwise path (up to 8 ranges) and the sorting one agree with a
    /// byte-by-byte check on small random layouts.
    #[test]
    fn disjoint_matches_a_byte_map() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..14 {
            for _ in 0..2000 {
                let mut r: Vec<(usize, usize)> = (0..n)
                    .map(|_| (next() as usize % 64, next() as usize % 9))
                    .collect();
                let mut seen = [0u8; 80];
                let mut want = true;
                for &(s, l) in &r {
                    for b in &mut seen[s..s + l] {
                        want &= *b == 0;
                        *b = 1;
                    }
                }
                assert_eq!(disjoint(&mut r), want, "{r:?}");
            }
        }
        // An end past the address space is never disjoint.
        assert!(!disjoint(&mut [(usize::MAX - 1, 4), (0, 1)]));
        assert!(!disjoint(&mut [(usize::MAX - 1, 4); 9]));
        assert!(disjoint(&mut [(usize::MAX - 1, 0), (0, 1)]));
    }
}
