//! SMB3 encryption next to signing: each SMB2 message encrypted in place into
//! a transform message (`smb2::transform::encrypt_in_place`, TRANSFORM_HEADER
//! and AES-GCM/CCM through `cipher::Key`) on one core against memcpy of the
//! same bytes, over N pinned threads, and in the mixed profile. Every cell's
//! cipher is checked before it is timed ([`check`]).

use std::hint::black_box;
use std::time::Duration;

use serde::Serialize;
use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::transform::{self, TRANSFORM_HEADER_LEN};
use smbsign::{Backend, Error, Tier};

use crate::measure::{ns_per_op, parallel};
use crate::workload;

const KEY: [u8; 32] = [0x42; 32];
const SESSION_ID: u64 = 0x0000_1000_0000_0041;

/// A key for `cipher` on `backend` (the benchmark's fixed key).
#[must_use]
pub fn key(cipher: Cipher, backend: Backend) -> Key {
    Key::with_backend(cipher, &KEY[..cipher.key_len()], backend)
        .expect("key of the cipher's length")
}

/// A transform buffer for a `size`-byte SMB2 message, as it goes on the wire:
/// 52 bytes of room for the TRANSFORM_HEADER, then a WRITE PDU.
fn wire_buffer(size: usize, message_id: u64) -> Vec<u8> {
    let mut b = vec![0u8; TRANSFORM_HEADER_LEN];
    b.extend_from_slice(&workload::pdu(size, message_id));
    b
}

/// Encrypts in place with a fresh nonce per call (a counter, as a
/// connection's nonce source draws them), so no nonce repeats under the key.
struct Sealer {
    key: Key,
    counter: u64,
}

impl Sealer {
    fn new(key: Key, first: u64) -> Sealer {
        Sealer {
            key,
            counter: first,
        }
    }

    fn seal(&mut self, buf: &mut [u8]) {
        self.counter = self.counter.wrapping_add(1);
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(&self.counter.to_le_bytes());
        let n = &n[..self.key.cipher().nonce_len()];
        transform::encrypt_in_place(&self.key, n, SESSION_ID, black_box(buf))
            .expect("valid message");
    }
}

/// Checks `cipher` on `backend` for a `size`-byte message before it is timed:
/// decrypt(encrypt(x)) == x with a ciphertext that differs from x, the same
/// transform message as the portable tier's (on the first 64 KiB, to keep
/// the portable tier's cost bounded), and a flipped ciphertext byte refused
/// with `AuthenticationFailed`, leaving the ciphertext as it was.
pub fn check(cipher: Cipher, backend: Backend, size: usize) -> Result<(), String> {
    let what = format!("{} on {}", cipher.name(), backend.tier().name());
    let fail = |m: String| Err(format!("{what}, {size}-byte message: {m}"));
    let k = key(cipher, backend);
    let nonce = &[0x5a; 12][..cipher.nonce_len()];
    let plain = workload::pdu(size, 3);
    let sealed =
        transform::encrypt_to_vec(&k, nonce, SESSION_ID, &plain).map_err(|e| e.to_string())?;
    if sealed.len() != TRANSFORM_HEADER_LEN + plain.len()
        || sealed[TRANSFORM_HEADER_LEN..] == plain[..]
    {
        return fail("the transform message is not a ciphertext of the message".into());
    }
    match transform::decrypt_to_vec(&k, &sealed) {
        Ok(back) if back == plain => {}
        Ok(_) => return fail("decrypt(encrypt(x)) != x".into()),
        Err(e) => return fail(format!("decrypting its own output: {e}")),
    }
    let mut bad = sealed.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let kept = bad.clone();
    let refused = match transform::decrypt_in_place(&k, &mut bad) {
        Err(Error::AuthenticationFailed) => Ok(()),
        Ok(_) => Err("accepted".to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(got) = refused {
        return fail(format!("a flipped ciphertext byte: {got}"));
    }
    if bad != kept {
        return fail("a refused message was left modified".into());
    }
    if backend.tier() != Tier::Portable {
        let head = &plain[..plain.len().min(64 << 10)];
        let portable = Backend::with_tier(Tier::Portable).map_err(|e| e.to_string())?;
        let ours =
            transform::encrypt_to_vec(&k, nonce, SESSION_ID, head).map_err(|e| e.to_string())?;
        let theirs = transform::encrypt_to_vec(&key(cipher, portable), nonce, SESSION_ID, head)
            .map_err(|e| e.to_string())?;
        if ours != theirs {
            return fail("its transform message differs from the portable tier's".into());
        }
    }
    Ok(())
}

/// One single-core encryption measurement.
#[derive(Clone, Debug, Serialize)]
pub struct CipherCell {
    /// `aes-128-gcm`, `aes-256-gcm`, `aes-128-ccm` or `aes-256-ccm`.
    pub cipher: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// SMB2 message size in bytes (the transform message is 52 bytes longer).
    pub size: usize,
    /// Nanoseconds to encrypt one message in place (TRANSFORM_HEADER and tag included).
    pub encrypt_ns: f64,
    /// Encryption throughput over the message's bytes, GB/s (10^9 bytes).
    pub encrypt_gbps: f64,
    /// TSC cycles per byte (x86-64), at the TSC rate, not the boosted core clock.
    pub tsc_cycles_per_byte: Option<f64>,
    /// Nanoseconds to memcpy the message's bytes.
    pub memcpy_ns: f64,
    /// encrypt time / memcpy time.
    pub encrypt_over_memcpy: f64,
}

/// Encrypts a `size`-byte message with `cipher` on `backend` on this thread;
/// `memcpy_ns` is the copy of the same bytes, measured by the caller once per size.
pub fn single(
    cipher: Cipher,
    backend: Backend,
    size: usize,
    memcpy_ns: f64,
    budget: Duration,
    tsc: Option<f64>,
) -> CipherCell {
    let mut sealer = Sealer::new(key(cipher, backend), 0);
    let mut buf = wire_buffer(size, 1);
    let encrypt_ns = ns_per_op(|| sealer.seal(&mut buf), budget);
    let bytes = (buf.len() - TRANSFORM_HEADER_LEN) as f64;
    CipherCell {
        cipher: cipher.name(),
        backend: backend.tier().name(),
        size: buf.len() - TRANSFORM_HEADER_LEN,
        encrypt_ns,
        encrypt_gbps: bytes / encrypt_ns,
        tsc_cycles_per_byte: tsc.map(|r| encrypt_ns * r / bytes),
        memcpy_ns,
        encrypt_over_memcpy: encrypt_ns / memcpy_ns,
    }
}

/// Aggregate encryption throughput on N threads.
#[derive(Clone, Debug, Serialize)]
pub struct CipherScaling {
    /// Cipher name.
    pub cipher: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// SMB2 message size in bytes.
    pub size: usize,
    /// Worker threads.
    pub threads: usize,
    /// Aggregate GB/s of messages encrypted.
    pub gbps: f64,
    /// Aggregate messages per second.
    pub msgs_per_sec: f64,
    /// gbps / (min(threads, cores) x the 1-thread gbps of the same run); 1.0 is linear.
    pub efficiency: Option<f64>,
}

/// Encrypting `size`-byte messages on `threads` pinned threads, each with its
/// own key copy, nonce range and buffer.
pub fn scaling(
    cipher: Cipher,
    backend: Backend,
    size: usize,
    threads: usize,
    duration: Duration,
) -> CipherScaling {
    let k = key(cipher, backend);
    let (bytes, calls, secs) = parallel(threads, duration, |i| {
        let mut sealer = Sealer::new(k.clone(), (i as u64) << 48);
        let mut buf = wire_buffer(size, i as u64);
        Box::new(move || {
            sealer.seal(&mut buf);
            size as u64
        })
    });
    CipherScaling {
        cipher: cipher.name(),
        backend: backend.tier().name(),
        size,
        threads,
        gbps: bytes as f64 / secs / 1e9,
        msgs_per_sec: calls as f64 / secs,
        efficiency: None,
    }
}

/// The mixed SMB-like workload, encrypted, on N threads.
#[derive(Clone, Debug, Serialize)]
pub struct CipherMixed {
    /// Cipher name.
    pub cipher: &'static str,
    /// Backend tier name.
    pub backend: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// Encrypted messages per second per thread.
    pub msgs_per_sec_per_thread: f64,
    /// Aggregate encrypted GB/s (message bytes).
    pub gbps: f64,
    /// The same messages memcpy'd instead: messages per second per thread.
    pub memcpy_msgs_per_sec_per_thread: f64,
    /// Encryption time / copying time for this mix.
    pub encrypt_over_memcpy: f64,
}

/// Runs the mixed profile (`workload::MIXED_PROFILE`) encrypting each message
/// into its transform message, then copying the messages, on `threads` threads.
pub fn mixed(cipher: Cipher, backend: Backend, threads: usize, duration: Duration) -> CipherMixed {
    let k = key(cipher, backend);
    let sizes = workload::mixed_sizes();
    let per_pass: u64 = sizes.iter().map(|&s| s as u64).sum();
    let msgs = sizes.len() as f64;
    let bufs: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| wire_buffer(s, i as u64))
        .collect();
    let (bytes, _, secs) = parallel(threads, duration, |i| {
        let mut sealer = Sealer::new(k.clone(), (i as u64) << 48);
        let mut bufs = bufs.clone();
        Box::new(move || {
            for b in &mut bufs {
                sealer.seal(b);
            }
            per_pass
        })
    });
    let (cbytes, _, csecs) = parallel(threads, duration / 2, |_| {
        let src: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| workload::pdu(s, i as u64))
            .collect();
        let mut dst = src.clone();
        Box::new(move || {
            for (d, s) in dst.iter_mut().zip(&src) {
                d.copy_from_slice(black_box(s));
            }
            black_box(&mut dst);
            per_pass
        })
    });
    let enc_rate = bytes as f64 / per_pass as f64 * msgs / secs / threads as f64;
    let copy_rate = cbytes as f64 / per_pass as f64 * msgs / csecs / threads as f64;
    CipherMixed {
        cipher: cipher.name(),
        backend: backend.tier().name(),
        threads,
        msgs_per_sec_per_thread: enc_rate,
        gbps: bytes as f64 / secs / 1e9,
        memcpy_msgs_per_sec_per_thread: copy_rate,
        encrypt_over_memcpy: copy_rate / enc_rate,
    }
}

/// The encryption rows of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Encryption {
    /// Single-core encryption vs memcpy, per cipher x backend x size.
    pub single_core: Vec<CipherCell>,
    /// Aggregate throughput by thread count.
    pub scaling: Vec<CipherScaling>,
    /// The mixed SMB-like workload, encrypted.
    pub mixed: Vec<CipherMixed>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cipher_passes_the_check_on_every_backend() {
        for b in Backend::available() {
            for c in Cipher::ALL {
                for size in [64, 1000, 4096 + 17] {
                    check(c, b, size).unwrap();
                }
            }
        }
    }

    #[test]
    fn a_sealed_buffer_decrypts_to_the_message() {
        for c in Cipher::ALL {
            let mut s = Sealer::new(key(c, Backend::detect()), 7);
            let mut buf = wire_buffer(300, 9);
            s.seal(&mut buf);
            assert_ne!(&buf[TRANSFORM_HEADER_LEN..], &workload::pdu(300, 9)[..]);
            let msg = transform::decrypt_in_place(&key(c, Backend::detect()), &mut buf).unwrap();
            assert_eq!(msg, &workload::pdu(300, 9)[..]);
        }
    }
}
