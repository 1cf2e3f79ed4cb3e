//! Batches of SMB3 transform messages: many messages, each laid out as it
//! goes on the wire (52 bytes of TRANSFORM_HEADER, then the SMB2 message),
//! encrypted or decrypted in place in one call through the cipher batch
//! (`batch/cipher.rs`). Every job's result equals the single-message one
//! ([`crate::smb2::transform::encrypt_in_place`], [`crate::smb2::transform::decrypt_in_place`]); one
//! job's failure does not touch the others.

use super::cipher::{self as cipher_batch, CipherJob};
use crate::cipher::{Key, TAG_LEN};
use crate::error::{Error, Result};
use crate::smb2::transform::{
    check_message_len, nonce_field, unsealed_header, EncryptionKey, TransformHeader, AAD,
    SIGNATURE, TRANSFORM_HEADER_LEN,
};

/// One message to encrypt: `buf` holds 52 bytes of room for the header,
/// then the message (as [`crate::smb2::transform::encrypt_in_place`] takes it).
#[derive(Debug)]
pub struct EncryptJob<'a> {
    /// The session's cipher key and nonce source.
    pub key: &'a EncryptionKey,
    /// An explicit nonce (as [`crate::smb2::transform::nonce_field`] takes it: never used
    /// with this key before), or `None` for the key's nonce source.
    pub nonce: Option<&'a [u8]>,
    /// The SessionId the header carries.
    pub session_id: u64,
    /// Header room and message, written in place.
    pub buf: &'a mut [u8],
}

/// One whole transform message to decrypt in place (the SMB2 message is
/// `buf[52..]` after success; the header is left as it was).
#[derive(Debug)]
pub struct DecryptJob<'a> {
    /// The session's cipher key.
    pub key: &'a Key,
    /// The transform message.
    pub buf: &'a mut [u8],
}

/// Encrypts every job as [`crate::smb2::transform::encrypt_in_place`] would; one result
/// per job, in order. A refused job (its error) has nothing written and
/// spends no nonce of its key's source (what would refuse it is checked
/// first); the others are encrypted.
pub fn encrypt_in_place(jobs: &mut [EncryptJob<'_>]) -> Vec<Result<()>> {
    let mut results: Vec<Result<()>> = Vec::with_capacity(jobs.len());
    let mut headers = Vec::new();
    let mut bodies: Vec<[&mut [u8]; 1]> = Vec::new();
    let mut heads: Vec<&mut [u8]> = Vec::new();
    let mut keys: Vec<&Key> = Vec::new();
    for j in jobs.iter_mut() {
        let made = (|| {
            if j.buf.len() < TRANSFORM_HEADER_LEN {
                return Err(Error::TransformTruncated { len: j.buf.len() });
            }
            let len = j.buf.len() - TRANSFORM_HEADER_LEN;
            check_message_len(len)?;
            let cipher = j.key.cipher();
            let field = match j.nonce {
                Some(n) => nonce_field(cipher, n)?,
                None => j.key.nonces().next()?,
            };
            Ok(unsealed_header(&field, j.session_id, len))
        })();
        match made {
            Ok(h) => {
                let (head, body) = j.buf.split_at_mut(TRANSFORM_HEADER_LEN);
                headers.push(h);
                heads.push(head);
                bodies.push([body]);
                keys.push(j.key.key());
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    let mut tags = vec![[0u8; TAG_LEN]; headers.len()];
    {
        let mut cjobs = Vec::with_capacity(headers.len());
        for ((h, body), key) in headers.iter().zip(bodies.iter_mut()).zip(&keys) {
            let nonce = &h[20..20 + key.cipher().nonce_len()];
            // Checked above (nonce length, message length; the AAD is 32 bytes).
            cjobs.push(CipherJob::new(key, nonce, &h[AAD], &mut body[..]).expect("checked"));
        }
        cipher_batch::seal(&mut cjobs, &mut tags).expect("one tag per job");
    }
    for ((h, head), t) in headers.iter_mut().zip(heads).zip(&tags) {
        h[SIGNATURE].copy_from_slice(t);
        head.copy_from_slice(h);
    }
    results
}

/// Decrypts every job as [`crate::smb2::transform::decrypt_in_place`] would; one result
/// per job, in order: the header's errors (nothing written), or
/// [`Error::AuthenticationFailed`] with the buffer holding the ciphertext
/// again (as the single call; CCM decrypts to check and encrypts back).
pub fn decrypt_in_place(jobs: &mut [DecryptJob<'_>]) -> Vec<Result<()>> {
    let mut results: Vec<Result<()>> = Vec::with_capacity(jobs.len());
    let mut headers: Vec<[u8; TRANSFORM_HEADER_LEN]> = Vec::new();
    let mut bodies: Vec<[&mut [u8]; 1]> = Vec::new();
    let mut keys: Vec<&Key> = Vec::new();
    let mut which = Vec::new();
    for (i, j) in jobs.iter_mut().enumerate() {
        let checked = TransformHeader::new(&*j.buf).and_then(|h| {
            h.check_size(j.buf.len() - TRANSFORM_HEADER_LEN)?;
            Ok(*h.bytes())
        });
        match checked {
            Ok(h) => {
                let body = &mut j.buf[TRANSFORM_HEADER_LEN..];
                headers.push(h);
                bodies.push([body]);
                keys.push(j.key);
                which.push(i);
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    let tags: Vec<[u8; TAG_LEN]> = headers
        .iter()
        .map(|h| h[SIGNATURE].try_into().expect("16 bytes"))
        .collect();
    let mut valid = vec![false; headers.len()];
    {
        let mut cjobs = Vec::with_capacity(headers.len());
        for ((h, body), key) in headers.iter().zip(bodies.iter_mut()).zip(&keys) {
            let v = TransformHeader::new(h).expect("checked");
            cjobs.push(
                CipherJob::new(key, v.nonce(key.cipher()), v.aad(), &mut body[..])
                    .expect("checked"),
            );
        }
        cipher_batch::open(&mut cjobs, &tags, &mut valid).expect("one tag per job");
    }
    for (&i, &v) in which.iter().zip(&valid) {
        if !v {
            results[i] = Err(Error::AuthenticationFailed);
        }
    }
    results
}
