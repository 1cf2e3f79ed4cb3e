//! Erasure of the stack a key-touching call used, once it returns.
//!
//! SIMD kernels spill round keys, key powers and chaining values to their
//! frames (`vaes512_mb` copies all 88 zmm of per-lane round keys), and the
//! Rust glue above them keeps copies too. Those bytes stay below the stack
//! pointer after the call until something overwrites them, where a later
//! read of uninitialised stack in the host would find them. So every public
//! entry point that touches key material runs its body through [`after`]:
//! the body gets a frame of its own below the caller's stack pointer, and
//! once it returns the `bytes` below that stack pointer are zeroed (the
//! approach of libsodium's `sodium_stackzero`, done here by inline assembly
//! so nothing is left out by frame padding and no compiler can drop it).
//!
//! The sizes are measured, per kernel, by painting a thread's stack and
//! seeing how deep each entry point writes (the `tests` below, which also
//! prove the erasure: they scan the stack for the key schedule afterwards).
//! They live in one table, [`Bytes`].

use crate::backend::Backend;
#[cfg(target_arch = "x86_64")]
use crate::backend::{Aes, Ghash, Sha256};

/// Runs `f` in a frame of its own, then zeroes the `bytes` below the stack
/// pointer of the frame that called it: where `f` and its kernels ran.
#[inline(always)]
pub(crate) fn after<R>(bytes: usize, f: impl FnOnce() -> R) -> R {
    let r = framed(f);
    #[cfg(all(test, target_arch = "x86_64"))]
    if tests::OFF.with(core::cell::Cell::get) {
        return r;
    }
    zero_below(bytes);
    r
}

/// As [`after`], for a size that `f` finds out (and returns with its result).
#[inline(always)]
pub(crate) fn after_sized<R>(f: impl FnOnce() -> (R, usize)) -> R {
    let (r, bytes) = framed(f);
    #[cfg(all(test, target_arch = "x86_64"))]
    if tests::OFF.with(core::cell::Cell::get) {
        return r;
    }
    zero_below(bytes);
    r
}

/// A call boundary: `f`'s locals live below the caller's stack pointer.
#[inline(never)]
fn framed<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Zeroes `bytes` (rounded up to 64) below the stack pointer: from 2 KiB by
/// `rep stosb` (as fast or faster there on the Intel Xeon: batches, the zmm
/// GMAC's long messages), from 1 KiB by 32-byte AVX stores where the CPU has
/// them (twice the rate of SSE2 on cores with two store ports), else by
/// 16-byte SSE2 stores (every x86-64 CPU has SSE2).
#[inline(always)]
#[cfg(target_arch = "x86_64")]
fn zero_below(bytes: usize) {
    if bytes >= 2048 {
        // SAFETY: as below, for `bytes` bytes; `rep stosb` runs forwards
        // (the ABI keeps the direction flag clear between instructions).
        unsafe {
            core::arch::asm!(
                "sub rsp, rcx",
                "mov rdi, rsp",
                "mov rdx, rcx",
                "xor eax, eax",
                "rep stosb",
                "add rsp, rdx",
                inout("rcx") bytes => _,
                out("rdi") _,
                out("rdx") _,
                out("rax") _,
                options(nomem),
            );
        }
        return;
    }
    if bytes >= 1024 && std::is_x86_feature_detected!("avx") {
        let n = bytes.div_ceil(128) * 128;
        // SAFETY: moves rsp down by `n` for the duration of the block (as
        // pushes would), zeroes the `n` bytes it moved over, and restores it:
        // they are the frames of the call that just returned (n is sized from
        // them) and hold nothing live, since without `nostack` the compiler
        // keeps nothing below rsp (no red zone) across this block. Writing
        // only above the moved stack pointer keeps the kernel's (and
        // valgrind's) stack growth rules: they fault writes far below rsp.
        // AVX was detected; `vzeroupper` then clears the upper halves
        // (clobbered, with every other caller-saved register) so no SSE code
        // after pays for a dirty upper state. n > 0.
        unsafe {
            core::arch::asm!(
                "vpxor xmm0, xmm0, xmm0",
                "sub rsp, rcx",
                "mov rdi, rsp",
                "mov rdx, rcx",
                "2:",
                "vmovdqu ymmword ptr [rdi], ymm0",
                "vmovdqu ymmword ptr [rdi + 32], ymm0",
                "vmovdqu ymmword ptr [rdi + 64], ymm0",
                "vmovdqu ymmword ptr [rdi + 96], ymm0",
                "add rdi, 128",
                "sub rcx, 128",
                "ja 2b",
                "add rsp, rdx",
                "vzeroupper",
                inout("rcx") n => _,
                out("rdi") _,
                clobber_abi("C"),
                options(nomem),
            );
        }
        return;
    }
    let n = bytes.div_ceil(64).max(1) * 64;
    // SAFETY: as above, with SSE2 stores of a zeroed xmm register. n > 0.
    unsafe {
        core::arch::asm!(
            "pxor {z}, {z}",
            "sub rsp, {n}",
            "mov {p}, rsp",
            "mov {m}, {n}",
            "2:",
            "movdqu [{p}], {z}",
            "movdqu [{p} + 16], {z}",
            "movdqu [{p} + 32], {z}",
            "movdqu [{p} + 48], {z}",
            "add {p}, 64",
            "sub {n}, 64",
            "ja 2b",
            "add rsp, {m}",
            n = inout(reg) n => _,
            p = out(reg) _,
            m = out(reg) _,
            z = out(xmm_reg) _,
            options(nomem),
        );
    }
}

/// Zeroes `bytes` (rounded up to 64) below the stack pointer.
#[inline(always)]
#[cfg(target_arch = "aarch64")]
fn zero_below(bytes: usize) {
    let n = bytes.div_ceil(64).max(1) * 64;
    // SAFETY: as on x86-64 (sp moved down by `n`, a multiple of 64, so it
    // stays 16-aligned, and restored): only the `n` bytes below sp, just used by the
    // returned call's frames and holding nothing live (AArch64 has no red
    // zone for Rust code and the block may use the stack). Pairs of 8-byte
    // zero stores.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, {n}",
            "mov {p}, sp",
            "mov {m}, {n}",
            "2:",
            "stp xzr, xzr, [{p}]",
            "stp xzr, xzr, [{p}, #16]",
            "stp xzr, xzr, [{p}, #32]",
            "stp xzr, xzr, [{p}, #48]",
            "add {p}, {p}, #64",
            "subs {n}, {n}, #64",
            "b.hi 2b",
            "add sp, sp, {m}",
            n = inout(reg) n => _,
            p = out(reg) _,
            m = out(reg) _,
            options(nomem),
        );
    }
}

/// Elsewhere (no kernels, no `unsafe`): a zeroed buffer of the size in a
/// frame of its own, kept by `black_box`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn zero_below(bytes: usize) {
    #[inline(never)]
    fn zero<const N: usize>() {
        let mut buf = [0u8; N];
        core::hint::black_box(&mut buf);
    }
    match bytes {
        0 => {}
        1..=4096 => zero::<4096>(),
        _ => zero::<16384>(),
    }
}

/// How many bytes below the caller's stack pointer each kind of entry point
/// uses, per kernel. Measured by the `tests` below (`SMBSIGN_SCRUB_REPORT=1`
/// prints every entry point's depth without erasure) in the test and the
/// release profile (Intel Xeon, rustc 1.95; the numbers in each comment are
/// the deeper of the two); each size is that depth plus at least 25% (and
/// 256 bytes), rounded up to 64, as headroom for other compilers' inlining.
/// Not larger: zeroing lines the call never touched costs cache misses.
/// ARMv8 is not measured here: it gets the portable tier's sizes, larger
/// than those of every x86 kernel but the zmm GMAC.
pub(crate) struct Bytes;

impl Bytes {
    /// HMAC-SHA256: key setup, a one-shot MAC or verify, a state update or
    /// finalisation (deepest: portable 1220, SHA-NI 1056; at every length).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn hmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.sha256, Sha256::ShaNi(_)) {
            return 1344;
        }
        1536
    }

    /// AES-CMAC: key setup, a one-shot MAC or verify, a state update or
    /// finalisation (portable 616, AES-NI 472).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn cmac(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.aes, Aes::AesNi(_)) {
            return 640;
        }
        832
    }

    /// AES-GMAC: a one-shot MAC or verify of `len` bytes, a state's start
    /// or finalisation (`len` 0: one block of AES, at most three of GHASH),
    /// or update. By the kernel the length picks (the tests cover each
    /// class): short messages (up to `pclmul::SHORT_MAX`: xmm and ymm 192,
    /// zmm 128; a finalisation 416), the xmm fused kernel to 512 bytes (880)
    /// and the generic one beyond (872); the zmm kernel to 1024 (1008) and
    /// its long-message loop beyond (2000); portable 1440.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac(b: &Backend, len: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        match b.ghash {
            Ghash::Soft => {}
            _ if len <= crate::backend::x86::pclmul::SHORT_MAX => return 576,
            Ghash::Pclmul(_) | Ghash::Vpclmul256(_) => return 1152,
            Ghash::Vpclmul512(..) if len <= 1024 => return 1280,
            Ghash::Vpclmul512(..) => return 2560,
        }
        2048
    }

    /// AES-GMAC over parts (`gmac::Key::mac_parts`, `mac_vectored`): the
    /// gathering of straddling blocks and the multi-part fused kernels sit
    /// on top of [`Bytes::gmac`]'s frames (deepest seen in the test profile:
    /// portable 2489, xmm and ymm 2080, zmm 3072; 1.5x of that here, the
    /// release profile unmeasured).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn gmac_parts(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        match b.ghash {
            Ghash::Soft => {}
            Ghash::Pclmul(_) | Ghash::Vpclmul256(_) => return 3136,
            Ghash::Vpclmul512(..) => return 4608,
        }
        3776
    }

    /// AES-GMAC key setup: round keys and key powers (11240 on every tier
    /// in one profile or the other). Once per key.
    pub(crate) const GMAC_KEY: usize = 16384;

    /// An SMB3 cipher's seal or open (`cipher::Key`), every cipher and
    /// length class (deepest: the zmm tier 2800, other x86 tiers 1752 (the
    /// short GCM path's stack copies), portable 1512).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn cipher(b: &Backend) -> usize {
        #[cfg(target_arch = "x86_64")]
        if matches!(b.ghash, Ghash::Vpclmul512(..)) {
            return 3776;
        }
        2496
    }

    /// An SMB3 cipher's key setup: GCM's hash-key powers (deepest 13512, the
    /// zmm tier's wide powers), CCM's AES schedule (portable 3260).
    pub(crate) fn cipher_key(gcm: bool) -> usize {
        if gcm {
            17152
        } else {
            4352
        }
    }

    /// A PDU or compound chain of `len` bytes in all signed or verified, or
    /// a `SigningKey` MAC: the MAC under the chain walk, which alone takes
    /// about 900 bytes (HMAC: portable 2040, SHA-NI 1856; CMAC: portable
    /// 1800, AES-NI 1496; GMAC, a lone header: 1488; else xmm and ymm 2480,
    /// zmm to 1024 bytes 2352 and beyond 3200; portable 2624).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn pdu(b: &Backend, algorithm: crate::smb2::Algorithm, len: usize) -> usize {
        use crate::smb2::Algorithm;
        #[cfg(target_arch = "x86_64")]
        match (algorithm, b.sha256, b.aes, b.ghash) {
            (Algorithm::HmacSha256, Sha256::ShaNi(_), ..) => return 2368,
            (Algorithm::AesCmac, _, Aes::AesNi(_), _) => return 1920,
            (Algorithm::AesGmac, .., Ghash::Soft) => {}
            (Algorithm::AesGmac, ..) if len <= 64 => return 1920,
            (Algorithm::AesGmac, .., Ghash::Vpclmul512(..)) if len > 1024 => return 4032,
            (Algorithm::AesGmac, ..) => return 3136,
            _ => {}
        }
        match algorithm {
            Algorithm::HmacSha256 => 2560,
            Algorithm::AesCmac => 2304,
            Algorithm::AesGmac => 3328,
        }
    }

    /// A batch or PDU batch call, whatever the backends of its keys: the
    /// deepest lane kernel and batch glue (16592), once per call.
    pub(crate) const BATCH: usize = 20736;

    /// A batch of GMAC jobs only (no lane kernel ran: the paired or the
    /// one-shot GMAC kernels; 2224).
    pub(crate) const GMAC_BATCH: usize = 2816;

    /// A `batch::sign` or `batch::verify`: [`Bytes::BATCH`] if a lane kernel
    /// ran, else [`Bytes::GMAC_BATCH`].
    pub(crate) fn batch(lanes: bool) -> usize {
        if lanes {
            Bytes::BATCH
        } else {
            Bytes::GMAC_BATCH
        }
    }

    /// A key derivation: HMAC key setup and one MAC per 32 output bytes
    /// (portable 1416, SHA-NI 1088).
    pub(crate) fn kdf(b: &Backend) -> usize {
        Bytes::hmac(b) + 512
    }
}

/// The proof: each entry point runs on a thread stack this test paints; then
/// the region below the caller's stack pointer is scanned for the key
/// material (every 16-byte window of round keys, CMAC subkeys, GHASH key
/// powers, HMAC pad states in the byte orders the kernels hold them) and for
/// anything the call wrote that is not zero (which catches representations
/// the windows miss, such as the portable AES's bit planes).
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::collections::HashSet;

    use crate::backend::{Backend, Tier};
    use crate::mac::{cmac, gmac, hmac};
    use crate::smb2::{self, Algorithm, SigningKey};
    use crate::{batch, kdf};

    thread_local! {
        /// Set by the control run: entry points skip the erasure.
        pub(crate) static OFF: Cell<bool> = const { Cell::new(false) };
    }

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
            for half in [&p.0, &p.1] {
                let bytes: Vec<u8> = half.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.add(&bytes);
            }
            match &p.2 {
                Some(crate::backend::WidePowers::Paired(w)) => {
                    let b: Vec<u8> =
                        w.0.as_flattened()
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect();
                    self.add(&b);
                }
                Some(crate::backend::WidePowers::Gfni(_, w)) => {
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
                for half in [&p.0, &p.1] {
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
        let (setup, seen) =
            probe(|| SigningKey::with_backend(Algorithm::AesGmac, &raw, b).unwrap());
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
        }
        assert!(controls >= 4, "{controls} controls");
        assert!(
            failed.is_empty(),
            "left on the stack:\n{}",
            failed.join("\n")
        );
    }
}
