//! The requests a client sends (MS-SMB2 2.2; SMB1 2.2.4.52 of MS-CIFS for the
//! multi-protocol NEGOTIATE) and the response fields `smbsign-probe` reads
//! beyond those in [`crate::smb`]. Builders return whole PDUs (64-byte header
//! included, Signature zero); signing is core's job (`smbsign::smb2::sign_pdu`).

use crate::smb::{cmd, u16_at, u32_at, HEADER_LEN};

/// TREE_CONNECT.
pub const TREE_CONNECT: u16 = 3;
/// LOGOFF.
pub const LOGOFF: u16 = 2;
/// ECHO.
pub const ECHO: u16 = 13;

/// STATUS_ACCESS_DENIED.
pub const STATUS_ACCESS_DENIED: u32 = 0xC000_0022;
/// STATUS_LOGON_FAILURE.
pub const STATUS_LOGON_FAILURE: u32 = 0xC000_006D;

/// SMB2_NEGOTIATE_SIGNING_ENABLED.
pub const SIGNING_ENABLED: u16 = 0x1;
/// SMB2_SESSION_FLAG_IS_GUEST.
pub const SESSION_FLAG_IS_GUEST: u16 = 0x1;
/// SMB2_SESSION_FLAG_IS_NULL.
pub const SESSION_FLAG_IS_NULL: u16 = 0x2;
/// SMB2_SESSION_FLAG_ENCRYPT_DATA.
pub const SESSION_FLAG_ENCRYPT_DATA: u16 = 0x4;
/// SMB2_SHAREFLAG_ENCRYPT_DATA.
pub const SHAREFLAG_ENCRYPT_DATA: u32 = 0x8000;
/// SMB2_GLOBAL_CAP_ENCRYPTION (3.0, 3.0.2: the client can encrypt).
pub const CAP_ENCRYPTION: u32 = 0x40;

/// SMB2_PREAUTH_INTEGRITY_CAPABILITIES.
pub const CONTEXT_PREAUTH: u16 = 0x0001;
/// SMB2_ENCRYPTION_CAPABILITIES.
pub const CONTEXT_ENCRYPTION: u16 = 0x0002;
/// SMB2_SIGNING_CAPABILITIES.
pub const CONTEXT_SIGNING: u16 = 0x0008;

/// The encryption ciphers of 3.1.1 (Cipher IDs) and their names.
pub const CIPHERS: [(u16, &str); 4] = [
    (0x0001, "aes-128-ccm"),
    (0x0002, "aes-128-gcm"),
    (0x0003, "aes-256-ccm"),
    (0x0004, "aes-256-gcm"),
];

/// The fields of a request header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestHeader {
    /// Command.
    pub command: u16,
    /// CreditCharge (0 for 2.0.2, 1 otherwise for one-credit requests).
    pub credit_charge: u16,
    /// CreditRequest.
    pub credit_request: u16,
    /// Flags.
    pub flags: u32,
    /// MessageId.
    pub message_id: u64,
    /// TreeId.
    pub tree_id: u32,
    /// SessionId.
    pub session_id: u64,
}

impl RequestHeader {
    /// The 64 header bytes (Signature and NextCommand zero).
    #[must_use]
    pub fn bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&smbsign::smb2::PROTOCOL_ID);
        h[4..6].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        h[6..8].copy_from_slice(&self.credit_charge.to_le_bytes());
        h[12..14].copy_from_slice(&self.command.to_le_bytes());
        h[14..16].copy_from_slice(&self.credit_request.to_le_bytes());
        h[16..20].copy_from_slice(&self.flags.to_le_bytes());
        h[24..32].copy_from_slice(&self.message_id.to_le_bytes());
        // ProcessId (the Reserved field of a sync header), as Windows sends it.
        h[32..36].copy_from_slice(&0xFEFFu32.to_le_bytes());
        h[36..40].copy_from_slice(&self.tree_id.to_le_bytes());
        h[40..48].copy_from_slice(&self.session_id.to_le_bytes());
        h
    }

    fn pdu(&self, body: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(HEADER_LEN + body.len());
        p.extend_from_slice(&self.bytes());
        p.extend_from_slice(body);
        p
    }
}

/// What a NEGOTIATE request offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiate {
    /// Dialects, in order.
    pub dialects: Vec<u16>,
    /// SecurityMode.
    pub security_mode: u16,
    /// Capabilities.
    pub capabilities: u32,
    /// ClientGuid.
    pub client_guid: [u8; 16],
    /// 3.1.1: the PREAUTH_INTEGRITY_CAPABILITIES salt (SHA-512 is offered).
    pub salt: [u8; 32],
    /// 3.1.1: the ciphers of ENCRYPTION_CAPABILITIES, in preference order (none: no context).
    pub ciphers: Vec<u16>,
    /// 3.1.1: the algorithms of SIGNING_CAPABILITIES, in preference order (none: no context).
    pub signing_algorithms: Vec<u16>,
}

fn push_context(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    out.resize(out.len().div_ceil(8) * 8, 0);
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(data);
}

fn id_list(ids: &[u16]) -> Vec<u8> {
    let mut d = (ids.len() as u16).to_le_bytes().to_vec();
    d.extend(ids.iter().flat_map(|i| i.to_le_bytes()));
    d
}

/// A NEGOTIATE request PDU; the negotiate contexts go in when 3.1.1 is offered.
#[must_use]
pub fn negotiate_request(h: &RequestHeader, n: &Negotiate) -> Vec<u8> {
    let with_contexts = n.dialects.contains(&smbsign::smb2::dialect::SMB3_1_1);
    let mut contexts = Vec::new();
    let mut count = 0u16;
    if with_contexts {
        // HashAlgorithmCount 1, SaltLength, SHA-512, the salt.
        let mut pre = vec![1, 0, 32, 0, 1, 0];
        pre.extend_from_slice(&n.salt);
        push_context(&mut contexts, CONTEXT_PREAUTH, &pre);
        count += 1;
        if !n.ciphers.is_empty() {
            push_context(&mut contexts, CONTEXT_ENCRYPTION, &id_list(&n.ciphers));
            count += 1;
        }
        if !n.signing_algorithms.is_empty() {
            push_context(
                &mut contexts,
                CONTEXT_SIGNING,
                &id_list(&n.signing_algorithms),
            );
            count += 1;
        }
    }
    let mut b = Vec::new();
    b.extend_from_slice(&36u16.to_le_bytes());
    b.extend_from_slice(&(n.dialects.len() as u16).to_le_bytes());
    b.extend_from_slice(&n.security_mode.to_le_bytes());
    b.extend_from_slice(&[0; 2]);
    b.extend_from_slice(&n.capabilities.to_le_bytes());
    b.extend_from_slice(&n.client_guid);
    let offset_at = b.len();
    b.extend_from_slice(&[0; 8]); // NegotiateContextOffset/Count, or ClientStartTime
    b.extend(n.dialects.iter().flat_map(|d| d.to_le_bytes()));
    if with_contexts {
        // Contexts start 8-aligned from the start of the header.
        let start = (HEADER_LEN + b.len()).div_ceil(8) * 8;
        b.resize(start - HEADER_LEN, 0);
        b[offset_at..offset_at + 4].copy_from_slice(&(start as u32).to_le_bytes());
        b[offset_at + 4..offset_at + 6].copy_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&contexts);
    }
    h.pdu(&b)
}

/// A SESSION_SETUP request PDU carrying `token` (an NTLMSSP or SPNEGO message).
#[must_use]
pub fn session_setup_request(h: &RequestHeader, security_mode: u8, token: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(24 + token.len());
    b.extend_from_slice(&25u16.to_le_bytes());
    b.push(0); // Flags: not a binding
    b.push(security_mode);
    b.extend_from_slice(&1u32.to_le_bytes()); // Capabilities: DFS
    b.extend_from_slice(&[0; 4]); // Channel
    b.extend_from_slice(&((HEADER_LEN + 24) as u16).to_le_bytes());
    b.extend_from_slice(&(token.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 8]); // PreviousSessionId
    b.extend_from_slice(token);
    h.pdu(&b)
}

/// A TREE_CONNECT request PDU for `path` (`\\server\share`).
#[must_use]
pub fn tree_connect_request(h: &RequestHeader, path: &str) -> Vec<u8> {
    let name: Vec<u8> = path.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut b = Vec::with_capacity(8 + name.len());
    b.extend_from_slice(&9u16.to_le_bytes());
    b.extend_from_slice(&[0; 2]);
    b.extend_from_slice(&((HEADER_LEN + 8) as u16).to_le_bytes());
    b.extend_from_slice(&(name.len() as u16).to_le_bytes());
    b.extend_from_slice(&name);
    h.pdu(&b)
}

/// An ECHO request PDU.
#[must_use]
pub fn echo_request(h: &RequestHeader) -> Vec<u8> {
    h.pdu(&[4, 0, 0, 0])
}

/// A LOGOFF request PDU.
#[must_use]
pub fn logoff_request(h: &RequestHeader) -> Vec<u8> {
    h.pdu(&[4, 0, 0, 0])
}

/// Chains `pdus` into one related compound request: each but the last padded
/// to 8 bytes with its NextCommand set, every one after the first flagged
/// SMB2_FLAGS_RELATED_OPERATIONS (MS-SMB2 3.2.4.1.4).
#[must_use]
pub fn compound(pdus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in pdus.iter().enumerate() {
        let start = out.len();
        out.extend_from_slice(p);
        if i > 0 {
            let flags = u32_at(&out, start + 16).unwrap_or(0) | crate::smb::FLAGS_RELATED;
            out[start + 16..start + 20].copy_from_slice(&flags.to_le_bytes());
        }
        if i + 1 < pdus.len() {
            out.resize(out.len().div_ceil(8) * 8, 0);
            let next = (out.len() - start) as u32;
            out[start + 20..start + 24].copy_from_slice(&next.to_le_bytes());
        }
    }
    out
}

/// The fields of a TREE_CONNECT response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeConnectResponse {
    /// TreeId (from the header).
    pub tree_id: u32,
    /// ShareType.
    pub share_type: u8,
    /// ShareFlags.
    pub share_flags: u32,
}

/// Parses a successful TREE_CONNECT response PDU.
#[must_use]
pub fn tree_connect_response(pdu: &[u8]) -> Option<TreeConnectResponse> {
    if u16_at(pdu, HEADER_LEN)? != 16 {
        return None;
    }
    Some(TreeConnectResponse {
        tree_id: u32_at(pdu, 36)?,
        share_type: *pdu.get(HEADER_LEN + 2)?,
        share_flags: u32_at(pdu, HEADER_LEN + 4)?,
    })
}

/// The SMB1 dialects a multi-protocol NEGOTIATE offers (no SMB2 dialect: the
/// server must answer in SMB1 or not at all, which is what tells SMB1 is on).
pub const SMB1_DIALECTS: [&str; 6] = [
    "PC NETWORK PROGRAM 1.0",
    "LANMAN1.0",
    "Windows for Workgroups 3.1a",
    "LM1.2X002",
    "LANMAN2.1",
    "NT LM 0.12",
];

/// An SMB1 multi-protocol NEGOTIATE request (MS-CIFS 2.2.4.52.1) offering [`SMB1_DIALECTS`].
#[must_use]
pub fn smb1_negotiate_request() -> Vec<u8> {
    let mut p = vec![0xFF, b'S', b'M', b'B', 0x72];
    p.extend_from_slice(&[0; 4]); // Status
    p.push(0x18); // Flags: case-insensitive paths, canonicalized
    p.extend_from_slice(&0xC853u16.to_le_bytes()); // Flags2: Unicode, NT status, extended security, long names
    p.extend_from_slice(&[0; 12]); // PIDHigh, SecurityFeatures, Reserved
    p.extend_from_slice(&0xFFFFu16.to_le_bytes()); // TID
    p.extend_from_slice(&0xFEFFu16.to_le_bytes()); // PIDLow
    p.extend_from_slice(&[0; 4]); // UID, MID
    p.push(0); // WordCount
    let mut names = Vec::new();
    for d in SMB1_DIALECTS {
        names.push(0x02);
        names.extend_from_slice(d.as_bytes());
        names.push(0);
    }
    p.extend_from_slice(&(names.len() as u16).to_le_bytes());
    p.extend_from_slice(&names);
    p
}

/// The dialect an SMB1 NEGOTIATE response chose from [`SMB1_DIALECTS`]; `None`
/// when the message is not an SMB1 NEGOTIATE response or chose none (0xFFFF).
#[must_use]
pub fn smb1_negotiate_dialect(msg: &[u8]) -> Option<&'static str> {
    if msg.get(..5)? != [0xFF, b'S', b'M', b'B', 0x72] || *msg.get(32)? == 0 {
        return None;
    }
    SMB1_DIALECTS.get(usize::from(u16_at(msg, 33)?)).copied()
}

/// NEGOTIATE's command code, for callers that only import this module.
pub const NEGOTIATE: u16 = cmd::NEGOTIATE;
/// SESSION_SETUP's command code, for callers that only import this module.
pub const SESSION_SETUP: u16 = cmd::SESSION_SETUP;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smb;

    #[test]
    fn negotiate_with_contexts_lays_out_as_ms_smb2_says() {
        let h = RequestHeader {
            command: NEGOTIATE,
            credit_request: 1,
            ..RequestHeader::default()
        };
        let n = Negotiate {
            dialects: vec![0x0311],
            security_mode: 3,
            client_guid: [7; 16],
            salt: [9; 32],
            ciphers: vec![2, 1],
            signing_algorithms: vec![2, 1, 0],
            ..Negotiate::default()
        };
        let p = negotiate_request(&h, &n);
        assert_eq!(&p[..4], b"\xfeSMB");
        assert_eq!(smb::negotiate_request_security_mode(&p), Some(3));
        assert_eq!(u16_at(&p, 64), Some(36));
        assert_eq!(u16_at(&p, 66), Some(1)); // DialectCount
        assert_eq!(u16_at(&p, 100), Some(0x0311));
        let off = u32_at(&p, 92).unwrap() as usize;
        assert_eq!(off, 104, "first context 8-aligned after the one dialect");
        assert_eq!(u16_at(&p, 96), Some(3)); // NegotiateContextCount
                                             // PREAUTH: type 1, 38 data bytes, SHA-512, the salt.
        assert_eq!(u16_at(&p, off), Some(1));
        assert_eq!(u16_at(&p, off + 2), Some(38));
        assert_eq!(&p[off + 8..off + 14], &[1, 0, 32, 0, 1, 0]);
        assert_eq!(&p[off + 14..off + 46], &[9; 32]);
        // ENCRYPTION at the next 8-byte boundary, then SIGNING.
        let enc = (off + 46).div_ceil(8) * 8;
        assert_eq!(&p[enc..enc + 2], &[2, 0]);
        assert_eq!(&p[enc + 8..enc + 14], &[2, 0, 2, 0, 1, 0]);
        let sig = (enc + 14).div_ceil(8) * 8;
        assert_eq!(&p[sig..sig + 4], &[8, 0, 8, 0]);
        assert_eq!(&p[sig + 8..sig + 16], &[3, 0, 2, 0, 1, 0, 0, 0]);
        assert_eq!(p.len(), sig + 16);
    }

    #[test]
    fn negotiate_without_311_has_no_contexts() {
        let n = Negotiate {
            dialects: vec![0x0202, 0x0210],
            ..Negotiate::default()
        };
        let p = negotiate_request(&RequestHeader::default(), &n);
        assert_eq!(p.len(), 64 + 36 + 4);
        assert_eq!(u32_at(&p, 92), Some(0));
    }

    #[test]
    fn session_setup_and_tree_connect_point_at_their_buffers() {
        let h = RequestHeader {
            command: SESSION_SETUP,
            session_id: 0x1122,
            message_id: 2,
            ..RequestHeader::default()
        };
        let p = session_setup_request(&h, 2, b"NTLMSSP\0tok");
        assert_eq!(
            smb::session_setup_security_buffer(&p, false),
            Some(&b"NTLMSSP\0tok"[..])
        );
        assert_eq!(p[64 + 3], 2);
        let hd = smb::Header::parse(&p).unwrap();
        assert_eq!((hd.message_id, hd.session_id, hd.command), (2, 0x1122, 1));
        let t = tree_connect_request(
            &RequestHeader {
                command: TREE_CONNECT,
                ..RequestHeader::default()
            },
            r"\\h\IPC$",
        );
        assert_eq!(u16_at(&t, 64), Some(9));
        assert_eq!(u16_at(&t, 68), Some(72));
        assert_eq!(u16_at(&t, 70), Some(16));
        assert_eq!(
            &t[72..],
            "\\\\h\\IPC$"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn compound_of_two_echoes_is_a_valid_related_chain() {
        let e = |id| {
            echo_request(&RequestHeader {
                command: ECHO,
                message_id: id,
                ..RequestHeader::default()
            })
        };
        let c = compound(&[e(5), e(6)]);
        assert_eq!(c.len(), 72 + 68);
        assert_eq!(u32_at(&c, 20), Some(72));
        assert_eq!(u32_at(&c, 16), Some(0));
        assert_eq!(u32_at(&c, 72 + 16), Some(smb::FLAGS_RELATED));
        assert_eq!(
            smbsign::smb2::chain_ranges(&c).unwrap(),
            vec![0..72, 72..140]
        );
    }

    #[test]
    fn smb1_negotiate_round_trip() {
        let req = smb1_negotiate_request();
        assert_eq!(&req[..5], b"\xffSMB\x72");
        let names = &req[35..];
        assert_eq!(usize::from(u16_at(&req, 33).unwrap()), names.len());
        assert!(names.ends_with(b"\x02NT LM 0.12\0"));
        // A response choosing dialect 5 (NT LM 0.12), and one choosing none.
        let mut resp = vec![0u8; 40];
        resp[..5].copy_from_slice(b"\xffSMB\x72");
        resp[32] = 17;
        resp[33] = 5;
        assert_eq!(smb1_negotiate_dialect(&resp), Some("NT LM 0.12"));
        resp[33..35].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(smb1_negotiate_dialect(&resp), None);
        assert_eq!(smb1_negotiate_dialect(b"\xfeSMB"), None);
    }

    /// The one negotiate-context parser (smb.rs) reads the chosen cipher and algorithm.
    #[test]
    fn negotiate_response_contexts() {
        let mut p = vec![0u8; 128];
        p[..4].copy_from_slice(b"\xfeSMB");
        p[16] = 1; // a response
        p[64..66].copy_from_slice(&65u16.to_le_bytes());
        p[66] = 3;
        p[68..70].copy_from_slice(&0x0311u16.to_le_bytes());
        p[70..72].copy_from_slice(&2u16.to_le_bytes());
        p[124..128].copy_from_slice(&128u32.to_le_bytes());
        p.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[8, 0, 4, 0, 0, 0, 0, 0, 1, 0, 2, 0]);
        let r = smb::negotiate_response(&p).unwrap();
        assert_eq!((r.dialect, r.security_mode), (0x0311, 3));
        assert_eq!((r.cipher, r.signing_algorithm), (Some(4), Some(2)));
        assert!(!r.malformed_contexts);
        // Cut inside the SIGNING context: flagged malformed, nothing read past the end.
        let cut = smb::negotiate_response(&p[..p.len() - 1]).unwrap();
        assert!(cut.malformed_contexts);
        assert_eq!((cut.cipher, cut.signing_algorithm), (None, None));
    }

    #[test]
    fn tree_connect_response_fields() {
        let mut p = vec![0u8; 80];
        p[..4].copy_from_slice(b"\xfeSMB");
        p[36..40].copy_from_slice(&7u32.to_le_bytes());
        p[64] = 16;
        p[66] = 2;
        p[68..72].copy_from_slice(&SHAREFLAG_ENCRYPT_DATA.to_le_bytes());
        let t = tree_connect_response(&p).unwrap();
        assert_eq!((t.tree_id, t.share_type), (7, 2));
        assert_eq!(
            t.share_flags & SHAREFLAG_ENCRYPT_DATA,
            SHAREFLAG_ENCRYPT_DATA
        );
        assert_eq!(tree_connect_response(&p[..70]), None);
    }
}
