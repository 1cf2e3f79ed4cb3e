//! Encrypted messages: a session's cipher keys, verifying and decrypting a
//! TRANSFORM_HEADER message (a copy; core's [`transform`] rules), explaining a
//! tag that does not verify, and the nonces each key has carried.
//!
//! The keys are core's ([`smb2::session_cipher_keys`]): 3.0 and 3.0.2
//! AES-128-CCM with the `SMB2AESCCM` labels, 3.1.1 the negotiated cipher with
//! the `SMBC2SCipherKey`/`SMBS2CCipherKey` labels over the preauth hash,
//! AES-256 ciphers from the whole session key (a 32-byte Kerberos
//! `--session-key` is used whole; an NTLMSSP session key is 16 bytes, which is
//! the whole key).

use std::collections::HashMap;
use std::net::IpAddr;

use smbsign::cipher::{Cipher, Key};
use smbsign::smb2::{self, dialect, transform};
use zeroize::Zeroizing;

/// Which way a message travels, which names the key that encrypts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: the client's EncryptionKey, the server's DecryptionKey.
    ClientToServer,
    /// Server to client.
    ServerToClient,
}

impl Direction {
    /// The other way.
    #[must_use]
    pub fn other(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// "client-to-server" or "server-to-client".
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client-to-server",
            Direction::ServerToClient => "server-to-client",
        }
    }
}

/// A session's cipher keys and what they were derived from (for the diagnosis).
pub struct CipherContext {
    /// The cipher the connection negotiated.
    pub cipher: Cipher,
    /// The connection's dialect.
    pub dialect: u16,
    c2s: Key,
    s2c: Key,
    /// The whole session key (Session.FullSessionKey).
    session_key: Zeroizing<Vec<u8>>,
    preauth: [u8; 64],
}

impl CipherContext {
    /// The keys `dialect` and `cipher` prescribe from `session_key` (the
    /// authentication protocol's whole key) and the 3.1.1 preauth hash.
    pub fn new(
        dialect: u16,
        cipher: Cipher,
        session_key: &[u8],
        preauth: &[u8; 64],
    ) -> smbsign::Result<CipherContext> {
        let (c2s, s2c) = keys_for(dialect, cipher, session_key, preauth)?;
        Ok(CipherContext {
            cipher,
            dialect,
            c2s,
            s2c,
            session_key: Zeroizing::new(session_key.to_vec()),
            preauth: *preauth,
        })
    }

    /// The key that encrypts messages travelling `dir`.
    #[must_use]
    pub fn key(&self, dir: Direction) -> &Key {
        match dir {
            Direction::ClientToServer => &self.c2s,
            Direction::ServerToClient => &self.s2c,
        }
    }
}

/// (client-to-server, server-to-client) keys for `cipher`.
fn keys_for(
    dialect: u16,
    cipher: Cipher,
    session_key: &[u8],
    preauth: &[u8; 64],
) -> smbsign::Result<(Key, Key)> {
    let k = smb2::session_cipher_keys(dialect, cipher, session_key, preauth)?;
    Ok((
        Key::new(cipher, k.client_to_server_key())?,
        Key::new(cipher, k.server_to_client_key())?,
    ))
}

/// The plaintext of transform message `msg` (header first) under `key`, or
/// None when the tag does not verify (or the header is refused).
#[must_use]
pub fn open(key: &Key, msg: &[u8]) -> Option<Vec<u8>> {
    transform::decrypt_to_vec(key, msg).ok()
}

/// Whether `msg`'s ciphertext verifies under `key` with `header` (52 bytes,
/// possibly altered) in place of the one sent.
fn opens_with(key: &Key, header: &[u8; transform::TRANSFORM_HEADER_LEN], msg: &[u8]) -> bool {
    let mut body = msg[transform::TRANSFORM_HEADER_LEN..].to_vec();
    transform::decrypt_message(key, header, &mut [&mut body[..]]).is_ok()
}

/// Tries made by one diagnosis, at most: bounds its cost to a fixed number
/// of decryptions of the message.
pub const MAX_TRIES: usize = 32;

/// Why the tag of transform message `msg`, travelling `dir`, fails under
/// `ctx`: the variants tried in order (the other direction's key; the other
/// ciphers, same key length first; another session's key, or another
/// SessionId in the authenticated data; a nonce other than the header's)
/// and the first one that verifies, named. `others` are the other sessions
/// of the connection with cipher keys. An empty answer is impossible: when
/// nothing verifies it says so.
#[must_use]
pub fn diagnose(
    ctx: &CipherContext,
    dir: Direction,
    msg: &[u8],
    others: &[(u64, &CipherContext)],
) -> Vec<String> {
    let Ok((h, _)) = transform::TransformHeader::parse(msg) else {
        return vec!["the TRANSFORM_HEADER does not parse".into()];
    };
    let header = *h.bytes();
    let sid = h.session_id();
    let mut tries = 0usize;
    let mut attempt = |key: &Key, header: &[u8; 52]| {
        tries += 1;
        tries <= MAX_TRIES && opens_with(key, header, msg)
    };
    // 1. The other direction's key.
    let other = dir.other();
    if attempt(ctx.key(other), &header) {
        return vec![format!(
            "verifies with the {} key instead of the {} one: the sender encrypted with the key of the other direction (its DecryptionKey, the two keys swapped), or the message was sent the other way",
            other.name(),
            dir.name()
        )];
    }
    // 2. The other ciphers of the dialect, same key length first.
    let mut ciphers: Vec<Cipher> = Cipher::ALL
        .into_iter()
        .filter(|&c| c != ctx.cipher)
        .collect();
    ciphers.sort_by_key(|c| c.key_len() != ctx.cipher.key_len());
    for c in ciphers {
        let keys = if ctx.dialect == dialect::SMB3_1_1 {
            keys_for(ctx.dialect, c, &ctx.session_key, &ctx.preauth).ok()
        } else if c.key_len() == 16 {
            // 3.0/3.0.2 know only AES-128-CCM: try its keys under the other 128-bit cipher.
            smbsign::kdf::smb30_keys(&smbsign::kdf::session_key16(&ctx.session_key))
                .ok()
                .and_then(|k| {
                    Some((
                        Key::new(c, k.client_to_server_key()).ok()?,
                        Key::new(c, k.server_to_client_key()).ok()?,
                    ))
                })
        } else {
            None
        };
        let Some((c2s, s2c)) = keys else { continue };
        let (mine, theirs) = match dir {
            Direction::ClientToServer => (&c2s, &s2c),
            Direction::ServerToClient => (&s2c, &c2s),
        };
        if attempt(mine, &header) {
            return vec![format!(
                "verifies as {} (the {} key): the sender encrypted with another cipher than the negotiated {}",
                c.name(),
                dir.name(),
                ctx.cipher.name()
            )];
        }
        if attempt(theirs, &header) {
            return vec![format!(
                "verifies as {} with the {} key: another cipher than the negotiated {}, and the other direction's key",
                c.name(),
                other.name(),
                ctx.cipher.name()
            )];
        }
    }
    // 3. SessionId: another session's key, or another SessionId in the AAD.
    for &(other_sid, o) in others {
        if other_sid == sid {
            continue;
        }
        if attempt(o.key(dir), &header) {
            return vec![format!(
                "verifies with the {} key of session {other_sid:#018x}: the TRANSFORM_HEADER's SessionId ({sid:#018x}) is not the session whose key encrypted it",
                dir.name()
            )];
        }
        let mut changed = header;
        changed[44..52].copy_from_slice(&other_sid.to_le_bytes());
        if attempt(ctx.key(dir), &changed) {
            return vec![format!(
                "verifies with SessionId {other_sid:#018x} in the authenticated data: the header's SessionId ({sid:#018x}) was changed after encryption"
            )];
        }
    }
    // 4. A nonce not the one sent: the padding zeroed, or the counter one off.
    let n = ctx.cipher.nonce_len();
    let field = *h.nonce_field();
    let mut nonces: Vec<[u8; 16]> = Vec::new();
    if field[n..].iter().any(|&b| b != 0) {
        let mut z = field;
        z[n..].fill(0);
        nonces.push(z);
    }
    let counter = u64::from_le_bytes(field[..8].try_into().expect("8 bytes"));
    for c in [counter.wrapping_add(1), counter.wrapping_sub(1)] {
        let mut f = field;
        f[..8].copy_from_slice(&c.to_le_bytes());
        nonces.push(f);
    }
    for f in nonces {
        let mut changed = header;
        changed[20..36].copy_from_slice(&f);
        if attempt(ctx.key(dir), &changed) {
            return vec![format!(
                "verifies with nonce {} instead of the header's {}: the message was encrypted with a nonce other than the one sent",
                hex(&f),
                hex(&field)
            )];
        }
    }
    vec![format!(
        "no variant verifies (the other direction's key, the other ciphers, the connection's other sessions and SessionIds, nearby nonces): the ciphertext, tag or header changed after encryption, or the session key is wrong"
    )]
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Nonces remembered per key before tracking stops (per key: a few tens
/// of bytes each).
pub const MAX_NONCES_PER_KEY: usize = 1 << 22;

/// Where a nonce was first seen.
#[derive(Clone, Copy, Debug)]
struct FirstUse {
    frame: u64,
    /// A hash of the whole transform message, to tell a replayed copy.
    digest: u64,
}

/// The nonces each key has carried. A key is a session and a direction: the
/// sender's and receiver's IP addresses and the SessionId (the cipher keys
/// are session-wide, shared by the session's channels: connections between
/// the same hosts share the log; a channel to another server address does
/// not).
#[derive(Default)]
pub struct NonceLog {
    seen: HashMap<(IpAddr, IpAddr, u64), HashMap<[u8; 16], FirstUse>>,
    /// Keys whose tracking stopped at [`MAX_NONCES_PER_KEY`].
    pub full: u64,
}

/// A nonce seen before under the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reuse {
    /// The frame of its first use.
    pub first_frame: u64,
    /// Whether the whole message is a byte-identical copy of the first (a replay).
    pub identical: bool,
}

impl NonceLog {
    /// Records the nonce of transform message `msg`, in `frame`, sent from
    /// `sender` to `receiver` under session `sid`'s key; `nonce_len` is the
    /// cipher's (the whole 16-byte field when the cipher is unknown). Returns
    /// the earlier use of the same nonce, if there was one.
    pub fn record(
        &mut self,
        sender: IpAddr,
        receiver: IpAddr,
        sid: u64,
        nonce_len: usize,
        frame: u64,
        msg: &[u8],
    ) -> Option<Reuse> {
        let h = transform::TransformHeader::new(msg).ok()?;
        let mut n = *h.nonce_field();
        n[nonce_len.min(16)..].fill(0);
        let digest = {
            use std::hash::{Hash, Hasher};
            let mut s = std::collections::hash_map::DefaultHasher::new();
            msg.hash(&mut s);
            s.finish()
        };
        let log = self.seen.entry((sender, receiver, sid)).or_default();
        if let Some(first) = log.get(&n) {
            return Some(Reuse {
                first_frame: first.frame,
                identical: first.digest == digest,
            });
        }
        if log.len() >= MAX_NONCES_PER_KEY {
            if log.len() == MAX_NONCES_PER_KEY {
                self.full += 1;
                // One entry past the limit marks the key as counted.
                log.insert([0xFF; 16], FirstUse { frame, digest });
            }
            return None;
        }
        log.insert(n, FirstUse { frame, digest });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION_KEY: [u8; 16] = *b"0123456789abcdef";
    const PREAUTH: [u8; 64] = [7u8; 64];

    fn ctx(d: u16, c: Cipher) -> CipherContext {
        CipherContext::new(d, c, &SESSION_KEY, &PREAUTH).unwrap()
    }

    fn pdu() -> Vec<u8> {
        let mut p = vec![0u8; 64 + 9];
        p[..4].copy_from_slice(b"\xfeSMB");
        p[4] = 64;
        p[12] = 13; // ECHO
        p
    }

    fn seal(key: &Key, nonce: &[u8], sid: u64) -> Vec<u8> {
        transform::encrypt_to_vec(key, nonce, sid, &pdu()).unwrap()
    }

    #[test]
    fn right_key_opens() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Gcm);
        let m = seal(c.key(Direction::ClientToServer), &[1; 12], 5);
        assert_eq!(open(c.key(Direction::ClientToServer), &m).unwrap(), pdu());
        assert!(open(c.key(Direction::ServerToClient), &m).is_none());
    }

    #[test]
    fn other_direction_is_named() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes256Gcm);
        let m = seal(c.key(Direction::ServerToClient), &[2; 12], 5);
        let d = diagnose(&c, Direction::ClientToServer, &m, &[]);
        assert!(
            d[0].starts_with("verifies with the server-to-client key"),
            "{d:?}"
        );
    }

    #[test]
    fn other_cipher_is_named_same_length_first() {
        // 3.1.1 AES-128 ciphers share key bytes: sealed with GCM, negotiated CCM.
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Ccm);
        let g = ctx(dialect::SMB3_1_1, Cipher::Aes128Gcm);
        let m = seal(g.key(Direction::ServerToClient), &[3; 12], 9);
        let d = diagnose(&c, Direction::ServerToClient, &m, &[]);
        assert!(
            d[0].starts_with("verifies as aes-128-gcm (the server-to-client key)"),
            "{d:?}"
        );
        // An AES-256 key where AES-128 was negotiated.
        let g = ctx(dialect::SMB3_1_1, Cipher::Aes256Ccm);
        let m = seal(g.key(Direction::ClientToServer), &[3; 11], 9);
        let d = diagnose(&c, Direction::ClientToServer, &m, &[]);
        assert!(d[0].starts_with("verifies as aes-256-ccm"), "{d:?}");
        // 3.0.2 with GCM under the CCM keys.
        let c = ctx(dialect::SMB3_0_2, Cipher::Aes128Ccm);
        let k = smbsign::kdf::smb30_keys(&SESSION_KEY).unwrap();
        let key = Key::new(Cipher::Aes128Gcm, k.client_to_server_key()).unwrap();
        let m = seal(&key, &[4; 12], 9);
        let d = diagnose(&c, Direction::ClientToServer, &m, &[]);
        assert!(d[0].starts_with("verifies as aes-128-gcm"), "{d:?}");
    }

    #[test]
    fn session_id_mismatch_is_named() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Gcm);
        let o = CipherContext::new(
            dialect::SMB3_1_1,
            Cipher::Aes128Gcm,
            b"another session!",
            &PREAUTH,
        )
        .unwrap();
        // Session 8's key, header says session 5.
        let m = seal(o.key(Direction::ClientToServer), &[5; 12], 5);
        let d = diagnose(&c, Direction::ClientToServer, &m, &[(8, &o)]);
        assert!(
            d[0].starts_with(
                "verifies with the client-to-server key of session 0x0000000000000008"
            ),
            "{d:?}"
        );
        // The right key, the SessionId rewritten from 8 to 5.
        let mut m = seal(c.key(Direction::ClientToServer), &[5; 12], 8);
        m[44..52].copy_from_slice(&5u64.to_le_bytes());
        let d = diagnose(&c, Direction::ClientToServer, &m, &[(8, &o)]);
        assert!(
            d[0].starts_with("verifies with SessionId 0x0000000000000008"),
            "{d:?}"
        );
    }

    #[test]
    fn nonce_off_by_one_is_named() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Ccm);
        let mut m = seal(c.key(Direction::ClientToServer), &[9; 11], 5);
        m[20] = m[20].wrapping_add(1); // the header says counter + 1
        let d = diagnose(&c, Direction::ClientToServer, &m, &[]);
        assert!(d[0].starts_with("verifies with nonce 0909"), "{d:?}");
        assert!(d[0].contains("a nonce other than the one sent"), "{d:?}");
    }

    #[test]
    fn a_flipped_byte_is_no_variant() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Gcm);
        let mut m = seal(c.key(Direction::ClientToServer), &[1; 12], 5);
        let last = m.len() - 1;
        m[last] ^= 1;
        let d = diagnose(&c, Direction::ClientToServer, &m, &[]);
        assert!(d[0].starts_with("no variant verifies"), "{d:?}");
    }

    #[test]
    fn nonce_log_finds_reuse_per_key() {
        let c = ctx(dialect::SMB3_1_1, Cipher::Aes128Gcm);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let k = c.key(Direction::ClientToServer);
        let a = seal(k, &[1; 12], 5);
        let b = transform::encrypt_to_vec(
            k,
            &[1; 12],
            5,
            b"\xfeSMB other message............................................................",
        )
        .unwrap();
        let srv: IpAddr = "127.0.0.2".parse().unwrap();
        let mut log = NonceLog::default();
        assert_eq!(log.record(ip, srv, 5, 12, 1, &a), None);
        // Another direction or session is another key.
        assert_eq!(log.record(srv, ip, 5, 12, 2, &a), None);
        assert_eq!(log.record(ip, srv, 6, 12, 3, &a), None);
        assert_eq!(
            log.record(ip, srv, 5, 12, 4, &b),
            Some(Reuse {
                first_frame: 1,
                identical: false
            })
        );
        assert_eq!(
            log.record(ip, srv, 5, 12, 5, &a),
            Some(Reuse {
                first_frame: 1,
                identical: true
            })
        );
        // Padding past the cipher's nonce is not part of it.
        let mut p = a.clone();
        p[35] = 1;
        assert!(log.record(ip, srv, 5, 12, 6, &p).is_some());
        assert!(log.record(ip, srv, 5, 16, 7, &p).is_none());
    }
}
