//! Walking a message held in parts (scatter-gather buffers) block by block.

/// Calls `f` on the concatenation of `parts` in order, in pieces whose
/// lengths are multiples of 16 except the last, each piece on the global
/// 16-byte grid. Runs of whole blocks inside one part are passed in place; a
/// block that straddles parts (and a final partial block) is gathered into a
/// stack block, passed, and, when `WRITE`, scattered back. The stack block is
/// wiped before returning (it may hold plaintext).
pub(crate) fn walk<const WRITE: bool>(parts: &mut [&mut [u8]], mut f: impl FnMut(&mut [u8])) {
    let mut buf = [0u8; 16];
    let mut fill = 0;
    // Where the gathered bytes came from: (part, start, len); at most 16 parts.
    let mut from = [(0usize, 0usize, 0usize); 16];
    let mut pieces = 0;
    let scatter = |parts: &mut [&mut [u8]], buf: &[u8], from: &[(usize, usize, usize)]| {
        if WRITE {
            let mut at = 0;
            for &(i, start, len) in from {
                parts[i][start..start + len].copy_from_slice(&buf[at..at + len]);
                at += len;
            }
        }
    };
    for i in 0..parts.len() {
        let len = parts[i].len();
        if len == 0 {
            continue;
        }
        let mut pos = 0;
        if fill > 0 {
            let take = (16 - fill).min(len);
            buf[fill..fill + take].copy_from_slice(&parts[i][..take]);
            from[pieces] = (i, 0, take);
            pieces += 1;
            fill += take;
            pos = take;
            if fill < 16 {
                continue;
            }
            f(&mut buf);
            scatter(parts, &buf, &from[..pieces]);
            (fill, pieces) = (0, 0);
        }
        let whole = (len - pos) / 16 * 16;
        if whole > 0 {
            f(&mut parts[i][pos..pos + whole]);
            pos += whole;
        }
        if pos < len {
            buf[..len - pos].copy_from_slice(&parts[i][pos..]);
            from[0] = (i, pos, len - pos);
            (fill, pieces) = (len - pos, 1);
        }
    }
    if fill > 0 {
        f(&mut buf[..fill]);
        scatter(parts, &buf[..fill], &from[..pieces]);
    }
    crate::wipe::wipe(&mut buf);
}

#[cfg(test)]
mod tests {
    use super::walk;

    #[test]
    fn pieces_follow_the_grid_and_scatter_back() {
        for total in [0usize, 1, 15, 16, 17, 33, 100] {
            for cut in 0..=total {
                for cut2 in cut..=total {
                    let mut data: Vec<u8> = (0..total as u8).collect();
                    let (a, rest) = data.split_at_mut(cut);
                    let (b, c) = rest.split_at_mut(cut2 - cut);
                    let mut parts: Vec<&mut [u8]> = vec![a, &mut [][..], b, c];
                    let mut seen = Vec::new();
                    let mut lens = Vec::new();
                    walk::<true>(&mut parts, |p| {
                        lens.push(p.len());
                        seen.extend_from_slice(p);
                        p.iter_mut().for_each(|x| *x = x.wrapping_add(1));
                    });
                    let want: Vec<u8> = (0..total as u8).collect();
                    assert_eq!(seen, want, "{total} {cut} {cut2}");
                    let (last, init) = lens.split_last().unwrap_or((&0, &[]));
                    assert!(init.iter().all(|l| l % 16 == 0 && *l > 0));
                    assert!(*last > 0 || total == 0);
                    let got: Vec<u8> = parts.concat();
                    let want: Vec<u8> = (1..=total as u8).collect();
                    assert_eq!(got, want);
                }
            }
        }
    }
}
