//! Timing: adaptive iteration counts, median of samples, pinned worker threads.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde::Serialize;
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::Backend;

use crate::workload;

/// Nanoseconds per call of `f`: the iteration count grows until a batch takes
/// a tenth of `budget`, then the median of five batches is taken.
pub fn ns_per_op(mut f: impl FnMut(), budget: Duration) -> f64 {
    let mut iters: u64 = 1;
    let batch = budget / 10;
    loop {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        let e = t.elapsed();
        if e >= batch || iters >= 1 << 40 {
            break;
        }
        let grow = if e.is_zero() {
            16
        } else {
            (batch.as_nanos() / e.as_nanos().max(1)).clamp(2, 16) as u64
        };
        iters *= grow;
    }
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[2]
}

/// TSC ticks per nanosecond, measured once (x86-64), for cycles/byte figures.
#[must_use]
pub fn tsc_per_ns() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc has no preconditions on x86-64.
        let t0 = unsafe { core::arch::x86_64::_rdtsc() };
        let i0 = Instant::now();
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: as above.
        let t1 = unsafe { core::arch::x86_64::_rdtsc() };
        Some((t1 - t0) as f64 / i0.elapsed().as_nanos() as f64)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// One single-core measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// `hmac-sha256`, `aes-cmac` or `aes-gmac`.
    pub algorithm: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// PDU size in bytes.
    pub size: usize,
    /// Nanoseconds to sign one PDU in place.
    pub sign_ns: f64,
    /// Signing throughput, GB/s (10^9 bytes).
    pub sign_gbps: f64,
    /// TSC cycles per byte (x86-64), at the TSC rate, not the boosted core clock.
    pub tsc_cycles_per_byte: Option<f64>,
    /// Nanoseconds to memcpy the same bytes.
    pub memcpy_ns: f64,
    /// sign time / memcpy time: how much slower a signed copy's signing step is than the copy.
    pub sign_over_memcpy: f64,
}

/// Signs a `size`-byte PDU with `alg` on `backend`, and copies it, on this thread.
pub fn single(
    alg: Algorithm,
    backend: Backend,
    size: usize,
    budget: Duration,
    tsc: Option<f64>,
) -> Cell {
    let key = SigningKey::with_backend(alg, &[0x42; 16], backend).expect("16-byte key");
    let mut buf = workload::pdu(size, 1);
    let sign_ns = ns_per_op(
        || smb2::sign_pdu(&key, black_box(&mut buf)).expect("valid PDU"),
        budget,
    );
    let memcpy_ns = memcpy_ns(buf.len(), budget / 2);
    let bytes = buf.len() as f64;
    Cell {
        algorithm: alg.name(),
        backend: backend.tier().name(),
        size: buf.len(),
        sign_ns,
        sign_gbps: bytes / sign_ns,
        tsc_cycles_per_byte: tsc.map(|r| sign_ns * r / bytes),
        memcpy_ns,
        sign_over_memcpy: sign_ns / memcpy_ns,
    }
}

/// Nanoseconds to memcpy `len` bytes (a PDU's bytes), timed for `budget`.
pub fn memcpy_ns(len: usize, budget: Duration) -> f64 {
    // Source and destination in one allocation, 2112 bytes apart modulo 4 KiB:
    // separately allocated buffers often share their page offset, and copies
    // between 4 KiB-aliased addresses run several times slower on some CPUs
    // (seen here: 2.5 GB/s at 64 KiB), which would flatter signing.
    let mut arena = vec![0u8; 2 * len + 8192];
    arena[..len].copy_from_slice(&workload::pdu(len, 2));
    let (src, rest) = arena.split_at_mut(len);
    let gap = (4096 - src.len() % 4096) % 4096 + 2112;
    let dst = &mut rest[gap..gap + src.len()];
    ns_per_op(
        || {
            dst.copy_from_slice(black_box(&*src));
            black_box(&mut *dst);
        },
        budget,
    )
}

/// Runs `work` on `threads` threads, pinned round-robin to the available cores,
/// for `duration`; each call returns the bytes it processed. Returns (bytes, calls, seconds).
pub fn parallel<F>(threads: usize, duration: Duration, make_work: F) -> (u64, u64, f64)
where
    F: Fn(usize) -> Box<dyn FnMut() -> u64 + Send> + Sync,
{
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(threads + 1));
    let totals: Vec<(u64, u64, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let mut work = make_work(i);
                let (stop, start) = (stop.clone(), start.clone());
                let core = cores.get(i % cores.len().max(1)).copied();
                s.spawn(move || {
                    if let Some(c) = core {
                        core_affinity::set_for_current(c);
                    }
                    start.wait();
                    let t = Instant::now();
                    let (mut bytes, mut calls) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        bytes += work();
                        calls += 1;
                    }
                    (bytes, calls, t.elapsed().as_secs_f64())
                })
            })
            .collect();
        start.wait();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let bytes = totals.iter().map(|t| t.0).sum();
    let calls = totals.iter().map(|t| t.1).sum();
    // Work finishes the call in flight when told to stop: use the longest
    // thread's real elapsed time, not the nominal duration.
    let secs = totals.iter().map(|t| t.2).fold(0.0, f64::max);
    (bytes, calls, secs)
}

/// Aggregate signing throughput on N threads.
#[derive(Clone, Debug, Serialize)]
pub struct Scaling {
    /// Algorithm name.
    pub algorithm: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// PDU size in bytes.
    pub size: usize,
    /// Worker threads.
    pub threads: usize,
    /// Aggregate GB/s.
    pub gbps: f64,
    /// Aggregate PDUs per second.
    pub msgs_per_sec: f64,
    /// gbps / (min(threads, cores) x the 1-thread gbps of the same run); 1.0 is linear.
    pub efficiency: Option<f64>,
}

/// Signing `size`-byte PDUs on `threads` pinned threads, each with its own key copy and buffer.
pub fn scaling(
    alg: Algorithm,
    backend: Backend,
    size: usize,
    threads: usize,
    duration: Duration,
) -> Scaling {
    let key = SigningKey::with_backend(alg, &[0x42; 16], backend).expect("16-byte key");
    let (bytes, calls, secs) = parallel(threads, duration, |i| {
        let key = key.clone();
        let mut buf = workload::pdu(size, i as u64);
        Box::new(move || {
            smb2::sign_pdu(&key, black_box(&mut buf)).expect("valid PDU");
            buf.len() as u64
        })
    });
    Scaling {
        algorithm: alg.name(),
        backend: backend.tier().name(),
        size,
        threads,
        gbps: bytes as f64 / secs / 1e9,
        msgs_per_sec: calls as f64 / secs,
        efficiency: None,
    }
}

/// The mixed SMB-like workload on N threads.
#[derive(Clone, Debug, Serialize)]
pub struct Mixed {
    /// Algorithm name.
    pub algorithm: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// Signed messages per second per thread.
    pub msgs_per_sec_per_thread: f64,
    /// Aggregate signed GB/s.
    pub gbps: f64,
    /// The same messages memcpy'd instead: messages per second per thread.
    pub memcpy_msgs_per_sec_per_thread: f64,
    /// Signing time / copying time for this mix.
    pub sign_over_memcpy: f64,
}

/// Runs the mixed profile (`workload::MIXED_PROFILE`) signing, then copying, on `threads` threads.
pub fn mixed(alg: Algorithm, backend: Backend, threads: usize, duration: Duration) -> Mixed {
    let key = SigningKey::with_backend(alg, &[0x42; 16], backend).expect("16-byte key");
    let sizes = workload::mixed_sizes();
    let per_pass: u64 = sizes.iter().map(|&s| s as u64).sum();
    let msgs = sizes.len() as f64;
    let pdus: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| workload::pdu(s, i as u64))
        .collect();
    let (bytes, _, secs) = parallel(threads, duration, |_| {
        let key = key.clone();
        let mut pdus = pdus.clone();
        Box::new(move || {
            for p in &mut pdus {
                smb2::sign_pdu(&key, black_box(p)).expect("valid PDU");
            }
            per_pass
        })
    });
    let (cbytes, _, csecs) = parallel(threads, duration / 2, |_| {
        let src = pdus.clone();
        let mut dst = pdus.clone();
        Box::new(move || {
            for (d, s) in dst.iter_mut().zip(&src) {
                d.copy_from_slice(black_box(s));
            }
            black_box(&mut dst);
            per_pass
        })
    });
    let sign_rate = bytes as f64 / per_pass as f64 * msgs / secs / threads as f64;
    let copy_rate = cbytes as f64 / per_pass as f64 * msgs / csecs / threads as f64;
    Mixed {
        algorithm: alg.name(),
        backend: backend.tier().name(),
        threads,
        msgs_per_sec_per_thread: sign_rate,
        gbps: bytes as f64 / secs / 1e9,
        memcpy_msgs_per_sec_per_thread: copy_rate,
        sign_over_memcpy: copy_rate / sign_rate,
    }
}
