//! The SMB2 fields the checker follows (MS-SMB2 2.2): the header, compound
//! chains, NEGOTIATE and SESSION_SETUP. Everything is bounds-checked: a short
//! or inconsistent message yields `None`, never a panic.

use smbsign::smb2::{self, rules};

/// SMB2 header length.
pub const HEADER_LEN: usize = smb2::HEADER_LEN;
/// `SMB2_FLAGS_ASYNC_COMMAND`.
pub const FLAGS_ASYNC: u32 = smb2::FLAGS_ASYNC_COMMAND;
/// `SMB2_FLAGS_RELATED_OPERATIONS`.
pub const FLAGS_RELATED: u32 = smb2::FLAGS_RELATED_OPERATIONS;
/// STATUS_SUCCESS.
pub const STATUS_SUCCESS: u32 = rules::status::SUCCESS;
/// STATUS_PENDING (interim responses are not signed).
pub const STATUS_PENDING: u32 = rules::status::PENDING;
/// STATUS_MORE_PROCESSING_REQUIRED (SESSION_SETUP goes on).
pub const STATUS_MORE_PROCESSING_REQUIRED: u32 = rules::status::MORE_PROCESSING_REQUIRED;

/// SMB2 command codes.
pub mod cmd {
    pub use smbsign::smb2::rules::command::{NEGOTIATE, OPLOCK_BREAK, SESSION_SETUP};
}

/// The name tshark gives an SMB2 command.
#[must_use]
pub fn command_name(c: u16) -> &'static str {
    const NAMES: [&str; 19] = [
        "NEGOTIATE",
        "SESSION_SETUP",
        "LOGOFF",
        "TREE_CONNECT",
        "TREE_DISCONNECT",
        "CREATE",
        "CLOSE",
        "FLUSH",
        "READ",
        "WRITE",
        "LOCK",
        "IOCTL",
        "CANCEL",
        "ECHO",
        "QUERY_DIRECTORY",
        "CHANGE_NOTIFY",
        "QUERY_INFO",
        "SET_INFO",
        "OPLOCK_BREAK",
    ];
    NAMES.get(usize::from(c)).copied().unwrap_or("UNKNOWN")
}

/// The little-endian field at `at`, if `b` holds it.
#[must_use]
pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The little-endian field at `at`, if `b` holds it.
#[must_use]
pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The little-endian field at `at`, if `b` holds it.
#[must_use]
pub fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The fields of one SMB2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Status (responses) or ChannelSequence (requests).
    pub status: u32,
    /// Command.
    pub command: u16,
    /// Flags.
    pub flags: u32,
    /// NextCommand.
    pub next_command: u32,
    /// MessageId.
    pub message_id: u64,
    /// SessionId.
    pub session_id: u64,
}

impl Header {
    /// The 64-byte header at the start of `pdu`, read through core's view
    /// ([`smbsign::smb2::Header`]), which owns the layout.
    #[must_use]
    pub fn parse(pdu: &[u8]) -> Option<Header> {
        smb2::Header::new(pdu).ok().map(|h| Header::from(&h))
    }

    /// Whether this is a response.
    #[must_use]
    pub fn is_response(&self) -> bool {
        self.flags & smb2::FLAGS_SERVER_TO_REDIR != 0
    }

    /// Whether `SMB2_FLAGS_SIGNED` is set.
    #[must_use]
    pub fn is_signed(&self) -> bool {
        self.flags & smb2::FLAGS_SIGNED != 0
    }
}

impl From<&smb2::Header<'_>> for Header {
    fn from(h: &smb2::Header<'_>) -> Header {
        Header {
            status: h.status(),
            command: h.command(),
            flags: h.flags(),
            next_command: h.next_command(),
            message_id: h.message_id(),
            session_id: h.session_id(),
        }
    }
}

/// What a NEGOTIATE response tells.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegotiateResponse {
    /// SecurityMode.
    pub security_mode: u16,
    /// DialectRevision.
    pub dialect: u16,
    /// The SigningAlgorithmId of the SIGNING_CAPABILITIES context (3.1.1).
    pub signing_algorithm: Option<u16>,
    /// Whether a PREAUTH_INTEGRITY_CAPABILITIES context is present.
    pub preauth_integrity: bool,
    /// The Cipher of the ENCRYPTION_CAPABILITIES context (3.1.1; 0: none in common).
    pub cipher: Option<u16>,
    /// Whether the 3.1.1 negotiate context list does not parse (a count or
    /// offset past the end, a context longer than the message): the
    /// connection's signing algorithm and preauth hash are then unknown.
    pub malformed_contexts: bool,
}

/// SMB2_NEGOTIATE_SIGNING_REQUIRED.
pub const SIGNING_REQUIRED: u16 = rules::SECURITY_MODE_SIGNING_REQUIRED;

/// Parses a NEGOTIATE response PDU (header included): None when even the
/// fixed part (SecurityMode, DialectRevision) is missing; a 3.1.1 response
/// whose context list does not parse comes back with `malformed_contexts`.
#[must_use]
pub fn negotiate_response(pdu: &[u8]) -> Option<NegotiateResponse> {
    let b = pdu.get(HEADER_LEN..)?;
    let mut r = NegotiateResponse {
        security_mode: u16_at(b, 2)?,
        dialect: u16_at(b, 4)?,
        ..NegotiateResponse::default()
    };
    if r.dialect == smbsign::smb2::dialect::SMB3_1_1 && negotiate_contexts(pdu, &mut r).is_none() {
        r.signing_algorithm = None;
        r.cipher = None;
        r.preauth_integrity = false;
        r.malformed_contexts = true;
    }
    Some(r)
}

/// Reads the 3.1.1 negotiate contexts (MS-SMB2 2.2.4, 2.2.3.1) into `r`;
/// None if the list does not parse.
fn negotiate_contexts(pdu: &[u8], r: &mut NegotiateResponse) -> Option<()> {
    let b = pdu.get(HEADER_LEN..)?;
    let count = u16_at(b, 6)?;
    let mut at = u32_at(b, 60)? as usize;
    for _ in 0..count {
        let ty = u16_at(pdu, at)?;
        let len = usize::from(u16_at(pdu, at + 2)?);
        let data = pdu.get(at + 8..at + 8 + len)?;
        match ty {
            0x0001 => r.preauth_integrity = true,
            // CipherCount, then the chosen cipher (0: none in common): the response names exactly one.
            0x0002 => {
                if u16_at(data, 0)? != 1 {
                    return None;
                }
                r.cipher = Some(u16_at(data, 2)?);
            }
            // SigningAlgorithmCount, then the chosen algorithm: the response names exactly one.
            0x0008 => {
                if u16_at(data, 0)? != 1 {
                    return None;
                }
                r.signing_algorithm = Some(u16_at(data, 2)?);
            }
            _ => {}
        }
        at = (at + 8 + len).div_ceil(8) * 8;
    }
    Some(())
}

/// SecurityMode of a NEGOTIATE request.
#[must_use]
pub fn negotiate_request_security_mode(pdu: &[u8]) -> Option<u16> {
    u16_at(pdu, HEADER_LEN + 4)
}

/// SecurityMode of a SESSION_SETUP request (one byte, MS-SMB2 2.2.5).
#[must_use]
pub fn session_setup_request_security_mode(pdu: &[u8]) -> Option<u8> {
    pdu.get(HEADER_LEN + 3).copied()
}

/// The security buffer of a SESSION_SETUP request or response PDU.
#[must_use]
pub fn session_setup_security_buffer(pdu: &[u8], response: bool) -> Option<&[u8]> {
    let (off_at, len_at) = if response { (4, 6) } else { (12, 14) };
    let off = usize::from(u16_at(pdu, HEADER_LEN + off_at)?);
    let len = usize::from(u16_at(pdu, HEADER_LEN + len_at)?);
    pdu.get(off..off + len)
}

/// SessionFlags of a SESSION_SETUP response.
#[must_use]
pub fn session_setup_flags(pdu: &[u8]) -> Option<u16> {
    u16_at(pdu, HEADER_LEN + 2)
}

/// SMB2_SESSION_FLAG_IS_GUEST | SMB2_SESSION_FLAG_IS_NULL: no key, no signing.
pub const SESSION_FLAG_GUEST_OR_NULL: u16 = rules::SESSION_FLAGS_GUEST_OR_NULL;
