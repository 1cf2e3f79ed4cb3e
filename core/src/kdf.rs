//! SP 800-108 counter-mode KDF with HMAC-SHA256, and the SMB 3.x key sets
//! derived with it (MS-SMB2 3.1.4.2, 3.2.5.3.1, 3.3.5.5.3).
//!
//! `K(i) = HMAC(KI, [i]_32 || FixedInput)`, `i = 1, 2, ...`, output the first
//! L bits of `K(1) || K(2) || ...`. For SMB the fixed input is
//! `Label || 0x00 || Context || [L]_32`, where SMB's labels already end in a NUL.

use zeroize::Zeroize;

use crate::backend::{self, Backend};
use crate::error::{Error, Result};
use crate::mac::hmac;

/// The longest output the KDFs produce: SP 800-108's `[L]_32` field counts
/// output *bits* in 32 bits, so `L <= 2^32 - 1` bits, i.e. 536,870,911 bytes.
/// (The 32-bit counter alone would allow `(2^32 - 1) * 32` bytes; the SMB KDF
/// encodes L, so the bit bound is the binding one and both functions use it.)
pub const MAX_OUTPUT_LEN: usize = (u32::MAX / 8) as usize;

/// Whether `len` is an output length the KDFs accept (1..=[`MAX_OUTPUT_LEN`]);
/// [`Error::OutputLength`] if not. Faces that allocate the output check this
/// first, so a caller's length never sizes an allocation before it is validated.
pub fn check_output_len(len: usize) -> Result<()> {
    if len == 0 || len > MAX_OUTPUT_LEN {
        return Err(Error::OutputLength(len));
    }
    Ok(())
}

/// SP 800-108 counter mode, PRF HMAC-SHA256, 32-bit big-endian counter placed
/// before the fixed input (given as pieces to concatenate). Fills `out`.
/// [`Error::OutputLength`] for an empty `out` or one over [`MAX_OUTPUT_LEN`].
pub fn counter_hmac_sha256(key: &[u8], fixed_input: &[&[u8]], out: &mut [u8]) -> Result<()> {
    counter_hmac_sha256_with(backend::active(), key, fixed_input, out)
}

pub(crate) fn counter_hmac_sha256_with(
    backend: Backend,
    key: &[u8],
    fixed_input: &[&[u8]],
    out: &mut [u8],
) -> Result<()> {
    check_output_len(out.len())?;
    crate::scrub::after(crate::scrub::Bytes::kdf(&backend), || {
        let prf = hmac::Key::with_backend(key, backend);
        for (i, chunk) in out.chunks_mut(hmac::OUTPUT_LEN).enumerate() {
            let mut st = prf.start();
            st.absorb(&(i as u32 + 1).to_be_bytes());
            for piece in fixed_input {
                st.absorb(piece);
            }
            let mut k = st.finish();
            chunk.copy_from_slice(&k[..chunk.len()]);
            k.zeroize();
        }
    });
    Ok(())
}

/// The SMB key derivation: `KDF(key, Label || 0x00 || Context || [L]_32)` with
/// `L = 8 * out.len()`. `label` and `context` are passed as SMB defines them,
/// including their trailing NUL where MS-SMB2 has one.
pub fn smb_kdf(key: &[u8], label: &[u8], context: &[u8], out: &mut [u8]) -> Result<()> {
    check_output_len(out.len())?;
    // Cannot truncate: MAX_OUTPUT_LEN * 8 fits in 32 bits.
    let l = (out.len() * 8) as u32;
    counter_hmac_sha256(key, &[label, &[0], context, &l.to_be_bytes()], out)
}

/// Length of the encryption keys to derive (the negotiated cipher's key size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherKeyLen {
    /// AES-128-CCM / AES-128-GCM: 16-byte keys.
    Aes128,
    /// AES-256-CCM / AES-256-GCM (3.1.1 only): 32-byte keys, derived from the full session key.
    Aes256,
}

impl CipherKeyLen {
    /// The key length in bytes.
    #[must_use]
    pub fn bytes(self) -> usize {
        match self {
            CipherKeyLen::Aes128 => 16,
            CipherKeyLen::Aes256 => 32,
        }
    }
}

/// The keys of one SMB 3.x session. Zeroized on drop.
#[derive(Clone)]
pub struct SessionKeys {
    /// Session.SigningKey (16 bytes).
    pub signing: [u8; 16],
    /// Session.ApplicationKey (16 bytes).
    pub application: [u8; 16],
    /// The client-to-server cipher key (client's EncryptionKey, server's DecryptionKey);
    /// the first `cipher_key_len` bytes are meaningful.
    pub client_to_server: [u8; 32],
    /// The server-to-client cipher key (client's DecryptionKey, server's EncryptionKey).
    pub server_to_client: [u8; 32],
    /// 16 or 32.
    pub cipher_key_len: usize,
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        self.signing.zeroize();
        self.application.zeroize();
        self.client_to_server.zeroize();
        self.server_to_client.zeroize();
    }
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionKeys").finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// The client-to-server cipher key, `cipher_key_len` bytes.
    #[must_use]
    pub fn client_to_server_key(&self) -> &[u8] {
        &self.client_to_server[..self.cipher_key_len]
    }

    /// The server-to-client cipher key, `cipher_key_len` bytes.
    #[must_use]
    pub fn server_to_client_key(&self) -> &[u8] {
        &self.server_to_client[..self.cipher_key_len]
    }
}

fn derive16(key: &[u8], label: &[u8], context: &[u8]) -> Result<[u8; 16]> {
    let mut out = [0u8; 16];
    smb_kdf(key, label, context, &mut out)?;
    Ok(out)
}

/// SMB 3.0 / 3.0.2 keys from the 16-byte session key (MS-SMB2 3.2.5.3.1):
/// `SMB2AESCMAC\0`/`SmbSign\0`, `SMB2APP\0`/`SmbRpc\0`,
/// `SMB2AESCCM\0`/`ServerIn \0` (client-to-server), `SMB2AESCCM\0`/`ServerOut\0`.
pub fn smb30_keys(session_key: &[u8]) -> Result<SessionKeys> {
    let mut keys = SessionKeys {
        signing: derive16(session_key, b"SMB2AESCMAC\0", b"SmbSign\0")?,
        application: derive16(session_key, b"SMB2APP\0", b"SmbRpc\0")?,
        client_to_server: [0; 32],
        server_to_client: [0; 32],
        cipher_key_len: 16,
    };
    smb_kdf(
        session_key,
        b"SMB2AESCCM\0",
        b"ServerIn \0",
        &mut keys.client_to_server[..16],
    )?;
    smb_kdf(
        session_key,
        b"SMB2AESCCM\0",
        b"ServerOut\0",
        &mut keys.server_to_client[..16],
    )?;
    Ok(keys)
}

/// SMB 3.1.1 keys (MS-SMB2 3.2.5.3.1), with the session's preauth integrity
/// hash as context: `SMBSigningKey\0`, `SMBAppKey\0`, `SMBC2SCipherKey\0`,
/// `SMBS2CCipherKey\0`. Signing and application keys come from `session_key`
/// (16 bytes); with [`CipherKeyLen::Aes256`] the cipher keys are 32 bytes and come
/// from `full_session_key`, as MS-SMB2 requires for AES-256 ciphers.
pub fn smb311_keys(
    session_key: &[u8],
    full_session_key: &[u8],
    preauth_hash: &[u8; 64],
    cipher: CipherKeyLen,
) -> Result<SessionKeys> {
    let n = cipher.bytes();
    let cipher_src = match cipher {
        CipherKeyLen::Aes128 => session_key,
        CipherKeyLen::Aes256 => full_session_key,
    };
    let mut keys = SessionKeys {
        signing: derive16(session_key, b"SMBSigningKey\0", preauth_hash)?,
        application: derive16(session_key, b"SMBAppKey\0", preauth_hash)?,
        client_to_server: [0; 32],
        server_to_client: [0; 32],
        cipher_key_len: n,
    };
    smb_kdf(
        cipher_src,
        b"SMBC2SCipherKey\0",
        preauth_hash,
        &mut keys.client_to_server[..n],
    )?;
    smb_kdf(
        cipher_src,
        b"SMBS2CCipherKey\0",
        preauth_hash,
        &mut keys.server_to_client[..n],
    )?;
    Ok(keys)
}

/// Session.SessionKey from the authentication protocol's key: its first 16
/// bytes, right-padded with zeros if shorter (MS-SMB2 3.2.5.3.1).
#[must_use]
pub fn session_key16(gss_key: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 16];
    let n = gss_key.len().min(16);
    k[..n].copy_from_slice(&gss_key[..n]);
    k
}
