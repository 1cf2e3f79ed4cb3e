//! HMAC-SHA256 batches in two passes through the SHA-256 lanes kernel:
//! every inner hash (from the key's ipad state: head, whole body blocks, then
//! the padded tail), then every outer hash (one block from the opad state).

use super::item::{self, Item};
use super::lanes::{self, Start};
use crate::backend::ShaLaneTask;
use crate::mac::hmac::{outer_block, words_to_bytes, Key, BLOCK};
use crate::smb2::SigningKey;

fn key<'a>(it: &Item<'a>) -> &'a Key {
    match it.key {
        SigningKey::HmacSha256(k) => k,
        _ => unreachable!("grouped by algorithm"),
    }
}

/// The inner hashes: each job's blocks from its key's ipad state; the
/// resulting outer blocks (inner digest, 0x80, zeros, 768 bits) into `outer`.
struct Inner<'s, 'a> {
    items: &'s [Item<'a>],
    idx: &'s [usize],
    tails: &'s [([u8; 2 * BLOCK], usize)],
    outer: &'s mut [[u8; BLOCK]],
}

impl ShaLaneTask for Inner<'_, '_> {
    type Output = ();

    fn run<const N: usize>(
        self,
        mut kernel: impl for<'x> FnMut(&mut [[u32; 8]; N], &mut [&'x [u8]; N], usize),
    ) {
        let Inner {
            items,
            idx,
            tails,
            outer,
        } = self;
        lanes::run::<_, (), N>(
            BLOCK,
            idx.len(),
            &mut (),
            |j, (), _| {
                let it = &items[idx[j]];
                let full = it.body.len() / BLOCK * BLOCK;
                Start {
                    state: key(it).inner,
                    runs: [it.head, &it.body[..full], &tails[j].0[..tails[j].1]],
                }
            },
            |(), s, d, m| kernel(s, d, m),
            |j, s| outer[j] = outer_block(s),
        );
    }
}

/// The outer hashes: one block per job from its key's opad state.
struct Outer<'s, 'a> {
    items: &'s [Item<'a>],
    idx: &'s [usize],
    outer: &'s [[u8; BLOCK]],
    out: &'s mut [[u8; 16]],
}

impl ShaLaneTask for Outer<'_, '_> {
    type Output = ();

    fn run<const N: usize>(
        self,
        mut kernel: impl for<'x> FnMut(&mut [[u32; 8]; N], &mut [&'x [u8]; N], usize),
    ) {
        let Outer {
            items,
            idx,
            outer,
            out,
        } = self;
        lanes::run_one_block::<_, (), N>(
            idx.len(),
            &mut (),
            |j, (), _| (key(&items[idx[j]]).outer, &outer[j][..]),
            |(), s, d, m| kernel(s, d, m),
            |j, s| out[idx[j]].copy_from_slice(&words_to_bytes(s)[..16]),
        );
    }
}

// Not inlined into `compute_lanes`: inlined beside the CMAC pass, a change to
// one moved the other's timings (docs/tuning.md: "CMAC and HMAC batch passes").
#[inline(never)]
pub(super) fn compute(items: &[Item<'_>], idx: &[usize], out: &mut [[u8; 16]]) {
    let Some(&first) = idx.first() else { return };
    // Longest first: a long message started last would run alone at the end.
    let idx = &item::longest_first(items, idx);
    let backend = key(&items[first]).backend();
    // Each message's tail: its last partial block, 0x80, zeros and the bit
    // length (of ipad block + message), in one or two blocks. Public bytes.
    // Written in place: building each on the stack and moving it into the
    // Vec cost more (docs/tuning.md: "HMAC batch tails built in place").
    let mut tails = vec![([0u8; 2 * BLOCK], 0usize); idx.len()];
    for ((t, len), &i) in tails.iter_mut().zip(idx) {
        let it = &items[i];
        let rest = &it.body[it.body.len() / BLOCK * BLOCK..];
        t[..rest.len()].copy_from_slice(rest);
        t[rest.len()] = 0x80;
        *len = if rest.len() < BLOCK - 8 {
            BLOCK
        } else {
            2 * BLOCK
        };
        let bits = ((BLOCK + it.head.len() + it.body.len()) as u64).wrapping_mul(8);
        t[*len - 8..*len].copy_from_slice(&bits.to_be_bytes());
    }
    // The outer blocks (`hmac::outer_block`). Key-dependent.
    let mut outer = vec![[0u8; BLOCK]; idx.len()];
    backend.sha_lanes(Inner {
        items,
        idx,
        tails: &tails,
        outer: &mut outer,
    });
    backend.sha_lanes(Outer {
        items,
        idx,
        outer: &outer,
        out,
    });
    crate::wipe::wipe(outer.as_flattened_mut());
}
