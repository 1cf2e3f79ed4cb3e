//! The reference CCM lanes kernel: each lane's CTR block and CBC-MAC step
//! with the portable constant-time AES, one lane after the other. What every
//! SIMD CCM lanes kernel is tested against (`batch/ccm.rs` drives them all).

// Lanes are indexed explicitly, as in the SIMD kernels.
#![allow(clippy::needless_range_loop)]

use super::aes::encrypt_block_rounds;
use crate::backend::layout::{inc32, CcmLanes, CipherLaneKeys};

/// For the first `m` blocks of each lane's data (the caller advances it), with
/// `ks = E(ctr++)`: the data becomes `data ^ ks`, and the CBC-MAC absorbs
/// `data` (sealing) or `data ^ (ks & mask)` (opening).
pub(crate) fn ccm_lanes<const N: usize>(
    keys: &CipherLaneKeys<N>,
    rounds: usize,
    open: bool,
    st: &mut CcmLanes<N>,
    data: &mut [&mut [u8]; N],
    m: usize,
) {
    for l in 0..N {
        let mut rk: [[u8; 16]; 15] = core::array::from_fn(|r| keys.0[r][l]);
        for block in data[l][..16 * m].chunks_exact_mut(16) {
            let mut ks = st.ctr[l];
            encrypt_block_rounds(&rk[..=rounds], &mut ks);
            inc32(&mut st.ctr[l], 1);
            for i in 0..16 {
                let d = block[i];
                let into_mac = if open { d ^ (ks[i] & st.mask[l][i]) } else { d };
                st.mac[l][i] ^= into_mac;
                block[i] = d ^ ks[i];
            }
            encrypt_block_rounds(&rk[..=rounds], &mut st.mac[l]);
            crate::wipe::wipe(&mut ks);
        }
        crate::wipe::wipe(rk.as_flattened_mut());
    }
}
