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
    /// UserName, for display (unpaired surrogates replaced).
    pub user: String,
    /// DomainName, for display (unpaired surrogates replaced).
    pub domain: String,
    /// UserName as the UTF-16 units on the wire (OEM bytes widened), which NTOWFv2 hashes.
    pub user_units: Vec<u16>,
    /// DomainName as the UTF-16 units on the wire (OEM bytes widened).
    pub domain_units: Vec<u16>,
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: Vec<u8>,
    /// NegotiateFlags.
    pub flags: u32,
}

/// A name field as UTF-16 units: UTF-16LE with NTLMSSP_NEGOTIATE_UNICODE,
/// else OEM bytes widened one to one (as Latin-1).
fn units(b: &[u8], unicode: bool) -> Vec<u16> {
    if unicode {
        b.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    } else {
        b.iter().map(|&c| u16::from(c)).collect()
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
    let domain_units = units(field(msg, 28)?, unicode);
    let user_units = units(field(msg, 36)?, unicode);
    Some(Authenticate {
        nt_response: field(msg, 20)?.to_vec(),
        domain: String::from_utf16_lossy(&domain_units),
        user: String::from_utf16_lossy(&user_units),
        user_units,
        domain_units,
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

/// The UTF-16 units Samba's `toupper_m` changes (Debian 12's libsamba-util,
/// read unit by unit over the whole BMP: 636 units, in these runs). Its table
/// is the old Windows upcase table, so later Unicode pairs (µ, ı, ſ,
/// titlecase digraphs, Georgian Mtavruli, Cherokee, Glagolitic, Greek with
/// ypogegrammeni, most Latin Extended-B/C/D, ...) are absent from it: a
/// server hashing with it leaves them as they are, and so must we.
const UPCASED: [(u16, u16); 40] = [
    (0x0061, 0x007A),
    (0x00E0, 0x012F),
    (0x0133, 0x017E),
    (0x0183, 0x0192),
    (0x0199, 0x0199),
    (0x01A1, 0x01BD),
    (0x01C6, 0x01C6),
    (0x01C9, 0x01C9),
    (0x01CC, 0x01EF),
    (0x01F3, 0x01F5),
    (0x01FB, 0x0217),
    (0x0253, 0x025B),
    (0x0260, 0x0260),
    (0x0263, 0x0263),
    (0x0268, 0x0269),
    (0x026F, 0x026F),
    (0x0272, 0x0275),
    (0x0283, 0x0283),
    (0x0288, 0x0288),
    (0x028A, 0x028B),
    (0x0292, 0x0292),
    (0x03AC, 0x03CE),
    (0x03E3, 0x03EF),
    (0x0430, 0x044F),
    (0x0451, 0x045C),
    (0x045E, 0x0481),
    (0x0491, 0x04C4),
    (0x04C8, 0x04C8),
    (0x04CC, 0x04CC),
    (0x04D1, 0x04EB),
    (0x04EF, 0x04F5),
    (0x04F9, 0x04F9),
    (0x0561, 0x0586),
    (0x1E01, 0x1E95),
    (0x1EA1, 0x1EF9),
    (0x1F00, 0x1FB1),
    (0x1FD0, 0x1FE5),
    (0x2170, 0x217F),
    (0x24D0, 0x24E9),
    (0xFF41, 0xFF5A),
];

/// One UTF-16 unit upper-cased as Samba's `toupper_m` (and the Windows table
/// it comes from) does for NTOWFv2: unit by unit, one unit to one unit. Within
/// the runs of Samba's table the unit's Unicode uppercase, where that is a single BMP
/// character (equal to Samba's there, unit for unit); everything else as it
/// is: "ß" stays (its full mapping is "SS"), the ligature "ﬁ" stays ("FI"),
/// surrogates, paired or not, stay.
#[must_use]
pub fn upcase_unit(u: u16) -> u16 {
    // Runs are sorted and disjoint: the last run starting at or before `u`.
    let run = UPCASED.partition_point(|&(lo, _)| lo <= u);
    if run == 0 || u > UPCASED[run - 1].1 {
        return u;
    }
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u;
    };
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(one), None) => u16::try_from(u32::from(one)).unwrap_or(u),
        _ => u,
    }
}

/// NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
#[must_use]
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let user: Vec<u16> = user.encode_utf16().collect();
    let domain: Vec<u16> = domain.encode_utf16().collect();
    ntowf_v2_units(password, &user, &domain)
}

/// [`ntowf_v2`] over the user and domain names as UTF-16 units (as the
/// AUTHENTICATE message carries them, unpaired surrogates included), the user
/// name upper-cased unit by unit ([`upcase_unit`]).
#[must_use]
pub fn ntowf_v2_units(password: &str, user: &[u16], domain: &[u16]) -> [u8; 16] {
    let mut pw = utf16le(password);
    let mut nt_hash: [u8; 16] = Md4::digest(&pw).into();
    pw.zeroize();
    let who: Vec<u8> = user
        .iter()
        .map(|&u| upcase_unit(u))
        .chain(domain.iter().copied())
        .flat_map(u16::to_le_bytes)
        .collect();
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
    // The names as the wire carries them, unless given (then as UTF-16).
    let given = |s: Option<&str>| s.map(|s| s.encode_utf16().collect::<Vec<u16>>());
    let (user_given, domain_given) = (given(user), given(domain));
    let mut owf = ntowf_v2_units(
        password,
        user_given.as_deref().unwrap_or(&auth.user_units),
        domain_given.as_deref().unwrap_or(&auth.domain_units),
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
            user_units: "User".encode_utf16().collect(),
            domain_units: "Domain".encode_utf16().collect(),
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

    /// User names are upper-cased one UTF-16 unit at a time (Windows
    /// RtlUpcaseUnicodeString, Samba): ß and the ligature ﬁ stay, other
    /// letters map one to one, unpaired surrogates are hashed as they came.
    #[test]
    fn user_names_upcase_per_utf16_unit() {
        let up = |s: &str| -> String {
            let u: Vec<u16> = s.encode_utf16().map(upcase_unit).collect();
            String::from_utf16(&u).unwrap()
        };
        assert_eq!(up("weiß"), "WEIß");
        assert_eq!(up("\u{FB01}le"), "\u{FB01}LE");
        assert_eq!(up("ǆemal"), "ǄEMAL");
        // Pairs Samba's (old Windows) table lacks stay: µ, ı, ſ, titlecase ǅ,
        // Greek with ypogegrammeni, ŉ, Georgian Mkhedruli, Cherokee small letters.
        for s in [
            "µıſǅ",
            "\u{1F80}\u{1FB3}\u{0149}",
            "\u{10D0}\u{10FA}",
            "\u{AB70}",
        ] {
            assert_eq!(up(s), s);
        }
        assert_eq!(up("ǳабвёя-ѐ"), "ǱАБВЁЯ-ѐ"); // U+0450 is not in the table
        assert_eq!(up("straße-éàü-ωσς"), "STRAßE-ÉÀÜ-ΩΣΣ");
        assert_eq!(
            up("\u{10428}"),
            "\u{10428}",
            "a surrogate pair is left as it is"
        );
        // The hash is over the per-unit upper case, not Rust's full mapping.
        let per_unit = ntowf_v2_units("pw", &"WEIß".encode_utf16().collect::<Vec<_>>(), &[]);
        assert_eq!(ntowf_v2("pw", "weiß", ""), per_unit);
        assert_ne!(ntowf_v2("pw", "weiß", ""), ntowf_v2("pw", "WEISS", ""));
        assert_eq!(
            ntowf_v2("pw", "\u{FB01}", ""),
            ntowf_v2("pw", "\u{FB01}", "")
        );
        assert_ne!(ntowf_v2("pw", "\u{FB01}", ""), ntowf_v2("pw", "FI", ""));
        // An unpaired surrogate is hashed as it came, not as U+FFFD.
        let lone = [0x0061u16, 0xD800, 0x0062];
        let want: Vec<u8> = [0x0041u16, 0xD800, 0x0042]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let nt: [u8; 16] = Md4::digest(utf16le("pw")).into();
        assert_eq!(ntowf_v2_units("pw", &lone, &[]), hmac_md5(&nt, &[&want]));
        assert_ne!(
            ntowf_v2_units("pw", &lone, &[]),
            ntowf_v2("pw", "a\u{FFFD}b", "")
        );
    }
}
