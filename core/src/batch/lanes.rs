//! The lanes scheduler: keeps `N` independent jobs in the SIMD lanes of
//! one kernel and refills a lane the moment its job ends, so messages of
//! different lengths never wait for the longest (as multi-buffer libraries do).
//!
//! A job is a sequence of up to three runs of whole blocks (header copy, body,
//! prepared final block) and a starting chaining state. Each kernel call
//! advances every lane by the same number of blocks — the fewest any active
//! lane has left in its current run — then finished runs move on and finished
//! jobs are handed back. Idle lanes read an active lane's data and their
//! results are discarded: on the AES and SHA kernels a full set of lanes costs
//! no more time than one (the work is latency-bound until the lanes are full).

/// What a job brings to its lane: its starting state and its blocks.
pub(crate) struct Start<'a, S> {
    pub(crate) state: S,
    pub(crate) runs: [&'a [u8]; 3],
}

/// Runs `count` jobs through an `N`-lane kernel with `block`-byte blocks.
///
/// `start(job, keys, lane)` loads job `job`'s key material into lane `lane`
/// of `keys` and returns its state and runs (whole blocks each);
/// `kernel(keys, states, data, m)` advances every lane by `m` blocks (each
/// `data[l]` holds at least `m` blocks; the kernel consumes them);
/// `done(job, state)` receives each job's final chaining state.
#[inline(always)]
pub(crate) fn run<'a, S, K, const N: usize>(
    block: usize,
    count: usize,
    keys: &mut K,
    mut start: impl FnMut(usize, &mut K, usize) -> Start<'a, S>,
    mut kernel: impl FnMut(&K, &mut [S; N], &mut [&'a [u8]; N], usize),
    mut done: impl FnMut(usize, &S),
) where
    S: Copy + Default,
{
    let mut job: [Option<usize>; N] = [None; N];
    let mut runs: [[&'a [u8]; 3]; N] = [[&[]; 3]; N];
    let mut run_idx = [0usize; N];
    let mut state = [S::default(); N];
    let mut data: [&'a [u8]; N] = [&[]; N];
    let mut next = 0;
    loop {
        // Refill idle lanes; a job with no blocks at all finishes at once.
        for l in 0..N {
            while job[l].is_none() && next < count {
                let j = next;
                next += 1;
                let s = start(j, keys, l);
                debug_assert!(s.runs.iter().all(|r| r.len() % block == 0));
                state[l] = s.state;
                runs[l] = s.runs;
                match s.runs.iter().position(|r| !r.is_empty()) {
                    Some(i) => {
                        run_idx[l] = i;
                        data[l] = s.runs[i];
                        job[l] = Some(j);
                    }
                    None => done(j, &state[l]),
                }
            }
        }
        let Some(first) = job.iter().position(Option::is_some) else {
            break;
        };
        let mut m = usize::MAX;
        for l in 0..N {
            if job[l].is_some() {
                m = m.min(data[l].len() / block);
            }
        }
        for l in 0..N {
            if job[l].is_none() {
                data[l] = data[first];
            }
        }
        kernel(keys, &mut state, &mut data, m);
        for l in 0..N {
            let Some(j) = job[l] else { continue };
            if !data[l].is_empty() {
                continue;
            }
            match (run_idx[l] + 1..3).find(|&i| !runs[l][i].is_empty()) {
                Some(i) => {
                    run_idx[l] = i;
                    data[l] = runs[l][i];
                }
                None => {
                    done(j, &state[l]);
                    job[l] = None;
                }
            }
        }
    }
    // Chaining values are key-dependent.
    crate::wipe::wipe(&mut state);
}

/// Runs `count` jobs of exactly one block each, `N` at a time (no refill
/// bookkeeping: every lane ends together). A last partial group repeats its
/// last job in the idle lanes. Arguments as [`run`], with `start` returning
/// the state and the one block.
#[inline(always)]
pub(crate) fn run_one_block<'a, S, K, const N: usize>(
    count: usize,
    keys: &mut K,
    mut start: impl FnMut(usize, &mut K, usize) -> (S, &'a [u8]),
    mut kernel: impl FnMut(&K, &mut [S; N], &mut [&'a [u8]; N], usize),
    mut done: impl FnMut(usize, &S),
) where
    S: Copy + Default,
{
    let mut state = [S::default(); N];
    let mut data: [&'a [u8]; N] = [&[]; N];
    let mut j = 0;
    while j < count {
        let take = N.min(count - j);
        for l in 0..N {
            (state[l], data[l]) = start(j + l.min(take - 1), keys, l);
        }
        kernel(keys, &mut state, &mut data, 1);
        for (l, s) in state.iter().enumerate().take(take) {
            done(j + l, s);
        }
        j += take;
    }
    crate::wipe::wipe(&mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy "MAC": the state sums block indices' first bytes; each lane must
    /// see exactly its own job's blocks, in order, across refills.
    #[test]
    fn every_job_sees_its_own_blocks_in_order() {
        let msgs: Vec<Vec<u8>> = (0..23u8)
            .map(|j| {
                (0..(j as usize * 7 % 11) * 4)
                    .map(|i| i as u8 ^ j)
                    .collect()
            })
            .collect();
        let expect: Vec<u64> = msgs
            .iter()
            .map(|m| {
                m.iter()
                    .fold(7u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
            })
            .collect();
        let mut got = vec![0u64; msgs.len()];
        run::<u64, (), 3>(
            4,
            msgs.len(),
            &mut (),
            |j, (), _| {
                let (a, b) = msgs[j].split_at(msgs[j].len() / 8 * 4);
                Start {
                    state: 7,
                    runs: [a, &[], b],
                }
            },
            |(), st, data, m| {
                for l in 0..3 {
                    for &b in &data[l][..4 * m] {
                        st[l] = st[l].wrapping_mul(31).wrapping_add(u64::from(b));
                    }
                    data[l] = &data[l][4 * m..];
                }
            },
            |j, s| got[j] = *s,
        );
        assert_eq!(got, expect);
    }
}
