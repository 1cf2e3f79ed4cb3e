//! SMB-shaped inputs: PDUs of a given size and a mixed traffic profile.

use smbsign::smb2;

/// A valid single SMB2 PDU of `size` bytes (at least the 64-byte header).
#[must_use]
pub fn pdu(size: usize, message_id: u64) -> Vec<u8> {
    let size = size.max(smb2::HEADER_LEN);
    let mut p: Vec<u8> = (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(7))
        .collect();
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p[4..6].copy_from_slice(&64u16.to_le_bytes());
    p[12..14].copy_from_slice(&9u16.to_le_bytes()); // WRITE
    p[16..24].fill(0); // flags, NextCommand
    p[24..32].copy_from_slice(&message_id.to_le_bytes());
    p
}

/// The mixed profile: mostly small control messages (CREATE, CLOSE, QUERY_INFO,
/// lease breaks: 64-512 bytes) with READ/WRITE payloads of 4 KiB to 1 MiB, as
/// `(size, share of messages)`. Shares sum to 1000.
pub const MIXED_PROFILE: [(usize, u32); 7] = [
    (64, 250),
    (128, 250),
    (256, 200),
    (512, 150),
    (4096, 100),
    (65536, 45),
    (1 << 20, 5),
];

/// The message sizes of one pass through the mixed profile (1000 messages,
/// interleaved so small and large alternate as they would on a connection).
#[must_use]
pub fn mixed_sizes() -> Vec<usize> {
    let mut v = Vec::with_capacity(1000);
    let mut left: Vec<(usize, u32)> = MIXED_PROFILE.to_vec();
    while left.iter().any(|&(_, n)| n > 0) {
        for (size, n) in &mut left {
            if *n > 0 {
                v.push(*size);
                *n -= 1;
            }
        }
    }
    v
}
