//! AES-CMAC batches: every block but the last through the AES lanes
//! kernel, then the last block, prepared beforehand with its subkey, as a
//! run of its own.

use super::item::{self, Item};
use super::lanes::{self, Start};
use crate::backend::{AesLaneTask, LaneKeys};
use crate::mac::cmac::Key;
use crate::smb2::SigningKey;

fn key<'a>(it: &Item<'a>) -> &'a Key {
    match it.key {
        SigningKey::AesCmac(k) => k,
        _ => unreachable!("grouped by algorithm"),
    }
}

/// `head || body` without its last (complete or partial) block, as two runs of
/// whole blocks, and the last block's bytes.
fn split<'a>(head: &'a [u8], body: &'a [u8]) -> ([&'a [u8]; 2], &'a [u8]) {
    let total = head.len() + body.len();
    let bulk = if total == 0 { 0 } else { (total - 1) / 16 * 16 };
    if bulk < head.len() {
        // The message ends inside the (block-aligned) head: the body is empty.
        ([&head[..bulk], &[]], &head[bulk..])
    } else {
        let b = bulk - head.len();
        ([head, &body[..b]], &body[b..])
    }
}

struct Task<'s, 'a> {
    items: &'s [Item<'a>],
    idx: &'s [usize],
    last: &'s [[u8; 16]],
    out: &'s mut [[u8; 16]],
}

impl AesLaneTask for Task<'_, '_> {
    type Output = ();

    fn run<const N: usize>(
        self,
        kernel: impl for<'x> FnMut(&LaneKeys<N>, &mut [[u8; 16]; N], &mut [&'x [u8]; N], usize),
    ) {
        let Task {
            items,
            idx,
            last,
            out,
        } = self;
        let mut keys = LaneKeys::<N>::new();
        lanes::run(
            16,
            idx.len(),
            &mut keys,
            |j, keys, lane| {
                let it = &items[idx[j]];
                keys.set(lane, &key(it).rk);
                let ([r0, r1], _) = split(it.head, it.body);
                Start {
                    state: [0u8; 16],
                    runs: [r0, r1, &last[j]],
                }
            },
            kernel,
            |j, state| out[idx[j]] = *state,
        );
    }
}

// Not inlined into `compute_lanes`: inlined beside the HMAC pass, a change to
// one moved the other's timings (docs/tuning.md: "CMAC and HMAC batch passes").
#[inline(never)]
pub(super) fn compute(items: &[Item<'_>], idx: &[usize], out: &mut [[u8; 16]]) {
    let Some(&first) = idx.first() else { return };
    // Longest first: a long message started last would run alone at the end.
    let idx = &item::longest_first(items, idx);
    // The last blocks, padded and masked with K1 or K2: key-dependent, zeroized below.
    let mut last: Vec<[u8; 16]> = idx
        .iter()
        .map(|&i| {
            let it = &items[i];
            let (_, tail) = split(it.head, it.body);
            key(it).last_block(tail)
        })
        .collect();
    let total: usize = idx
        .iter()
        .map(|&i| items[i].head.len() + items[i].body.len())
        .sum();
    let mean_blocks = total / 16 / idx.len();
    key(&items[first]).backend().aes_lanes(
        Task {
            items,
            idx,
            last: &last,
            out,
        },
        mean_blocks,
    );
    crate::wipe::wipe(&mut last);
}
