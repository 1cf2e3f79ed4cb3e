//! smbsign-bench: how much do SMB signing and encryption cost on this machine's cores?
//!
//! Measures, per algorithm and backend, single-core signing throughput and
//! latency across SMB-shaped PDU sizes next to memcpy of the same bytes, the
//! scaling from 1 to N pinned threads, and a mixed SMB-like workload; then the
//! same for SMB3 encryption per cipher (each message encrypted in place into
//! its transform message, every cipher checked before it is timed). Prints a
//! table (progress on stderr), optionally JSON, and writes SVG/PNG plots.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use smbsign::cipher::Cipher;
use smbsign::smb2::Algorithm;
use smbsign::{Backend, Tier};
use smbsign_benches::{encryption, host, measure, plot, report};

#[derive(Parser, Debug)]
#[command(
    name = "smbsign-bench",
    version,
    about = "How much do SMB2/SMB3 signing and SMB3 encryption cost on this machine's cores?"
)]
struct Args {
    /// A fast pass (about 10 s): fewer sizes, shorter measurements.
    #[arg(long)]
    quick: bool,
    /// Signing algorithms, comma-separated: hmac-sha256, aes-cmac, aes-gmac (default: all; "none": no signing rows).
    #[arg(long, value_delimiter = ',')]
    algorithms: Vec<String>,
    /// Encryption ciphers, comma-separated: aes-128-gcm, aes-256-gcm, aes-128-ccm, aes-256-ccm
    /// (default: all; "none": no encryption rows).
    #[arg(long, value_delimiter = ',')]
    ciphers: Vec<String>,
    /// PDU sizes, comma-separated, e.g. 64,4K,1M (default: 64,256,1K,4K,64K,1M,8M).
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<String>,
    /// Thread counts for the scaling and mixed runs, e.g. 1,2,4 (default: 1, powers of two, and all cores).
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Backends, comma-separated: portable, aesni, avx2, avx512, armv8 (default: signing on every one
    /// this CPU has, encryption on the detected one).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<String>,
    /// Write the results as JSON to this file ("-" for stdout, replacing the table).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Directory for throughput/scaling plots (SVG and PNG).
    #[arg(long, default_value = "smbsign-bench-out")]
    plot_dir: PathBuf,
    /// Skip the plots.
    #[arg(long)]
    no_plot: bool,
    /// Skip the scaling and mixed runs (single core only).
    #[arg(long)]
    single_core_only: bool,
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("mib").or_else(|| t.strip_suffix('m')) {
        (n, 1 << 20)
    } else if let Some(n) = t.strip_suffix("kib").or_else(|| t.strip_suffix('k')) {
        (n, 1 << 10)
    } else {
        (t.strip_suffix('b').unwrap_or(&t), 1)
    };
    let v: usize = num.trim().parse().map_err(|_| format!("bad size {s:?}"))?;
    let v = v.checked_mul(mult).ok_or(format!("size {s:?} too large"))?;
    if !(64..=(256 << 20)).contains(&v) {
        return Err(format!(
            "size {s:?} outside 64 B ..= 256 MiB (a PDU has a 64-byte header)"
        ));
    }
    Ok(v)
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name() == s.trim().to_ascii_lowercase())
        .ok_or(format!(
            "unknown algorithm {s:?} (hmac-sha256, aes-cmac, aes-gmac)"
        ))
}

fn parse_cipher(s: &str) -> Result<Cipher, String> {
    Cipher::from_name(s).map_err(|_| {
        format!("unknown cipher {s:?} (aes-128-gcm, aes-256-gcm, aes-128-ccm, aes-256-ccm)")
    })
}

/// `["none"]` selects nothing.
fn is_none(list: &[String]) -> bool {
    list.len() == 1 && list[0].trim().eq_ignore_ascii_case("none")
}

fn run(args: Args) -> Result<(), String> {
    let algorithms: Vec<Algorithm> = if args.algorithms.is_empty() {
        Algorithm::ALL.to_vec()
    } else if is_none(&args.algorithms) {
        Vec::new()
    } else {
        args.algorithms
            .iter()
            .map(|a| parse_algorithm(a))
            .collect::<Result<_, _>>()?
    };
    // Encryption in the order a 3.1.1 server prefers them (GCM first), then 3.0's CCM.
    let ciphers: Vec<Cipher> = if args.ciphers.is_empty() {
        vec![
            Cipher::Aes128Gcm,
            Cipher::Aes256Gcm,
            Cipher::Aes128Ccm,
            Cipher::Aes256Ccm,
        ]
    } else if is_none(&args.ciphers) {
        Vec::new()
    } else {
        args.ciphers
            .iter()
            .map(|c| parse_cipher(c))
            .collect::<Result<_, _>>()?
    };
    let default_sizes: &[&str] = if args.quick {
        &["64", "1K", "64K"]
    } else {
        &["64", "256", "1K", "4K", "64K", "1M", "8M"]
    };
    let sizes: Vec<usize> = if args.sizes.is_empty() {
        default_sizes
            .iter()
            .map(|s| parse_size(s))
            .collect::<Result<_, _>>()?
    } else {
        args.sizes
            .iter()
            .map(|s| parse_size(s))
            .collect::<Result<_, _>>()?
    };
    let backends: Vec<Backend> = if args.backend.is_empty() {
        Backend::available()
    } else {
        args.backend
            .iter()
            .map(|b| {
                Tier::from_name(b)
                    .and_then(Backend::with_tier)
                    .map_err(|e| format!("backend {b:?}: {e}"))
            })
            .collect::<Result<_, _>>()?
    };
    // Encryption's default is the detected tier only: that is the one a
    // connection uses, and every tier's rows would double the run's length.
    let cipher_backends: Vec<Backend> = if args.backend.is_empty() {
        vec![Backend::detect()]
    } else {
        backends.clone()
    };
    let host = host::describe();
    let threads: Vec<usize> = if args.threads.is_empty() {
        let mut t: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
            .take_while(|&n| n < host.cores)
            .collect();
        t.push(host.cores);
        t
    } else {
        if args.threads.contains(&0) {
            return Err("thread counts must be at least 1".into());
        }
        args.threads.clone()
    };
    let budget = Duration::from_millis(if args.quick { 40 } else { 150 });
    let span = Duration::from_millis(if args.quick { 150 } else { 500 });
    let best = Backend::detect();
    let tsc = measure::tsc_per_ns();

    // Encryption's parallel runs take half the span: they keep the whole
    // run within ~30% of the signing-only run's length.
    let cipher_span = span / 2;
    let single_cells =
        (algorithms.len() * backends.len() + ciphers.len() * cipher_backends.len()) * sizes.len();
    let parallel_cells = if args.single_core_only {
        0
    } else {
        (algorithms.len() + ciphers.len()) * threads.len() * 2
    };
    let bar = ProgressBar::new((single_cells + parallel_cells) as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
            .map_err(|e| e.to_string())?,
    );
    let mut r = report::Report {
        schema: 1,
        host,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        date: report::today(),
        single_core: Vec::new(),
        scaling: Vec::new(),
        mixed: Vec::new(),
        encryption: encryption::Encryption::default(),
    };
    for &alg in &algorithms {
        for &b in &backends {
            for &size in &sizes {
                bar.set_message(format!(
                    "{} {} {}",
                    alg.name(),
                    b.tier().name(),
                    report::human_size(size)
                ));
                // The portable tier signs ~10-50 MB/s: cap its largest sizes' budget.
                r.single_core
                    .push(measure::single(alg, b, size, budget, tsc));
                bar.inc(1);
            }
        }
    }
    if !args.single_core_only {
        let bulk = 64 << 10;
        for &alg in &algorithms {
            let mut one = None;
            for &t in &threads {
                bar.set_message(format!("{} scaling x{t}", alg.name()));
                let mut s = measure::scaling(alg, best, bulk, t, span);
                if t == 1 {
                    one = Some(s.gbps);
                }
                s.efficiency = one.map(|g| s.gbps / (g * t.min(r.host.cores) as f64));
                r.scaling.push(s);
                bar.inc(1);
            }
            for &t in &threads {
                bar.set_message(format!("{} mixed x{t}", alg.name()));
                r.mixed.push(measure::mixed(alg, best, t, span));
                bar.inc(1);
            }
        }
    }
    let mut memcpy_of: Vec<(usize, f64)> = Vec::new();
    for &c in &ciphers {
        for &b in &cipher_backends {
            for &size in &sizes {
                bar.set_message(format!(
                    "{} {} {}",
                    c.name(),
                    b.tier().name(),
                    report::human_size(size)
                ));
                encryption::check(c, b, size)?;
                // The copy does not depend on the cipher: once per size.
                let copy = match memcpy_of.iter().find(|m| m.0 == size) {
                    Some(&(_, ns)) => ns,
                    None => {
                        let ns = measure::memcpy_ns(size, budget / 2);
                        memcpy_of.push((size, ns));
                        ns
                    }
                };
                r.encryption
                    .single_core
                    .push(encryption::single(c, b, size, copy, budget, tsc));
                bar.inc(1);
            }
        }
    }
    if !args.single_core_only {
        let bulk = 64 << 10;
        for &c in &ciphers {
            encryption::check(c, best, bulk)?;
            let mut one = None;
            for &t in &threads {
                bar.set_message(format!("{} scaling x{t}", c.name()));
                let mut s = encryption::scaling(c, best, bulk, t, cipher_span);
                if t == 1 {
                    one = Some(s.gbps);
                }
                s.efficiency = one.map(|g| s.gbps / (g * t.min(r.host.cores) as f64));
                r.encryption.scaling.push(s);
                bar.inc(1);
            }
            for &t in &threads {
                bar.set_message(format!("{} mixed x{t}", c.name()));
                r.encryption
                    .mixed
                    .push(encryption::mixed(c, best, t, cipher_span));
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();

    let json_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if !json_stdout {
        print!("{}", report::table(&r));
    }
    if let Some(path) = &args.json {
        let doc = serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?;
        if json_stdout {
            println!("{doc}");
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(path, doc + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    if !args.no_plot {
        match plot::write_all(&args.plot_dir, &r) {
            Ok(files) => {
                for f in files {
                    eprintln!("wrote {}", f.display());
                }
            }
            Err(e) => {
                return Err(format!(
                    "plots: {e} (font {}; --no-plot skips them)",
                    plot::FONT
                ))
            }
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("smbsign-bench: {e}");
        std::process::exit(2);
    }
}
