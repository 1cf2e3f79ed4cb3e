//! The client side of NTLMSSP (MS-NLMP 3.1.5): the NEGOTIATE message, the
//! CHALLENGE fields a client needs, and an NTLMv2 (or anonymous) AUTHENTICATE.
//! The NTLMv2 math is [`crate::ntlm`]'s: the message built here is parsed back
//! with [`crate::ntlm::authenticate`] and its key taken from
//! [`crate::ntlm::session_key`], so reading and writing cannot drift apart.

use zeroize::{Zeroize, Zeroizing};

use crate::ntlm::{self, field, find, hmac_md5, ntowf_v2, utf16le, NEGOTIATE_UNICODE};

/// NTLMSSP_REQUEST_TARGET.
const REQUEST_TARGET: u32 = 0x0000_0004;
/// NTLMSSP_NEGOTIATE_SIGN.
const NEGOTIATE_SIGN: u32 = 0x0000_0010;
/// NTLMSSP_NEGOTIATE_NTLM.
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
/// NTLMSSP_NEGOTIATE_ANONYMOUS.
const NEGOTIATE_ANONYMOUS: u32 = 0x0000_0800;
/// NTLMSSP_NEGOTIATE_ALWAYS_SIGN.
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
/// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY.
const NEGOTIATE_EXTENDED: u32 = 0x0008_0000;
/// NTLMSSP_NEGOTIATE_TARGET_INFO.
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
/// NTLMSSP_NEGOTIATE_128.
const NEGOTIATE_128: u32 = 0x2000_0000;
/// NTLMSSP_NEGOTIATE_56.
const NEGOTIATE_56: u32 = 0x8000_0000;

/// The flags the client asks for. No KEY_EXCH: the exported session key is
/// then the SessionBaseKey, and no RC4 runs on the client side.
pub const CLIENT_FLAGS: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_SIGN
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED
    | NEGOTIATE_TARGET_INFO
    | NEGOTIATE_128
    | NEGOTIATE_56;

/// MsvAvTimestamp.
const AV_TIMESTAMP: u16 = 7;

/// A NEGOTIATE_MESSAGE (no domain, workstation or version).
#[must_use]
pub fn negotiate_message() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // DomainNameFields, WorkstationFields: empty
    m
}

/// What a client takes from a CHALLENGE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// NegotiateFlags.
    pub flags: u32,
    /// TargetInfo (the AV pairs, copied into the NTLMv2 blob).
    pub target_info: Vec<u8>,
    /// MsvAvTimestamp, if TargetInfo has one.
    pub timestamp: Option<[u8; 8]>,
}

/// The CHALLENGE_MESSAGE in `token` (raw or inside SPNEGO), if it holds one.
#[must_use]
pub fn challenge(token: &[u8]) -> Option<Challenge> {
    let (msg, 2) = find(token)? else {
        return None;
    };
    let target_info = field(msg, 40)?.to_vec();
    let mut timestamp = None;
    let mut at = 0;
    while let (Some(id), Some(len)) = (
        crate::smb::u16_at(&target_info, at),
        crate::smb::u16_at(&target_info, at + 2),
    ) {
        let value = target_info.get(at + 4..at + 4 + usize::from(len))?;
        match id {
            0 => break,
            AV_TIMESTAMP => timestamp = value.try_into().ok(),
            _ => {}
        }
        at += 4 + usize::from(len);
    }
    Some(Challenge {
        server_challenge: ntlm::server_challenge(token)?,
        flags: u32::from_le_bytes(msg.get(20..24)?.try_into().ok()?),
        target_info,
        timestamp,
    })
}

/// Assembles an AUTHENTICATE_MESSAGE from its payload fields, in field order
/// (LM, NT, domain, user, workstation, session key), after a 64-byte fixed part.
fn authenticate_message(fields: [&[u8]; 6], flags: u32) -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = 64u32;
    for f in fields {
        let len = f.len() as u16;
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&offset.to_le_bytes());
        offset += u32::from(len);
    }
    m.extend_from_slice(&flags.to_le_bytes());
    for f in fields {
        m.extend_from_slice(f);
    }
    m
}

/// Why no AUTHENTICATE message came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The message built could not be read back (a field over 64 KiB).
    TooLong,
    /// [`ntlm::session_key`] refused the message it was given.
    Key(ntlm::KeyError),
}

/// An NTLMv2 AUTHENTICATE_MESSAGE answering `ch`, and the exported session key
/// (MS-NLMP 3.3.2). `client_challenge` must be random; `filetime` (100 ns
/// since 1601) is used when the server sent no MsvAvTimestamp.
pub fn ntlmv2_authenticate(
    ch: &Challenge,
    user: &str,
    domain: &str,
    password: &str,
    workstation: &str,
    client_challenge: [u8; 8],
    filetime: u64,
) -> Result<(Vec<u8>, Zeroizing<[u8; 16]>), ClientError> {
    let time = ch.timestamp.unwrap_or(filetime.to_le_bytes());
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&time);
    blob.extend_from_slice(&client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&ch.target_info);
    blob.extend_from_slice(&[0; 4]);
    let mut owf = ntowf_v2(password, user, domain);
    let proof = hmac_md5(&owf, &[&ch.server_challenge, &blob]);
    // With a server timestamp the LM response is Z(24) (MS-NLMP 3.1.5.1.2);
    // otherwise LMv2.
    let lm = match ch.timestamp {
        Some(_) => [0u8; 24].to_vec(),
        None => {
            let mut lm = hmac_md5(&owf, &[&ch.server_challenge, &client_challenge]).to_vec();
            lm.extend_from_slice(&client_challenge);
            lm
        }
    };
    owf.zeroize();
    let nt = [&proof[..], &blob].concat();
    let flags = CLIENT_FLAGS & (ch.flags | NEGOTIATE_UNICODE);
    let msg = authenticate_message(
        [
            &lm,
            &nt,
            &utf16le(domain),
            &utf16le(user),
            &utf16le(workstation),
            &[],
        ],
        flags,
    );
    let parsed = ntlm::authenticate(&msg).ok_or(ClientError::TooLong)?;
    let key = ntlm::session_key(&parsed, password, None, None, Some(&ch.server_challenge))
        .map_err(ClientError::Key)?;
    Ok((msg, key))
}

/// An anonymous AUTHENTICATE_MESSAGE (MS-NLMP 3.2.5.1.2: empty user and NT
/// response, LM response Z(1)): asks for a null session.
#[must_use]
pub fn anonymous_authenticate(ch: &Challenge) -> Vec<u8> {
    let flags = (CLIENT_FLAGS & (ch.flags | NEGOTIATE_UNICODE)) | NEGOTIATE_ANONYMOUS;
    authenticate_message([&[0], &[], &[], &[], &[], &[]], flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge_message(target_info: &[u8]) -> Vec<u8> {
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]); // TargetName: empty
        m.extend_from_slice(&(CLIENT_FLAGS | 0x4000_0000).to_le_bytes());
        m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        m.extend_from_slice(&[0; 8]);
        let len = target_info.len() as u16;
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&48u32.to_le_bytes());
        m.extend_from_slice(target_info);
        m
    }

    #[test]
    fn negotiate_message_layout() {
        let m = negotiate_message();
        assert_eq!(&m[..12], b"NTLMSSP\0\x01\0\0\0");
        assert_eq!(
            u32::from_le_bytes(m[12..16].try_into().unwrap()),
            CLIENT_FLAGS
        );
        assert_eq!(m.len(), 32);
    }

    #[test]
    fn challenge_fields_and_timestamp() {
        let ti = [
            &[7u8, 0, 8, 0][..],
            &[9; 8],
            &[1, 0, 2, 0, b'S', 0],
            &[0, 0, 0, 0],
        ]
        .concat();
        let c = challenge(&challenge_message(&ti)).unwrap();
        assert_eq!(c.server_challenge, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(c.timestamp, Some([9; 8]));
        assert_eq!(c.target_info, ti);
        assert!(challenge(&negotiate_message()).is_none());
        // An AV pair running past TargetInfo is refused, not read past.
        let bad = [7u8, 0, 9, 0, 1, 2];
        assert!(challenge(&challenge_message(&bad)).is_none());
    }

    /// The key the client derives is the SessionBaseKey of MS-NLMP 4.2.4's
    /// NTLMv2 example (its time 0, client challenge aa*8 and AV pairs), and
    /// the message reads back with the capture side's parser.
    #[test]
    fn ntlmv2_matches_ms_nlmp_4_2_4() {
        let av = [
            &[2u8, 0, 12, 0][..],
            &"Domain"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>(),
            &[1, 0, 12, 0],
            &"Server"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>(),
            &[0, 0, 0, 0],
        ]
        .concat();
        let mut ch = challenge(&challenge_message(&av)).unwrap();
        ch.server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        let (msg, key) =
            ntlmv2_authenticate(&ch, "User", "Domain", "Password", "COMPUTER", [0xaa; 8], 0)
                .unwrap();
        assert_eq!(
            key.to_vec(),
            [
                0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82, 0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9,
                0x5c, 0xa3
            ]
        );
        let a = ntlm::authenticate(&msg).unwrap();
        assert_eq!((a.user.as_str(), a.domain.as_str()), ("User", "Domain"));
        assert_eq!(
            &a.nt_response[..16],
            &[
                0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef,
                0x6a, 0x1c
            ]
        );
        assert_eq!(a.flags & 0x4000_0000, 0, "no KEY_EXCH");
    }

    #[test]
    fn anonymous_is_empty() {
        let ch = challenge(&challenge_message(&[0, 0, 0, 0])).unwrap();
        let a = ntlm::authenticate(&anonymous_authenticate(&ch)).unwrap();
        assert!(a.nt_response.is_empty() && a.user.is_empty());
        assert_ne!(a.flags & NEGOTIATE_ANONYMOUS, 0);
    }
}
