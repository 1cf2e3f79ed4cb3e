//! Own handles live in a fixed table of slots in this library's `.bss`; the
//! handle given to the caller is the address of its slot. Telling an own handle
//! from GnuTLS's is then a range check on the pointer value — no lock, and no
//! read through a foreign pointer of unknown size. A slot holds the boxed state
//! (an even address) while live and an odd free-list link while free; the free
//! list is a lock-free stack whose head carries a generation count against ABA.
//! Plain atomics keep it fork-safe: no lock can be inherited held.
//!
//! Each slot has a [`Tally`] beside it (not in the boxed state, so the exit
//! report can sum live handles' counts without reading a state another thread
//! may be freeing).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::stats::{Bucket, Tally};

/// Own handles of one type that may exist at once; beyond that, init hands out
/// GnuTLS's own handle (pure pass-through) rather than failing.
pub const SLOT_COUNT: usize = 1 << 16;

pub struct Slots<T> {
    slots: [AtomicUsize; SLOT_COUNT],
    tallies: [Tally; SLOT_COUNT],
    /// Generation in the high half, index + 1 of the top free slot (0: none).
    free_head: AtomicU64,
    /// Slots never used yet start here.
    next_unused: AtomicU32,
    _owns: PhantomData<fn() -> T>,
}

impl<T> Slots<T> {
    pub const fn new() -> Self {
        Slots {
            slots: [const { AtomicUsize::new(0) }; SLOT_COUNT],
            tallies: [const { Tally::new() }; SLOT_COUNT],
            free_head: AtomicU64::new(0),
            next_unused: AtomicU32::new(0),
            _owns: PhantomData,
        }
    }

    /// The slot `handle` points at, if it points into this table.
    #[inline]
    fn slot(&self, handle: *const core::ffi::c_void) -> Option<(usize, &AtomicUsize)> {
        let base = self.slots.as_ptr() as usize;
        let off = (handle as usize).wrapping_sub(base);
        let size = core::mem::size_of::<AtomicUsize>();
        if off < SLOT_COUNT * size && off.is_multiple_of(size) {
            let i = off / size;
            Some((i, &self.slots[i]))
        } else {
            None
        }
    }

    /// Whether `handle` is one of ours (live or not): such a handle must never
    /// reach GnuTLS.
    #[inline]
    pub fn owns(&self, handle: *const core::ffi::c_void) -> bool {
        self.slot(handle).is_some()
    }

    /// The live state behind `handle` and its tally, if it is a live own handle.
    #[inline]
    pub fn get(&self, handle: *const core::ffi::c_void) -> Option<(*mut T, &Tally)> {
        let (i, slot) = self.slot(handle)?;
        let v = slot.load(Ordering::Acquire);
        (v != 0 && v & 1 == 0).then(|| (v as *mut T, &self.tallies[i]))
    }

    /// The tallies of every slot used so far (live or not), for the exit report
    /// and the reset in a forked child.
    pub fn tallies(&self) -> &[Tally] {
        let used = (self.next_unused.load(Ordering::Relaxed) as usize).min(SLOT_COUNT);
        &self.tallies[..used]
    }

    /// Stores `state` in a free slot, its calls to be counted under `bucket`,
    /// and returns the handle, or gives the state back when every slot is in use.
    pub fn insert(&self, state: Box<T>, bucket: Bucket) -> Result<*mut core::ffi::c_void, Box<T>> {
        let Some(i) = self.pop_free() else {
            return Err(state);
        };
        self.tallies[i].open(bucket);
        let p = Box::into_raw(state);
        self.slots[i].store(p as usize, Ordering::Release);
        Ok(&self.slots[i] as *const AtomicUsize as *mut core::ffi::c_void)
    }

    /// Takes the state out of a live own handle and frees its slot.
    pub fn remove(&self, handle: *const core::ffi::c_void) -> Option<Box<T>> {
        let (i, slot) = self.slot(handle)?;
        let v = slot.load(Ordering::Acquire);
        if v == 0 || v & 1 == 1 {
            return None;
        }
        // Only one caller may take it (a double deinit finds it free).
        slot.compare_exchange(v, 1, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        // SAFETY: v came from Box::into_raw in insert and was just unlinked
        // from the slot by the CAS, so it is owned here alone.
        let state = unsafe { Box::from_raw(v as *mut T) };
        // Its counts move to the process totals before the slot can be reused.
        self.tallies[i].close();
        self.push_free(i);
        Some(state)
    }

    fn pop_free(&self) -> Option<usize> {
        let mut head = self.free_head.load(Ordering::Acquire);
        loop {
            let top = (head & 0xffff_ffff) as usize;
            if top == 0 {
                // Checked first so that a full table never wraps the counter.
                if self.next_unused.load(Ordering::Relaxed) as usize >= SLOT_COUNT {
                    return None;
                }
                let i = self.next_unused.fetch_add(1, Ordering::Relaxed) as usize;
                return (i < SLOT_COUNT).then_some(i);
            }
            // A stale read here (the slot was popped and reused meanwhile) is
            // caught by the generation in the CAS below.
            let next = (self.slots[top - 1].load(Ordering::Acquire) >> 1) as u64 & 0xffff_ffff;
            let new = ((head >> 32).wrapping_add(1) << 32) | next;
            match self.free_head.compare_exchange_weak(
                head,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(top - 1),
                Err(h) => head = h,
            }
        }
    }

    fn push_free(&self, i: usize) {
        let mut head = self.free_head.load(Ordering::Acquire);
        loop {
            let top = head & 0xffff_ffff;
            self.slots[i].store(((top as usize) << 1) | 1, Ordering::Release);
            let new = ((head >> 32).wrapping_add(1) << 32) | (i as u64 + 1);
            match self.free_head.compare_exchange_weak(
                head,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The slot table hands out distinct handles until full, tells own from
    //! foreign and stale handles, reuses freed slots, and stays consistent
    //! under concurrent insert/remove.
    use super::*;

    /// A table on the heap (built on the stack it would overflow a test
    /// thread's); all zeroes is `Slots::new()`'s state.
    fn zeroed_table<T>() -> Box<Slots<T>> {
        // SAFETY: every field is an atomic integer (zero is valid and is what
        // new() stores) or a PhantomData.
        unsafe { Box::<Slots<T>>::new_zeroed().assume_init() }
    }

    #[test]
    fn insert_get_remove_reuse_and_full() {
        let t = zeroed_table::<u64>();
        let foreign = Box::into_raw(Box::new(7u64)) as *const core::ffi::c_void;
        assert!(!t.owns(foreign) && t.get(foreign).is_none());
        let mut hs = Vec::new();
        for i in 0..SLOT_COUNT as u64 {
            hs.push(t.insert(Box::new(i), Bucket::MacOther).ok().unwrap());
        }
        assert_eq!(*t.insert(Box::new(99), Bucket::MacOther).unwrap_err(), 99); // full
                                                                                // SAFETY: a live handle's state, read while no one else uses it.
        assert_eq!(unsafe { *t.get(hs[5]).unwrap().0 }, 5);
        assert_eq!(*t.remove(hs[5]).unwrap(), 5);
        assert!(t.owns(hs[5]) && t.get(hs[5]).is_none()); // stale
        assert!(t.remove(hs[5]).is_none()); // double remove
        let again = t.insert(Box::new(1234), Bucket::MacOther).ok().unwrap();
        assert_eq!(again, hs[5]); // the freed slot is reused
                                  // Misaligned pointers into the table are not handles.
        assert!(!t.owns((hs[0] as usize + 1) as *const _));
        // SAFETY: from Box::into_raw above.
        drop(unsafe { Box::from_raw(foreign as *mut u64) });
    }

    #[test]
    fn concurrent_insert_remove() {
        let t: &'static Slots<usize> = Box::leak(zeroed_table());
        let threads: Vec<_> = (0..4)
            .map(|k| {
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let v = k * 1_000_000 + i;
                        let h = t.insert(Box::new(v), Bucket::MacOther).ok().unwrap();
                        // SAFETY: this thread's own live handle.
                        assert_eq!(unsafe { *t.get(h).unwrap().0 }, v);
                        assert_eq!(*t.remove(h).unwrap(), v);
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        // At most one fresh slot per thread was ever needed at a time.
        assert!(t.next_unused.load(Ordering::Relaxed) <= 4);
    }
}
