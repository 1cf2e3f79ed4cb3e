//! Hostile length and enum arguments (issue 16), without the length caps of
//! the other targets: lengths are full 64-bit values biased to the edges (0,
//! the KDF bound +-1, `isize::MAX` +-1, `usize::MAX`), enum arguments are any
//! int, and batch jobs point into one shared arena (shared and overlapping
//! buffers, garbage preset statuses).
//!
//! C-facing: `smbsign_strerror` of any int is a static string ("unknown
//! status" exactly for non-codes); the KDFs refuse NULL and out-of-range
//! output lengths with nothing written, and otherwise equal the core; every
//! slice length over `isize::MAX` is refused before anything is read;
//! `smbsign_key_new` / `smbsign_backend_name` / `smbsign_algorithm_for_dialect`
//! of any int agree with the core's checked conversions; every batch job's
//! status is rewritten to a code; `smbsign_verify_pdu_batch` over shared and
//! overlapping buffers equals `smbsign_verify_pdu` per job; and
//! `smbsign_sign_pdu_batch` refuses exactly the overlapping jobs (untouched)
//! and signs the others as `smbsign_sign_pdu` does.
//!
//! Python-facing: the same core validators the pyo3 layer calls
//! (`kdf::check_output_len`, `Algorithm::from_id`, `Algorithm::for_dialect`)
//! with any 64-bit length and any id, against their definitions.

use core::ffi::CStr;
use core::ptr;

use smbsign::kdf;
use smbsign::smb2::{Algorithm, SigningKey};
use smbsign_ffi::smbsign_status_code::*;
use smbsign_ffi::*;

use crate::Input;

/// One past the last status code.
const CODES: i32 = SMBSIGN_ERR_SESSION_MISMATCH as i32 + 1;

/// A 64-bit length biased to the interesting edges.
fn length(inp: &mut Input<'_>) -> usize {
    let v = u64::from_le_bytes(inp.array()) as usize;
    let max = kdf::MAX_OUTPUT_LEN;
    match inp.byte() % 12 {
        0 => 0,
        1 => max,
        2 => max + 1,
        3 => isize::MAX as usize,
        4 => isize::MAX as usize + 1,
        5 => usize::MAX,
        6 => 1 << 40,
        7 => v % 200,
        8 => max.wrapping_add(v % 3).wrapping_sub(1),
        9 => (isize::MAX as usize).wrapping_add(v % 4),
        _ => v,
    }
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    strerror(inp.u32() as i32);
    kdf_lengths(&mut inp);
    slice_lengths(&mut inp);
    enums(&mut inp);
    batches(&mut inp);
}

fn strerror(v: i32) {
    let s = smbsign_strerror(v);
    assert!(!s.is_null());
    // SAFETY: strerror returns a static NUL-terminated string (checked non-NULL).
    let text = unsafe { CStr::from_ptr(s) }.to_str().unwrap();
    assert!(!text.is_empty());
    assert_eq!(text == "unknown status", !(0..CODES).contains(&v), "{v}");
}

fn kdf_lengths(inp: &mut Input<'_>) {
    let key = inp.array::<16>();
    let llen = usize::from(inp.byte() % 16);
    let label = inp.bytes(llen).to_vec();
    let n = length(inp);
    let null_out = inp.byte() & 1 == 1;
    let in_range = (1..=kdf::MAX_OUTPUT_LEN).contains(&n);
    // Python-facing: the validator the pyo3 layer calls before allocating.
    assert_eq!(kdf::check_output_len(n).is_ok(), in_range);
    // A real buffer only when the library may write `n` bytes into it;
    // otherwise a small one that must stay untouched.
    let real = in_range && n <= 4096 && !null_out;
    if in_range && !real && !null_out {
        // In range but larger than the test backs with memory: not called.
        return;
    }
    let mut out = vec![0xA5u8; if real { n } else { 64 }];
    let op = if null_out {
        ptr::null_mut()
    } else {
        out.as_mut_ptr()
    };
    // SAFETY: `op` is NULL, or valid for `n` bytes (real), or `n` is out of
    // range and must be refused before any write.
    let s = unsafe {
        smbsign_kdf(
            key.as_ptr(),
            16,
            label.as_ptr(),
            label.len(),
            ptr::null(),
            0,
            op,
            n,
        )
    };
    let want = if null_out && n != 0 {
        SMBSIGN_ERR_NULL_POINTER
    } else if !in_range {
        SMBSIGN_ERR_OUTPUT_LENGTH
    } else {
        SMBSIGN_OK
    };
    assert_eq!(s, want, "kdf len {n}");
    if s == SMBSIGN_OK {
        let mut r = vec![0u8; n];
        kdf::smb_kdf(&key, &label, &[], &mut r).unwrap();
        assert_eq!(out, r);
    } else {
        assert!(out.iter().all(|&b| b == 0xA5));
    }
    // SAFETY: as above.
    let s2 =
        unsafe { smbsign_kbkdf_hmac_sha256(key.as_ptr(), 16, label.as_ptr(), label.len(), op, n) };
    assert_eq!(s2, want, "kbkdf len {n}");
}

/// Lengths over `isize::MAX` are refused before anything is read (a real
/// 16-byte buffer stands behind every pointer).
fn slice_lengths(inp: &mut Input<'_>) {
    let n = length(inp);
    if n <= isize::MAX as usize {
        return;
    }
    let buf = [0u8; 64];
    let mut out = [0u8; 64];
    let key = Handle::new(Algorithm::AesCmac, [7; 16]);
    let k = buf.as_ptr();
    // SAFETY: every length is over isize::MAX: refused before any access.
    unsafe {
        assert_eq!(
            smbsign_mac(key.raw, ptr::null(), k, n, out.as_mut_ptr()),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            smbsign_verify_pdu(key.raw, k, n),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            smbsign_sign_pdu(key.raw, out.as_mut_ptr(), n),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            smbsign_hmac_sha256(k, n, k, 1, out.as_mut_ptr()),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            smbsign_kdf(k, 16, k, n, k, 1, out.as_mut_ptr(), 16),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        let mut sk = core::mem::MaybeUninit::<smbsign_session_keys>::uninit();
        assert_eq!(
            smbsign_smb30_keys(k, n, sk.as_mut_ptr()),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        let mut raw = ptr::null_mut();
        assert_eq!(
            smbsign_key_new(1, k, n, &mut raw),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert!(raw.is_null());
        let mut job = smbsign_job {
            key: key.raw,
            nonce: ptr::null(),
            msg: k,
            len: n,
            tag: [0; 16],
            status: SMBSIGN_OK.int(),
        };
        assert_eq!(
            smbsign_sign_batch(&mut job, 1),
            SMBSIGN_ERR_INVALID_ARGUMENT
        );
        assert_eq!(job.status, SMBSIGN_ERR_INVALID_ARGUMENT);
    }
    assert_eq!(out, [0u8; 64]);
}

fn enums(inp: &mut Input<'_>) {
    let id = inp.u16();
    let dialect = inp.u16();
    let negotiated = inp.u32() as i32;
    let mut raw = ptr::null_mut();
    // SAFETY: real key bytes and a real out pointer.
    let s = unsafe { smbsign_key_new(id, [1u8; 16].as_ptr(), 16, &mut raw) };
    match Algorithm::from_id(id) {
        Ok(_) => {
            assert_eq!(s, SMBSIGN_OK);
            // SAFETY: a live handle from key_new.
            unsafe { smbsign_key_free(raw) };
        }
        Err(_) => assert_eq!(
            (s == SMBSIGN_ERR_UNKNOWN_ALGORITHM, raw.is_null()),
            (true, true)
        ),
    }
    assert_eq!(smbsign_backend_name(id).is_null(), id > 2);
    let mut out = 0xABCDu16;
    // SAFETY: a real out pointer.
    let s = unsafe { smbsign_algorithm_for_dialect(dialect, negotiated, &mut out) };
    // Any int outside u16 (but -1, "none") is an unknown id: refused exactly
    // when the dialect reads the id, as 0xFFFF is.
    let want = match negotiated {
        -1 => Algorithm::for_dialect(dialect, None),
        v => Algorithm::for_dialect(dialect, Some(u16::try_from(v).unwrap_or(u16::MAX))),
    };
    match want {
        Ok(a) => assert_eq!((s == SMBSIGN_OK, out), (true, a.id())),
        Err(e) => assert_eq!((s == smbsign_status_code::from(e), out), (true, 0xABCD)),
    }
}

struct Handle {
    raw: *mut smbsign_key,
    key: SigningKey,
}

impl Handle {
    fn new(alg: Algorithm, key: [u8; 16]) -> Handle {
        let mut raw = ptr::null_mut();
        // SAFETY: real key bytes and out pointer.
        assert_eq!(
            unsafe { smbsign_key_new(alg.id(), key.as_ptr(), 16, &mut raw) },
            SMBSIGN_OK
        );
        Handle {
            raw,
            key: SigningKey::new(alg, &key).unwrap(),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a live handle, freed once.
        unsafe { smbsign_key_free(self.raw) };
    }
}

/// A valid PDU chain (1..=3 PDUs) written at `at` in `arena`, `len` bytes long.
fn write_chain(arena: &mut [u8], at: usize, len: usize, pdus: usize, seed: u8) {
    let b = &mut arena[at..at + len];
    let per = (len / pdus) & !7;
    for i in 0..pdus {
        let start = i * per;
        b[start..start + 4].copy_from_slice(&[0xFE, b'S', b'M', b'B']);
        let next = if i + 1 == pdus { 0 } else { per as u32 };
        b[start + 20..start + 24].copy_from_slice(&next.to_le_bytes());
        b[start + 24] = seed.wrapping_add(i as u8);
    }
}

fn batches(inp: &mut Input<'_>) {
    const ARENA: usize = 2048;
    let handles: Vec<Handle> = (0..3)
        .map(|a| Handle::new(crate::algorithm(a), [a + 1; 16]))
        .collect();
    let mut arena: Vec<u8> = (0..ARENA).map(|i| (i * 31 % 251) as u8).collect();
    let njobs = usize::from(inp.byte() % 8);
    let mut layout = Vec::new();
    for _ in 0..njobs {
        let at = usize::from(inp.u16()) % (ARENA - 64);
        let len = (64 + usize::from(inp.u16()) % 512).min(ARENA - at) & !7;
        let pdus = 1 + usize::from(inp.byte() % 3).min(len / 64 - 1);
        let sel = inp.byte();
        let status = inp.u32() as i32;
        let null_key = sel & 0x80 != 0 && sel & 0x40 != 0;
        let huge = sel & 0x20 != 0 && sel & 0x10 != 0 && sel & 0x8 != 0;
        layout.push((at, len, pdus, sel % 3, status, null_key, huge));
    }
    // Write the chains first, then sign them in place so some verify.
    for &(at, len, pdus, alg, ..) in &layout {
        write_chain(&mut arena, at, len, pdus, alg);
    }
    let jobs_of = |arena: &mut Vec<u8>| -> Vec<smbsign_pdu_job> {
        layout
            .iter()
            .map(
                |&(at, len, _, alg, status, null_key, huge)| smbsign_pdu_job {
                    key: if null_key {
                        ptr::null()
                    } else {
                        handles[usize::from(alg)].raw
                    },
                    // SAFETY: `at` < ARENA.
                    pdu: unsafe { arena.as_mut_ptr().add(at) },
                    len: if huge { usize::MAX } else { len },
                    status,
                },
            )
            .collect()
    };

    // Verify: read-only, so shared and overlapping buffers are each verified.
    let mut jobs = jobs_of(&mut arena);
    let before = arena.clone();
    // SAFETY: every job's buffer lies in the arena (or has a refused length).
    let s = unsafe { smbsign_verify_pdu_batch(jobs.as_mut_ptr(), jobs.len()) };
    assert_eq!(arena, before);
    let mut first = SMBSIGN_OK.int();
    for (j, &(at, len, _, alg, _, null_key, huge)) in jobs.iter().zip(&layout) {
        let want = if null_key {
            SMBSIGN_ERR_NULL_POINTER
        } else if huge {
            SMBSIGN_ERR_INVALID_ARGUMENT
        } else {
            let k = &handles[usize::from(alg)].key;
            smbsign::verify_pdu(k, &arena[at..at + len])
                .map_or_else(smbsign_status_code::from, |()| SMBSIGN_OK)
        };
        assert_eq!(j.status, want);
        if first == SMBSIGN_OK.int() {
            first = j.status;
        }
    }
    assert_eq!(s, first);

    // Sign: exactly the overlapping (otherwise valid) jobs are refused.
    let mut jobs = jobs_of(&mut arena);
    let live: Vec<bool> = layout.iter().map(|l| !l.5 && !l.6).collect();
    let overlaps = |i: usize| {
        let (a, al) = (layout[i].0, layout[i].1);
        (0..layout.len())
            .any(|j| j != i && live[j] && layout[j].0 < a + al && a < layout[j].0 + layout[j].1)
    };
    let mut want_arena = arena.clone();
    let mut want: Vec<_> = Vec::new();
    for (i, &(at, len, _, alg, _, null_key, huge)) in layout.iter().enumerate() {
        want.push(if null_key {
            SMBSIGN_ERR_NULL_POINTER
        } else if huge || overlaps(i) {
            SMBSIGN_ERR_INVALID_ARGUMENT
        } else {
            let k = &handles[usize::from(alg)].key;
            smbsign::sign_pdu(k, &mut want_arena[at..at + len])
                .map_or_else(smbsign_status_code::from, |()| SMBSIGN_OK)
        });
    }
    // SAFETY: as above; overlapping buffers are the library's to refuse.
    let s = unsafe { smbsign_sign_pdu_batch(jobs.as_mut_ptr(), jobs.len()) };
    for (j, w) in jobs.iter().zip(&want) {
        assert_eq!(j.status, *w);
    }
    assert_eq!(
        s,
        want.iter()
            .find(|&&w| w != SMBSIGN_OK)
            .copied()
            .unwrap_or(SMBSIGN_OK)
            .int()
    );
    assert_eq!(arena, want_arena);
}
