//! The C ABI's SMB3 encryption entry points (`smbsign_encrypt`, `_decrypt`,
//! `_encrypt_iov`, `_decrypt_iov`, `smbsign_check_decrypted`) with arbitrary
//! lengths, nonces, iovec cuts and counts, NULL pointers and overlapping
//! iovecs, against the Rust API: the status is what the Rust result maps to,
//! the outputs are the Rust API's bytes, and a refused call leaves every
//! buffer as it was. Every buffer and segment is its own exact-size
//! allocation, so the address sanitizer sees any access past one.
//!
//! Input: an operation selector, a flag byte (NULL pointers, overlap, nonce
//! form), a cipher selector, a 32-byte key, then the operation's arguments.

use core::ffi::{c_int, c_void};
use core::ptr;

use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::transform::{self, TRANSFORM_HEADER_LEN};
use smbsign::Error;
use smbsign_ffi::smbsign_status_code as code;
use smbsign_ffi::*;

use crate::Input;

fn st(s: smbsign_status) -> code {
    code::from_int(s).unwrap_or_else(|| panic!("status {s} is not a code"))
}

fn status<T>(r: &Result<T, Error>) -> code {
    match r {
        Ok(_) => code::SMBSIGN_OK,
        Err(e) => (*e).into(),
    }
}

/// A live cipher key handle.
struct Handle(*mut smbsign_cipher_key);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle from smbsign_cipher_key_new, freed once.
        unsafe { smbsign_cipher_key_free(self.0) };
    }
}

/// Segments of exactly the cut lengths, each its own allocation.
fn segments(data: &[u8], lengths: &[u8]) -> Vec<Vec<u8>> {
    crate::cuts(data, lengths)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

fn iovecs(segs: &mut [Vec<u8>]) -> Vec<iovec> {
    segs.iter_mut()
        .map(|s| iovec {
            iov_base: s.as_mut_ptr().cast::<c_void>(),
            iov_len: s.len(),
        })
        .collect()
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut inp = Input::new(data);
    let op = inp.byte() % 5;
    let flags = inp.byte();
    let cipher = Cipher::ALL[usize::from(inp.byte() % 4)];
    let key_bytes = inp.array::<32>();
    let key = &key_bytes[..cipher.key_len()];
    let mut raw = ptr::null_mut();
    // SAFETY: key readable for its length; raw writable.
    let s = st(unsafe { smbsign_cipher_key_new(cipher.id(), key.as_ptr(), key.len(), &mut raw) });
    assert_eq!(s, code::SMBSIGN_OK);
    let handle = Handle(raw);
    let rust = Key::new(cipher, key).unwrap();
    // An explicit nonce: the cipher's length, the 16-byte field, or (flag) any length.
    let nonce_len = match flags >> 6 {
        0 => cipher.nonce_len(),
        1 => 16,
        _ => usize::from(inp.byte() % 20),
    };
    let nonce = inp.bytes(nonce_len).to_vec();
    let nonce = if nonce.len() == nonce_len {
        nonce
    } else {
        vec![0; nonce_len]
    };
    let session_id = u64::from_le_bytes(inp.array::<8>());
    let ncuts = usize::from(inp.byte() % 6);
    let lengths = inp.bytes(ncuts).to_vec();
    let body = inp.rest().to_vec();

    match op {
        // smbsign_encrypt: the buffer is 52 bytes of room, then the message.
        0 => {
            let mut buf = body.clone();
            let mut want = buf.clone();
            let r = transform::encrypt_in_place(&rust, &nonce, session_id, &mut want);
            let before = buf.clone();
            let null_nonce = flags & 1 != 0 && !nonce.is_empty();
            let np = if null_nonce {
                ptr::null()
            } else {
                nonce.as_ptr()
            };
            // SAFETY: the handle is live; nonce and buf are exact-size allocations.
            let s = st(unsafe {
                smbsign_encrypt(
                    handle.0,
                    np,
                    nonce.len(),
                    session_id,
                    buf.as_mut_ptr(),
                    buf.len(),
                )
            });
            // The ABI reads the nonce (at most the 16-byte field) before the buffer.
            let expect = if null_nonce {
                code::SMBSIGN_ERR_NULL_POINTER
            } else if nonce.len() > 16 {
                code::SMBSIGN_ERR_INVALID_ARGUMENT
            } else {
                status(&r)
            };
            if nonce.is_empty() {
                // The key's own nonce source: not the same bytes; it must decrypt back.
                if s == code::SMBSIGN_OK {
                    let mut back = buf.clone();
                    assert!(transform::decrypt_in_place(&rust, &mut back).is_ok());
                    assert_eq!(
                        &back[TRANSFORM_HEADER_LEN..],
                        &before[TRANSFORM_HEADER_LEN..]
                    );
                } else {
                    assert_eq!(buf, before, "a refused encryption wrote");
                }
                return;
            }
            assert_eq!(s, expect);
            if s == code::SMBSIGN_OK {
                assert_eq!(buf, want);
            } else {
                assert_eq!(buf, before, "a refused encryption wrote");
            }
        }
        // smbsign_decrypt of arbitrary bytes (sometimes a real transform, bit-flipped).
        1 | 2 => {
            let mut buf = body.clone();
            if op == 2 && body.len() >= 64 {
                buf = transform::encrypt_to_vec(
                    &rust,
                    &vec![7; cipher.nonce_len()],
                    session_id,
                    &body,
                )
                .unwrap();
                if flags & 2 != 0 {
                    crate::flip_bit(
                        &mut buf,
                        u32::from_le_bytes(key_bytes[..4].try_into().unwrap()),
                    );
                }
            }
            let mut want = buf.clone();
            let r = transform::decrypt_in_place(&rust, &mut want).map(|_| ());
            let before = buf.clone();
            // SAFETY: the handle is live; buf is an exact-size allocation.
            let s = st(unsafe { smbsign_decrypt(handle.0, buf.as_mut_ptr(), buf.len()) });
            assert_eq!(s, status(&r));
            if s == code::SMBSIGN_OK {
                assert_eq!(buf, want);
                // The receiver's rule on what came out, as Rust says.
                let msg = &buf[TRANSFORM_HEADER_LEN..];
                let want = status(&smbsign::smb2::check_decrypted(session_id, msg));
                // SAFETY: msg readable for its length.
                assert_eq!(
                    st(unsafe { smbsign_check_decrypted(session_id, msg.as_ptr(), msg.len()) }),
                    want
                );
            } else {
                assert_eq!(buf, before, "a refused decryption changed the buffer");
            }
        }
        // The iovec forms: header segment, then the message cut into segments.
        _ => {
            let mut msg_segs = segments(&body, &lengths);
            let mut head = vec![
                0u8;
                if flags & 4 != 0 {
                    TRANSFORM_HEADER_LEN - 1
                } else {
                    TRANSFORM_HEADER_LEN
                }
            ];
            let mut all: Vec<Vec<u8>> = Vec::new();
            all.push(std::mem::take(&mut head));
            all.append(&mut msg_segs);
            let mut iov = iovecs(&mut all);
            let overlap = flags & 8 != 0 && iov.len() > 2 && !all[1].is_empty();
            if overlap {
                iov[2] = iovec {
                    iov_base: iov[1].iov_base,
                    iov_len: iov[1].iov_len,
                }; // overlap
            }
            let cnt: c_int = if flags & 16 != 0 {
                -1
            } else {
                iov.len() as c_int
            };
            let before = all.clone();
            // SAFETY: the handle is live; iov describes live, exact-size segments.
            let s = st(unsafe {
                smbsign_encrypt_iov(
                    handle.0,
                    nonce.as_ptr(),
                    nonce.len(),
                    session_id,
                    iov.as_ptr(),
                    cnt,
                )
            });
            if cnt < 0 || all[0].len() != TRANSFORM_HEADER_LEN || overlap {
                assert_eq!(s, code::SMBSIGN_ERR_INVALID_ARGUMENT);
            } else if nonce.is_empty() {
                // the key's own nonce source: checked by decrypting below
            } else {
                let mut plain: Vec<u8> = before[1..].concat();
                let r =
                    transform::encrypt_message(&rust, &nonce, session_id, &mut [&mut plain[..]]);
                assert_eq!(s, status(&r));
                if let Ok(h) = r {
                    assert_eq!(&all[0][..], &h[..]);
                    assert_eq!(all[1..].concat(), plain);
                }
            }
            if s != code::SMBSIGN_OK {
                assert_eq!(all, before, "a refused iov encryption wrote");
                return;
            }
            // Back over the same segments.
            let iov = iovecs(&mut all);
            // SAFETY: as above.
            let s = st(unsafe { smbsign_decrypt_iov(handle.0, iov.as_ptr(), iov.len() as c_int) });
            assert_eq!(s, code::SMBSIGN_OK);
            assert_eq!(all[1..].concat(), body);
        }
    }
}
