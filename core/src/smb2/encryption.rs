//! The SMB3 encryption rules, once: which messages must travel encrypted,
//! that an encrypted message is not signed, and what a receiver refuses in a
//! decrypted message. The transform itself (header, AEAD) is [`super::transform`];
//! the C and Python faces and the Python adapters ask these functions and
//! restate none of them.
//!
//! - Sender: a message is encrypted when the session, the tree connect or the
//!   share says EncryptData (or, for a response, the request came encrypted),
//!   except NEGOTIATE, a session-binding SESSION_SETUP request and a message
//!   without a session (MS-SMB2 3.2.4.1.8, 3.3.4.1.4): [`must_be_encrypted`].
//!   It is not signed: SMB2_FLAGS_SIGNED clear, Signature zero
//!   ([`clear_signatures`]); the AEAD tag protects every PDU of it.
//! - Receiver: a message that arrived encrypted is not checked for a
//!   signature, whatever its PDUs' flags and Signature fields say (MS-SMB2
//!   3.2.5.1.3, 3.3.5.2.4; Samba's and Windows' receivers ignore them):
//!   [`signature_applies`]. A message that [`must_be_encrypted`] but came in
//!   the clear is refused (3.3.5.2.9: STATUS_ACCESS_DENIED; a client drops it).
//!   After decryption, [`check_decrypted`]: no nested transform, and every
//!   PDU's SessionId is the TRANSFORM_HEADER's.

use super::chain;
use super::header::{
    Header, FLAGS_OFFSET, FLAGS_SIGNED, HEADER_LEN, SIGNATURE_LEN, SIGNATURE_OFFSET,
};
use super::rules::command;
use super::transform::is_transform;
use crate::error::{Error, Result};

/// The ProtocolId of an SMB2 COMPRESSION_TRANSFORM_HEADER (MS-SMB2 2.2.42).
pub const COMPRESSION_PROTOCOL_ID: [u8; 4] = [0xFC, b'S', b'M', b'B'];
/// `SMB2_SESSION_FLAG_BINDING` in a SESSION_SETUP request's Flags (MS-SMB2 2.2.5).
pub const SESSION_FLAG_BINDING: u8 = 0x01;

/// Why MS-SMB2 sends a message in the clear even on a session that encrypts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncryptionExemption {
    /// No session (SessionId 0): there is no key to encrypt with.
    NoSession,
    /// NEGOTIATE requests and responses (3.2.4.1.8: "MUST NOT encrypt").
    Negotiate,
    /// A SESSION_SETUP request with SMB2_SESSION_FLAG_BINDING (3.2.4.1.8): the
    /// channel has no keys of the session yet.
    SessionBinding,
}

impl EncryptionExemption {
    /// Why, in a few words, with the MS-SMB2 section.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            EncryptionExemption::NoSession => "no session (SessionId 0; MS-SMB2 3.1.4.3)",
            EncryptionExemption::Negotiate => "NEGOTIATE (MS-SMB2 3.2.4.1.8)",
            EncryptionExemption::SessionBinding => {
                "session-binding SESSION_SETUP request (MS-SMB2 3.2.4.1.8)"
            }
        }
    }
}

/// Why `pdu` (one PDU, header first) travels in the clear even when its
/// session encrypts, or None when it does not. `session_id` is its
/// verifying session ([`super::verifying_sessions`]). Fails on a short or
/// foreign header.
pub fn encryption_exemption(pdu: &[u8], session_id: u64) -> Result<Option<EncryptionExemption>> {
    let h = Header::new(pdu)?;
    Ok(match h.command() {
        command::NEGOTIATE => Some(EncryptionExemption::Negotiate),
        _ if session_id == 0 => Some(EncryptionExemption::NoSession),
        command::SESSION_SETUP
            if !h.is_response()
                && pdu
                    .get(HEADER_LEN + 2)
                    .is_some_and(|f| f & SESSION_FLAG_BINDING != 0) =>
        {
            Some(EncryptionExemption::SessionBinding)
        }
        _ => None,
    })
}

/// Whether `pdu` must travel encrypted. `encrypt_data`: any of
/// Session.EncryptData, the PDU's TreeConnect.EncryptData or Share.EncryptData,
/// and for a response Request.IsEncrypted (MS-SMB2 3.2.4.1.8, 3.3.4.1.4); the
/// caller knows which tree a PDU addresses and passes false for a guest or
/// anonymous session (3.2.4.1.8: MUST NOT / SHOULD NOT encrypt). MS-SMB2
/// grants the [`EncryptionExemption`]s. A receiver refuses such a PDU that
/// came in the clear. Fails on a short or foreign header.
pub fn must_be_encrypted(pdu: &[u8], session_id: u64, encrypt_data: bool) -> Result<bool> {
    Ok(encrypt_data && encryption_exemption(pdu, session_id)?.is_none())
}

/// Whether a receiver checks the signatures of a message: only of one that
/// came in the clear. In one that came encrypted, SMB2_FLAGS_SIGNED and the
/// Signature field are ignored (MS-SMB2 3.2.5.1.3, 3.3.5.2.4): the AEAD tag
/// already proved every byte, and a sender may leave stale bytes there.
#[must_use]
pub const fn signature_applies(arrived_encrypted: bool) -> bool {
    !arrived_encrypted
}

/// Prepares a message for encryption: clears SMB2_FLAGS_SIGNED and zeroes
/// the Signature of every PDU of the chain `message` (an encrypted message is
/// not signed). The chain is walked and checked first; on an error nothing
/// was written.
pub fn clear_signatures(message: &mut [u8]) -> Result<()> {
    let mut starts = Vec::new();
    chain::walk(&[&*message], |pdu| starts.push(pdu.start))?;
    for s in starts {
        let f = s + FLAGS_OFFSET;
        let flags = u32::from_le_bytes(message[f..f + 4].try_into().expect("4 bytes"));
        message[f..f + 4].copy_from_slice(&(flags & !FLAGS_SIGNED).to_le_bytes());
        message[s + SIGNATURE_OFFSET..s + SIGNATURE_OFFSET + SIGNATURE_LEN].fill(0);
    }
    Ok(())
}

/// What a receiver checks in a message it decrypted from a TRANSFORM_HEADER
/// carrying `transform_session_id`, before acting on it:
/// - not a nested transform (`FD 'SMB'`: [`Error::NestedTransform`];
///   MS-SMB2 3.2.5.1.1.1 and 3.3.5.2.1.1 disconnect);
/// - every PDU's SessionId is the transform's: the first PDU's, and each
///   later PDU's that is not related (a related PDU takes its predecessor's
///   session, [`super::verifying_session`]); otherwise
///   [`Error::TransformSessionMismatch`] (3.3.5.2.7: the server disconnects
///   when an encrypted request's SessionId is not Request.TransformSessionId;
///   3.2.5.1.1.1: the client discards such a response). Without this check a
///   key of session A would carry requests on session B's behalf.
///
/// A malformed chain fails as the chain walk does. A compressed message
/// (`FC 'SMB'`) is returned Ok unchecked: it is checked after decompression,
/// by calling this again on the decompressed message.
pub fn check_decrypted(transform_session_id: u64, message: &[u8]) -> Result<()> {
    if is_transform(message) {
        return Err(Error::NestedTransform);
    }
    if message.starts_with(&COMPRESSION_PROTOCOL_ID) {
        return Ok(());
    }
    let mut first = true;
    let mut mismatch = None;
    chain::walk(&[message], |pdu| {
        let h = Header::of(&pdu.header);
        if mismatch.is_none()
            && (first || !h.is_related())
            && h.session_id() != transform_session_id
        {
            mismatch = Some(Error::TransformSessionMismatch {
                transform: transform_session_id,
                session: h.session_id(),
                offset: pdu.start,
            });
        }
        first = false;
    })?;
    mismatch.map_or(Ok(()), Err)
}
