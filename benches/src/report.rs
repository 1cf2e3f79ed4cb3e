//! The readable table and the JSON document.

use serde::Serialize;

use crate::encryption::Encryption;
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
    /// The day of the run (UTC, `YYYY-MM-DD`).
    pub date: String,
    /// Single-core signing vs memcpy, per algorithm x backend x size.
    pub single_core: Vec<Cell>,
    /// Aggregate throughput by thread count.
    pub scaling: Vec<Scaling>,
    /// The mixed SMB-like workload.
    pub mixed: Vec<Mixed>,
    /// SMB3 encryption per cipher: the same three measurements (added within
    /// schema 1: a reader of the signing rows is unaffected).
    pub encryption: Encryption,
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
#[must_use]
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Hinnant's
/// days-to-civil algorithm), as `YYYY-MM-DD`.
#[must_use]
pub fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
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
        "smbsign {} on {} ({} logical CPUs), {}",
        h.smbsign_version, h.cpu_model, h.cores, r.date
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
    let e = &r.encryption;
    if !e.single_core.is_empty() {
        let _ = writeln!(
            o,
            "\nSingle core: encrypting an SMB2 message in place into its transform message, vs memcpy of the same bytes"
        );
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>11} {:>9} {:>9} {:>11} {:>10}",
            "cipher", "backend", "size", "ns/msg", "GB/s", "cyc/B", "memcpy GB/s", "enc/copy"
        );
        for c in &e.single_core {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>11.1} {:>9.3} {:>9} {:>11.2} {:>9.1}x",
                c.cipher,
                c.backend,
                human_size(c.size),
                c.encrypt_ns,
                c.encrypt_gbps,
                c.tsc_cycles_per_byte
                    .map_or("-".into(), |v| format!("{v:.2}")),
                c.size as f64 / c.memcpy_ns,
                c.encrypt_over_memcpy
            );
        }
        let _ = writeln!(
            o,
            "(size: the SMB2 message, 52 bytes of TRANSFORM_HEADER besides; each cipher checked before timing: \
             decrypt(encrypt(x)) == x, the portable tier's ciphertext, a flipped byte refused)"
        );
    }
    if !e.scaling.is_empty() {
        let _ = writeln!(
            o,
            "\nEncryption scaling: aggregate throughput, threads pinned round-robin to cores"
        );
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>8} {:>10} {:>13} {:>11}",
            "cipher", "backend", "size", "threads", "GB/s", "msgs/s", "efficiency"
        );
        for s in &e.scaling {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>8} {:>10.3} {:>13.0} {:>11}",
                s.cipher,
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
    if !e.mixed.is_empty() {
        let _ = writeln!(o, "\nMixed SMB-like traffic, encrypted (the same profile)");
        let _ = writeln!(
            o,
            "{:<12} {:<9} {:>8} {:>16} {:>10} {:>18} {:>10}",
            "cipher",
            "backend",
            "threads",
            "msgs/s/thread",
            "GB/s",
            "memcpy msgs/s/thr",
            "enc/copy"
        );
        for m in &e.mixed {
            let _ = writeln!(
                o,
                "{:<12} {:<9} {:>8} {:>16.0} {:>10.3} {:>18.0} {:>9.1}x",
                m.cipher,
                m.backend,
                m.threads,
                m.msgs_per_sec_per_thread,
                m.gbps,
                m.memcpy_msgs_per_sec_per_thread,
                m.encrypt_over_memcpy
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_date(0), "1970-01-01");
        assert_eq!(super::civil_date(11_016), "2000-02-29");
        assert_eq!(super::civil_date(20_788), "2026-12-01");
    }
}
