//! AES-CCM batches: the CBC-MAC chains of many messages run across the
//! lanes of one CCM lanes kernel, each beside its own CTR stream, so the
//! latency bound of one chain becomes a throughput bound over many.
//!
//! A message is a job of runs of whole blocks, in order: its head (B0, the
//! AAD's length prefix and the AAD, zero-padded: copied into a buffer of
//! the batch), then its payload: whole blocks in place in the caller's
//! parts, and each block that straddles parts or ends the message gathered
//! into a buffer of the batch (zero-padded) and scattered back afterwards.
//! The kernel XORs every run with the keystream and feeds the CBC-MAC the
//! block (sealing) or the block XOR the masked keystream (opening: all ones
//! over the payload, the message's bytes of a partial last block, zero over
//! the head). The head starts at counter block 0, so the keystream it
//! leaves on B0's copy is `S0`, the tag mask; the payload at block 1.
//!
//! A pass too small to fill any lanes kernel (`Backend::ccm_lanes_pay`)
//! runs its messages one by one through the single-message CCM instead.
//! The lanes are refilled as in `batch/lanes.rs` (longest messages first);
//! idle lanes run over a dummy buffer of their own, which bounds a kernel
//! call to [`MAX_STEP`] blocks.

use crate::backend::layout::{inc32, AesKey};
use crate::backend::{Backend, CcmLaneTask, CcmLanes, CipherLaneKeys};
use crate::cipher::ccm::{self, b0_and_prefix, counter, restore};

/// The most blocks one kernel call advances every lane by (the length of
/// an idle lane's dummy buffer).
const MAX_STEP: usize = 64;

/// One CCM message of a batch; its arguments were checked
/// (`cipher::Key::check`: an 11-byte nonce, below 2^32 bytes in all).
pub(crate) struct Msg<'s, 'b> {
    pub(crate) backend: Backend,
    pub(crate) key: &'s AesKey,
    pub(crate) nonce: &'s [u8],
    pub(crate) aad: &'s [u8],
    pub(crate) parts: &'s mut [&'b mut [u8]],
}

impl Msg<'_, '_> {
    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }
}

/// Seals every message in place; `tags[i]` for `msgs[i]`.
pub(crate) fn seal(msgs: &mut [Msg<'_, '_>], tags: &mut [[u8; 16]]) {
    compute(msgs, tags, false);
}

/// Opens every message in place against `tags`: `ok[i]` says whether
/// `msgs[i]`'s tag matched (compared in constant time); a message whose tag
/// did not match holds its ciphertext again on return.
pub(crate) fn open(msgs: &mut [Msg<'_, '_>], tags: &[[u8; 16]], ok: &mut [bool]) {
    let mut want = vec![[0u8; 16]; msgs.len()];
    compute(msgs, &mut want, true);
    for ((m, (w, t)), ok) in msgs
        .iter_mut()
        .zip(want.iter().zip(tags))
        .zip(ok.iter_mut())
    {
        *ok = crate::ct::eq(w, t);
        if !*ok {
            restore(m.backend, m.key, m.nonce, m.parts);
        }
    }
    crate::wipe::wipe(&mut want);
}

/// The tags of every message, sealing or opening, by key size (one lanes
/// pass each, on the backend of its first message's key), longest first.
fn compute(msgs: &mut [Msg<'_, '_>], out: &mut [[u8; 16]], open: bool) {
    for rounds in [10, 14] {
        let mut idx: Vec<usize> = (0..msgs.len())
            .filter(|&i| msgs[i].key.rounds == rounds)
            .collect();
        idx.sort_by_key(|&i| core::cmp::Reverse(msgs[i].len() + msgs[i].aad.len()));
        let Some(&first) = idx.first() else { continue };
        let b = msgs[first].backend;
        if b.ccm_lanes_pay(idx.len()) {
            pass(b, rounds, open, msgs, &idx, out);
        } else {
            // Too few to fill a lanes kernel: one by one, each on its own key's backend.
            for &i in &idx {
                let m = &mut msgs[i];
                out[i] = if open {
                    ccm::mac_after_open(m.backend, m.key, m.nonce, m.aad, m.parts)
                } else {
                    ccm::seal(m.backend, m.key, m.nonce, m.aad, m.parts)
                };
            }
        }
    }
}

/// A run of whole blocks and the keystream mask the CBC-MAC reads it with.
struct Run<'x> {
    data: &'x mut [u8],
    mask: [u8; 16],
}

const ONES: [u8; 16] = [0xff; 16];

/// One lanes pass over `msgs[idx[..]]` (all of `rounds` rounds), in that order.
fn pass(
    b: Backend,
    rounds: usize,
    open: bool,
    msgs: &mut [Msg<'_, '_>],
    idx: &[usize],
    out: &mut [[u8; 16]],
) {
    // The heads (B0 || prefix || AAD, zero-padded) and each message's B0.
    let mut b0s = Vec::with_capacity(idx.len());
    let mut head_lens = Vec::with_capacity(idx.len());
    for &i in idx {
        let m = &msgs[i];
        // Cannot truncate: the caller checked the length.
        let (b0, used) = b0_and_prefix(m.nonce, m.aad.len(), m.len() as u32);
        b0s.push((b0, used));
        head_lens.push(16 + (used - 16 + m.aad.len()).next_multiple_of(16));
    }
    let mut heads = vec![0u8; head_lens.iter().sum()];
    // At most one gathered block starts in each part.
    let gathered_max: usize = idx.iter().map(|&i| msgs[i].parts.len()).sum();
    let mut gathered = vec![[0u8; 16]; gathered_max];
    let mut tags = vec![[0u8; 16]; idx.len()];
    {
        // Every job's runs, one after the other: job `j`'s are `starts[j]..starts[j + 1]`.
        let mut runs: Vec<Run<'_>> = Vec::with_capacity(idx.len() * 3);
        let mut starts: Vec<usize> = Vec::with_capacity(idx.len() + 1);
        // (gathered block, offset in it, the part bytes it came from)
        let mut pieces: Vec<(usize, usize, &mut [u8])> = Vec::new();
        let mut g_free = gathered.iter_mut().enumerate();
        let mut h_free: &mut [u8] = &mut heads;
        let mut keys: Vec<&AesKey> = Vec::with_capacity(idx.len());
        let mut ctr0 = Vec::with_capacity(idx.len());
        let mut sel: Vec<Option<&mut Msg<'_, '_>>> = msgs.iter_mut().map(Some).collect();
        for (j, &i) in idx.iter().enumerate() {
            let m = sel[i].take().expect("indices distinct");
            keys.push(m.key);
            ctr0.push(counter(m.nonce, 0));
            let (head, rest) = core::mem::take(&mut h_free).split_at_mut(head_lens[j]);
            h_free = rest;
            let (b0, used) = &b0s[j];
            head[..*used].copy_from_slice(&b0[..*used]);
            head[*used..*used + m.aad.len()].copy_from_slice(m.aad);
            starts.push(runs.len());
            runs.push(Run {
                data: head,
                mask: [0; 16],
            });
            // The gathered block being filled: (index, block, bytes in it).
            let mut cur: Option<(usize, &mut [u8; 16], usize)> = None;
            for part in m.parts.iter_mut() {
                let mut p: &mut [u8] = part;
                if p.is_empty() {
                    continue;
                }
                let mut full = false;
                if let Some((gi, blk, fill)) = cur.as_mut() {
                    let take = (16 - *fill).min(p.len());
                    let (a, rest) = core::mem::take(&mut p).split_at_mut(take);
                    p = rest;
                    blk[*fill..*fill + take].copy_from_slice(a);
                    pieces.push((*gi, *fill, a));
                    *fill += take;
                    full = *fill == 16;
                }
                if full {
                    let (_, blk, _) = cur.take().expect("filling");
                    runs.push(Run {
                        data: &mut blk[..],
                        mask: ONES,
                    });
                }
                if p.is_empty() {
                    continue;
                }
                let whole = p.len() / 16 * 16;
                let (w, tail) = p.split_at_mut(whole);
                if !w.is_empty() {
                    runs.push(Run {
                        data: w,
                        mask: ONES,
                    });
                }
                if !tail.is_empty() {
                    let (gi, blk) = g_free.next().expect("one gathered block per part");
                    blk[..tail.len()].copy_from_slice(tail);
                    let n = tail.len();
                    pieces.push((gi, 0, tail));
                    cur = Some((gi, blk, n));
                }
            }
            if let Some((_, blk, fill)) = cur {
                let mut mask = [0u8; 16];
                mask[..fill].fill(0xff);
                runs.push(Run {
                    data: &mut blk[..],
                    mask,
                });
            }
        }
        starts.push(runs.len());
        let longest = runs.iter().map(|r| r.data.len() / 16).max().unwrap_or(1);
        b.ccm_lanes(
            Task {
                runs: &mut runs,
                starts: &starts,
                step: longest.min(MAX_STEP),
                keys: &keys,
                ctr0: &ctr0,
                macs: &mut tags,
            },
            idx.len(),
            rounds,
            open,
        );
        drop(runs);
        for (gi, off, piece) in pieces {
            piece.copy_from_slice(&gathered[gi][off..off + piece.len()]);
        }
    }
    // Each head's first block is now B0 ^ S0: the tag is MAC ^ S0.
    let mut at = 0;
    for (j, &i) in idx.iter().enumerate() {
        for k in 0..16 {
            out[i][k] = tags[j][k] ^ heads[at + k] ^ b0s[j].0[k];
        }
        at += head_lens[j];
    }
    crate::wipe::wipe(&mut heads);
    crate::wipe::wipe(&mut gathered);
    crate::wipe::wipe(&mut tags);
}

struct Task<'r, 'x> {
    runs: &'r mut [Run<'x>],
    starts: &'r [usize],
    /// The most blocks a kernel call takes (the dummy buffers' length).
    step: usize,
    keys: &'r [&'r AesKey],
    ctr0: &'r [[u8; 16]],
    macs: &'r mut [[u8; 16]],
}

impl CcmLaneTask for Task<'_, '_> {
    type Output = ();

    fn run<const N: usize>(
        self,
        mut kernel: impl for<'a> FnMut(
            &CipherLaneKeys<N>,
            &mut CcmLanes<N>,
            &mut [&'a mut [u8]; N],
            usize,
        ),
    ) {
        let Task {
            runs,
            starts,
            step,
            keys: job_keys,
            ctr0,
            macs,
        } = self;
        let mut keys = CipherLaneKeys::<N>::new();
        let mut st = CcmLanes::<N>::new();
        let jobs = starts.len() - 1;
        let mut dummy = vec![0u8; N * step * 16];
        {
            let mut chunks = dummy.chunks_exact_mut(step * 16);
            // Idle lanes hold their dummy in `data`, busy ones park it in `spare`.
            let mut data: [&mut [u8]; N] =
                core::array::from_fn(|_| chunks.next().expect("N chunks"));
            let mut spare: [&mut [u8]; N] = core::array::from_fn(|_| &mut [][..]);
            let mut job: [Option<usize>; N] = [None; N];
            let mut run_idx = [0usize; N];
            let mut next = 0;
            loop {
                for l in 0..N {
                    if job[l].is_none() && next < jobs {
                        let j = next;
                        next += 1;
                        keys.set(l, job_keys[j]);
                        st.mac[l] = [0; 16];
                        st.ctr[l] = ctr0[j];
                        let head = &mut runs[starts[j]];
                        st.mask[l] = head.mask;
                        core::mem::swap(&mut data[l], &mut spare[l]);
                        data[l] = core::mem::take(&mut head.data);
                        run_idx[l] = 0;
                        job[l] = Some(j);
                    }
                }
                if job.iter().all(Option::is_none) {
                    break;
                }
                let mut m = step;
                for l in 0..N {
                    if job[l].is_some() {
                        m = m.min(data[l].len() / 16);
                    }
                }
                kernel(&keys, &mut st, &mut data, m);
                for l in 0..N {
                    let Some(j) = job[l] else { continue };
                    let rest = core::mem::take(&mut data[l]);
                    data[l] = &mut rest[16 * m..];
                    if !data[l].is_empty() {
                        continue;
                    }
                    let r = run_idx[l] + 1;
                    if starts[j] + r < starts[j + 1] {
                        if run_idx[l] == 0 {
                            // The head is done: the payload starts at counter block 1.
                            st.ctr[l] = ctr0[j];
                            inc32(&mut st.ctr[l], 1);
                        }
                        run_idx[l] = r;
                        let run = &mut runs[starts[j] + r];
                        st.mask[l] = run.mask;
                        data[l] = core::mem::take(&mut run.data);
                    } else {
                        macs[j] = st.mac[l];
                        job[l] = None;
                        core::mem::swap(&mut data[l], &mut spare[l]);
                    }
                }
            }
        }
        // Idle lanes left keystream in the dummy.
        crate::wipe::wipe(&mut dummy);
    }
}
