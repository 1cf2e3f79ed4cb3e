//! The C ABI entry points with arbitrary lengths, counts, NULL pointers,
//! negative iovec counts and overlapping buffers.
//!
//! Every buffer is its own allocation of exactly the length passed, so the
//! address sanitizer reports any access past it. Each call's status must be
//! what the Rust API's result maps to, its outputs equal the Rust API's, and
//! a failed call must leave every output as it was.
//!
//! Input: an operation selector, a flag byte (which pointers are NULL,
//! whether to overlap), an algorithm selector, a 16-byte key, then the
//! operation's own arguments.

use core::ffi::c_void;
use core::ptr;

use smbsign::kdf::{self, CipherKeyLen};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::{Error, PreauthHash};
use smbsign_ffi::smbsign_status_code::*;
// The ABI returns a plain int; the checks here work with the named codes.
use smbsign_ffi::smbsign_status_code as smbsign_status;

/// The code an ABI status int names; anything else is a finding.
fn st(s: smbsign_ffi::smbsign_status) -> smbsign_status {
    smbsign_status::from_int(s).unwrap_or_else(|| panic!("status {s} is not a code"))
}
use smbsign_ffi::*;

use crate::{algorithm, cuts, Input};

/// The status the C ABI reports for a Rust result.
fn status<T>(r: &Result<T, Error>) -> smbsign_status {
    match r {
        Ok(_) => SMBSIGN_OK,
        Err(e) => (*e).into(),
    }
}

/// `v`'s pointer, or NULL when `null` (for a "NULL with this length" call).
fn ptr_or_null(v: &[u8], null: bool) -> *const u8 {
    if null {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

/// A live key handle and the same key in Rust.
struct Handle {
    raw: *mut smbsign_key,
    key: SigningKey,
}

impl Handle {
    fn new(alg: Algorithm, key: &[u8; 16]) -> Handle {
        let mut raw = ptr::null_mut();
        // SAFETY: key readable for 16 bytes; raw writable.
        let s = st(unsafe { smbsign_key_new(alg.id(), key.as_ptr(), 16, &mut raw) });
        assert_eq!(s, SMBSIGN_OK);
        let mut id = 0u16;
        // SAFETY: raw is a live handle; id writable.
        assert_eq!(unsafe { smbsign_key_algorithm(raw, &mut id) }, SMBSIGN_OK);
        assert_eq!(id, alg.id());
        Handle {
            raw,
            key: SigningKey::new(alg, key).unwrap(),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle from smbsign_key_new, freed once.
        unsafe { smbsign_key_free(self.raw) };
    }
}

/// Owned segments (each its own allocation) and their iovecs.
struct Iovs {
    segs: Vec<Vec<u8>>,
    iov: Vec<iovec>,
}

impl Iovs {
    fn new(parts: &[&[u8]], null_empty: bool) -> Iovs {
        let mut segs: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        let iov = segs
            .iter_mut()
            .map(|s| iovec {
                iov_base: if s.is_empty() && null_empty {
                    ptr::null_mut()
                } else {
                    s.as_mut_ptr().cast::<c_void>()
                },
                iov_len: s.len(),
            })
            .collect();
        Iovs { segs, iov }
    }

    fn count(&self) -> i32 {
        i32::try_from(self.iov.len()).unwrap()
    }
}

/// The target.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let op = inp.byte();
    let flags = inp.byte();
    let alg = algorithm(inp.byte());
    let key = inp.array::<16>();
    let f = |bit: u8| flags & (1 << bit) != 0;
    match op % 12 {
        0 => key_new(&mut inp, f(0), f(1), f(2)),
        1 => mac(&mut inp, alg, &key, f(0), f(1), f(2), f(3)),
        2 => mac_iov(&mut inp, alg, &key, f(0), f(1), f(2), f(3)),
        3 => pdu(&mut inp, alg, &key, f(0)),
        4 => pdu_iov(&mut inp, alg, &key, f(0), f(1), f(2)),
        5 => kdfs(&mut inp, f(0), f(1), f(2)),
        6 => session_keys(&mut inp, f(0), f(1), f(2)),
        7 => preauth(&mut inp, f(0), f(1), f(2)),
        8 => dialect(&mut inp, f(0)),
        9 => batch(&mut inp, &key, flags),
        10 => pdu_batch(&mut inp, &key, flags),
        _ => info(&mut inp),
    }
}

fn key_new(inp: &mut Input<'_>, null_key: bool, null_out: bool, raw_id: bool) {
    let id = if raw_id {
        inp.u16()
    } else {
        u16::from(inp.byte() % 4)
    };
    let len = usize::from(inp.byte() % 40);
    let k = inp.bytes(len).to_vec();
    let sentinel = 0x5a5a_usize as *mut smbsign_key;
    let mut out = sentinel;
    let out_ptr: *mut *mut smbsign_key = if null_out { ptr::null_mut() } else { &mut out };
    // SAFETY: k readable for its length (or NULL), out_ptr writable or NULL.
    let s = st(unsafe { smbsign_key_new(id, ptr_or_null(&k, null_key), k.len(), out_ptr) });
    let expected = if null_out {
        SMBSIGN_ERR_NULL_POINTER
    } else {
        match Algorithm::from_id(id) {
            Err(e) => e.into(),
            Ok(_) if null_key && !k.is_empty() => SMBSIGN_ERR_NULL_POINTER,
            Ok(a) => status(&SigningKey::new(a, &k)),
        }
    };
    assert_eq!(s, expected);
    if s == SMBSIGN_OK {
        let mut got = 0u16;
        // SAFETY: out is a live handle.
        assert_eq!(unsafe { smbsign_key_algorithm(out, &mut got) }, SMBSIGN_OK);
        assert_eq!(got, id);
        // SAFETY: a live handle, freed once.
        unsafe { smbsign_key_free(out) };
    } else {
        assert_eq!(out, sentinel, "a failed smbsign_key_new wrote *out");
    }
}

#[allow(clippy::too_many_arguments)]
fn mac(
    inp: &mut Input<'_>,
    alg: Algorithm,
    key: &[u8; 16],
    null_key: bool,
    with_nonce: bool,
    null_msg: bool,
    null_out: bool,
) {
    let h = Handle::new(alg, key);
    let nonce = inp.array::<12>().to_vec();
    let msg = inp.rest().to_vec();
    let mut out = vec![0xEEu8; 16];
    // SAFETY: every pointer is NULL or an allocation of the length passed.
    let s = st(unsafe {
        smbsign_mac(
            if null_key { ptr::null() } else { h.raw },
            ptr_or_null(&nonce, !with_nonce),
            ptr_or_null(&msg, null_msg),
            msg.len(),
            if null_out {
                ptr::null_mut()
            } else {
                out.as_mut_ptr()
            },
        )
    });
    let n: Option<&[u8; 12]> = with_nonce.then(|| nonce[..].try_into().unwrap());
    let r = h.key.mac(n, &msg);
    let expected = if null_key || (null_msg && !msg.is_empty()) || (r.is_ok() && null_out) {
        SMBSIGN_ERR_NULL_POINTER
    } else {
        status(&r)
    };
    assert_eq!(s, expected);
    match (s, r) {
        (SMBSIGN_OK, Ok(t)) => assert_eq!(out, t),
        _ => assert_eq!(out, [0xEE; 16]),
    }
}

#[allow(clippy::too_many_arguments)]
fn mac_iov(
    inp: &mut Input<'_>,
    alg: Algorithm,
    key: &[u8; 16],
    with_nonce: bool,
    negative: bool,
    null_empty: bool,
    null_iov: bool,
) {
    let h = Handle::new(alg, key);
    let nonce = inp.array::<12>();
    let nseg = usize::from(inp.byte() % 24);
    let lengths = inp.bytes(nseg);
    let msg = inp.rest();
    let parts = cuts(msg, lengths);
    let iovs = Iovs::new(&parts, null_empty);
    // A NULL iov array comes with a zero count when no split was asked for
    // (allowed: an empty message) and with the real count otherwise (refused).
    let count = if negative {
        -1 - iovs.count()
    } else if null_iov && lengths.is_empty() {
        0
    } else {
        iovs.count()
    };
    let iov = if null_iov {
        ptr::null()
    } else {
        iovs.iov.as_ptr()
    };
    let mut out = [0xEEu8; 16];
    let n = with_nonce.then_some(&nonce);
    // SAFETY: iov holds iovs.count() >= count entries over live segments (or is NULL).
    let s = st(unsafe {
        smbsign_mac_iov(
            h.raw,
            n.map_or(ptr::null(), |n| n.as_ptr()),
            iov,
            count,
            out.as_mut_ptr(),
        )
    });
    let want = if count == 0 {
        h.key.mac(n, &[])
    } else {
        h.key.mac_vectored(n, &parts)
    };
    let expected = if negative {
        SMBSIGN_ERR_INVALID_ARGUMENT
    } else if null_iov && count > 0 {
        SMBSIGN_ERR_NULL_POINTER
    } else {
        status(&want)
    };
    assert_eq!(s, expected);
    if s == SMBSIGN_OK {
        assert_eq!(Ok(out), want);
    } else {
        assert_eq!(out, [0xEE; 16]);
    }
}

fn pdu(inp: &mut Input<'_>, alg: Algorithm, key: &[u8; 16], null_buf: bool) {
    let h = Handle::new(alg, key);
    let chain = inp.rest();
    let mut buf = chain.to_vec();
    let mut want = chain.to_vec();
    let p = if null_buf {
        ptr::null_mut()
    } else {
        buf.as_mut_ptr()
    };
    // SAFETY: buf is exactly buf.len() bytes (or NULL).
    let v = st(unsafe { smbsign_verify_pdu(h.raw, p, buf.len()) });
    let s = st(unsafe { smbsign_sign_pdu(h.raw, p, buf.len()) });
    if null_buf && !chain.is_empty() {
        assert_eq!((v, s), (SMBSIGN_ERR_NULL_POINTER, SMBSIGN_ERR_NULL_POINTER));
    } else {
        assert_eq!(v, status(&smb2::verify_pdu(&h.key, chain)));
        assert_eq!(s, status(&smb2::sign_pdu(&h.key, &mut want)));
    }
    assert_eq!(buf, want);
}

fn pdu_iov(
    inp: &mut Input<'_>,
    alg: Algorithm,
    key: &[u8; 16],
    overlap: bool,
    null_empty: bool,
    negative: bool,
) {
    let h = Handle::new(alg, key);
    let nseg = usize::from(inp.byte() % 12);
    let lengths = inp.bytes(nseg);
    let chain = inp.rest();
    let parts = cuts(chain, lengths);
    let mut iovs = Iovs::new(&parts, null_empty);
    // An extra iovec over the first non-empty segment's bytes: a chain that
    // repeats those bytes, and for signing an aliasing pair.
    let alias = overlap
        .then(|| iovs.segs.iter_mut().position(|s| !s.is_empty()))
        .flatten();
    let mut logical = parts.clone();
    if let Some(i) = alias {
        iovs.iov.push(iovec {
            iov_base: iovs.iov[i].iov_base,
            iov_len: iovs.iov[i].iov_len,
        });
        logical.push(parts[i]);
    }
    let count = if negative { -1 } else { iovs.count() };
    // SAFETY: iov holds `count` entries over live segments.
    let v = st(unsafe { smbsign_verify_pdu_iov(h.raw, iovs.iov.as_ptr(), count) });
    let s = st(unsafe { smbsign_sign_pdu_iov(h.raw, iovs.iov.as_ptr(), count) });
    if negative {
        assert_eq!(
            (v, s),
            (SMBSIGN_ERR_INVALID_ARGUMENT, SMBSIGN_ERR_INVALID_ARGUMENT)
        );
        assert_eq!(iovs.segs, parts);
        return;
    }
    assert_eq!(v, status(&smb2::verify_pdu_vectored(&h.key, &logical)));
    if alias.is_some() {
        assert_eq!(s, SMBSIGN_ERR_INVALID_ARGUMENT);
        assert_eq!(iovs.segs, parts);
    } else {
        let mut want: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        assert_eq!(s, status(&smb2::sign_pdu_vectored(&h.key, &mut want)));
        assert_eq!(iovs.segs, want);
    }
}

fn kdfs(inp: &mut Input<'_>, null_key: bool, null_out: bool, null_label: bool) {
    let klen = usize::from(inp.byte());
    let k = inp.bytes(klen).to_vec();
    let llen = usize::from(inp.byte() % 40);
    let label = inp.bytes(llen).to_vec();
    let clen = usize::from(inp.byte() % 80);
    let context = inp.bytes(clen).to_vec();
    let out_len = usize::from(inp.u16() % 300);
    let mut out = vec![0xEEu8; out_len];
    let kp = ptr_or_null(&k, null_key);
    let op = if null_out {
        ptr::null_mut()
    } else {
        out.as_mut_ptr()
    };
    // SAFETY: every pointer is NULL or an allocation of the length passed.
    let s = st(unsafe {
        smbsign_kdf(
            kp,
            k.len(),
            ptr_or_null(&label, null_label),
            label.len(),
            context.as_ptr(),
            context.len(),
            op,
            out_len,
        )
    });
    let mut want = vec![0xEEu8; out_len];
    let nulls = (null_key && !k.is_empty())
        || (null_label && !label.is_empty())
        || (null_out && out_len > 0);
    let r = kdf::smb_kdf(&k, &label, &context, &mut want);
    assert_eq!(
        s,
        if nulls {
            SMBSIGN_ERR_NULL_POINTER
        } else {
            status(&r)
        }
    );
    if s != SMBSIGN_OK {
        want.fill(0xEE);
    }
    assert_eq!(out, want);

    // The generic KBKDF over the same fixed input.
    let fixed = [&label[..], &[0u8], &context[..]].concat();
    let mut out2 = vec![0xEEu8; out_len];
    // SAFETY: as above.
    let s2 = st(unsafe {
        smbsign_kbkdf_hmac_sha256(
            kp,
            k.len(),
            fixed.as_ptr(),
            fixed.len(),
            out2.as_mut_ptr(),
            out_len,
        )
    });
    let mut want2 = vec![0xEEu8; out_len];
    let r2 = kdf::counter_hmac_sha256(&k, &[&fixed], &mut want2);
    let null2 = null_key && !k.is_empty();
    assert_eq!(
        s2,
        if null2 {
            SMBSIGN_ERR_NULL_POINTER
        } else {
            status(&r2)
        }
    );
    if s2 != SMBSIGN_OK {
        want2.fill(0xEE);
    }
    assert_eq!(out2, want2);

    // Full HMAC-SHA256.
    let mut mac = [0xEEu8; 32];
    let mp = if null_out {
        ptr::null_mut()
    } else {
        mac.as_mut_ptr()
    };
    // SAFETY: as above; mac is 32 bytes.
    let s3 = st(unsafe { smbsign_hmac_sha256(kp, k.len(), context.as_ptr(), context.len(), mp) });
    if null2 || null_out {
        assert_eq!(s3, SMBSIGN_ERR_NULL_POINTER);
        assert_eq!(mac, [0xEE; 32]);
    } else {
        assert_eq!(s3, SMBSIGN_OK);
        assert_eq!(mac, crate::reference::hmac_sha256(&k, &[&context]));
    }
}

fn zero_keys() -> smbsign_session_keys {
    smbsign_session_keys {
        signing: [0xEE; 16],
        application: [0xEE; 16],
        client_to_server: [0xEE; 32],
        server_to_client: [0xEE; 32],
        cipher_key_len: 0xEEEE,
    }
}

fn same(a: &smbsign_session_keys, b: &smbsign_session_keys) -> bool {
    a.signing == b.signing
        && a.application == b.application
        && a.client_to_server == b.client_to_server
        && a.server_to_client == b.server_to_client
        && a.cipher_key_len == b.cipher_key_len
}

fn session_keys(inp: &mut Input<'_>, null_key: bool, null_out: bool, null_hash: bool) {
    let klen = usize::from(inp.byte() % 48);
    let k = inp.bytes(klen).to_vec();
    let flen = usize::from(inp.byte() % 48);
    let full = inp.bytes(flen).to_vec();
    let hash = inp.array::<64>().to_vec();
    let cipher_len = match inp.byte() % 4 {
        0 => 16,
        1 => 32,
        _ => inp.u32(),
    };
    let kp = ptr_or_null(&k, null_key);
    let nulls = null_key && !k.is_empty();

    let mut out = zero_keys();
    let op: *mut smbsign_session_keys = if null_out { ptr::null_mut() } else { &mut out };
    // SAFETY: pointers NULL or allocations of the lengths passed.
    let s = st(unsafe { smbsign_smb30_keys(kp, k.len(), op) });
    if nulls || null_out {
        assert_eq!(s, SMBSIGN_ERR_NULL_POINTER);
        assert!(same(&out, &zero_keys()));
    } else {
        assert_eq!(s, SMBSIGN_OK);
        let want = kdf::smb30_keys(&k).unwrap();
        assert_eq!(
            (out.signing, out.application),
            (want.signing, want.application)
        );
        assert_eq!(&out.client_to_server[..16], want.client_to_server_key());
        assert_eq!(&out.server_to_client[..16], want.server_to_client_key());
        assert_eq!(out.cipher_key_len, 16);
    }

    let mut out = zero_keys();
    let op: *mut smbsign_session_keys = if null_out { ptr::null_mut() } else { &mut out };
    // SAFETY: as above; hash is 64 bytes.
    let s = st(unsafe {
        smbsign_smb311_keys(
            kp,
            k.len(),
            full.as_ptr(),
            full.len(),
            ptr_or_null(&hash, null_hash),
            cipher_len,
            op,
        )
    });
    let cipher = match cipher_len {
        16 => Some(CipherKeyLen::Aes128),
        32 => Some(CipherKeyLen::Aes256),
        _ => None,
    };
    match cipher {
        None => assert_eq!(s, SMBSIGN_ERR_INVALID_ARGUMENT),
        Some(_) if nulls || null_hash || null_out => assert_eq!(s, SMBSIGN_ERR_NULL_POINTER),
        Some(c) => {
            assert_eq!(s, SMBSIGN_OK);
            let want = kdf::smb311_keys(&k, &full, hash[..].try_into().unwrap(), c).unwrap();
            let n = c.bytes();
            assert_eq!(
                (out.signing, out.application),
                (want.signing, want.application)
            );
            assert_eq!(&out.client_to_server[..n], want.client_to_server_key());
            assert_eq!(&out.server_to_client[..n], want.server_to_client_key());
            assert_eq!(out.cipher_key_len as usize, n);
        }
    }
    if s != SMBSIGN_OK {
        assert!(same(&out, &zero_keys()));
    }
}

fn preauth(inp: &mut Input<'_>, null_hash: bool, null_msg: bool, use_iov: bool) {
    let start = inp.array::<64>();
    let nseg = usize::from(inp.byte() % 8);
    let lengths = inp.bytes(nseg);
    let msg = inp.rest();
    let mut hash = start.to_vec();
    let hp = if null_hash {
        ptr::null_mut()
    } else {
        hash.as_mut_ptr()
    };
    let parts = cuts(msg, lengths);
    let iovs = Iovs::new(&parts, true);
    let m = msg.to_vec();
    // SAFETY: hash is 64 bytes (or NULL); message pointers as passed.
    let s = st(unsafe {
        if use_iov {
            smbsign_preauth_update_iov(hp, iovs.iov.as_ptr(), iovs.count())
        } else {
            smbsign_preauth_update(hp, ptr_or_null(&m, null_msg), m.len())
        }
    });
    let null_data = !use_iov && null_msg && !m.is_empty();
    if null_hash || null_data {
        assert_eq!(s, SMBSIGN_ERR_NULL_POINTER);
        assert_eq!(hash, start);
    } else {
        assert_eq!(s, SMBSIGN_OK);
        let mut want = PreauthHash::from_value(start);
        want.update(msg);
        assert_eq!(hash, want.value());
    }
}

fn dialect(inp: &mut Input<'_>, null_out: bool) {
    let d = match inp.byte() % 3 {
        0 => [0x0202, 0x0210, 0x0300, 0x0302, 0x0311][usize::from(inp.byte() % 5)],
        _ => inp.u16(),
    };
    let n = match inp.byte() % 3 {
        0 => -1,
        1 => i32::from(inp.byte() % 4),
        _ => inp.u32() as i32,
    };
    let mut out = 0xEEEEu16;
    let op: *mut u16 = if null_out { ptr::null_mut() } else { &mut out };
    // SAFETY: out writable or NULL.
    let s = st(unsafe { smbsign_algorithm_for_dialect(d, n, op) });
    // An id outside u16 is an unknown id like 0xFFFF: refused exactly when the
    // dialect reads it (3.1.1).
    let want = match n {
        -1 => Algorithm::for_dialect(d, None),
        v => Algorithm::for_dialect(d, Some(u16::try_from(v).unwrap_or(u16::MAX))),
    };
    if null_out {
        assert_eq!(s, SMBSIGN_ERR_NULL_POINTER);
    } else {
        assert_eq!(s, status(&want));
    }
    match want {
        Ok(a) if !null_out => assert_eq!(out, a.id()),
        _ => assert_eq!(out, 0xEEEE),
    }
}

/// Batch jobs: per job an algorithm/NULL-key selector, nonce choice, and message.
fn batch(inp: &mut Input<'_>, key: &[u8; 16], flags: u8) {
    let handles: Vec<Handle> = Algorithm::ALL
        .iter()
        .map(|&a| Handle::new(a, key))
        .collect();
    let null_jobs = flags & 1 != 0;
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let mut sel = Vec::new();
    while msgs.len() < 40 && !inp.is_empty() {
        let b = inp.byte();
        let len = usize::from(inp.byte()) * 3;
        msgs.push(inp.bytes(len).to_vec());
        sel.push(b);
    }
    let nonces: Vec<[u8; 12]> = (0..msgs.len()).map(|i| [i as u8; 12]).collect();
    let mut jobs: Vec<smbsign_job> = msgs
        .iter()
        .zip(&sel)
        .zip(&nonces)
        .map(|((m, &b), n)| smbsign_job {
            key: if b & 0x80 != 0 {
                ptr::null()
            } else {
                handles[usize::from(b % 3)].raw
            },
            nonce: if b & 0x40 != 0 {
                n.as_ptr()
            } else {
                ptr::null()
            },
            msg: ptr_or_null(m, b & 0x20 != 0),
            len: m.len(),
            tag: [0xEE; 16],
            status: SMBSIGN_ERR_INTERNAL.int(),
        })
        .collect();
    // What each job should come to: its tag or its status.
    let want: Vec<Result<[u8; 16], smbsign_status>> = jobs
        .iter()
        .zip(&msgs)
        .zip(&sel)
        .zip(&nonces)
        .map(|(((j, m), &b), n)| {
            if j.key.is_null() || (j.msg.is_null() && !m.is_empty()) {
                return Err(SMBSIGN_ERR_NULL_POINTER);
            }
            let k = &handles[usize::from(b % 3)].key;
            k.mac((b & 0x40 != 0).then_some(n), m).map_err(Into::into)
        })
        .collect();
    let first_err = want.iter().find_map(|w| w.err()).unwrap_or(SMBSIGN_OK);
    let jp = if null_jobs {
        ptr::null_mut()
    } else {
        jobs.as_mut_ptr()
    };
    // SAFETY: jobs valid for their count (or NULL); job pointers as built.
    let s = st(unsafe { smbsign_sign_batch(jp, jobs.len()) });
    if null_jobs && !jobs.is_empty() {
        assert_eq!(s, SMBSIGN_ERR_NULL_POINTER);
        assert!(jobs
            .iter()
            .all(|j| j.tag == [0xEE; 16] && j.status == SMBSIGN_ERR_INTERNAL));
        return;
    }
    assert_eq!(s, first_err);
    for (j, w) in jobs.iter().zip(&want) {
        match w {
            Ok(t) => assert_eq!((st(j.status), j.tag), (SMBSIGN_OK, *t)),
            Err(e) => assert_eq!((st(j.status), j.tag), (*e, [0xEE; 16])),
        }
    }
    // Verify: jobs whose tag is tampered (by the flags) must say BAD_SIGNATURE.
    for (i, j) in jobs.iter_mut().enumerate() {
        if flags & 2 != 0 && i % 2 == 0 {
            j.tag[i % 16] ^= 1;
        }
    }
    // SAFETY: as above.
    let s = st(unsafe { smbsign_verify_batch(jobs.as_mut_ptr(), jobs.len()) });
    let statuses: Vec<smbsign_status> = want
        .iter()
        .enumerate()
        .map(|(i, w)| match w {
            Ok(_) if flags & 2 != 0 && i % 2 == 0 => SMBSIGN_ERR_BAD_SIGNATURE,
            Ok(_) => SMBSIGN_OK,
            Err(e) => *e,
        })
        .collect();
    assert_eq!(
        s,
        statuses
            .iter()
            .copied()
            .find(|&x| x != SMBSIGN_OK)
            .unwrap_or(SMBSIGN_OK)
    );
    for (j, st) in jobs.iter().zip(&statuses) {
        assert_eq!(j.status, *st);
    }
}

/// PDU batch jobs: per job a key selector (or NULL), a buffer, maybe aliasing another.
fn pdu_batch(inp: &mut Input<'_>, key: &[u8; 16], flags: u8) {
    let handles: Vec<Handle> = Algorithm::ALL
        .iter()
        .map(|&a| Handle::new(a, key))
        .collect();
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    let mut sel = Vec::new();
    while bufs.len() < 16 && !inp.is_empty() {
        let b = inp.byte();
        let len = usize::from(inp.u16() % 600);
        let mut pdu = inp.bytes(len).to_vec();
        if b & 0x40 != 0 && pdu.len() >= smb2::HEADER_LEN {
            // Mostly well-formed single PDUs, so the signing path is reached.
            pdu[..4].copy_from_slice(&smb2::PROTOCOL_ID);
            pdu[20..24].fill(0);
        }
        bufs.push(pdu);
        sel.push(b);
    }
    let original = bufs.clone();
    let mut jobs: Vec<smbsign_pdu_job> = bufs
        .iter_mut()
        .zip(&sel)
        .map(|(p, &b)| smbsign_pdu_job {
            key: if b & 0x80 != 0 {
                ptr::null()
            } else {
                handles[usize::from(b % 3)].raw
            },
            pdu: if b & 0x20 != 0 {
                ptr::null_mut()
            } else {
                p.as_mut_ptr()
            },
            len: p.len(),
            status: SMBSIGN_ERR_INTERNAL.int(),
        })
        .collect();
    // A twin of one job over the same buffer: signing refuses exactly the two
    // (when they have a key: a job refused for its own reason aliases nothing),
    // leaving that buffer untouched, and signs the others.
    let twin_of = if flags & 1 != 0 {
        jobs.iter().position(|j| !j.pdu.is_null() && j.len > 0)
    } else {
        None
    };
    if let Some(i) = twin_of {
        let j = &jobs[i];
        let twin = smbsign_pdu_job {
            key: j.key,
            pdu: j.pdu,
            len: j.len,
            status: SMBSIGN_ERR_INTERNAL.int(),
        };
        jobs.push(twin);
    }
    // SAFETY: jobs valid for their count; buffers as built.
    let s = st(unsafe { smbsign_sign_pdu_batch(jobs.as_mut_ptr(), jobs.len()) });
    let mut first = SMBSIGN_OK;
    for (i, ((j, (b, o)), &sl)) in jobs
        .iter()
        .zip(bufs.iter().zip(&original))
        .zip(&sel)
        .enumerate()
    {
        let want = if j.key.is_null() || (j.pdu.is_null() && !o.is_empty()) {
            assert_eq!(b, o);
            SMBSIGN_ERR_NULL_POINTER
        } else if twin_of == Some(i) {
            assert_eq!(b, o);
            SMBSIGN_ERR_INVALID_ARGUMENT
        } else {
            let mut w = o.clone();
            let r = status(&smb2::sign_pdu(&handles[usize::from(sl % 3)].key, &mut w));
            assert_eq!(b, &w);
            r
        };
        assert_eq!(j.status, want);
        if first == SMBSIGN_OK {
            first = want;
        }
    }
    if let Some(i) = twin_of {
        let twin = jobs.last().unwrap();
        let want = if twin.key.is_null() {
            SMBSIGN_ERR_NULL_POINTER
        } else {
            SMBSIGN_ERR_INVALID_ARGUMENT
        };
        assert_eq!(twin.status, want);
        assert_eq!(jobs[i].status, want);
    }
    assert_eq!(s, first);
    // Verify only reads, so the twin (sharing its original's buffer) is
    // verified like any other job.
    // SAFETY: as above (buffers only read).
    let v = st(unsafe { smbsign_verify_pdu_batch(jobs.as_mut_ptr(), jobs.len()) });
    let mut first = SMBSIGN_OK;
    let twin_sel = twin_of.map(|i| (i, sel[i]));
    let views: Vec<(&Vec<u8>, u8)> = bufs
        .iter()
        .zip(sel.iter().copied())
        .chain(twin_sel.map(|(i, b)| (&bufs[i], b)))
        .collect();
    for (j, &(b, sl)) in jobs.iter().zip(&views) {
        let want = if j.key.is_null() || (j.pdu.is_null() && !b.is_empty()) {
            SMBSIGN_ERR_NULL_POINTER
        } else {
            status(&smb2::verify_pdu(&handles[usize::from(sl % 3)].key, b))
        };
        assert_eq!(j.status, want);
        if first == SMBSIGN_OK {
            first = want;
        }
    }
    assert_eq!(v, first);
}

fn info(inp: &mut Input<'_>) {
    let alg = inp.u16();
    let name = smbsign_backend_name(alg);
    assert_eq!(name.is_null(), alg > 2);
    assert!(!smbsign_version().is_null());
    // Every code (they run 0..=SMBSIGN_ERR_UNKNOWN_CIPHER, as ffi-c's ALL_CODES
    // test pins down) has a description.
    for s in SMBSIGN_OK.int()..=SMBSIGN_ERR_UNKNOWN_CIPHER.int() {
        assert!(!smbsign_strerror(st(s).int()).is_null());
    }
}
