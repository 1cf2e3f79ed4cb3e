//! [`Item`]: one MAC computation of a batch, as the lanes passes take it.

use crate::mac::gmac::NONCE_LEN;
use crate::smb2::SigningKey;

/// One MAC computation inside the engine: `head || body`, where `head` is
/// empty or a 64-byte SMB2 header copy (a whole number of AES and SHA-256
/// blocks, so lanes can take it as a run of its own).
pub(crate) struct Item<'a> {
    pub(crate) key: &'a SigningKey,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) head: &'a [u8],
    pub(crate) body: &'a [u8],
}

/// `idx` ordered by decreasing message length (stable), so the lanes start
/// the longest messages first and fill in with the short ones.
pub(super) fn longest_first(items: &[Item<'_>], idx: &[usize]) -> Vec<usize> {
    let mut order = idx.to_vec();
    order.sort_by_key(|&i| core::cmp::Reverse(items[i].head.len() + items[i].body.len()));
    order
}
