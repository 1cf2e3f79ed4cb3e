//! The SMB2 sync/async header fields signing reads or writes (MS-SMB2 2.2.1).

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
/// `SMB2_FLAGS_SIGNED`.
pub const FLAGS_SIGNED: u32 = 0x0000_0008;
/// The SMB2 CANCEL command code.
pub const COMMAND_CANCEL: u16 = 0x000C;

pub(crate) const COMMAND_OFFSET: usize = 12;
pub(crate) const FLAGS_OFFSET: usize = 16;
pub(crate) const NEXT_COMMAND_OFFSET: usize = 20;
pub(crate) const MESSAGE_ID_OFFSET: usize = 24;

pub(crate) fn u16_at(h: &[u8; HEADER_LEN], off: usize) -> u16 {
    u16::from_le_bytes([h[off], h[off + 1]])
}

pub(crate) fn u32_at(h: &[u8; HEADER_LEN], off: usize) -> u32 {
    u32::from_le_bytes(h[off..off + 4].try_into().unwrap())
}

/// The AES-GMAC nonce of a PDU: MessageId (8 bytes, little-endian), then a
/// little-endian 32-bit word whose bit 0 is set for server-to-client messages
/// and bit 1 for SMB2 CANCEL requests (MS-SMB2 3.1.4.1).
pub fn gmac_nonce(header: &[u8]) -> Result<[u8; 12]> {
    Ok(nonce_of(header_of(header)?))
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
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&h[MESSAGE_ID_OFFSET..MESSAGE_ID_OFFSET + 8]);
    let role = u32::from(u32_at(h, FLAGS_OFFSET) & FLAGS_SERVER_TO_REDIR != 0);
    let cancel = u32::from(u16_at(h, COMMAND_OFFSET) == COMMAND_CANCEL) << 1;
    n[8..].copy_from_slice(&(role | cancel).to_le_bytes());
    n
}
