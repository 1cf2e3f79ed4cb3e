//! The SMB2 signing rules, once: which session's key verifies each PDU of a
//! compound chain, which messages must be signed, and when a session requires
//! signing. capture (smbsign-check), the C and Python faces and the Python
//! adapters all ask these functions; none restates them.

use super::chain;
use super::header::{Header, HEADER_LEN};
use crate::error::Result;

/// SMB2 command codes (MS-SMB2 2.2.1.2) the rules name.
pub mod command {
    /// SMB2 NEGOTIATE.
    pub const NEGOTIATE: u16 = 0x0000;
    /// SMB2 SESSION_SETUP.
    pub const SESSION_SETUP: u16 = 0x0001;
    /// SMB2 CANCEL.
    pub const CANCEL: u16 = super::super::header::COMMAND_CANCEL;
    /// SMB2 OPLOCK_BREAK (oplock and lease break notifications, acknowledgments, responses).
    pub const OPLOCK_BREAK: u16 = 0x0012;
}

/// NTSTATUS values (MS-ERREF 2.3) the rules name.
pub mod status {
    /// STATUS_SUCCESS.
    pub const SUCCESS: u32 = 0x0000_0000;
    /// STATUS_PENDING: an interim response (MS-SMB2 3.3.4.2).
    pub const PENDING: u32 = 0x0000_0103;
    /// STATUS_MORE_PROCESSING_REQUIRED: SESSION_SETUP goes on.
    pub const MORE_PROCESSING_REQUIRED: u32 = 0xC000_0016;
    /// STATUS_USER_SESSION_DELETED: the server has no such session.
    pub const USER_SESSION_DELETED: u32 = 0xC000_0203;
    /// STATUS_NETWORK_SESSION_EXPIRED: the session's authentication expired.
    pub const NETWORK_SESSION_EXPIRED: u32 = 0xC000_035C;
}

/// The MessageId of oplock and lease break notifications (MS-SMB2 3.3.4.6, 3.3.4.7).
pub const BREAK_NOTIFICATION_MESSAGE_ID: u64 = u64::MAX;
/// `SMB2_NEGOTIATE_SIGNING_REQUIRED` in a SecurityMode field (MS-SMB2 2.2.3, 2.2.4, 2.2.5).
pub const SECURITY_MODE_SIGNING_REQUIRED: u16 = 0x0002;
/// `SMB2_SESSION_FLAG_IS_GUEST | SMB2_SESSION_FLAG_IS_NULL` (MS-SMB2 2.2.6).
pub const SESSION_FLAGS_GUEST_OR_NULL: u16 = 0x0003;

/// The session whose key verifies each PDU of `chain`, in order (MS-SMB2
/// 3.2.5.1.3, 3.3.5.2.4): an unrelated PDU's own SessionId; a PDU with
/// `SMB2_FLAGS_RELATED_OPERATIONS` the session of the operation before it,
/// whatever its own SessionId says (3.3.5.2.7.2: "the values used for FileId,
/// SessionId, and TreeId MUST be the ones used in processing the previous
/// operation"; Samba's client and server do the same). A first PDU carrying
/// the related flag has no previous operation and keeps its own SessionId.
/// Fails as the chain walk does for a malformed chain.
pub fn verifying_sessions(chain: &[u8]) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let mut previous = None;
    chain::walk(&[chain], |pdu| {
        let id = verifying_session(previous, &Header::of(&pdu.header));
        previous = Some(id);
        out.push(id);
    })?;
    Ok(out)
}

/// [`verifying_sessions`] for one PDU: `previous` is the verifying session of
/// the PDU before it in the chain (None for the first).
#[must_use]
pub fn verifying_session(previous: Option<u64>, header: &Header<'_>) -> u64 {
    match previous {
        Some(id) if header.is_related() => id,
        _ => header.session_id(),
    }
}

/// Why MS-SMB2 lets a message travel unsigned even on a session that signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exemption {
    /// No session (SessionId 0): nothing to sign with (3.2.4.1.1 and 3.3.4.1.1
    /// sign only messages that carry a nonzero SessionId).
    NoSession,
    /// NEGOTIATE requests and responses: no session exists yet (3.3.5.4), and
    /// a signed NEGOTIATE request is refused (3.3.5.2.4).
    Negotiate,
    /// SESSION_SETUP requests (3.2.4.2.3; only a channel-binding request is
    /// signed, 3.3.5.5 step 4) and every SESSION_SETUP response but the final
    /// STATUS_SUCCESS one (3.3.5.5.3 signs the final response; the key does not
    /// exist before it).
    SessionSetup,
    /// The final SESSION_SETUP response of a guest or anonymous session
    /// (3.3.5.5.3: signed only without SMB2_SESSION_FLAG_IS_GUEST / IS_NULL).
    GuestOrAnonymous,
    /// An interim response: STATUS_PENDING with `SMB2_FLAGS_ASYNC_COMMAND`
    /// (3.3.4.2: "The server SHOULD NOT sign an interim response"; 3.3.4.1.1).
    /// A synchronous STATUS_PENDING response is no interim response (3.3.4.2
    /// sets the async flag on every one) and is not exempt, although 3.2.5.1.3
    /// lets a client skip verifying any STATUS_PENDING.
    Interim,
    /// An oplock or lease break notification: an OPLOCK_BREAK response with
    /// MessageId 0xFFFFFFFFFFFFFFFF (3.3.4.6, 3.3.4.7; its receiver does not
    /// verify it, 3.2.5.1.3). Another command with that MessageId is nothing a
    /// server sends, and is not exempt.
    BreakNotification,
    /// A response with STATUS_USER_SESSION_DELETED: the server found no such
    /// session (3.3.5.2.4, 3.3.5.2.9), so it has no key to sign with (Samba's
    /// client accepts it unsigned for that reason). STATUS_NETWORK_SESSION_EXPIRED
    /// is not exempt: the expired session is found, with its keys (3.3.5.2.9).
    SessionDeleted,
}

impl Exemption {
    /// Why, in a few words, with the MS-SMB2 section.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Exemption::NoSession => "no session (SessionId 0; MS-SMB2 3.3.4.1.1)",
            Exemption::Negotiate => "NEGOTIATE (MS-SMB2 3.3.5.4)",
            Exemption::SessionSetup => {
                "SESSION_SETUP request or non-final response (MS-SMB2 3.3.5.5.3)"
            }
            Exemption::GuestOrAnonymous => {
                "guest or anonymous SESSION_SETUP response (MS-SMB2 3.3.5.5.3)"
            }
            Exemption::Interim => "interim response (MS-SMB2 3.3.4.2)",
            Exemption::BreakNotification => "oplock or lease break notification (MS-SMB2 3.3.4.6)",
            Exemption::SessionDeleted => "STATUS_USER_SESSION_DELETED (MS-SMB2 3.3.5.2.9)",
        }
    }

    /// Whether a receiver skips verifying such a message even when it is
    /// flagged as signed (MS-SMB2 3.2.5.1.3: interim responses and break
    /// notifications; Samba: "async interim responses are not signed, even if
    /// the SMB2_HDR_FLAG_SIGNED flag is set").
    #[must_use]
    pub fn skips_verification(self) -> bool {
        matches!(self, Exemption::Interim | Exemption::BreakNotification)
    }
}

/// Why `pdu` (one PDU, header first) may travel unsigned, or None when a
/// session that signs must sign it. `session_id` is its verifying session
/// ([`verifying_sessions`]). Fails on a short or foreign header.
pub fn signing_exemption(pdu: &[u8], session_id: u64) -> Result<Option<Exemption>> {
    let h = Header::new(pdu)?;
    let response = h.is_response();
    Ok(match h.command() {
        command::NEGOTIATE => Some(Exemption::Negotiate),
        _ if session_id == 0 => Some(Exemption::NoSession),
        command::SESSION_SETUP if !response || h.status() != status::SUCCESS => {
            Some(Exemption::SessionSetup)
        }
        command::SESSION_SETUP => {
            // SessionFlags, the second field of the response body (2.2.6); a
            // body too short to hold it claims no exemption.
            let flags = pdu
                .get(HEADER_LEN + 2..HEADER_LEN + 4)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            (flags & SESSION_FLAGS_GUEST_OR_NULL != 0).then_some(Exemption::GuestOrAnonymous)
        }
        _ if response && h.is_async() && h.status() == status::PENDING => Some(Exemption::Interim),
        command::OPLOCK_BREAK if response && h.message_id() == BREAK_NOTIFICATION_MESSAGE_ID => {
            Some(Exemption::BreakNotification)
        }
        _ if response && h.status() == status::USER_SESSION_DELETED => {
            Some(Exemption::SessionDeleted)
        }
        _ => None,
    })
}

/// Whether `pdu`, sent unsigned, breaks the signing rules: its session
/// requires signing (`session_requires_signing`, see [`session_requires_signing`];
/// false for a guest or anonymous session, which has no key) and MS-SMB2
/// grants it no [`Exemption`] ([`signing_exemption`]).
pub fn must_be_signed(pdu: &[u8], session_id: u64, session_requires_signing: bool) -> Result<bool> {
    Ok(session_requires_signing && signing_exemption(pdu, session_id)?.is_none())
}

/// Whether the response `pdu`, sent unsigned, skipped the signature MS-SMB2
/// 3.3.4.1.1 asks of it: the server SHOULD sign a response "if the request was
/// signed by the client, and the response is not an interim response" (a
/// SHOULD, so its absence is unverified, not a proven violation; 3.2.5.1.3 has
/// the client verify every signed response). `request_signed`: the request
/// with the response's MessageId on its connection was signed. Responses with
/// an [`Exemption`] are not asked to be signed. Fails on a short or foreign header.
pub fn response_should_be_signed(
    pdu: &[u8],
    session_id: u64,
    request_signed: bool,
) -> Result<bool> {
    let h = Header::new(pdu)?;
    Ok(request_signed && h.is_response() && signing_exemption(pdu, session_id)?.is_none())
}

/// Whether a SecurityMode field says `SMB2_NEGOTIATE_SIGNING_REQUIRED`.
#[must_use]
pub fn security_mode_requires_signing(security_mode: u16) -> bool {
    security_mode & SECURITY_MODE_SIGNING_REQUIRED != 0
}

/// Session.SigningRequired as the wire shows it: signing is required when any
/// SecurityMode that speaks for the session says so — the NEGOTIATE request's
/// (the client requires it: Connection.ShouldSign, 3.3.5.4), the NEGOTIATE
/// response's (the server requires it: Connection.RequireSigning, 3.2.5.2), or
/// the SESSION_SETUP request's (2.2.5; the server sets Session.SigningRequired
/// from it, 3.3.5.5.3). Absent fields (not in a capture) say nothing.
#[must_use]
pub fn session_requires_signing(
    negotiate_request: Option<u16>,
    negotiate_response: Option<u16>,
    session_setup_request: Option<u8>,
) -> bool {
    [
        negotiate_request,
        negotiate_response,
        session_setup_request.map(u16::from),
    ]
    .into_iter()
    .flatten()
    .any(security_mode_requires_signing)
}
