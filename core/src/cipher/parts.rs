//! Walking a message held in parts (scatter-gather buffers) block by block.

use crate::backend::tuning::PARTS_GATHER;

/// Calls `f` on the concatenation of `parts` in order, in pieces whose
/// lengths are multiples of 16 except the last, each piece on the global
/// 16-byte grid. Runs of at least [`PARTS_GATHER`] whole bytes inside one
/// part are passed in place. Everything else (short parts, blocks that
/// straddle parts, the final partial block) is gathered into a stack buffer
/// of that size, passed once it is full or an in-place run comes, and, when
/// `WRITE`, scattered back: each call a kernel makes has a fixed cost, and
/// Samba's header, fixed body and data (64, 24, the rest) would otherwise
/// take five. The buffer is wiped before returning (it may hold plaintext).
// Not inlined: its buffer would join the caller's frame, and GCM's short
// path, which never walks, would write (and erase) below it too.
#[inline(never)]
pub(crate) fn walk<const WRITE: bool>(parts: &mut [&mut [u8]], mut f: impl FnMut(&mut [u8])) {
    let mut buf = [0u8; PARTS_GATHER];
    let mut fill = 0;
    let mut used = 0;
    // The gathered bytes are one stretch of the message: where it starts.
    let mut start = (0, 0);
    for i in 0..parts.len() {
        let len = parts[i].len();
        let mut pos = 0;
        while pos < len {
            let whole = (len - pos) / 16 * 16;
            if fill % 16 == 0 && (fill == PARTS_GATHER || whole >= PARTS_GATHER) {
                if fill > 0 {
                    flush::<WRITE>(&mut f, parts, &mut buf[..fill], start);
                    fill = 0;
                }
                if whole >= PARTS_GATHER {
                    f(&mut parts[i][pos..pos + whole]);
                    pos += whole;
                    continue;
                }
            }
            if fill == 0 {
                start = (i, pos);
            }
            let take = (len - pos).min(PARTS_GATHER - fill);
            buf[fill..fill + take].copy_from_slice(&parts[i][pos..pos + take]);
            fill += take;
            used = used.max(fill);
            pos += take;
        }
    }
    if fill > 0 {
        flush::<WRITE>(&mut f, parts, &mut buf[..fill], start);
    }
    crate::wipe::wipe(&mut buf[..used]);
}

/// Passes the gathered bytes to `f` and, when `WRITE`, scatters them back to
/// the stretch of `parts` they came from, which begins at `(part, pos)`.
fn flush<const WRITE: bool>(
    f: &mut impl FnMut(&mut [u8]),
    parts: &mut [&mut [u8]],
    buf: &mut [u8],
    (mut part, mut pos): (usize, usize),
) {
    f(buf);
    if WRITE {
        let mut at = 0;
        while at < buf.len() {
            let n = (parts[part].len() - pos).min(buf.len() - at);
            parts[part][pos..pos + n].copy_from_slice(&buf[at..at + n]);
            (at, part, pos) = (at + n, part + 1, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{walk, PARTS_GATHER};

    /// Walks `lens`-long parts of a counting message, adding one to every
    /// byte `f` sees; checks the grid, the order, the scatter, and returns
    /// the pieces' lengths.
    fn walked(lens: &[usize]) -> Vec<usize> {
        let total: usize = lens.iter().sum();
        let want: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let mut data = want.clone();
        let mut parts: Vec<&mut [u8]> = Vec::new();
        let mut rest = &mut data[..];
        for &n in lens {
            let (a, b) = rest.split_at_mut(n);
            parts.push(a);
            rest = b;
        }
        let mut seen = Vec::new();
        let mut pieces = Vec::new();
        walk::<true>(&mut parts, |p| {
            pieces.push(p.len());
            seen.extend_from_slice(p);
            p.iter_mut().for_each(|x| *x = x.wrapping_add(1));
        });
        assert_eq!(seen, want, "{lens:?}");
        let (last, init) = pieces.split_last().unwrap_or((&0, &[]));
        assert!(
            init.iter().all(|l| l % 16 == 0 && *l > 0),
            "{lens:?}: {pieces:?}"
        );
        assert!(*last > 0 || total == 0);
        let got: Vec<u8> = parts.concat();
        let bumped: Vec<u8> = want.iter().map(|x| x.wrapping_add(1)).collect();
        assert_eq!(got, bumped, "{lens:?}");
        pieces
    }

    #[test]
    fn long_parts_pass_in_place_and_short_ones_together() {
        let g = PARTS_GATHER;
        // Samba's layout: header, fixed body, data. Up to the buffer's size
        // one call; beyond, the buffer then the rest in place.
        assert_eq!(walked(&[64, 24, g - 88]), [g]);
        assert_eq!(walked(&[64, 24, 4096 - 88]), [g, 4096 - g]);
        assert_eq!(walked(&[64, 24, 4100 - 88]), [g, 4096 - g, 4]);
        // A long first part goes in place from its start.
        assert_eq!(walked(&[g + 20, 30]), [g + 16, 34]);
        // Around the buffer's size, cut anywhere.
        for total in [g - 1, g, g + 1, 2 * g + 17, 3 * g] {
            for cut in (0..=total).step_by(7) {
                for cut2 in (cut..=total).step_by(61) {
                    walked(&[cut, 0, cut2 - cut, total - cut2]);
                }
            }
        }
    }

    #[test]
    fn many_small_parts_gather_and_scatter() {
        // Pieces that never end on the grid (8, then 16s), one-byte parts,
        // and a mix with parts long enough to pass in place.
        let mut odd = vec![8];
        odd.extend([16; 200]);
        walked(&odd);
        walked(&[1; 1500]);
        let mixed: Vec<usize> = (0..400).map(|i| [1, 15, 17, 3, 600][i % 5]).collect();
        walked(&mixed);
    }

    #[test]
    fn pieces_follow_the_grid_and_scatter_back() {
        for total in [0usize, 1, 15, 16, 17, 33, 100] {
            for cut in 0..=total {
                for cut2 in cut..=total {
                    walked(&[cut, 0, cut2 - cut, total - cut2]);
                }
            }
        }
    }
}
