//! AES-GMAC batches: short messages two at a time through the paired kernel
//! (both tag masks in one VAES chain, both GHASHes in the same carry-less
//! multiplies) where the backend has one; every other message one-shot.

use super::Item;
use crate::mac::gmac::Key;
use crate::smb2::SigningKey;

fn key<'a>(it: &Item<'a>) -> &'a Key {
    match it.key {
        SigningKey::AesGmac(k) => k,
        _ => unreachable!("grouped by algorithm"),
    }
}

fn len(it: &Item<'_>) -> u64 {
    (it.head.len() + it.body.len()) as u64
}

/// Blocks (data, zero padding, length block) of `head || body`.
fn blocks(it: &Item<'_>) -> usize {
    (it.head.len() + it.body.len()).div_ceil(16) + 1
}

/// The message's data blocks for the paired kernel, `n` blocks with the
/// length block (which the kernel forms): the body itself when it is all
/// whole blocks and fills them, else `head || body` zero-padded and
/// right-aligned in `buf` (leading zero blocks leave GHASH unchanged).
fn data<'b>(it: &Item<'b>, n: usize, buf: &'b mut [u8; 256]) -> &'b [u8] {
    let len = it.head.len() + it.body.len();
    if it.head.is_empty() && len == 16 * (n - 1) {
        return it.body;
    }
    let at = 16 * (n - blocks(it));
    let end = 16 * (n - 1);
    buf[..at].fill(0);
    buf[at..at + it.head.len()].copy_from_slice(it.head);
    buf[at + it.head.len()..at + len].copy_from_slice(it.body);
    buf[at + len..end].fill(0);
    &buf[..end]
}

pub(super) fn compute(items: &[Item<'_>], idx: &[usize], out: &mut [[u8; 16]]) {
    // A message pairs when it is short enough and its key's backend has the
    // paired kernel (which also guarantees the key holds the powers it reads).
    let pairable = |it: &Item<'_>| blocks(it) <= key(it).backend().gmac_pair_blocks();
    let mut waiting: Option<usize> = None;
    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    for &i in idx {
        let it = &items[i];
        let k = key(it);
        if !pairable(it) {
            out[i] = k.mac2(&it.nonce, it.head, it.body);
            continue;
        }
        let Some(w) = waiting.take() else {
            waiting = Some(i);
            continue;
        };
        let (iw, kw) = (&items[w], key(&items[w]));
        let n = blocks(iw).max(blocks(it));
        let tags = kw.backend().gmac_pair(
            [&kw.rk, &k.rk],
            [kw.powers(), k.powers()],
            [&Key::j0(&iw.nonce), &Key::j0(&it.nonce)],
            data(iw, n, &mut a),
            data(it, n, &mut b),
            [len(iw), len(it)],
        );
        out[w] = tags[0];
        out[i] = tags[1];
    }
    if let Some(w) = waiting {
        let it = &items[w];
        out[w] = key(it).mac2(&it.nonce, it.head, it.body);
    }
}
