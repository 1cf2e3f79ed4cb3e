//! smbsign next to OpenSSL 3 (EVP_MAC), GnuTLS (what Samba uses) and RustCrypto,
//! per algorithm and message size, every ratio taken in one run; plus PDU
//! signing. Run: `cargo bench -p smbsign-benches --features peers --bench peers`;
//! then `python3 scripts/bench-ratios.py` prints the ratio tables.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
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

/// The per-call cost of the C entry point next to the Rust API, 64-byte messages.
fn ffi_overhead(c: &mut Criterion) {
    let msg = [0x5au8; 64];
    for alg in Algorithm::ALL {
        let mut g = c.benchmark_group(format!("ffi_overhead/{}", alg.name()));
        g.throughput(Throughput::Bytes(64));
        let nonce = (alg == Algorithm::AesGmac).then_some(&NONCE);
        let rust = SigningKey::new(alg, &KEY).unwrap();
        let capi = peers::CAbiKey::new(alg, &KEY);
        assert_eq!(rust.mac(nonce, &msg).unwrap(), capi.mac(nonce, &msg));
        g.bench_function(BenchmarkId::new("rust-api", 64), |b| {
            b.iter(|| rust.mac(nonce, black_box(&msg)).unwrap())
        });
        g.bench_function(BenchmarkId::new("c-abi", 64), |b| {
            b.iter(|| capi.mac(nonce, black_box(&msg)))
        });
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

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(20)
        .without_plots()
}

criterion_group! { name = benches; config = config(); targets = mac_groups, ffi_overhead, pdu_groups }
criterion_main!(benches);
