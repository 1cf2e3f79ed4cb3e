//! Which MAC a dialect signs with (MS-SMB2 3.1.4.1), which cipher it
//! encrypts with (3.1.4.3), and the session keys each dialect derives.

use crate::cipher::Cipher;
use crate::error::{Error, Result};
use crate::kdf;
use zeroize::Zeroize;

/// SMB2 dialect revision numbers that have signing.
pub mod dialect {
    /// SMB 2.0.2: HMAC-SHA256.
    pub const SMB2_0_2: u16 = 0x0202;
    /// SMB 2.1: HMAC-SHA256.
    pub const SMB2_1: u16 = 0x0210;
    /// SMB 3.0: AES-128-CMAC.
    pub const SMB3_0: u16 = 0x0300;
    /// SMB 3.0.2: AES-128-CMAC.
    pub const SMB3_0_2: u16 = 0x0302;
    /// SMB 3.1.1: the SigningAlgorithmId negotiated in SIGNING_CAPABILITIES, AES-128-CMAC if none.
    pub const SMB3_1_1: u16 = 0x0311;
}

/// A signing algorithm, numbered as MS-SMB2's SigningAlgorithmId.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Algorithm {
    /// HMAC-SHA256, truncated to 16 bytes (SigningAlgorithmId 0).
    HmacSha256 = 0,
    /// AES-128-CMAC (SigningAlgorithmId 1).
    AesCmac = 1,
    /// AES-128-GMAC (SigningAlgorithmId 2).
    AesGmac = 2,
}

impl Algorithm {
    /// Every algorithm, in SigningAlgorithmId order.
    pub const ALL: [Algorithm; 3] = [
        Algorithm::HmacSha256,
        Algorithm::AesCmac,
        Algorithm::AesGmac,
    ];

    /// The algorithm with this SigningAlgorithmId.
    pub fn from_id(id: u16) -> Result<Algorithm> {
        match id {
            0 => Ok(Algorithm::HmacSha256),
            1 => Ok(Algorithm::AesCmac),
            2 => Ok(Algorithm::AesGmac),
            other => Err(Error::UnknownSigningAlgorithm(other)),
        }
    }

    /// The SigningAlgorithmId.
    #[must_use]
    pub fn id(self) -> u16 {
        self as u16
    }

    /// The algorithm a connection of `dialect` signs with. `negotiated` is the
    /// SigningAlgorithmId from SIGNING_CAPABILITIES; it is consulted only for
    /// 3.1.1 (the context does not exist in earlier dialects).
    pub fn for_dialect(dialect: u16, negotiated: Option<u16>) -> Result<Algorithm> {
        match dialect {
            dialect::SMB2_0_2 | dialect::SMB2_1 => Ok(Algorithm::HmacSha256),
            dialect::SMB3_0 | dialect::SMB3_0_2 => Ok(Algorithm::AesCmac),
            dialect::SMB3_1_1 => negotiated.map_or(Ok(Algorithm::AesCmac), Algorithm::from_id),
            other => Err(Error::UnsupportedDialect(other)),
        }
    }

    /// The algorithm with this [`Algorithm::name`] (case-insensitive), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// A short name: `hmac-sha256`, `aes-cmac` or `aes-gmac`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::AesCmac => "aes-cmac",
            Algorithm::AesGmac => "aes-gmac",
        }
    }
}

/// Session.SigningKey as `dialect` prescribes (MS-SMB2 3.2.5.3.1, 3.3.5.5.3):
/// the session key itself for 2.0.2 and 2.1, the 3.0 KDF for 3.0 and 3.0.2,
/// the 3.1.1 KDF over `preauth_hash` (Session.PreauthIntegrityHashValue; read
/// only for 3.1.1) otherwise. `session_key` is the authentication protocol's
/// key, shortened or padded to 16 bytes as [`kdf::session_key16`] does. The
/// dialect rule lives here, beside [`Algorithm::for_dialect`]; `kdf` stays
/// dialect-free SP 800-108.
pub fn session_signing_key(
    dialect: u16,
    session_key: &[u8],
    preauth_hash: &[u8; 64],
) -> Result<[u8; 16]> {
    let mut k = kdf::session_key16(session_key);
    let mut out = [0u8; 16];
    let r = match dialect {
        dialect::SMB2_0_2 | dialect::SMB2_1 => {
            out = k;
            Ok(())
        }
        dialect::SMB3_0 | dialect::SMB3_0_2 => {
            kdf::smb_kdf(&k, b"SMB2AESCMAC\0", b"SmbSign\0", &mut out)
        }
        dialect::SMB3_1_1 => kdf::smb_kdf(&k, b"SMBSigningKey\0", preauth_hash, &mut out),
        other => Err(Error::UnsupportedDialect(other)),
    };
    k.zeroize();
    r.map(|()| out)
}

/// The cipher a connection of `dialect` encrypts with (MS-SMB2 3.1.4.3):
/// AES-128-CCM for 3.0 and 3.0.2; for 3.1.1 the CipherId the server chose in
/// ENCRYPTION_CAPABILITIES (`negotiated`; `None` or 0, no cipher, is the
/// cipher layer's unknown-cipher error: such a connection does not encrypt).
/// 2.0.2 and 2.1 have no encryption ([`Error::UnsupportedDialect`]).
pub fn cipher_for_dialect(dialect: u16, negotiated: Option<u16>) -> Result<Cipher> {
    match dialect {
        dialect::SMB3_0 | dialect::SMB3_0_2 => Ok(Cipher::Aes128Ccm),
        dialect::SMB3_1_1 => Cipher::from_id(negotiated.unwrap_or(0)),
        other => Err(Error::UnsupportedDialect(other)),
    }
}

/// A session's keys with its cipher keys as `dialect` and `cipher`
/// prescribe (MS-SMB2 3.2.5.3.1, 3.3.5.5.3): for 3.0 and 3.0.2 (AES-128-CCM
/// only) `SMB2AESCCM\0` with contexts `ServerIn \0` (client-to-server) and
/// `ServerOut\0`; for 3.1.1 `SMBC2SCipherKey\0` and `SMBS2CCipherKey\0` over
/// `preauth_hash`, 32-byte keys (L = 256) for the AES-256 ciphers. `session_key`
/// is the authentication protocol's whole key: the AES-256 ciphers derive
/// from all of it (Session.FullSessionKey), everything else from its first
/// 16 bytes (Session.SessionKey, [`kdf::session_key16`]). Which side
/// encrypts with which: the client with `client_to_server`, the server with
/// `server_to_client`.
pub fn session_cipher_keys(
    dialect: u16,
    cipher: Cipher,
    session_key: &[u8],
    preauth_hash: &[u8; 64],
) -> Result<kdf::SessionKeys> {
    let mut k = kdf::session_key16(session_key);
    let r = match (dialect, cipher) {
        (dialect::SMB3_0 | dialect::SMB3_0_2, Cipher::Aes128Ccm) => kdf::smb30_keys(&k),
        (d @ (dialect::SMB3_0 | dialect::SMB3_0_2), other) => Err(Error::CipherNotInDialect {
            dialect: d,
            cipher: other.id(),
        }),
        (dialect::SMB3_1_1, c) => {
            let len = match c.key_len() {
                32 => kdf::CipherKeyLen::Aes256,
                _ => kdf::CipherKeyLen::Aes128,
            };
            kdf::smb311_keys(&k, session_key, preauth_hash, len)
        }
        (other, _) => Err(Error::UnsupportedDialect(other)),
    };
    k.zeroize();
    r
}
