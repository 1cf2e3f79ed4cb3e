//! The readable table and the JSON document.

use serde::Serialize;

use crate::host::Host;
use crate::measure::{Cell, Mixed, Scaling};

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// JSON schema version of this document.
    pub schema: u32,
    /// The machine.
    pub host: Host,
    /// The command line that produced this run.
    pub command: String,
    /// Single-core signing vs memcpy, per algorithm x backend x size.
    pub single_core: Vec<Cell>,
    /// Aggregate throughput by thread count.
    pub scaling: Vec<Scaling>,
    /// The mixed SMB-like workload.
    pub mixed: Vec<Mixed>,
}

/// `1536` -> `1.5 KiB`.
#[must_use]
pub fn human_size(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// Renders the report as fixed-width text tables.
#[must_use]
pub fn table(r: &Report) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let h = &r.host;
    let _ = writeln!(
        o,
        "smbsign {} on {} ({} logical CPUs)",
        h.smbsign_version, h.cpu_model, h.cores
    );
    let _ = writeln!(o, "features: {}", h.features.join(" "));
    let kernels: Vec<String> = h.kernels.iter().map(|(a, k)| format!("{a}={k}")).collect();
    let _ = writeln!(
        o,
        "detected backend: {} ({})",
        h.detected_tier,
        kernels.join(", ")
    );
    if !r.single_core.is_empty() {
        let _ = writeln!(
            o,
            "\nSingle core: signing an SMB2 PDU in place, vs memcpy of the same bytes"
        );
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>11} {:>9} {:>9} {:>11} {:>10}",
            "algorithm", "backend", "size", "ns/PDU", "GB/s", "cyc/B", "memcpy GB/s", "sign/copy"
        );
        for c in &r.single_core {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>11.1} {:>9.3} {:>9} {:>11.2} {:>9.1}x",
                c.algorithm,
                c.backend,
                human_size(c.size),
                c.sign_ns,
                c.sign_gbps,
                c.tsc_cycles_per_byte
                    .map_or("-".into(), |v| format!("{v:.2}")),
                c.size as f64 / c.memcpy_ns,
                c.sign_over_memcpy
            );
        }
        let _ = writeln!(o, "(cyc/B counts TSC ticks, not boosted core cycles; sign/copy = signing time / copy time)");
    }
    if !r.scaling.is_empty() {
        let _ = writeln!(
            o,
            "\nScaling: aggregate signing throughput, threads pinned round-robin to cores"
        );
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>8} {:>10} {:>13} {:>11}",
            "algorithm", "backend", "size", "threads", "GB/s", "PDUs/s", "efficiency"
        );
        for s in &r.scaling {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>8} {:>10.3} {:>13.0} {:>11}",
                s.algorithm,
                s.backend,
                human_size(s.size),
                s.threads,
                s.gbps,
                s.msgs_per_sec,
                s.efficiency
                    .map_or("-".into(), |e| format!("{:.0}%", e * 100.0))
            );
        }
    }
    if !r.mixed.is_empty() {
        let _ = writeln!(
            o,
            "\nMixed SMB-like traffic (85% 64-512 B control messages, 15% 4 KiB-1 MiB READ/WRITE payloads)"
        );
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>16} {:>10} {:>18} {:>10}",
            "algorithm",
            "backend",
            "threads",
            "msgs/s/thread",
            "GB/s",
            "memcpy msgs/s/thr",
            "sign/copy"
        );
        for m in &r.mixed {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>16.0} {:>10.3} {:>18.0} {:>9.1}x",
                m.algorithm,
                m.backend,
                m.threads,
                m.msgs_per_sec_per_thread,
                m.gbps,
                m.memcpy_msgs_per_sec_per_thread,
                m.sign_over_memcpy
            );
        }
    }
    o
}
