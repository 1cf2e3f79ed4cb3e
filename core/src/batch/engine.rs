//! The batch engine: a batch's items grouped by algorithm, GMAC first, then
//! the HMAC and CMAC lanes passes.

use super::item::Item;
use super::{cmac, gmac, hmac};
use crate::smb2::SigningKey;

/// Computes `out[i]` for `items[i]`, grouped by algorithm.
/// Without the stack erasure: the PDU batch entry points erase around it.
pub(crate) fn compute(items: &[Item<'_>], out: &mut [[u8; 16]]) {
    debug_assert_eq!(items.len(), out.len());
    debug_assert!(items.iter().all(|it| it.head.len() % 64 == 0));
    let others = gmac::compute(
        items
            .iter()
            .map(|it| gmac::Msg::of(it.key, &it.nonce, it.head, it.body)),
        out,
    );
    if others {
        compute_lanes(items, out);
    }
}

/// Computes `out[i]` for the HMAC and CMAC items (the lanes kernels),
/// grouped by algorithm; GMAC items are left alone.
pub(super) fn compute_lanes(items: &[Item<'_>], out: &mut [[u8; 16]]) {
    let mut groups: [Vec<usize>; 2] = Default::default();
    for (i, it) in items.iter().enumerate() {
        match it.key {
            SigningKey::HmacSha256(_) => groups[0].push(i),
            SigningKey::AesCmac(_) => groups[1].push(i),
            SigningKey::AesGmac(_) => {}
        }
    }
    hmac::compute(items, &groups[0], out);
    cmac::compute(items, &groups[1], out);
}
