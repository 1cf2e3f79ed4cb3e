//! Proves the crafted-capture generator (tests/common/craft.rs) writes what
//! the checker reads: a handshake, SMB2 messages in direct-TCP framing, a
//! close, each message found once with its addresses and bytes.

mod common;

use common::craft::{handshaken, Dir, Smb2, ECHO_BODY};
use smbsign_capture::for_each_message;

#[test]
fn crafted_connection_yields_its_messages() {
    let (mut pcap, mut c) = handshaken(40_000);
    let request = Smb2 {
        command: 13,
        message_id: 7,
        ..Smb2::default()
    }
    .bytes(&ECHO_BODY);
    let response = Smb2 {
        command: 13,
        flags: 1,
        message_id: 7,
        ..Smb2::default()
    }
    .bytes(&ECHO_BODY);
    c.send_smb(&mut pcap, Dir::ToServer, &request);
    c.send_smb(&mut pcap, Dir::ToClient, &response);
    c.close(&mut pcap);
    let mut seen = Vec::new();
    let walk = for_each_message(&pcap.bytes()[..], |_, src, dst, m| {
        seen.push((src.port(), dst.port(), m.to_vec()));
    })
    .unwrap();
    assert_eq!(walk.frames, 7);
    assert_eq!(
        seen,
        vec![(40_000, 445, request), (445, 40_000, response)],
        "each message once, in order, with its ends"
    );
}
