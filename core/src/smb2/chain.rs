//! Compound chains over scatter-gather buffers.
//!
//! A message may arrive as several segments (header, body, payload), and a
//! compound chain packs several PDUs linked by `NextCommand`. Everything here
//! addresses the logical concatenation of the segments, so one walk serves the
//! contiguous and the vectored forms alike, and a header may straddle segments.

use core::ops::{Deref, DerefMut};

use super::header::{u32_at, HEADER_LEN, NEXT_COMMAND_OFFSET, PROTOCOL_ID};
use crate::error::{Error, Result};

/// Total length of the segments.
pub(crate) fn total_len<B: Deref<Target = [u8]>>(segs: &[B]) -> usize {
    segs.iter().map(|s| s.len()).sum()
}

/// Calls `f` on each piece of the logical range `start..end`, in order.
pub(crate) fn for_each_piece<B: Deref<Target = [u8]>>(
    segs: &[B],
    start: usize,
    end: usize,
    mut f: impl FnMut(&[u8]),
) {
    let mut base = 0;
    for s in segs {
        let (lo, hi) = (base, base + s.len());
        base = hi;
        if hi <= start {
            continue;
        }
        if lo >= end {
            break;
        }
        let a = start.max(lo) - lo;
        let b = end.min(hi) - lo;
        f(&s[a..b]);
    }
}

/// The logical range `start..end` as one slice, if it lies within one segment.
pub(crate) fn contiguous<B: Deref<Target = [u8]>>(
    segs: &[B],
    start: usize,
    end: usize,
) -> Option<&[u8]> {
    let mut base = 0;
    for s in segs {
        let hi = base + s.len();
        if start >= base && end <= hi && (start < hi || start == end) {
            return Some(&s[start - base..end - base]);
        }
        base = hi;
    }
    None
}

/// Copies the logical range `start..start + out.len()` into `out`.
pub(crate) fn read<B: Deref<Target = [u8]>>(segs: &[B], start: usize, out: &mut [u8]) {
    let mut at = 0;
    for_each_piece(segs, start, start + out.len(), |p| {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    });
    debug_assert_eq!(at, out.len());
}

/// Copies `data` into the logical range starting at `start`.
pub(crate) fn write<B: DerefMut<Target = [u8]>>(segs: &mut [B], start: usize, data: &[u8]) {
    let end = start + data.len();
    let mut base = 0;
    let mut at = 0;
    for s in segs.iter_mut() {
        let (lo, hi) = (base, base + s.len());
        base = hi;
        if hi <= start {
            continue;
        }
        if lo >= end {
            break;
        }
        let a = start.max(lo) - lo;
        let b = end.min(hi) - lo;
        s[a..b].copy_from_slice(&data[at..at + (b - a)]);
        at += b - a;
    }
    debug_assert_eq!(at, data.len());
}

/// One PDU of a chain: its logical byte range and a copy of its header.
pub(crate) struct Pdu {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) header: [u8; HEADER_LEN],
}

/// Reads and checks the PDU starting at `start` of a buffer of `total` bytes.
/// The last PDU of a chain (`NextCommand == 0`) runs to the end of the buffer.
pub(crate) fn pdu_at<B: Deref<Target = [u8]>>(
    segs: &[B],
    start: usize,
    total: usize,
) -> Result<Pdu> {
    let avail = total - start;
    if avail < HEADER_LEN {
        return Err(Error::Truncated {
            offset: start,
            len: avail,
        });
    }
    let mut header = [0u8; HEADER_LEN];
    read(segs, start, &mut header);
    if header[..4] != PROTOCOL_ID {
        return Err(Error::BadProtocolId { offset: start });
    }
    let next = u32_at(&header, NEXT_COMMAND_OFFSET);
    let end = if next == 0 {
        total
    } else {
        let n = next as usize;
        // The next PDU must start on an 8-byte boundary, after this header,
        // with room for its own header.
        if !n.is_multiple_of(8) || n < HEADER_LEN || n > avail || avail - n < HEADER_LEN {
            return Err(Error::BadNextCommand {
                offset: start,
                next_command: next,
            });
        }
        start + n
    };
    Ok(Pdu { start, end, header })
}

/// Walks a whole chain once, calling `f` on each PDU as it is read and
/// checked (its header copied once: callers compute from that copy and the
/// walked layout, never from a second read). The first malformed PDU ends the
/// walk with its error.
pub(crate) fn walk<B: Deref<Target = [u8]>>(segs: &[B], f: impl FnMut(Pdu)) -> Result<()> {
    let first = pdu_at(segs, 0, total_len(segs))?;
    walk_from(segs, first, f)
}

/// [`walk`] from an already read and checked first PDU.
pub(crate) fn walk_from<B: Deref<Target = [u8]>>(
    segs: &[B],
    first: Pdu,
    mut f: impl FnMut(Pdu),
) -> Result<()> {
    let total = total_len(segs);
    let mut pdu = first;
    loop {
        let end = pdu.end;
        f(pdu);
        if end == total {
            return Ok(());
        }
        pdu = pdu_at(segs, end, total)?;
    }
}
