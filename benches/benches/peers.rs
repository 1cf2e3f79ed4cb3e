//! smbsign next to OpenSSL 3 (EVP_MAC), GnuTLS (what Samba uses) and RustCrypto,
//! per algorithm and message size, every ratio taken in one run; plus PDU
//! signing and batch signing (with intel-ipsec-mb's multi-buffer manager). Run: `cargo bench -p smbsign-benches --features peers --bench peers`;
//! then `python3 scripts/bench-ratios.py` prints the ratio tables.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smbsign::batch::{self, Job};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::{Backend, Tier};
use smbsign_benches::peers::{self, CMac, Lib, RustCrypto};

const SIZES: [usize; 6] = [64, 256, 1024, 4096, 65536, 1 << 20];
const KEY: [u8; 16] = [0x42; 16];
const NONCE: [u8; 12] = [7; 12];

fn mac_groups(c: &mut Criterion) {
    let (ossl, gnutls) = peers::versions();
    eprintln!("peers: {ossl}; GnuTLS {gnutls}");
    for alg in Algorithm::ALL {
        let mut g = c.benchmark_group(format!("mac/{}", alg.name()));
        for &size in &SIZES {
            let msg: Vec<u8> = (0..size).map(|i| i as u8).collect();
            g.throughput(Throughput::Bytes(size as u64));
            let nonce = (alg == Algorithm::AesGmac).then_some(&NONCE);
            let reference = SigningKey::with_backend(alg, &KEY, Backend::portable())
                .unwrap()
                .mac(nonce, &msg)
                .unwrap();
            for b in Backend::available() {
                if b.tier() == Tier::Portable && size > 4096 {
                    continue; // the portable tier is the reference, not a contender
                }
                let key = SigningKey::with_backend(alg, &KEY, b).unwrap();
                assert_eq!(key.mac(nonce, &msg).unwrap(), reference);
                g.bench_with_input(
                    BenchmarkId::new(format!("smbsign-{}", b.tier().name()), size),
                    &msg,
                    |bch, m| bch.iter(|| key.mac(nonce, black_box(m)).unwrap()),
                );
            }
            for (name, lib) in [("openssl", Lib::OpenSsl), ("gnutls", Lib::GnuTls)] {
                let mut p = CMac::new(lib, alg, &KEY);
                assert_eq!(p.mac(&NONCE, &msg), reference, "{name} disagrees");
                g.bench_with_input(BenchmarkId::new(name, size), &msg, |bch, m| {
                    bch.iter(|| p.mac(&NONCE, black_box(m)))
                });
            }
            let rc = RustCrypto::new(alg, &KEY);
            assert_eq!(rc.mac(&NONCE, &msg), reference);
            g.bench_with_input(BenchmarkId::new("rustcrypto", size), &msg, |bch, m| {
                bch.iter(|| rc.mac(&NONCE, black_box(m)))
            });
        }
        g.finish();
    }
}

/// The per-call cost of the C entry point next to the Rust API, 64- and 256-byte messages.
fn ffi_overhead(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        let mut g = c.benchmark_group(format!("ffi_overhead/{}", alg.name()));
        let nonce = (alg == Algorithm::AesGmac).then_some(&NONCE);
        let rust = SigningKey::new(alg, &KEY).unwrap();
        let capi = peers::CAbiKey::new(alg, &KEY);
        for size in [64, 256] {
            let msg = vec![0x5au8; size];
            g.throughput(Throughput::Bytes(size as u64));
            assert_eq!(rust.mac(nonce, &msg).unwrap(), capi.mac(nonce, &msg));
            g.bench_function(BenchmarkId::new("rust-api", size), |b| {
                b.iter(|| rust.mac(nonce, black_box(&msg)).unwrap())
            });
            g.bench_function(BenchmarkId::new("c-abi", size), |b| {
                b.iter(|| capi.mac(nonce, black_box(&msg)))
            });
        }
        g.finish();
    }
}

fn pdu_groups(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        let mut g = c.benchmark_group(format!("pdu/{}", alg.name()));
        let key = SigningKey::new(alg, &KEY).unwrap();
        for size in [64usize, 1024, 65536] {
            let mut pdu = smbsign_benches::workload::pdu(size, 1);
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_function(BenchmarkId::new("smbsign-sign", size), |bch| {
                bch.iter(|| smb2::sign_pdu(&key, black_box(&mut pdu)).unwrap())
            });
            g.bench_function(BenchmarkId::new("smbsign-verify", size), |bch| {
                bch.iter(|| smb2::verify_pdu(&key, black_box(&pdu)).unwrap())
            });
        }
        g.finish();
    }
}

/// A batch workload: 64 messages of `lens`, under 8 keys round-robin.
struct BatchLoad {
    raw_keys: Vec<[u8; 16]>,
    bufs: Vec<Vec<u8>>,
    key_of: Vec<usize>,
}

impl BatchLoad {
    fn new(lens: &[usize]) -> BatchLoad {
        BatchLoad {
            raw_keys: (0..8u8).map(|i| [0x40 ^ i; 16]).collect(),
            bufs: lens
                .iter()
                .enumerate()
                .map(|(i, &l)| (0..l).map(|j| (i * 7 + j) as u8).collect())
                .collect(),
            key_of: (0..lens.len()).map(|i| i % 8).collect(),
        }
    }

    fn bytes(&self) -> u64 {
        self.bufs.iter().map(|b| b.len() as u64).sum()
    }
}

/// Batch signing (64 messages per batch, 8 keys): smbsign's batch API next to
/// the same messages one by one, intel-ipsec-mb's multi-buffer job API (x86-64)
/// and OpenSSL one by one. Equal lengths, and a mixed 64 B..64 KiB batch with
/// the equal-length batch of the same total beside it.
fn batch_groups(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        let _probe = peers::IpsecMb::new(Algorithm::AesCmac, &[[0; 16]]);
        eprintln!("batch peer: {}", peers::IpsecMb::describe());
    }
    // 64 lengths spread log-uniformly over 64 B..64 KiB (the top one 65534:
    // intel-ipsec-mb refuses longer jobs, IMB_ERR_JOB_AUTH_LEN).
    let mixed: Vec<usize> = (0..64)
        .map(|i| ((64.0 * 1024f64.powf(f64::from(i) / 63.0)) as usize).min(65534))
        .collect();
    let mean = (mixed.iter().sum::<usize>() / 64).div_ceil(16) * 16;
    for alg in Algorithm::ALL {
        let mut g = c.benchmark_group(format!("batch/{}", alg.name()));
        let mut loads: Vec<(String, Vec<usize>)> = match alg {
            Algorithm::AesGmac => vec![("64x128".into(), vec![128; 64])],
            _ => vec![
                ("64x256".into(), vec![256; 64]),
                ("64x4096".into(), vec![4096; 64]),
                ("64x16384".into(), vec![16384; 64]),
            ],
        };
        loads.push(("mixed64-64K".into(), mixed.clone()));
        loads.push((format!("64x{mean}"), vec![mean; 64]));
        for (label, lens) in loads {
            let load = BatchLoad::new(&lens);
            g.throughput(Throughput::Bytes(load.bytes()));
            let keys: Vec<SigningKey> = load
                .raw_keys
                .iter()
                .map(|k| SigningKey::new(alg, k).unwrap())
                .collect();
            let nonce = (alg == Algorithm::AesGmac).then_some(&NONCE);
            let jobs: Vec<Job<'_>> = load
                .bufs
                .iter()
                .zip(&load.key_of)
                .map(|(m, &k)| Job::new(&keys[k], nonce, m).unwrap())
                .collect();
            let mut tags = vec![[0u8; 16]; jobs.len()];
            let want: Vec<[u8; 16]> = jobs
                .iter()
                .map(|j| j.key().mac(nonce, j.message()).unwrap())
                .collect();
            batch::sign(&jobs, &mut tags).unwrap();
            assert_eq!(tags, want);
            g.bench_function(BenchmarkId::new("smbsign-batch", &label), |b| {
                b.iter(|| batch::sign(black_box(&jobs), &mut tags).unwrap())
            });
            // Each SIMD tier's batch kernels (the detected one may not be the widest).
            for backend in Backend::available() {
                if backend.tier() == Tier::Portable {
                    continue;
                }
                let tier_keys: Vec<SigningKey> = load
                    .raw_keys
                    .iter()
                    .map(|k| SigningKey::with_backend(alg, k, backend).unwrap())
                    .collect();
                let tier_jobs: Vec<Job<'_>> = load
                    .bufs
                    .iter()
                    .zip(&load.key_of)
                    .map(|(m, &k)| Job::new(&tier_keys[k], nonce, m).unwrap())
                    .collect();
                batch::sign(&tier_jobs, &mut tags).unwrap();
                assert_eq!(tags, want, "{:?}", backend.tier());
                let id = format!("smbsign-batch-{}", backend.tier().name());
                g.bench_function(BenchmarkId::new(id, &label), |b| {
                    b.iter(|| batch::sign(black_box(&tier_jobs), &mut tags).unwrap())
                });
            }
            g.bench_function(BenchmarkId::new("smbsign-one-shot", &label), |b| {
                b.iter(|| {
                    for (t, j) in tags.iter_mut().zip(&jobs) {
                        *t = j.key().mac(nonce, black_box(j.message())).unwrap();
                    }
                })
            });
            #[cfg(target_arch = "x86_64")]
            if alg != Algorithm::AesGmac {
                let imb = peers::IpsecMb::new(alg, &load.raw_keys);
                let msgs: Vec<&[u8]> = load.bufs.iter().map(Vec::as_slice).collect();
                let mut t = vec![[0u8; 16]; msgs.len()];
                imb.batch(&load.key_of, &msgs, &mut t);
                assert_eq!(t, want, "intel-ipsec-mb disagrees");
                g.bench_function(BenchmarkId::new("intel-ipsec-mb", &label), |b| {
                    b.iter(|| imb.batch(&load.key_of, black_box(&msgs), &mut t))
                });
            }
            let mut ossl: Vec<CMac> = load
                .raw_keys
                .iter()
                .map(|k| CMac::new(Lib::OpenSsl, alg, k))
                .collect();
            assert_eq!(ossl[0].mac(&NONCE, &load.bufs[0]), want[0]);
            g.bench_function(BenchmarkId::new("openssl", &label), |b| {
                b.iter(|| {
                    for ((t, m), &k) in tags.iter_mut().zip(&load.bufs).zip(&load.key_of) {
                        *t = ossl[k].mac(&NONCE, black_box(m));
                    }
                })
            });
        }
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(20)
        .without_plots()
}

criterion_group! { name = benches; config = config(); targets = mac_groups, ffi_overhead, pdu_groups, batch_groups }
criterion_main!(benches);
