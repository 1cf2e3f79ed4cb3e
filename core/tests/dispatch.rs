//! Proves the dispatch: the tier detection picks matches what the test runner
//! expects for the CPU model (`SMBSIGN_EXPECT_TIER`, `SMBSIGN_EXPECT_SHA`, set by
//! the qemu matrix), `SMBSIGN_BACKEND` forces a tier or falls back with a reported
//! error, and every reported kernel name is consistent with its tier.

use std::process::Command;

use smbsign::{backend_info, Backend, Error, Tier};

#[test]
fn detected_tier_is_the_expected_one() {
    let info = backend_info();
    println!("backend_info: {info:?}");
    // Detection picks the fastest available tier and says why.
    assert_eq!(
        Some(Backend::detect().tier()),
        Backend::available().last().map(Backend::tier)
    );
    if info.requested.is_none() {
        assert_eq!(info.reason, info.tier.reason(), "{info:?}");
    }
    if let Ok(want) = std::env::var("SMBSIGN_EXPECT_TIER") {
        assert_eq!(info.tier, Tier::from_name(&want).unwrap(), "{info:?}");
        assert_eq!(Backend::detect().tier(), info.tier);
    }
    if let Ok(want) = std::env::var("SMBSIGN_EXPECT_SHA") {
        assert_eq!(info.hmac_sha256, want, "{info:?}");
    }
}

#[test]
fn available_tiers_are_ordered_and_named() {
    let all = Backend::available();
    assert_eq!(all[0].tier(), Tier::Portable);
    assert!(all.windows(2).all(|w| w[0].tier() < w[1].tier()));
    for b in &all {
        let name = b.aes_gmac_name();
        match b.tier() {
            Tier::Portable => {
                assert_eq!(name, "portable");
                assert_eq!(b.aes_cmac_name(), "portable");
                assert_eq!(b.hmac_sha256_name(), "portable");
            }
            Tier::AesNi => assert!(name.contains("pclmulqdq"), "{name}"),
            Tier::Avx2 => assert!(name.contains("ymm"), "{name}"),
            Tier::Avx512 => assert!(name.contains("zmm"), "{name}"),
            Tier::Armv8 => assert!(name.contains("pmull"), "{name}"),
            _ => unreachable!(),
        }
    }
    for t in Tier::ALL {
        match Backend::with_tier(t) {
            Ok(b) => assert_eq!(b.tier(), t),
            Err(e) => assert_eq!(e, Error::BackendUnavailable(t.name())),
        }
    }
    assert_eq!(Tier::from_name("nonsense"), Err(Error::UnknownBackend));
}

/// Re-runs this binary's `child_report` test under `SMBSIGN_BACKEND=value`, through
/// `SMBSIGN_TEST_RUNNER` (e.g. `qemu-x86_64 -cpu Westmere`) when the parent runs under one.
fn child(value: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let runner = std::env::var("SMBSIGN_TEST_RUNNER").unwrap_or_default();
    let mut argv: Vec<String> = runner.split_whitespace().map(String::from).collect();
    argv.push(exe.to_string_lossy().into_owned());
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .args([
            "--exact",
            "child_report",
            "--nocapture",
            "--include-ignored",
        ])
        .env("SMBSIGN_BACKEND", value)
        .env_remove("SMBSIGN_EXPECT_TIER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
#[ignore = "run by forced_backend_env in a child process"]
fn child_report() {
    let info = backend_info();
    println!(
        "CHILD tier={} requested={:?} fallback={:?} reason={}",
        info.tier.name(),
        info.requested,
        info.fallback,
        info.reason
    );
}

#[test]
fn forced_backend_env() {
    let out = child("portable");
    assert!(
        out.contains("CHILD tier=portable requested=Some(\"portable\") fallback=None"),
        "{out}"
    );
    let best = Backend::detect().tier();
    for t in Tier::ALL {
        let out = child(t.name());
        if Backend::with_tier(t).is_ok() {
            assert!(out.contains(&format!("CHILD tier={} ", t.name())), "{out}");
            assert!(out.contains("reason=forced by SMBSIGN_BACKEND"), "{out}");
        } else {
            // Unavailable: an error is reported and detection is used instead.
            assert!(
                out.contains(&format!("CHILD tier={} ", best.name())),
                "{out}"
            );
            assert!(out.contains("fallback=Some(BackendUnavailable"), "{out}");
            assert!(out.contains("is not available on this CPU"), "{out}");
        }
    }
    let out = child("bogus");
    assert!(out.contains("fallback=Some(UnknownBackend)"), "{out}");
}

/// Every multi-buffer kernel this CPU has is reachable through
/// `batch_variants` of every SIMD tier (so the batch tests run each one), and
/// each tier picks the lane kernels its rule names.
#[test]
fn batch_variants_reach_every_lane_kernel() {
    for b in Backend::available() {
        let variants = b.batch_variants();
        assert_eq!(variants[0].aes_batch_name(), b.aes_batch_name());
        assert_eq!(variants[0].sha256_batch_name(), b.sha256_batch_name());
        let aes: Vec<&str> = variants.iter().map(Backend::aes_batch_name).collect();
        let sha: Vec<&str> = variants.iter().map(Backend::sha256_batch_name).collect();
        println!("{:?}: aes {aes:?} sha {sha:?}", b.tier());
        assert!(variants.iter().all(|v| v.tier() == b.tier()));
        if b.tier() == Tier::Portable {
            assert_eq!(variants.len(), 1);
            continue;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let has = |f: &str| match f {
                "avx2" => std::is_x86_feature_detected!("avx2"),
                "avx512" => {
                    std::is_x86_feature_detected!("avx512f")
                        && std::is_x86_feature_detected!("avx512bw")
                        && std::is_x86_feature_detected!("avx512vl")
                }
                "vaes" => std::is_x86_feature_detected!("vaes"),
                "sha" => std::is_x86_feature_detected!("sha"),
                _ => unreachable!(),
            };
            assert_eq!(sha.contains(&"x86_64/avx2-ymm-x8"), has("avx2"));
            assert_eq!(
                sha.iter().any(|s| s.starts_with("x86_64/avx512-zmm-x16")),
                has("avx512")
            );
            assert_eq!(
                sha.contains(&"x86_64/sha-ni-x4 (avx512vl registers)"),
                has("avx512") && has("sha")
            );
            assert_eq!(
                aes.contains(&"x86_64/vaes-ymm-x16"),
                has("vaes") && has("avx2")
            );
            assert_eq!(
                aes.iter().any(|a| a.starts_with("x86_64/vaes-zmm-x32")),
                has("vaes") && has("avx512")
            );
            // AMD family 19h (Zen 4) runs zmm at half rate: four SHA-NI
            // streams there, and the ymm VAES kernel for short batches.
            let zen4 = cpu_field("vendor_id").as_deref() == Some("AuthenticAMD")
                && cpu_field("cpu family").as_deref() == Some("25");
            let (a, s) = (b.aes_batch_name(), b.sha256_batch_name());
            match b.tier() {
                Tier::AesNi => assert_eq!(a, "x86_64/aes-ni-x8"),
                Tier::Avx2 if has("vaes") => assert_eq!(a, "x86_64/vaes-ymm-x16"),
                Tier::Avx512 if has("vaes") && zen4 => {
                    assert_eq!(a, "x86_64/vaes-zmm-x32 (ymm-x16 below 1 KiB mean)")
                }
                Tier::Avx512 if has("vaes") => assert_eq!(a, "x86_64/vaes-zmm-x32"),
                _ => {}
            }
            match b.tier() {
                Tier::Avx512 if has("sha") && zen4 => {
                    assert_eq!(s, "x86_64/sha-ni-x4 (avx512vl registers)")
                }
                Tier::Avx512 => assert_eq!(s, "x86_64/avx512-zmm-x16"),
                _ if has("sha") => assert_eq!(s, "x86_64/sha-ni-x2"),
                _ if has("avx2") => assert_eq!(s, "x86_64/avx2-ymm-x8"),
                _ => assert_eq!(s, "portable"),
            }
        }
    }
}

/// A field of /proc/cpuinfo's first processor (`None` off Linux).
#[cfg(target_arch = "x86_64")]
fn cpu_field(name: &str) -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find(|l| l.split(':').next().map(str::trim) == Some(name))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().to_owned())
}

/// Both zmm long-message GHASH loops this CPU has are reachable through
/// `ghash_variants` (so the differential tests run each one), other tiers
/// have one, and the zmm tier picks the GFNI loop on Intel only.
#[test]
fn ghash_variants_reach_both_zmm_loops() {
    for b in Backend::available() {
        let names: Vec<&str> = b
            .ghash_variants()
            .iter()
            .map(Backend::aes_gmac_name)
            .collect();
        println!("{:?}: {names:?}", b.tier());
        assert_eq!(names[0], b.aes_gmac_name());
        if b.tier() != Tier::Avx512 {
            assert_eq!(names.len(), 1);
            continue;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let gfni = std::is_x86_feature_detected!("gfni");
            let mut want = vec!["x86_64/vpclmulqdq-zmm+aes-ni"];
            if gfni {
                want.push("x86_64/vpclmulqdq-zmm-gfni+aes-ni");
            }
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, want);
            let intel = cpu_field("vendor_id").as_deref() == Some("GenuineIntel");
            assert_eq!(b.aes_gmac_name().contains("-gfni"), gfni && intel);
        }
    }
}
