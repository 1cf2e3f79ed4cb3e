//! Can SHA-NI streams run beside the 16-lane zmm SHA-256 kernel (issue 18)?
//! Measures, on this core, the throughput of the instructions both kernels are
//! made of, alone and mixed. If a mix of `sha256rnds2` and zmm integer
//! operations takes the sum of their times alone (0% hidden), the two compete
//! for the same execution ports and a hybrid kernel can only average the two
//! kernels' rates; if it takes about the larger of the two (100% hidden), a
//! hybrid pays. Also prints the
//! costs that bound any SHA-NI multi-stream kernel (`sha256rnds2` latency and
//! throughput, `sha256msg1/2` throughput). Results on Zen 4: docs/benchmarks-log.md, "HMAC-SHA256 batches
//! on Zen 4: SHA-NI beside the zmm lanes"; on the Xeon: "What the hardware allows".
//!
//! `cargo run --release -p smbsign-benches --example sha_ports` (x86-64 with
//! AVX-512F and SHA-NI). Each figure is the fastest of 50 runs of 10^6 loop
//! turns; cycles assume the clock of a dependent `add` chain measured first.

#[cfg(target_arch = "x86_64")]
mod probe {
    use std::arch::asm;
    use std::time::Instant;

    const TURNS: u64 = 1_000_000;

    /// Seconds per loop turn: the fastest of 50 runs of `TURNS` turns.
    fn per_turn(mut run: impl FnMut()) -> f64 {
        (0..50)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
            / TURNS as f64
    }

    /// Seconds per turn of a loop whose body is the given instructions;
    /// every vector register is declared clobbered.
    macro_rules! timed {
        ($($ins:literal),+ $(,)?) => {
            per_turn(|| {
                for _ in 0..TURNS {
                    // SAFETY: the instructions only read and write vector
                    // registers, all declared clobbered; the caller's
                    // target features (checked at run time) cover them.
                    unsafe {
                        asm!($($ins),+,
                            out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
                            out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
                            out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
                            out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _,
                            out("zmm16") _, out("zmm17") _, out("zmm18") _, out("zmm19") _,
                            out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _,
                            out("zmm24") _, out("zmm25") _, out("zmm26") _, out("zmm27") _,
                            options(nomem, nostack));
                    }
                }
            })
        };
    }

    /// Cycles per second, from a chain of dependent 1-cycle `add`s.
    fn clock() -> f64 {
        let s = per_turn(|| {
            let mut x = 0u64;
            for _ in 0..TURNS {
                // SAFETY: register arithmetic only.
                // Adds of a register: Golden Cove and later fold chains of
                // immediate adds at rename.
                unsafe {
                    asm!("add {0}, {1}", "add {0}, {1}", "add {0}, {1}", "add {0}, {1}",
                         "add {0}, {1}", "add {0}, {1}", "add {0}, {1}", "add {0}, {1}",
                         inout(reg) x, in(reg) 3u64, options(nomem, nostack));
                }
            }
            std::hint::black_box(x);
        });
        8.0 / s
    }

    /// # Safety
    /// The CPU must support AVX-512F and SHA.
    #[target_feature(enable = "avx512f,sha,sse4.1")]
    pub(super) unsafe fn run() {
        let hz = clock();
        println!("clock (dependent add chain): {:.2} GHz", hz / 1e9);
        let cycles = |s: f64| s * hz;
        // Twelve (or six) independent instances per turn: throughput.
        let paddd = timed!(
            "vpaddd zmm0, zmm0, zmm16",
            "vpaddd zmm1, zmm1, zmm16",
            "vpaddd zmm2, zmm2, zmm16",
            "vpaddd zmm3, zmm3, zmm16",
            "vpaddd zmm4, zmm4, zmm16",
            "vpaddd zmm5, zmm5, zmm16",
            "vpaddd zmm6, zmm6, zmm16",
            "vpaddd zmm7, zmm7, zmm16",
            "vpaddd zmm8, zmm8, zmm16",
            "vpaddd zmm9, zmm9, zmm16",
            "vpaddd zmm10, zmm10, zmm16",
            "vpaddd zmm11, zmm11, zmm16",
        ) / 12.0;
        let tern = timed!(
            "vpternlogd zmm0, zmm1, zmm2, 0x96",
            "vpternlogd zmm3, zmm1, zmm2, 0x96",
            "vpternlogd zmm4, zmm1, zmm2, 0x96",
            "vpternlogd zmm5, zmm1, zmm2, 0x96",
            "vpternlogd zmm6, zmm1, zmm2, 0x96",
            "vpternlogd zmm7, zmm1, zmm2, 0x96",
            "vpternlogd zmm8, zmm1, zmm2, 0x96",
            "vpternlogd zmm9, zmm1, zmm2, 0x96",
            "vpternlogd zmm10, zmm1, zmm2, 0x96",
            "vpternlogd zmm11, zmm1, zmm2, 0x96",
            "vpternlogd zmm16, zmm1, zmm2, 0x96",
            "vpternlogd zmm17, zmm1, zmm2, 0x96",
        ) / 12.0;
        let rot = timed!(
            "vprold zmm0, zmm0, 3",
            "vprold zmm1, zmm1, 3",
            "vprold zmm2, zmm2, 3",
            "vprold zmm3, zmm3, 3",
            "vprold zmm4, zmm4, 3",
            "vprold zmm5, zmm5, 3",
            "vprold zmm6, zmm6, 3",
            "vprold zmm7, zmm7, 3",
            "vprold zmm8, zmm8, 3",
            "vprold zmm9, zmm9, 3",
            "vprold zmm10, zmm10, 3",
            "vprold zmm11, zmm11, 3",
        ) / 12.0;
        // Legacy-encoded SHA instructions reach xmm0-15 only.
        let rnds2 = timed!(
            "sha256rnds2 xmm1, xmm2",
            "sha256rnds2 xmm3, xmm4",
            "sha256rnds2 xmm5, xmm6",
            "sha256rnds2 xmm7, xmm8",
            "sha256rnds2 xmm9, xmm10",
            "sha256rnds2 xmm11, xmm12",
        ) / 6.0;
        let rnds2_lat = timed!(
            "sha256rnds2 xmm1, xmm2",
            "sha256rnds2 xmm1, xmm2",
            "sha256rnds2 xmm1, xmm2",
            "sha256rnds2 xmm1, xmm2",
        ) / 4.0;
        let msg1 = timed!(
            "sha256msg1 xmm1, xmm13",
            "sha256msg1 xmm2, xmm13",
            "sha256msg1 xmm3, xmm13",
            "sha256msg1 xmm4, xmm13",
            "sha256msg1 xmm5, xmm13",
            "sha256msg1 xmm6, xmm13",
            "sha256msg1 xmm7, xmm13",
            "sha256msg1 xmm8, xmm13",
            "sha256msg1 xmm9, xmm13",
            "sha256msg1 xmm10, xmm13",
            "sha256msg1 xmm11, xmm13",
            "sha256msg1 xmm12, xmm13",
        ) / 12.0;
        let msg2 = timed!(
            "sha256msg2 xmm1, xmm13",
            "sha256msg2 xmm2, xmm13",
            "sha256msg2 xmm3, xmm13",
            "sha256msg2 xmm4, xmm13",
            "sha256msg2 xmm5, xmm13",
            "sha256msg2 xmm6, xmm13",
            "sha256msg2 xmm7, xmm13",
            "sha256msg2 xmm8, xmm13",
            "sha256msg2 xmm9, xmm13",
            "sha256msg2 xmm10, xmm13",
            "sha256msg2 xmm11, xmm13",
            "sha256msg2 xmm12, xmm13",
        ) / 12.0;
        for (name, s) in [
            ("vpaddd zmm", paddd),
            ("vpternlogd zmm", tern),
            ("vprold zmm", rot),
            ("sha256rnds2", rnds2),
            ("sha256msg1", msg1),
            ("sha256msg2", msg2),
        ] {
            println!(
                "{name:>15}: {:.2} cycles ({:.3} ns) per instruction, independent",
                cycles(s),
                s * 1e9
            );
        }
        println!(
            "    sha256rnds2: {:.2} cycles latency (dependent chain)",
            cycles(rnds2_lat)
        );

        // One SHA-256 round's share of the 16-lane kernel's vector work
        // (per round there: 9.4 adds, 5.5 `vpternlogd`, 10.5 rotates and
        // shifts), as 24 independent operations.
        let round_mix = timed!(
            "vpaddd zmm0, zmm0, zmm30",
            "vpternlogd zmm1, zmm17, zmm30, 0x96",
            "vprold zmm2, zmm2, 3",
            "vprold zmm3, zmm3, 3",
            "vpaddd zmm4, zmm4, zmm30",
            "vpternlogd zmm5, zmm17, zmm30, 0x96",
            "vprold zmm6, zmm6, 3",
            "vpaddd zmm7, zmm7, zmm30",
            "vprold zmm8, zmm8, 3",
            "vpaddd zmm9, zmm9, zmm30",
            "vpternlogd zmm10, zmm17, zmm30, 0x96",
            "vprold zmm11, zmm11, 3",
            "vpaddd zmm0, zmm0, zmm30",
            "vpternlogd zmm1, zmm17, zmm30, 0x96",
            "vprold zmm2, zmm2, 3",
            "vprold zmm3, zmm3, 3",
            "vpaddd zmm4, zmm4, zmm30",
            "vpternlogd zmm5, zmm17, zmm30, 0x96",
            "vprold zmm6, zmm6, 3",
            "vpaddd zmm7, zmm7, zmm30",
            "vprold zmm8, zmm8, 3",
            "vpaddd zmm9, zmm9, zmm30",
            "vpternlogd zmm10, zmm17, zmm30, 0x96",
            "vprold zmm11, zmm11, 3",
        );

        // Mixed: six independent `sha256rnds2` with zmm operations.
        let mixes = [
            (
                "6 sha256rnds2 + a round's 24 zmm ops",
                timed!(
                    "vpaddd zmm0, zmm0, zmm30",
                    "vpternlogd zmm1, zmm17, zmm30, 0x96",
                    "sha256rnds2 xmm13, xmm14",
                    "vprold zmm2, zmm2, 3",
                    "vprold zmm3, zmm3, 3",
                    "vpaddd zmm4, zmm4, zmm30",
                    "sha256rnds2 xmm15, xmm14",
                    "vpternlogd zmm5, zmm17, zmm30, 0x96",
                    "vprold zmm6, zmm6, 3",
                    "vpaddd zmm7, zmm7, zmm30",
                    "vprold zmm8, zmm8, 3",
                    "sha256rnds2 xmm12, xmm14",
                    "vpaddd zmm9, zmm9, zmm30",
                    "vpternlogd zmm10, zmm17, zmm30, 0x96",
                    "vprold zmm11, zmm11, 3",
                    "vpaddd zmm0, zmm0, zmm30",
                    "vpternlogd zmm1, zmm17, zmm30, 0x96",
                    "sha256rnds2 xmm13, xmm14",
                    "vprold zmm2, zmm2, 3",
                    "vprold zmm3, zmm3, 3",
                    "vpaddd zmm4, zmm4, zmm30",
                    "sha256rnds2 xmm15, xmm14",
                    "vpternlogd zmm5, zmm17, zmm30, 0x96",
                    "vprold zmm6, zmm6, 3",
                    "vpaddd zmm7, zmm7, zmm30",
                    "vprold zmm8, zmm8, 3",
                    "sha256rnds2 xmm12, xmm14",
                    "vpaddd zmm9, zmm9, zmm30",
                    "vpternlogd zmm10, zmm17, zmm30, 0x96",
                    "vprold zmm11, zmm11, 3",
                ),
                6.0 * rnds2,
                round_mix,
            ),
            (
                "6 sha256rnds2 + 12 vpternlogd zmm",
                timed!(
                    "sha256rnds2 xmm1, xmm2",
                    "vpternlogd zmm16, zmm17, zmm30, 0x96",
                    "vpternlogd zmm18, zmm19, zmm30, 0x96",
                    "sha256rnds2 xmm3, xmm4",
                    "vpternlogd zmm20, zmm21, zmm30, 0x96",
                    "vpternlogd zmm22, zmm23, zmm30, 0x96",
                    "sha256rnds2 xmm5, xmm6",
                    "vpternlogd zmm24, zmm25, zmm30, 0x96",
                    "vpternlogd zmm26, zmm27, zmm30, 0x96",
                    "sha256rnds2 xmm7, xmm8",
                    "vpternlogd zmm16, zmm17, zmm30, 0x96",
                    "vpternlogd zmm18, zmm19, zmm30, 0x96",
                    "sha256rnds2 xmm9, xmm10",
                    "vpternlogd zmm20, zmm21, zmm30, 0x96",
                    "vpternlogd zmm22, zmm23, zmm30, 0x96",
                    "sha256rnds2 xmm11, xmm12",
                    "vpternlogd zmm24, zmm25, zmm30, 0x96",
                    "vpternlogd zmm26, zmm27, zmm30, 0x96",
                ),
                6.0 * rnds2,
                12.0 * tern,
            ),
            (
                "6 sha256rnds2 + 12 vprold zmm",
                timed!(
                    "sha256rnds2 xmm1, xmm2",
                    "vprold zmm16, zmm17, 3",
                    "vprold zmm18, zmm19, 3",
                    "sha256rnds2 xmm3, xmm4",
                    "vprold zmm20, zmm21, 3",
                    "vprold zmm22, zmm23, 3",
                    "sha256rnds2 xmm5, xmm6",
                    "vprold zmm24, zmm25, 3",
                    "vprold zmm26, zmm27, 3",
                    "sha256rnds2 xmm7, xmm8",
                    "vprold zmm16, zmm17, 3",
                    "vprold zmm18, zmm19, 3",
                    "sha256rnds2 xmm9, xmm10",
                    "vprold zmm20, zmm21, 3",
                    "vprold zmm22, zmm23, 3",
                    "sha256rnds2 xmm11, xmm12",
                    "vprold zmm24, zmm25, 3",
                    "vprold zmm26, zmm27, 3",
                ),
                6.0 * rnds2,
                12.0 * rot,
            ),
            (
                "6 sha256rnds2 + 12 vpaddd zmm",
                timed!(
                    "sha256rnds2 xmm1, xmm2",
                    "vpaddd zmm16, zmm17, zmm30",
                    "vpaddd zmm18, zmm19, zmm30",
                    "sha256rnds2 xmm3, xmm4",
                    "vpaddd zmm20, zmm21, zmm30",
                    "vpaddd zmm22, zmm23, zmm30",
                    "sha256rnds2 xmm5, xmm6",
                    "vpaddd zmm24, zmm25, zmm30",
                    "vpaddd zmm26, zmm27, zmm30",
                    "sha256rnds2 xmm7, xmm8",
                    "vpaddd zmm16, zmm17, zmm30",
                    "vpaddd zmm18, zmm19, zmm30",
                    "sha256rnds2 xmm9, xmm10",
                    "vpaddd zmm20, zmm21, zmm30",
                    "vpaddd zmm22, zmm23, zmm30",
                    "sha256rnds2 xmm11, xmm12",
                    "vpaddd zmm24, zmm25, zmm30",
                    "vpaddd zmm26, zmm27, zmm30",
                ),
                6.0 * rnds2,
                12.0 * paddd,
            ),
        ];
        // The share of the smaller part's time that ran in the larger's
        // shadow: 100% is full overlap, 0% none (the two take turns).
        for (name, both, sha, zmm) in mixes {
            println!(
                "{name}: {:.2} cycles per turn; alone {:.2} + {:.2}; hidden {:.0}%",
                cycles(both),
                cycles(sha),
                cycles(zmm),
                100.0 * (sha + zmm - both) / sha.min(zmm)
            );
        }
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("sha")
        && std::is_x86_feature_detected!("sse4.1")
    {
        // SAFETY: AVX-512F, SHA and SSE4.1 were detected just above.
        unsafe { probe::run() };
        return;
    }
    println!("sha_ports needs x86-64 with AVX-512F and SHA-NI");
}
