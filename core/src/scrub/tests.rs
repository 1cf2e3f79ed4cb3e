//! The proof: each entry point runs on a thread stack this test paints; then
//! the region below the caller's stack pointer is scanned for the key
//! material (every 16-byte window of round keys, CMAC subkeys, GHASH key
//! powers, HMAC pad states in the byte orders the kernels hold them) and for
//! anything the call wrote that is not zero (which catches representations
//! the windows miss, such as the portable AES's bit planes).

use std::collections::HashSet;

use crate::backend::{Backend, Tier};
use crate::mac::{cmac, gmac, hmac};
use crate::smb2::{self, Algorithm, SigningKey};
use crate::{batch, kdf};

use super::OFF;

/// How far below the probe's stack pointer the scan reaches (the deepest
/// entry point uses well under half).
const SCAN: usize = 64 * 1024;
/// The paint; a byte the call did not write still holds it.
const PAINT: u8 = 0xa5;
/// The top of the region, where the erasure's own caller keeps its
/// return address and saved registers (scanned for key windows, but
/// allowed to be non-zero).
const TOP: usize = 512;

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads rsp into a register; no memory access.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// Runs `op` from this frame with the `SCAN` bytes below the stack
/// pointer painted first, and returns its result and those bytes as it
/// left them. `op` is inlined here, so the entry point it calls is
/// called from this frame: whatever is below this stack pointer after
/// it returns is what the entry point (and the code under it) left.
#[inline(never)]
fn probe<R>(op: impl FnOnce() -> R) -> (R, Vec<u8>) {
    let mut seen = vec![0u8; SCAN];
    let sp = stack_pointer();
    let lo = sp - SCAN;
    // SAFETY: [lo, sp) is the unused part of this thread's stack (the
    // thread has 1 MiB, this frame is near its top), mapped and holding
    // nothing live; `rep stosb` uses no stack itself.
    unsafe {
        core::arch::asm!("rep stosb", inout("rdi") lo => _, inout("rcx") SCAN => _, in("al") PAINT);
    }
    let r = op();
    // SAFETY: copies [lo, sp) (mapped, see above) into `seen` (SCAN
    // bytes) without calling anything that would use the stack.
    unsafe {
        core::arch::asm!("rep movsb", inout("rsi") lo => _, inout("rdi") seen.as_mut_ptr() => _,
            inout("rcx") SCAN => _);
    }
    (r, seen)
}

/// Every 16-byte window of the key material to look for.
#[derive(Default)]
struct Secrets(HashSet<[u8; 16]>);

impl Secrets {
    fn add(&mut self, bytes: &[u8]) {
        for w in bytes.windows(16) {
            // Mostly-zero windows (unused key powers, the zero high
            // halves of the Karatsuba operands) would match erased stack.
            if w.iter().filter(|&&b| b == 0).count() <= 8 {
                self.0.insert(w.try_into().unwrap());
            }
        }
    }

    /// SHA-256 chaining words: in memory order, big-endian, and as the
    /// SHA-NI kernels hold them (ABEF and CDGH, lanes reversed).
    fn add_words(&mut self, w: &[u32; 8]) {
        let le: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        let be: Vec<u8> = w.iter().flat_map(|x| x.to_be_bytes()).collect();
        let ni: Vec<u8> = [w[5], w[4], w[1], w[0], w[7], w[6], w[3], w[2]]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        self.add(&le);
        self.add(&be);
        self.add(&ni);
    }

    fn hmac(&mut self, k: &hmac::Key) {
        self.add_words(&k.inner);
        self.add_words(&k.outer);
    }

    fn cmac(&mut self, k: &cmac::Key) {
        self.add(k.rk.as_flattened());
        self.add(&k.k1);
        self.add(&k.k2);
    }

    fn gmac(&mut self, k: &gmac::Key) {
        let p = k.powers();
        self.add(k.rk.as_flattened());
        for half in [&p.h, &p.karatsuba] {
            let bytes: Vec<u8> = half.iter().flat_map(|x| x.to_le_bytes()).collect();
            self.add(&bytes);
        }
        match &p.wide {
            Some(crate::backend::layout::WidePowers::Paired(w)) => {
                let b: Vec<u8> =
                    w.0.as_flattened()
                        .iter()
                        .flat_map(|x| x.to_le_bytes())
                        .collect();
                self.add(&b);
            }
            Some(crate::backend::layout::WidePowers::Gfni(_, w)) => {
                let b: Vec<u8> = w.0.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.add(&b);
            }
            None => {}
        }
    }

    fn cipher(&mut self, k: &crate::cipher::Key) {
        let (rk, powers) = k.material();
        self.add(rk.as_flattened());
        if let Some(p) = powers {
            for half in [&p.h, &p.karatsuba] {
                let bytes: Vec<u8> = half.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.add(&bytes);
            }
        }
    }

    fn key(&mut self, k: &SigningKey) {
        match k {
            SigningKey::HmacSha256(k) => self.hmac(k),
            SigningKey::AesCmac(k) => self.cmac(k),
            SigningKey::AesGmac(k) => self.gmac(k),
        }
    }
}

/// What one entry point left below the caller's stack pointer.
struct Report {
    name: String,
    /// Bytes below the stack pointer the call wrote at all.
    depth: usize,
    /// Key windows found, and the deepest offset of one.
    found: usize,
    found_depth: usize,
    /// Non-zero bytes written below `TOP`, and the deepest one.
    dirty: usize,
    dirty_depth: usize,
}

fn inspect(name: String, seen: &[u8], secrets: &Secrets) -> Report {
    let depth = seen
        .iter()
        .position(|&b| b != PAINT)
        .map_or(0, |i| SCAN - i);
    // Bytes the call never wrote still hold the paint: scan from the
    // deepest written one.
    let from = (SCAN - depth).saturating_sub(15);
    let hits: Vec<usize> = seen[from..]
        .windows(16)
        .enumerate()
        .map(|(i, w)| (i + from, w))
        .filter(|(_, w)| secrets.0.contains(<&[u8; 16]>::try_from(*w).unwrap()))
        .map(|(i, _)| SCAN - i)
        .collect();
    let found = hits.len();
    let found_depth = hits.first().copied().unwrap_or(0);
    let below_top = &seen[..SCAN - TOP];
    let dirty = below_top.iter().filter(|&&b| b != PAINT && b != 0).count();
    let dirty_depth = below_top
        .iter()
        .position(|&b| b != PAINT && b != 0)
        .map_or(0, |i| SCAN - i);
    Report {
        name,
        depth,
        found,
        found_depth,
        dirty,
        dirty_depth,
    }
}

fn pdu(len: usize, id: u8) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ id).collect();
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p[20..24].fill(0); // NextCommand: a lone PDU
    p
}

/// Every entry point that touches key material, on `b`: the one-shot,
/// incremental, PDU and KDF ones with `single`, the batches with `batches`.
fn run_all(b: Backend, single: bool, batches: bool, out: &mut Vec<Report>) {
    let tier = format!(
        "{}/{}/{}",
        b.tier().name(),
        b.aes_batch_name(),
        b.sha256_batch_name()
    );
    let raw = [0x3cu8; 16];
    let nonce = [7u8; 12];
    // 9000 bytes: the zmm GHASH's long-message loop (4 KiB groups).
    // All-zero, so a spilled message block masked with a subkey is the
    // subkey itself.
    let msgs: [Vec<u8>; 3] = [vec![0; 64], vec![0; 4096], vec![0; 9000]];
    let mut note = |what: &str, seen: Vec<u8>, s: &Secrets| {
        out.push(inspect(format!("{tier} {what}"), &seen, s));
    };

    // Key setup: the secrets are those of the key it returns.
    let (k, seen) = probe(|| hmac::Key::with_backend(&raw, b));
    let mut s = Secrets::default();
    s.hmac(&k);
    s.add(&raw);
    note("hmac key setup", seen, &s);
    let (c, seen) = probe(|| cmac::Key::with_backend(&raw, b));
    let mut s = Secrets::default();
    s.cmac(&c);
    note("cmac key setup", seen, &s);
    let (g, seen) = probe(|| gmac::Key::with_backend(&raw, b));
    let mut s = Secrets::default();
    s.gmac(&g);
    note("gmac key setup", seen, &s);

    // The SMB3 ciphers: key setup ("cipher setup": the control does not
    // require it to leak), and seal, open and a refused open by length
    // class (aesni 8-block CTR, VAES steps, the stitched zmm GCM loop).
    for cipher in crate::cipher::Cipher::ALL {
        let raw = [0x3cu8; 32];
        let (ck, seen) =
            probe(|| crate::cipher::Key::with_backend(cipher, &raw[..cipher.key_len()], b));
        let ck = ck.unwrap();
        let mut s = Secrets::default();
        s.cipher(&ck);
        s.add(&raw);
        note(&format!("{cipher} cipher setup"), seen, &s);
        if !single {
            continue;
        }
        let nonce = &nonce[..cipher.nonce_len()];
        for m in &msgs {
            let n = m.len();
            let mut buf = m.clone();
            let (tag, seen) = probe(|| ck.seal_in_place(nonce, &[1; 32], &mut [&mut buf[..]]));
            note(&format!("{cipher} seal {n}"), seen, &s);
            let tag = tag.unwrap();
            let seen = probe(|| ck.open_in_place(nonce, &[1; 32], &mut [&mut buf[..]], &tag)).1;
            note(&format!("{cipher} open {n}"), seen, &s);
            let bad = [0u8; 16];
            let seen = probe(|| ck.open_in_place(nonce, &[1; 32], &mut [&mut buf[..]], &bad)).1;
            note(&format!("{cipher} refused open {n}"), seen, &s);
        }
    }

    if !single {
        return run_batches(b, &raw, &nonce, note);
    }
    let mut all = Secrets::default();
    all.hmac(&k);
    all.cmac(&c);
    all.gmac(&g);
    all.add(&raw);
    for m in &msgs[..2] {
        let n = m.len();
        note(&format!("hmac mac {n}"), probe(|| k.mac(m)).1, &all);
        note(&format!("hmac mac16 {n}"), probe(|| k.mac16(m)).1, &all);
        note(
            &format!("hmac verify {n}"),
            probe(|| k.verify(m, &[0; 16])).1,
            &all,
        );
        note(
            &format!("hmac vectored {n}"),
            probe(|| k.mac_vectored(&[&m[..5], &m[5..]])).1,
            &all,
        );
        note(&format!("cmac mac {n}"), probe(|| c.mac(m)).1, &all);
        note(
            &format!("cmac verify {n}"),
            probe(|| c.verify(m, &[0; 16])).1,
            &all,
        );
        note(
            &format!("cmac vectored {n}"),
            probe(|| c.mac_vectored(&[&m[..5], &m[5..]])).1,
            &all,
        );
        note(&format!("gmac mac {n}"), probe(|| g.mac(&nonce, m)).1, &all);
        note(
            &format!("gmac verify {n}"),
            probe(|| g.verify(&nonce, m, &[0; 16])).1,
            &all,
        );
        note(
            &format!("gmac vectored {n}"),
            probe(|| g.mac_vectored(&nonce, &[&m[..5], &m[5..]])).1,
            &all,
        );
        // Samba's AAD: header, zeroed signature, body, each in its own part.
        let samba: [&[u8]; 3] = [&m[..48], &[0; 16], &m[48..]];
        note(
            &format!("gmac parts {n}"),
            probe(|| g.mac_parts(&nonce, &samba)).1,
            &all,
        );
    }
    // Incremental states: each call on its own.
    let m = &msgs[1];
    let mut st = k.start();
    note("hmac update", probe(|| st.update(m)).1, &all);
    note("hmac finalize", probe(|| st.finalize()).1, &all);
    let mut st = c.start();
    note("cmac update", probe(|| st.update(m)).1, &all);
    note("cmac finalize", probe(|| st.finalize()).1, &all);
    let mut st = c.start();
    note(
        "cmac finalize_reset_with",
        probe(|| st.finalize_reset_with(m)).1,
        &all,
    );
    st.update(&m[..5]);
    note(
        "cmac finalize_reset_with held",
        probe(|| st.finalize_reset_with(m)).1,
        &all,
    );
    let mut st = probe(|| g.start(&nonce)).0;
    note("gmac start", probe(|| g.start(&nonce)).1, &all);
    note("gmac update", probe(|| st.update(m)).1, &all);
    note("gmac finalize", probe(|| st.finalize()).1, &all);

    // PDU paths and batches, through SigningKey.
    let keys = [
        Algorithm::HmacSha256,
        Algorithm::AesCmac,
        Algorithm::AesGmac,
    ]
    .map(|a| SigningKey::with_backend(a, &raw, b).unwrap());
    let mut sk = Secrets::default();
    for key in &keys {
        sk.key(key);
    }
    sk.add(&raw);
    for key in &keys {
        let a = format!("{:?}", key.algorithm());
        for len in [64, 100, 513, 1024, 1025, 4096] {
            let mut p = pdu(len, 1);
            note(
                &format!("{a} sign_pdu {len}"),
                probe(|| smb2::sign_pdu(key, &mut p)).1,
                &sk,
            );
            note(
                &format!("{a} verify_pdu {len}"),
                probe(|| smb2::verify_pdu(key, &p)).1,
                &sk,
            );
            let (h, rest) = p.split_at_mut(64);
            note(
                &format!("{a} sign_pdu_vectored {len}"),
                probe(|| smb2::sign_pdu_vectored(key, &mut [h, rest])).1,
                &sk,
            );
        }
        let n = (key.algorithm() == Algorithm::AesGmac).then_some(&nonce);
        note(
            &format!("{a} SigningKey::mac"),
            probe(|| key.mac(n, &msgs[0])).1,
            &sk,
        );
        note(
            &format!("{a} SigningKey::mac_vectored"),
            probe(|| key.mac_vectored(n, &[&msgs[0][..3], &msgs[0][3..]])).1,
            &sk,
        );
    }
    let (setup, seen) = probe(|| SigningKey::with_backend(Algorithm::AesGmac, &raw, b).unwrap());
    let mut s = Secrets::default();
    s.key(&setup);
    note("SigningKey setup", seen, &s);
    let m = &msgs[2];
    note("gmac mac 9000", probe(|| g.mac(&nonce, m)).1, &all);
    for n in [112, 113, 512, 513, 1024, 1025] {
        note(
            &format!("gmac mac {n}"),
            probe(|| g.mac(&nonce, &m[..n])).1,
            &all,
        );
        // Samba's three parts at the same lengths (the size classes of
        // `Bytes::gmac_fused_parts`).
        let samba: [&[u8]; 3] = [&m[..48], &[0; 16], &m[64..n]];
        note(
            &format!("gmac parts {n}"),
            probe(|| g.mac_parts(&nonce, &samba)).1,
            &all,
        );
    }
    let mut st = g.start(&nonce);
    note("gmac update 9000", probe(|| st.update(m)).1, &all);

    // KDF on this backend: the PRF key's pad states and what it derives.
    let mut derived = [0u8; 16];
    let seen =
        probe(|| kdf::counter_hmac_sha256_with(b, &raw, &[b"label\0", b"ctx"], &mut derived)).1;
    let mut s = Secrets::default();
    s.hmac(&hmac::Key::with_backend(&raw, b));
    s.add(&raw);
    s.add(&derived);
    note("kdf", seen, &s);
    if batches {
        run_batches(b, &raw, &nonce, note);
    }
}

/// The batch entry points on `b`: 64 jobs of 256 bytes, the three
/// algorithms in turn.
fn run_batches(
    b: Backend,
    raw: &[u8; 16],
    nonce: &[u8; 12],
    mut note: impl FnMut(&str, Vec<u8>, &Secrets),
) {
    let keys = [
        Algorithm::HmacSha256,
        Algorithm::AesCmac,
        Algorithm::AesGmac,
    ]
    .map(|a| SigningKey::with_backend(a, raw, b).unwrap());
    let mut sk = Secrets::default();
    for key in &keys {
        sk.key(key);
    }

    let short = vec![0x44u8; 256];
    let jobs: Vec<batch::Job<'_>> = (0..64)
        .map(|i| {
            let key = &keys[i % 3];
            let n = (key.algorithm() == Algorithm::AesGmac).then_some(nonce);
            batch::Job::new(key, n, &short).unwrap()
        })
        .collect();
    let mut tags = vec![[0u8; 16]; jobs.len()];
    note(
        "batch sign 64x256",
        probe(|| batch::sign(&jobs, &mut tags)).1,
        &sk,
    );
    // GMAC only (64 to 253 bytes): the batch takes the smaller erasure.
    let gjobs: Vec<batch::Job<'_>> = (0..64)
        .map(|i| batch::Job::new(&keys[2], Some(nonce), &short[..64 + 3 * i]).unwrap())
        .collect();
    let mut gtags = vec![[0u8; 16]; gjobs.len()];
    note(
        "batch sign gmac",
        probe(|| batch::sign(&gjobs, &mut gtags)).1,
        &sk,
    );
    let mut gvalid = vec![false; gjobs.len()];
    note(
        "batch verify gmac",
        probe(|| batch::verify(&gjobs, &gtags, &mut gvalid)).1,
        &sk,
    );
    let mut valid = vec![false; jobs.len()];
    note(
        "batch verify 64x256",
        probe(|| batch::verify(&jobs, &tags, &mut valid)).1,
        &sk,
    );
    // CCM batches (the CCM lanes kernels), both key sizes, and a refused open.
    for cipher in [
        crate::cipher::Cipher::Aes128Ccm,
        crate::cipher::Cipher::Aes256Ccm,
    ] {
        let raw = [0x3cu8; 32];
        let ck = crate::cipher::Key::with_backend(cipher, &raw[..cipher.key_len()], b).unwrap();
        let mut cs = Secrets::default();
        cs.cipher(&ck);
        cs.add(&raw);
        let mut msgs: Vec<Vec<u8>> = (0..64).map(|i| vec![0u8; 256 + i]).collect();
        let mut tags = vec![[0u8; 16]; msgs.len()];
        let mut parts: Vec<[&mut [u8]; 1]> = msgs.iter_mut().map(|m| [&mut m[..]]).collect();
        let mut jobs: Vec<batch::CipherJob<'_, '_>> = parts
            .iter_mut()
            .map(|p| batch::CipherJob::new(&ck, &nonce[..11], &[1; 32], p).unwrap())
            .collect();
        note(
            &format!("batch seal {cipher} 64x256"),
            probe(|| batch::seal(&mut jobs, &mut tags)).1,
            &cs,
        );
        let mut valid = vec![false; jobs.len()];
        note(
            &format!("batch open {cipher} 64x256"),
            probe(|| batch::open(&mut jobs, &tags, &mut valid)).1,
            &cs,
        );
        tags[5][0] ^= 1;
        note(
            &format!("batch refused open {cipher} 64x256"),
            probe(|| batch::open(&mut jobs, &tags, &mut valid)).1,
            &cs,
        );
    }
    let mut bufs: Vec<Vec<u8>> = (0..64).map(|i| pdu(256, i as u8)).collect();
    let mut pjobs: Vec<batch::PduJob<'_, &mut [u8]>> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, p)| batch::PduJob {
            key: &keys[i % 3],
            pdu: &mut p[..],
        })
        .collect();
    note(
        "batch sign_pdus 64x256",
        probe(|| batch::sign_pdus(&mut pjobs)).1,
        &sk,
    );
    let vjobs: Vec<batch::PduJob<'_, &[u8]>> = pjobs
        .iter()
        .map(|j| batch::PduJob {
            key: j.key,
            pdu: &*j.pdu,
        })
        .collect();
    note(
        "batch verify_pdus 64x256",
        probe(|| batch::verify_pdus(&vjobs)).1,
        &sk,
    );
    let vjobs: Vec<batch::PduJob<'_, &[u8]>> = vjobs
        .iter()
        .map(|j| batch::PduJob {
            key: j.key,
            pdu: j.pdu,
        })
        .collect();
    note(
        "batch verify_pdus_each 64x256",
        probe(|| batch::verify_pdus_each(&vjobs)).1,
        &sk,
    );
}

/// Every tier this CPU has (`SMBSIGN_TEST_TIERS` limits them, as in the
/// other suites) with each long-message GHASH loop, and the batches also
/// with every other lane kernel (under emulation, `SMBSIGN_TEST_RUNNER`
/// set, only each tier's own kernels), on a thread whose stack the probe
/// owns. `control`: without erasure, and only the key setups and batches
/// the test requires to leak then (everything with `full`).
fn reports(control: bool, full: bool) -> Vec<Report> {
    let tiers: Vec<Backend> = match std::env::var("SMBSIGN_TEST_TIERS") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|n| Backend::with_tier(Tier::from_name(n).unwrap()).expect("tier available"))
            .collect(),
        _ => Backend::available(),
    };
    let emulated = std::env::var_os("SMBSIGN_TEST_RUNNER").is_some_and(|r| !r.is_empty());
    let single = !control || full;
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            OFF.with(|o| o.set(control));
            let mut out = Vec::new();
            for t in tiers {
                let (ghash, lanes) = if emulated {
                    (vec![t], vec![])
                } else {
                    (t.ghash_variants(), t.batch_variants())
                };
                for (i, v) in ghash.iter().enumerate() {
                    run_all(*v, single, i == 0, &mut out);
                }
                for v in lanes.iter().skip(1) {
                    run_all(*v, false, true, &mut out);
                }
            }
            out
        })
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn entry_points_leave_no_key_material_on_the_stack() {
    let verbose = std::env::var_os("SMBSIGN_SCRUB_REPORT").is_some();
    let on = reports(false, verbose);
    let mut failed = Vec::new();
    for r in &on {
        if r.found > 0 || r.dirty > 0 {
            failed.push(format!(
                "{}: {} key windows (deepest {} bytes below the caller), {} non-zero bytes left (deepest {})",
                r.name, r.found, r.found_depth, r.dirty, r.dirty_depth
            ));
        }
    }
    // The control: without the erasure the same scan finds key material
    // after every key setup and lane kernel, so this test can fail. With
    // SMBSIGN_SCRUB_REPORT set, every entry point's depth with and
    // without erasure is printed (what sizes [`Bytes`]).
    let off = reports(true, verbose);
    let mut controls = 0;
    let mut seal_controls = std::collections::BTreeMap::new();
    for c in &off {
        if verbose {
            let r = on.iter().find(|r| r.name == c.name).unwrap();
            println!(
                "{:64} depth {:6} unerased {:6} | erased: found {} dirty {} | unerased: found {} dirty {}",
                r.name, r.depth, c.depth, r.found, r.dirty, c.found, c.dirty
            );
        }
        if c.name.contains("key setup") || c.name.contains("batch sign 64x256") {
            assert!(c.found > 0, "control found nothing: {}", c.name);
            controls += 1;
        }
        // A batch seal leaks without erasure on some backend of each cipher,
        // not on every one: in the release profile the portable CCM lanes
        // keep their round keys in registers.
        if let Some(cipher) = c.name.split("batch seal ").nth(1) {
            let leaked = seal_controls.entry(cipher.to_owned()).or_insert(false);
            *leaked |= c.found > 0;
        }
    }
    assert!(controls >= 4, "{controls} controls");
    assert!(!seal_controls.is_empty(), "no batch seal controls");
    for (cipher, leaked) in &seal_controls {
        assert!(
            leaked,
            "control found nothing on any backend: batch seal {cipher}"
        );
    }
    assert!(
        failed.is_empty(),
        "left on the stack:\n{}",
        failed.join("\n")
    );
}
