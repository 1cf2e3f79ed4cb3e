//! What machine this is: CPU model, cores, the features smbsign cares about.

use serde::Serialize;

/// The host's description, printed and saved with every run.
#[derive(Clone, Debug, Serialize)]
pub struct Host {
    /// CPU model name (`/proc/cpuinfo`), or the architecture.
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// Crypto-relevant CPU features detected at run time.
    pub features: Vec<&'static str>,
    /// The backend tier detection picks.
    pub detected_tier: &'static str,
    /// Kernel names of the detected backend, per algorithm.
    pub kernels: [(&'static str, &'static str); 3],
    /// smbsign version.
    pub smbsign_version: &'static str,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[allow(unused_mut)]
fn features() -> Vec<&'static str> {
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => { $( if std::is_x86_feature_detected!($name) { f.push($name); } )* };
        }
        probe!(
            "aes",
            "pclmulqdq",
            "sha",
            "avx2",
            "vaes",
            "vpclmulqdq",
            "avx512f",
            "avx512vl",
            "avx512bw"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => { $( if std::arch::is_aarch64_feature_detected!($name) { f.push($name); } )* };
        }
        probe!("aes", "pmull", "sha2", "sha3");
    }
    f
}

/// Describes this host.
#[must_use]
pub fn describe() -> Host {
    let b = smbsign::Backend::detect();
    Host {
        cpu_model: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        features: features(),
        detected_tier: b.tier().name(),
        kernels: [
            ("hmac-sha256", b.hmac_sha256_name()),
            ("aes-cmac", b.aes_cmac_name()),
            ("aes-gmac", b.aes_gmac_name()),
        ],
        smbsign_version: env!("CARGO_PKG_VERSION"),
    }
}
