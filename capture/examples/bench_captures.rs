//! Writes the crafted captures that docs/benchmarks-log.md ("smbsign-check
//! accounting for everything") measures smbsign-check on, with the generator
//! the tests use (capture/tests/common/craft.rs):
//!
//! - `bad-frame OUT [MIB]`: one direct-TCP frame of MIB MiB (default 16) holding a
//!   compound chain of 72-byte ECHOs signed with the wrong key, after one good
//!   ECHO exchange that lets `--session-key 42..42` adopt the session;
//! - `short-conns OUT [N]`: N (default 100,000) connections, each a handshake,
//!   two signed ECHO exchanges of 424-byte PDUs and a FIN both ways (about 2 KB
//!   per connection).
//!
//! `cargo run --release -p smbsign-capture --example bench_captures -- bad-frame /tmp/bad.pcap`

#[path = "../tests/common/craft.rs"]
mod craft;

use std::net::SocketAddrV4;

use craft::{Conn, Dir, Pcap, Smb2};
use smbsign::smb2::{self, dialect, SigningKey};

const KEY: [u8; 16] = [0x42; 16];
const SID: u64 = 0x1000_0000_0001;

fn echo(key: &SigningKey, mid: u64, response: bool, body_len: usize, next: u32) -> Vec<u8> {
    let mut body = vec![0u8; body_len];
    body[..4].copy_from_slice(&craft::ECHO_BODY);
    let mut pdu = Smb2 {
        command: 13,
        flags: u32::from(response) | 8,
        message_id: mid,
        session_id: SID,
        next_command: next,
        ..Smb2::default()
    }
    .bytes(&body);
    if next == 0 {
        smb2::sign_pdu(key, &mut pdu).unwrap();
    }
    pdu
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (what, out) = (args[0].as_str(), &args[1]);
    let n: usize = args.get(2).map_or(0, |v| v.parse().unwrap());
    let good = SigningKey::for_session(dialect::SMB2_1, None, &KEY, &[0; 64]).unwrap();
    let wrong = SigningKey::for_session(dialect::SMB2_1, None, &[7; 16], &[0; 64]).unwrap();
    let mut pcap = Pcap::default();
    match what {
        "bad-frame" => {
            let mib = if n == 0 { 16 } else { n };
            let mut c = Conn::new(40_000);
            c.handshake(&mut pcap);
            c.send_smb(&mut pcap, Dir::ToServer, &echo(&good, 1, false, 4, 0));
            c.send_smb(&mut pcap, Dir::ToClient, &echo(&good, 1, true, 4, 0));
            // Under 16 MiB - 1 (the 24-bit length): 72-byte PDUs, the last 68.
            let count = ((mib << 20).min((1 << 24) - 1) - 68) / 72 + 1;
            let mut chain = Vec::with_capacity(count * 72);
            for i in 0..count {
                let last = i + 1 == count;
                let mut pdu = echo(&wrong, i as u64 + 2, false, 4, if last { 0 } else { 72 });
                if !last {
                    pdu.resize(72, 0);
                }
                chain.extend_from_slice(&pdu);
            }
            smb2::sign_pdu(&wrong, &mut chain).unwrap();
            for seg in craft::direct_tcp(&chain).chunks(65_000) {
                c.send(&mut pcap, Dir::ToServer, seg);
            }
            c.close(&mut pcap);
        }
        "short-conns" => {
            let n = if n == 0 { 100_000 } else { n };
            for i in 0..n {
                let ip = [10, 0, (i >> 16) as u8, (i >> 8) as u8];
                let client = SocketAddrV4::new(ip.into(), 1024 + (i % 60_000) as u16);
                let mut c = Conn::between(client, SocketAddrV4::new([10, 1, 0, 1].into(), 445));
                c.handshake(&mut pcap);
                for mid in 1..=2 {
                    c.send_smb(&mut pcap, Dir::ToServer, &echo(&good, mid, false, 360, 0));
                    c.send_smb(&mut pcap, Dir::ToClient, &echo(&good, mid, true, 360, 0));
                }
                c.close(&mut pcap);
            }
        }
        _ => panic!("bad-frame OUT [MIB] | short-conns OUT [N]"),
    }
    std::fs::write(out, pcap.bytes()).unwrap();
}
