//! Proves every backend equals the portable one and the RustCrypto reference
//! crates (`cmac`, `aes-gcm`, `hmac`) on random keys, nonces and messages: every
//! length 0..=2048 at unaligned offsets, random lengths up to 1 MiB, splits into
//! scatter-gather pieces at every boundary, and random incremental update chunking;
//! short GMAC messages (the fused kernels, whose partial last block is read by
//! a masked load on the avx512 tier) at every offset, and GMAC of every length
//! 0..=1100 ending or starting at an unmapped page (no read outside the message),
//! and long GMAC messages at every offset within a cache line.

mod common;

use common::{backends, bytes, cases, max_len, ref_cmac, ref_gmac, ref_hmac};
use proptest::prelude::*;
use smbsign::{cmac, gmac, hmac, Backend};

/// All three MACs of `msg` on backend `b`, one-shot.
fn macs(
    b: Backend,
    key: &[u8; 16],
    nonce: &[u8; 12],
    msg: &[u8],
) -> ([u8; 16], [u8; 16], [u8; 32]) {
    (
        cmac::Key::with_backend(key, b).mac(msg),
        gmac::Key::with_backend(key, b).mac(nonce, msg),
        hmac::Key::with_backend(key, b).mac(msg),
    )
}

#[test]
fn every_length_to_2048_unaligned_all_backends() {
    let key: [u8; 16] = bytes(1, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(2, 12).try_into().unwrap();
    let data = bytes(3, 2048 + 64);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| {
            (
                b,
                cmac::Key::with_backend(&key, b),
                gmac::Key::with_backend(&key, b),
                hmac::Key::with_backend(&key, b),
            )
        })
        .collect();
    let top = max_len(2048).min(2048);
    for len in 0..=top {
        let off = len % 17; // every alignment 0..=16 over the sweep
        let msg = &data[off..off + len];
        let want = (
            ref_cmac(&key, msg),
            ref_gmac(&key, &nonce, msg),
            ref_hmac(&key, msg),
        );
        for (b, c, g, h) in &keys {
            assert_eq!(c.mac(msg), want.0, "cmac len {len} {:?}", b.tier());
            assert_eq!(g.mac(&nonce, msg), want.1, "gmac len {len} {:?}", b.tier());
            assert_eq!(h.mac(msg), want.2, "hmac len {len} {:?}", b.tier());
        }
    }
}

#[test]
fn large_messages_all_backends() {
    let top = max_len(1 << 20);
    let mut lens = vec![4095, 4096, 4097, 65535, 65536, 65537 + 15, 300_001];
    lens.push(1 << 20);
    lens.push((1 << 20) - 1);
    for (i, &len) in lens.iter().filter(|&&l| l <= top).enumerate() {
        let key: [u8; 16] = bytes(10 + i as u64, 16).try_into().unwrap();
        let nonce: [u8; 12] = bytes(20 + i as u64, 12).try_into().unwrap();
        let msg = bytes(30 + i as u64, len + 1);
        let msg = &msg[1..]; // unaligned start
        let want = (
            ref_cmac(&key, msg),
            ref_gmac(&key, &nonce, msg),
            ref_hmac(&key, msg),
        );
        for b in backends() {
            assert_eq!(macs(b, &key, &nonce, msg), want, "len {len} {:?}", b.tier());
        }
    }
}

/// GMAC lengths around every multiple of 1 KiB up to 8 KiB (the zmm tier's
/// 64-block groups and 256-block wide groups, whole and partial, with and
/// without a 64-byte first part, as `sign_pdu` passes the SMB2 header).
#[test]
fn gmac_around_group_boundaries_all_backends() {
    let key: [u8; 16] = bytes(50, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(51, 12).try_into().unwrap();
    let data = bytes(52, 8192 + 64 + 17);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    let top = max_len(8192 + 40);
    // ... and around every multiple of 128 bytes (the zmm tier's eight-block
    // steps: a wide group of any length takes the rest of a long message).
    let around_kib = (1..=8).flat_map(|k| 1024 * k - 40..=1024 * k + 40);
    let around_128 = (2..=70).flat_map(|m| [128 * m - 16, 128 * m, 128 * m + 16]);
    for len in around_kib.chain(around_128).filter(|&l| l <= top) {
        let off = len % 17;
        let msg = &data[off..off + len];
        let want = ref_gmac(&key, &nonce, msg);
        for (b, g) in &keys {
            assert_eq!(g.mac(&nonce, msg), want, "len {len} {:?}", b.tier());
            let parts = [&msg[..64], &msg[64..]];
            assert_eq!(
                g.mac_vectored(&nonce, &parts),
                want,
                "64+{} {:?}",
                len - 64,
                b.tier()
            );
        }
    }
}

/// GMAC of messages of two wide groups and more, starting at every offset
/// within a cache line (the zmm tier hashes the blocks up to a line's start
/// first where whole blocks reach it), one part and header + body.
#[test]
fn gmac_long_messages_at_every_line_offset_all_backends() {
    let key: [u8; 16] = bytes(53, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(54, 12).try_into().unwrap();
    let data = bytes(55, 12288 + 200);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    let base = data.as_ptr().align_offset(64);
    for len in [8192, 8192 + 16, 8192 + 100, 12288 + 48]
        .into_iter()
        .filter(|&l| l <= max_len(12288 + 48))
    {
        for off in 0..64 {
            let msg = &data[base + off..base + off + len];
            let want = ref_gmac(&key, &nonce, msg);
            for (b, g) in &keys {
                let name = b.aes_gmac_name();
                assert_eq!(g.mac(&nonce, msg), want, "len {len} offset {off} {name}");
                let parts = [&msg[..64], &msg[64..]];
                assert_eq!(
                    g.mac_vectored(&nonce, &parts),
                    want,
                    "64+ len {len} offset {off} {name}"
                );
            }
        }
    }
}

#[test]
fn two_piece_split_at_every_boundary() {
    let key: [u8; 16] = bytes(40, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(41, 12).try_into().unwrap();
    let msg = bytes(42, 700);
    for b in backends() {
        let (c, g, h) = (
            cmac::Key::with_backend(&key, b),
            gmac::Key::with_backend(&key, b),
            hmac::Key::with_backend(&key, b),
        );
        let want = (c.mac(&msg), g.mac(&nonce, &msg), h.mac(&msg));
        for s in 0..=msg.len() {
            let parts = [&msg[..s], &msg[s..]];
            assert_eq!(c.mac_vectored(&parts), want.0, "cmac split {s}");
            assert_eq!(g.mac_vectored(&nonce, &parts), want.1, "gmac split {s}");
            assert_eq!(h.mac_vectored(&parts), want.2, "hmac split {s}");
        }
    }
}

/// GMAC over Samba's AAD shapes, read in place by the fused kernels:
/// header 48 + zeroed signature 16 + body (three parts), and five parts with
/// the body split at odd places (fixed part, dynamic part, padding), at
/// every length to 600 bytes and a few long ones; also eight one-byte-ish parts
/// (a block gathered from many) and nine parts (the streaming fallback).
#[test]
fn gmac_samba_parts_all_backends() {
    let key: [u8; 16] = bytes(60, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(61, 12).try_into().unwrap();
    let data = bytes(62, 70_000);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    let lens = (64..=600).chain([1024, 1040, 4096, 4103, 65_536 + 5]);
    for len in lens.filter(|&l| l <= max_len(70_000)) {
        let msg = &data[len % 13..len % 13 + len];
        let want = ref_gmac(&key, &nonce, msg);
        let mut shapes = vec![vec![48, 16]];
        for x in [1, 8, 15, 16, 24, 88] {
            for y in [0, 1, 7, 16, 33] {
                shapes.push(vec![48, 16, x, y]);
            }
        }
        shapes.push(vec![1, 2, 3, 4, 5, 6, 7]);
        shapes.push(vec![16, 16, 16, 1, 1, 1, 1, 1]);
        for cuts in shapes {
            let mut at = 0;
            let mut parts = Vec::new();
            for c in cuts {
                let c = c.min(len - at);
                parts.push(&msg[at..at + c]);
                at += c;
            }
            parts.push(&msg[at..]);
            // Each part in its own allocation, as Samba's zeroed signature
            // lies apart from the header: a read past a part shows.
            let apart: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
            let parts: Vec<&[u8]> = apart.iter().map(|p| &p[..]).collect();
            for (b, g) in &keys {
                let lens: Vec<_> = parts.iter().map(|p| p.len()).collect();
                assert_eq!(
                    g.mac_vectored(&nonce, &parts),
                    want,
                    "parts {lens:?} {:?}",
                    b.tier()
                );
            }
        }
    }
}

/// Samba's three-part AAD (header 48, zeroed signature 16, body) at every
/// length from 600 to 2100 bytes, and with the body split once more at an odd
/// place: the ymm kernel's 64-block groups past the first (its accumulator
/// joining the last group), the xmm kernel's long-message loop past 512
/// bytes, both with the length block in the last group or alone after it.
#[test]
fn gmac_samba_parts_past_one_group_all_backends() {
    let key: [u8; 16] = bytes(63, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(64, 12).try_into().unwrap();
    let data = bytes(65, 2100 + 13);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    for len in (600..=2100).filter(|&l| l <= max_len(2100)) {
        let msg = &data[len % 13..len % 13 + len];
        let want = ref_gmac(&key, &nonce, msg);
        let odd = 64 + (len - 64) / 3;
        let shapes: [&[&[u8]]; 2] = [
            &[&msg[..48], &msg[48..64], &msg[64..]],
            &[&msg[..48], &msg[48..64], &msg[64..odd], &msg[odd..]],
        ];
        for parts in shapes {
            for (b, g) in &keys {
                assert_eq!(g.mac_parts(&nonce, parts), want, "len {len} {:?}", b.tier());
            }
        }
    }
}

/// Incremental CMAC and HMAC-SHA256 as three updates split at every pair of
/// points (Samba's header, signature and body), each message through
/// `finalize_reset` (and CMAC's `finalize_reset_with` taking the last part)
/// on one long-lived state, at every length to 150 bytes:
/// the CMAC state holds up to 64 bytes back before its kernel runs, and
/// updates that only buffer skip the stack erasure.
#[test]
fn incremental_three_updates_every_split_all_backends() {
    let key: [u8; 16] = bytes(70, 16).try_into().unwrap();
    let msg = bytes(71, 150);
    for b in backends() {
        let (c, h) = (
            cmac::Key::with_backend(&key, b),
            hmac::Key::with_backend(&key, b),
        );
        let (mut cs, mut hs) = (c.start(), h.start());
        for len in 0..=msg.len().min(max_len(150)) {
            let m = &msg[..len];
            let want = (ref_cmac(&key, m), ref_hmac(&key, m));
            for i in 0..=len {
                for j in i..=len {
                    for p in [&m[..i], &m[i..j], &m[j..]] {
                        cs.update(p);
                        hs.update(p);
                    }
                    assert_eq!(
                        cs.finalize_reset(),
                        want.0,
                        "cmac {i}/{j}/{len} {:?}",
                        b.tier()
                    );
                    assert_eq!(
                        hs.finalize_reset(),
                        want.1,
                        "hmac {i}/{j}/{len} {:?}",
                        b.tier()
                    );
                    // The last part handed to finalize_reset_with instead
                    // (the preload's way: i = j = 0 is the whole message
                    // on a fresh state, read in place).
                    cs.update(&m[..i]);
                    cs.update(&m[i..j]);
                    assert_eq!(
                        cs.finalize_reset_with(&m[j..]),
                        want.0,
                        "cmac finalize_reset_with {i}/{j}/{len} {:?}",
                        b.tier()
                    );
                }
            }
        }
    }
}

/// Splits `msg` at the sorted cut points (clamped to its length).
fn split<'a>(msg: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (msg.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&msg[at..c]);
        at = c;
    }
    out.push(&msg[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn random_inputs_match_reference_and_portable(
        key in any::<[u8; 16]>(),
        nonce in any::<[u8; 12]>(),
        msg in proptest::collection::vec(any::<u8>(), 0..=4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        hkey in proptest::collection::vec(any::<u8>(), 0..=200),
    ) {
        let want = (ref_cmac(&key, &msg), ref_gmac(&key, &nonce, &msg), ref_hmac(&hkey, &msg));
        let parts = split(&msg, &cuts);
        for b in backends() {
            let c = cmac::Key::with_backend(&key, b);
            let g = gmac::Key::with_backend(&key, b);
            let h = hmac::Key::with_backend(&hkey, b);
            prop_assert_eq!(c.mac(&msg), want.0);
            prop_assert_eq!(g.mac(&nonce, &msg), want.1);
            prop_assert_eq!(h.mac(&msg), want.2);
            prop_assert_eq!(c.mac_vectored(&parts), want.0);
            prop_assert_eq!(g.mac_vectored(&nonce, &parts), want.1);
            prop_assert_eq!(h.mac_vectored(&parts), want.2);
            // Incremental, with a clone taken midway continuing identically.
            let (mut cs, mut gs, mut hs) = (c.start(), g.start(&nonce), h.start());
            for p in &parts {
                cs.update(p);
                gs.update(p);
                hs.update(p);
            }
            let (cc, gc, hc) = (cs.clone(), gs.clone(), hs.clone());
            prop_assert_eq!(cs.finalize(), want.0);
            prop_assert_eq!(gs.finalize(), want.1);
            prop_assert_eq!(hs.finalize(), want.2);
            prop_assert_eq!(cc.finalize(), want.0);
            prop_assert_eq!(gc.finalize(), want.1);
            prop_assert_eq!(hc.finalize(), want.2);
        }
    }

}

proptest! {
    // Up to 1 MiB each: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(cases(256) / 16 + 1))]

    #[test]
    fn random_large_lengths(
        len in 4096usize..=(max_len(1 << 20).max(4096)),
        seed in any::<u64>(),
        off in 0usize..16,
    ) {
        let key: [u8; 16] = bytes(seed, 16).try_into().unwrap();
        let nonce: [u8; 12] = bytes(seed ^ 1, 12).try_into().unwrap();
        let buf = bytes(seed ^ 2, len + off);
        let msg = &buf[off..];
        let want = (ref_cmac(&key, msg), ref_gmac(&key, &nonce, msg), ref_hmac(&key, msg));
        for b in backends() {
            prop_assert_eq!(macs(b, &key, &nonce, msg), want);
        }
    }
}

/// `finalize_reset` gives each message's reference tag and leaves the state
/// fresh for the next one (the handle-reuse pattern of GnuTLS's HMAC API).
#[test]
fn finalize_reset_reuses_state_across_messages() {
    let key: [u8; 16] = bytes(7, 16).try_into().unwrap();
    let long_key = bytes(8, 100);
    let mut c = cmac::Key::new(&key).into_state();
    let mut h = hmac::Key::new(&key).into_state();
    let mut hl = hmac::Key::new(&long_key).into_state();
    for (i, len) in [0usize, 1, 15, 16, 17, 64, 65, 1000]
        .into_iter()
        .enumerate()
    {
        let msg = bytes(20 + i as u64, len);
        for part in msg.chunks(7) {
            c.update(part);
            h.update(part);
            hl.update(part);
        }
        assert_eq!(c.finalize_reset(), ref_cmac(&key, &msg), "cmac len {len}");
        assert_eq!(h.finalize_reset(), ref_hmac(&key, &msg), "hmac len {len}");
        assert_eq!(
            hl.finalize_reset(),
            ref_hmac(&long_key, &msg),
            "hmac long key len {len}"
        );
    }
}

/// Every GMAC length the fused short-message kernels take (and a little
/// beyond) at every offset 0..16, on every backend, against `aes-gcm`.
#[test]
fn short_gmac_every_length_every_offset_all_backends() {
    let key: [u8; 16] = bytes(50, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(51, 12).try_into().unwrap();
    let data = bytes(52, 160 + 16);
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    for len in 0..=160 {
        for off in 0..16 {
            let msg = &data[off..off + len];
            let want = ref_gmac(&key, &nonce, msg);
            for (b, g) in &keys {
                assert_eq!(
                    g.mac(&nonce, msg),
                    want,
                    "len {len} off {off} {:?}",
                    b.tier()
                );
            }
        }
    }
}

/// Two pages, the second unmapped (PROT_NONE): any read past the first faults.
struct GuardedPage {
    base: *mut u8,
    page: usize,
}

impl GuardedPage {
    fn new() -> GuardedPage {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap();
        // SAFETY: a fresh private anonymous mapping; checked below.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        // SAFETY: the second page lies within the mapping just made.
        let rc =
            unsafe { libc::mprotect(base.cast::<u8>().add(page).cast(), page, libc::PROT_NONE) };
        assert_eq!(rc, 0);
        GuardedPage {
            base: base.cast(),
            page,
        }
    }

    /// The readable first page.
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the first page is mapped read-write and owned by self.
        unsafe { core::slice::from_raw_parts_mut(self.base, self.page) }
    }
}

impl Drop for GuardedPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new, unmapped once.
        unsafe { libc::munmap(self.base.cast(), 2 * self.page) };
    }
}

/// GMAC of every length 0..=1100 ending exactly where an unmapped page begins
/// (and starting at the page's start, aligned and one byte in), on every
/// backend, against `aes-gcm`: a kernel that reads past a message's end
/// faults the test.
#[test]
fn gmac_every_length_at_a_guard_page_all_backends() {
    let key: [u8; 16] = bytes(60, 16).try_into().unwrap();
    let nonce: [u8; 12] = bytes(61, 12).try_into().unwrap();
    let keys: Vec<_> = backends()
        .into_iter()
        .map(|b| (b, gmac::Key::with_backend(&key, b)))
        .collect();
    let mut guarded = GuardedPage::new();
    let page = guarded.bytes();
    let fill = bytes(62, page.len());
    page.copy_from_slice(&fill);
    let n = page.len();
    for len in 0..=1100.min(n - 1) {
        for msg in [&page[n - len..], &page[..len], &page[1..1 + len]] {
            let want = ref_gmac(&key, &nonce, msg);
            for (b, g) in &keys {
                assert_eq!(g.mac(&nonce, msg), want, "len {len} {:?}", b.tier());
            }
        }
    }
}
