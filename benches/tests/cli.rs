//! Proves smbsign-bench's command line and outputs: the table, the JSON document
//! and its schema, the SVG/PNG plots (present and non-empty), and clear errors
//! for bad arguments. No timing is asserted.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smbsign-bench"))
        .args(args)
        .output()
        .expect("run smbsign-bench")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("smbsign-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn quick_run_writes_table_json_and_plots() {
    let dir = tmp("full");
    let json = dir.join("out.json");
    let plots = dir.join("plots");
    let out = bench(&[
        "--quick",
        "--algorithms",
        "aes-gmac,hmac-sha256",
        "--sizes",
        "64,1K",
        "--threads",
        "1,2",
        "--backend",
        "portable",
        "--json",
        json.to_str().unwrap(),
        "--plot-dir",
        plots.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for needle in [
        "Single core",
        "aes-gmac",
        "hmac-sha256",
        "portable",
        "1 KiB",
        "Scaling",
        "Mixed",
        "detected backend",
    ] {
        assert!(stdout.contains(needle), "table lacks {needle:?}:\n{stdout}");
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], 1);
    assert!(doc["host"]["cores"].as_u64().unwrap() >= 1);
    assert!(doc["host"]["detected_tier"].is_string());
    let cells = doc["single_core"].as_array().unwrap();
    assert_eq!(cells.len(), 2 * 2); // 2 algorithms x 1 backend x 2 sizes
    for c in cells {
        assert_eq!(c["backend"], "portable");
        assert!([64, 1024].contains(&c["size"].as_u64().unwrap()));
        for k in ["sign_ns", "sign_gbps", "memcpy_ns", "sign_over_memcpy"] {
            assert!(c[k].as_f64().unwrap() > 0.0, "{k} in {c}");
        }
    }
    let scaling = doc["scaling"].as_array().unwrap();
    assert_eq!(scaling.len(), 2 * 2);
    assert!(scaling.iter().all(|s| s["gbps"].as_f64().unwrap() > 0.0));
    assert_eq!(doc["mixed"].as_array().unwrap().len(), 2 * 2);
    for f in [
        "throughput.svg",
        "throughput.png",
        "scaling.svg",
        "scaling.png",
    ] {
        let meta = std::fs::metadata(plots.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 1000, "{f} is {} bytes", meta.len());
    }
    let svg = std::fs::read_to_string(plots.join("throughput.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("aes-gmac"));
    // Size ticks at the measured sizes in binary units, the CPU and date in the title.
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
        .collect();
    for tick in ["64 B", "1 KiB"] {
        assert!(texts.contains(&tick), "no size tick {tick}: {texts:?}");
    }
    assert!(!texts.contains(&"1000 B") && !texts.contains(&"100 B"));
    let date = doc["date"].as_str().unwrap();
    assert_eq!(date.len(), 10, "{date}");
    assert!(svg.contains(date) && svg.contains(doc["host"]["cpu_model"].as_str().unwrap()));
    let png = std::fs::read(plots.join("scaling.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn quick_run_has_encryption_rows_next_to_signing() {
    let dir = tmp("encrypt");
    let json = dir.join("out.json");
    let plots = dir.join("plots");
    let out = bench(&[
        "--quick",
        "--algorithms",
        "aes-gmac",
        "--ciphers",
        "aes-128-gcm,aes-256-ccm",
        "--sizes",
        "64,4K",
        "--threads",
        "1,2",
        "--json",
        json.to_str().unwrap(),
        "--plot-dir",
        plots.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for needle in [
        "encrypting an SMB2 message in place",
        "Encryption scaling",
        "Mixed SMB-like traffic, encrypted",
        "aes-128-gcm",
        "aes-256-ccm",
    ] {
        assert!(stdout.contains(needle), "table lacks {needle:?}:\n{stdout}");
    }
    assert!(!stdout.contains("aes-128-ccm") && !stdout.contains("aes-256-gcm"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let detected = doc["host"]["detected_tier"].as_str().unwrap();
    // Signing rows as before: every tier; encryption on the detected one by default.
    assert!(!doc["single_core"].as_array().unwrap().is_empty());
    let e = &doc["encryption"];
    let cells = e["single_core"].as_array().unwrap();
    assert_eq!(cells.len(), 2 * 2, "{cells:?}"); // 2 ciphers x detected tier x 2 sizes
    for c in cells {
        assert_eq!(c["backend"], detected);
        assert!(["aes-128-gcm", "aes-256-ccm"].contains(&c["cipher"].as_str().unwrap()));
        assert!([64, 4096].contains(&c["size"].as_u64().unwrap()));
        for k in [
            "encrypt_ns",
            "encrypt_gbps",
            "memcpy_ns",
            "encrypt_over_memcpy",
        ] {
            assert!(c[k].as_f64().unwrap() > 0.0, "{k} in {c}");
        }
        // GB/s is bytes per ns: the two columns describe one measurement.
        let (ns, gbps) = (
            c["encrypt_ns"].as_f64().unwrap(),
            c["encrypt_gbps"].as_f64().unwrap(),
        );
        let size = c["size"].as_f64().unwrap();
        assert!((ns * gbps / size - 1.0).abs() < 1e-9, "{c}");
    }
    let scaling = e["scaling"].as_array().unwrap();
    assert_eq!(scaling.len(), 2 * 2);
    for s in scaling {
        assert!(s["gbps"].as_f64().unwrap() > 0.0 && s["msgs_per_sec"].as_f64().unwrap() > 0.0);
        assert_eq!(s["size"], 65536);
    }
    let mixed = e["mixed"].as_array().unwrap();
    assert_eq!(mixed.len(), 2 * 2);
    for m in mixed {
        for k in [
            "msgs_per_sec_per_thread",
            "gbps",
            "memcpy_msgs_per_sec_per_thread",
            "encrypt_over_memcpy",
        ] {
            assert!(m[k].as_f64().unwrap() > 0.0, "{k} in {m}");
        }
    }
    for f in [
        "encryption.svg",
        "encryption.png",
        "encryption-scaling.svg",
        "encryption-scaling.png",
    ] {
        let meta = std::fs::metadata(plots.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 1000, "{f} is {} bytes", meta.len());
    }
    let svg = std::fs::read_to_string(plots.join("encryption.svg")).unwrap();
    assert!(
        svg.contains("aes-128-gcm") && svg.contains("aes-256-ccm") && !svg.contains("aes-256-gcm")
    );
    assert!(svg.contains("4 KiB") && svg.contains("encrypt ("));
    // Encryption alone, on the portable tier (checked against itself, still round-tripped).
    let out = bench(&[
        "--quick",
        "--algorithms",
        "none",
        "--ciphers",
        "aes-128-ccm",
        "--sizes",
        "64",
        "--backend",
        "portable",
        "--single-core-only",
        "--no-plot",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(doc["single_core"].as_array().unwrap().is_empty());
    assert_eq!(doc["encryption"]["single_core"][0]["cipher"], "aes-128-ccm");
    assert_eq!(doc["encryption"]["single_core"][0]["backend"], "portable");
}

#[test]
fn json_to_stdout_replaces_the_table() {
    let out = bench(&[
        "--quick",
        "--algorithms",
        "aes-cmac",
        "--sizes",
        "64",
        "--backend",
        "portable",
        "--single-core-only",
        "--no-plot",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["single_core"][0]["algorithm"], "aes-cmac");
    assert!(doc["scaling"].as_array().unwrap().is_empty());
}

#[test]
fn bad_arguments_fail_clearly() {
    for (args, needle) in [
        (vec!["--sizes", "10"], "outside 64 B"),
        (vec!["--sizes", "12Q"], "bad size"),
        (vec!["--algorithms", "md5"], "unknown algorithm"),
        (vec!["--ciphers", "des"], "unknown cipher"),
        (vec!["--backend", "sparc"], "unknown backend"),
        (vec!["--threads", "0"], "at least 1"),
    ] {
        let out = bench(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = bench(&["--definitely-not-a-flag"]);
    assert!(!out.status.success());
    let help = bench(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--quick"));
}
