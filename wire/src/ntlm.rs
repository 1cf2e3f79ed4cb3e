//! NTLMSSP (MS-NLMP) as far as the session key goes: the CHALLENGE and
//! AUTHENTICATE messages found in SESSION_SETUP security buffers (raw or inside
//! SPNEGO), and the NTLMv2 session key from a password.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use zeroize::{Zeroize, Zeroizing};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// NTLMSSP_NEGOTIATE_UNICODE.
pub(crate) const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
/// NTLMSSP_NEGOTIATE_KEY_EXCH.
const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;

/// The NTLMSSP message inside a security buffer, and its MessageType.
pub(crate) fn find(token: &[u8]) -> Option<(&[u8], u32)> {
    let at = token.windows(8).position(|w| w == SIGNATURE)?;
    let msg = &token[at..];
    Some((msg, u32::from_le_bytes(msg.get(8..12)?.try_into().ok()?)))
}

/// The payload a (Len, MaxLen, Offset) field at `at` points to.
pub(crate) fn field(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16::from_le_bytes(msg.get(at..at + 2)?.try_into().ok()?));
    let off = u32::from_le_bytes(msg.get(at + 4..at + 8)?.try_into().ok()?) as usize;
    msg.get(off..off.checked_add(len)?)
}

/// The ServerChallenge of a CHALLENGE message in `token`, if it holds one.
#[must_use]
pub fn server_challenge(token: &[u8]) -> Option<[u8; 8]> {
    match find(token)? {
        (msg, 2) => msg.get(24..32)?.try_into().ok(),
        _ => None,
    }
}

/// The fields of an AUTHENTICATE message the session key depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    /// NtChallengeResponse (NTLMv2: NTProofStr, then the client blob).
    pub nt_response: Vec<u8>,
    /// UserName.
    pub user: String,
    /// DomainName.
    pub domain: String,
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: Vec<u8>,
    /// NegotiateFlags.
    pub flags: u32,
}

fn text(b: &[u8], unicode: bool) -> String {
    if unicode {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

/// The AUTHENTICATE message in `token`, if it holds one.
#[must_use]
pub fn authenticate(token: &[u8]) -> Option<Authenticate> {
    let (msg, 3) = find(token)? else {
        return None;
    };
    let flags = u32::from_le_bytes(msg.get(60..64)?.try_into().ok()?);
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    Some(Authenticate {
        nt_response: field(msg, 20)?.to_vec(),
        domain: text(field(msg, 28)?, unicode),
        user: text(field(msg, 36)?, unicode),
        encrypted_session_key: field(msg, 52)?.to_vec(),
        flags,
    })
}

pub(crate) fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
#[must_use]
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let mut pw = utf16le(password);
    let mut nt_hash: [u8; 16] = Md4::digest(&pw).into();
    pw.zeroize();
    let who = utf16le(&(user.to_uppercase() + domain));
    let k = hmac_md5(&nt_hash, &[&who]);
    nt_hash.zeroize();
    k
}

/// Why no session key came out of a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The NtChallengeResponse is not NTLMv2 (NTLMv1 or anonymous).
    NotNtlmV2,
    /// The NTProofStr does not match: wrong password, user or domain.
    WrongPassword,
}

/// The exported session key of an NTLMv2 authentication (MS-NLMP 3.2.5.1.2,
/// 3.4.5.1): SessionBaseKey = HMAC-MD5(NTOWFv2, NTProofStr), which is the
/// KeyExchangeKey; with NTLMSSP_NEGOTIATE_KEY_EXCH the exported key is
/// RC4(KeyExchangeKey, EncryptedRandomSessionKey). When the server challenge is
/// known, the NTProofStr is checked first, so a wrong password is named as such.
pub fn session_key(
    auth: &Authenticate,
    password: &str,
    user: Option<&str>,
    domain: Option<&str>,
    server_challenge: Option<&[u8; 8]>,
) -> Result<Zeroizing<[u8; 16]>, KeyError> {
    if auth.nt_response.len() <= 24 {
        return Err(KeyError::NotNtlmV2);
    }
    let (proof, blob) = auth.nt_response.split_at(16);
    let mut owf = ntowf_v2(
        password,
        user.unwrap_or(&auth.user),
        domain.unwrap_or(&auth.domain),
    );
    if let Some(chal) = server_challenge {
        if hmac_md5(&owf, &[chal, blob]) != proof {
            owf.zeroize();
            return Err(KeyError::WrongPassword);
        }
    }
    let mut key = hmac_md5(&owf, &[proof]);
    owf.zeroize();
    if auth.flags & NEGOTIATE_KEY_EXCH != 0 && auth.encrypted_session_key.len() == 16 {
        let mut exported: [u8; 16] = auth.encrypted_session_key[..].try_into().expect("16 bytes");
        Rc4::new_from_slice(&key)
            .expect("RC4 takes a 16-byte key")
            .apply_keystream(&mut exported);
        key.zeroize();
        key = exported;
        exported.zeroize();
    }
    let out = Zeroizing::new(key);
    key.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// MS-NLMP 4.2.4 (NTLMv2 authentication): User/Domain/Password, server
    /// challenge 0123456789abcdef, client challenge aa*8, time 0, AV pairs
    /// NbDomainName "Domain" and NbComputerName "Server", RandomSessionKey 55*16.
    #[test]
    fn ms_nlmp_ntlmv2_vectors() {
        assert_eq!(
            ntowf_v2("Password", "User", "Domain").to_vec(),
            hex("0c868a403bfd7a93a3001ef22ef02e3f")
        );
        let chal: [u8; 8] = hex("0123456789abcdef").try_into().unwrap();
        let av = hex(
            "02000c0044006f006d00610069006e0001000c005300650072007600650072000000\
             0000",
        );
        let blob = [
            hex("0101000000000000"),
            hex("0000000000000000"),
            hex("aaaaaaaaaaaaaaaa"),
            hex("00000000"),
            av,
            hex("00000000"),
        ]
        .concat();
        let owf = ntowf_v2("Password", "User", "Domain");
        let proof = hmac_md5(&owf, &[&chal, &blob]);
        assert_eq!(proof.to_vec(), hex("68cd0ab851e51c96aabc927bebef6a1c"));
        let auth = Authenticate {
            nt_response: [proof.to_vec(), blob].concat(),
            user: "User".into(),
            domain: "Domain".into(),
            encrypted_session_key: hex("c5dad2544fc9799094ce1ce90bc9d03e"),
            flags: NEGOTIATE_KEY_EXCH | NEGOTIATE_UNICODE,
        };
        assert_eq!(
            session_key(&auth, "Password", None, None, Some(&chal)).map(|k| *k),
            Ok([0x55; 16])
        );
        let no_kx = Authenticate {
            flags: NEGOTIATE_UNICODE,
            ..auth.clone()
        };
        assert_eq!(
            session_key(&no_kx, "Password", None, None, Some(&chal)).map(|k| k.to_vec()),
            Ok(hex("8de40ccadbc14a82f15cb0ad0de95ca3"))
        );
        assert_eq!(
            session_key(&auth, "password", None, None, Some(&chal)).map(|k| *k),
            Err(KeyError::WrongPassword)
        );
    }
}
