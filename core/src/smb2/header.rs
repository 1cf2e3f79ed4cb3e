//! The SMB2 header (MS-SMB2 2.2.1): its layout, a typed view over it, and the
//! AES-GMAC nonce rule. Every other reader of header fields (the chain walk,
//! the batch engine, the wire layer, the faces) goes through this file.

use crate::error::{Error, Result};

/// Length of the SMB2 header.
pub const HEADER_LEN: usize = 64;
/// The ProtocolId every SMB2 header starts with.
pub const PROTOCOL_ID: [u8; 4] = [0xFE, b'S', b'M', b'B'];
/// Offset of the 16-byte Signature field.
pub const SIGNATURE_OFFSET: usize = 48;
/// Length of the Signature field.
pub const SIGNATURE_LEN: usize = 16;
/// `SMB2_FLAGS_SERVER_TO_REDIR`: the message is a response.
pub const FLAGS_SERVER_TO_REDIR: u32 = 0x0000_0001;
/// `SMB2_FLAGS_ASYNC_COMMAND`: the header is the ASYNC form (AsyncId, no TreeId).
pub const FLAGS_ASYNC_COMMAND: u32 = 0x0000_0002;
/// `SMB2_FLAGS_RELATED_OPERATIONS`: a related operation of a compound chain.
pub const FLAGS_RELATED_OPERATIONS: u32 = 0x0000_0004;
/// `SMB2_FLAGS_SIGNED`.
pub const FLAGS_SIGNED: u32 = 0x0000_0008;
/// The SMB2 CANCEL command code.
pub const COMMAND_CANCEL: u16 = 0x000C;

pub(crate) const STATUS_OFFSET: usize = 8;
pub(crate) const COMMAND_OFFSET: usize = 12;
pub(crate) const CREDIT_OFFSET: usize = 14;
pub(crate) const FLAGS_OFFSET: usize = 16;
pub(crate) const NEXT_COMMAND_OFFSET: usize = 20;
pub(crate) const MESSAGE_ID_OFFSET: usize = 24;
/// AsyncId (ASYNC form) or Reserved (ProcessId) and TreeId (SYNC form).
pub(crate) const ASYNC_ID_OFFSET: usize = 32;
pub(crate) const TREE_ID_OFFSET: usize = 36;
pub(crate) const SESSION_ID_OFFSET: usize = 40;

pub(crate) fn u16_at(h: &[u8; HEADER_LEN], off: usize) -> u16 {
    u16::from_le_bytes([h[off], h[off + 1]])
}

pub(crate) fn u32_at(h: &[u8; HEADER_LEN], off: usize) -> u32 {
    u32::from_le_bytes(h[off..off + 4].try_into().unwrap())
}

pub(crate) fn u64_at(h: &[u8; HEADER_LEN], off: usize) -> u64 {
    u64::from_le_bytes(h[off..off + 8].try_into().unwrap())
}

/// A bounds-checked view of the 64-byte SMB2 header at the start of a PDU
/// (MS-SMB2 2.2.1.1 ASYNC and 2.2.1.2 SYNC forms). Building one checks the
/// length and the ProtocolId once; the accessors then cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    h: &'a [u8; HEADER_LEN],
}

impl<'a> Header<'a> {
    /// The header at the start of `pdu` ([`Error::Truncated`] if shorter than
    /// 64 bytes, [`Error::BadProtocolId`] unless it starts with `FE 'S' 'M' 'B'`).
    pub fn new(pdu: &'a [u8]) -> Result<Header<'a>> {
        Ok(Header { h: header_of(pdu)? })
    }

    /// The view of a header already checked (a chain walk's copy).
    pub(crate) fn of(h: &'a [u8; HEADER_LEN]) -> Header<'a> {
        Header { h }
    }

    /// The 64 header bytes.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8; HEADER_LEN] {
        self.h
    }

    /// Status (responses); in requests of 3.x dialects, ChannelSequence and Reserved.
    #[must_use]
    pub fn status(&self) -> u32 {
        u32_at(self.h, STATUS_OFFSET)
    }

    /// Command.
    #[must_use]
    pub fn command(&self) -> u16 {
        u16_at(self.h, COMMAND_OFFSET)
    }

    /// CreditRequest (requests) or CreditResponse (responses).
    #[must_use]
    pub fn credit(&self) -> u16 {
        u16_at(self.h, CREDIT_OFFSET)
    }

    /// Flags.
    #[must_use]
    pub fn flags(&self) -> u32 {
        u32_at(self.h, FLAGS_OFFSET)
    }

    /// NextCommand: the offset of the next PDU of a compound chain, or 0.
    #[must_use]
    pub fn next_command(&self) -> u32 {
        u32_at(self.h, NEXT_COMMAND_OFFSET)
    }

    /// MessageId.
    #[must_use]
    pub fn message_id(&self) -> u64 {
        u64_at(self.h, MESSAGE_ID_OFFSET)
    }

    /// AsyncId, in the ASYNC form of the header only.
    #[must_use]
    pub fn async_id(&self) -> Option<u64> {
        self.is_async().then(|| u64_at(self.h, ASYNC_ID_OFFSET))
    }

    /// TreeId, in the SYNC form of the header only.
    #[must_use]
    pub fn tree_id(&self) -> Option<u32> {
        (!self.is_async()).then(|| u32_at(self.h, TREE_ID_OFFSET))
    }

    /// SessionId as the header carries it (a related operation's may be
    /// 0xFFFFFFFFFFFFFFFF or stale: [`super::verifying_sessions`] says which session counts).
    #[must_use]
    pub fn session_id(&self) -> u64 {
        u64_at(self.h, SESSION_ID_OFFSET)
    }

    /// Signature.
    #[must_use]
    pub fn signature(&self) -> &'a [u8; SIGNATURE_LEN] {
        self.h[SIGNATURE_OFFSET..]
            .try_into()
            .expect("the header ends with the signature")
    }

    /// Whether `SMB2_FLAGS_SERVER_TO_REDIR` is set: a response.
    #[must_use]
    pub fn is_response(&self) -> bool {
        self.flags() & FLAGS_SERVER_TO_REDIR != 0
    }

    /// Whether `SMB2_FLAGS_ASYNC_COMMAND` is set.
    #[must_use]
    pub fn is_async(&self) -> bool {
        self.flags() & FLAGS_ASYNC_COMMAND != 0
    }

    /// Whether `SMB2_FLAGS_RELATED_OPERATIONS` is set.
    #[must_use]
    pub fn is_related(&self) -> bool {
        self.flags() & FLAGS_RELATED_OPERATIONS != 0
    }

    /// Whether `SMB2_FLAGS_SIGNED` is set.
    #[must_use]
    pub fn is_signed(&self) -> bool {
        self.flags() & FLAGS_SIGNED != 0
    }

    /// This PDU's AES-GMAC nonce ([`gmac_nonce_for`]).
    #[must_use]
    pub fn gmac_nonce(&self) -> [u8; 12] {
        gmac_nonce_for(self.message_id(), self.is_response(), self.command())
    }
}

/// The AES-GMAC nonce rule (MS-SMB2 3.1.4.1), the one copy of it: MessageId
/// (8 bytes, little-endian), then a little-endian 32-bit word whose bit 0 is
/// set for server-to-client messages and bit 1 for SMB2 CANCEL requests.
/// (The CANCEL bit goes with the command, as Windows, Samba and smbprotocol set it.)
#[must_use]
pub fn gmac_nonce_for(message_id: u64, server_to_client: bool, command: u16) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&message_id.to_le_bytes());
    let role = u32::from(server_to_client);
    let cancel = u32::from(command == COMMAND_CANCEL) << 1;
    n[8..].copy_from_slice(&(role | cancel).to_le_bytes());
    n
}

/// The AES-GMAC nonce of the PDU whose header starts `header` ([`gmac_nonce_for`]).
pub fn gmac_nonce(header: &[u8]) -> Result<[u8; 12]> {
    Ok(Header::new(header)?.gmac_nonce())
}

/// The first `HEADER_LEN` bytes of `buf` as an SMB2 header, after checking
/// that they are there and start with the ProtocolId.
pub(crate) fn header_of(buf: &[u8]) -> Result<&[u8; HEADER_LEN]> {
    let h: &[u8; HEADER_LEN] = buf
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(Error::Truncated {
            offset: 0,
            len: buf.len(),
        })?;
    if h[..4] != PROTOCOL_ID {
        return Err(Error::BadProtocolId { offset: 0 });
    }
    Ok(h)
}

pub(crate) fn nonce_of(h: &[u8; HEADER_LEN]) -> [u8; 12] {
    Header::of(h).gmac_nonce()
}
