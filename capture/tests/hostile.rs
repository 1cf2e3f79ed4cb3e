//! Hostile captures from the review (reports/review.md F5-F16): each one
//! once passed smbsign-check (exit 0) although something in it was not
//! verified; each test asserts the checker now says so.

mod common;

use common::craft::{self, flag, handshaken, Conn, Dir, Pcap, Smb2, ECHO_BODY};
use smbsign_capture::report::Status;
use smbsign_capture::{check_bytes, Options, Report};

const KEY: [u8; 16] = [0x42; 16];
const SID: u64 = 0x1000_0000_0001;

fn check(pcap: &Pcap) -> Report {
    let o = Options {
        session_keys: vec![(None, KEY.to_vec())],
        diagnose: true,
        ..Options::default()
    };
    check_bytes(&pcap.bytes(), &o).unwrap()
}

/// Checks `pcap` (printing the report) and asserts the result is incomplete,
/// `what` naming the case; returns the report for the case's own assertions.
fn check_incomplete(pcap: &Pcap, what: &str) -> Report {
    let r = check(pcap);
    eprintln!("{}", r.text(false));
    assert_eq!(r.status(), Status::Incomplete, "{what}");
    r
}

/// Checks `pcap` (printing the report) and asserts it is not verified, `what`
/// naming the case.
fn check_not_verified(pcap: &Pcap, what: &str) {
    let r = check(pcap);
    eprintln!("{}", r.text(false));
    assert_ne!(r.status(), Status::Verified, "{what}");
}

fn valid_echo_conn(pcap: &mut Pcap, port: u16) {
    let mut c = Conn::new(port);
    c.handshake(pcap);
    c.send_echo(pcap, SID, 1, false, &KEY);
    c.send_echo(pcap, SID, 1, true, &KEY);
    c.close(pcap);
}

/// An SMB1 message (0xFF 'SMB'), 32-byte header then WordCount 0, ByteCount 0.
fn smb1(command: u8, response: bool) -> Vec<u8> {
    let mut m = vec![0xFF, b'S', b'M', b'B', command];
    m.extend_from_slice(&[0; 4]); // status
    m.push(if response { 0x98 } else { 0x18 }); // flags
    m.extend_from_slice(&[0x07, 0xC8]); // flags2 (no SECURITY_SIGNATURE)
    m.resize(32, 0);
    m.extend_from_slice(&[0, 0, 0]);
    m
}

/// A whole unsigned SMB1 conversation (SESSION_SETUP_ANDX, TREE_CONNECT_ANDX,
/// NT_CREATE_ANDX, WRITE_ANDX...) next to one valid SMB2 exchange.
#[test]
fn an_smb1_session_is_not_silently_skipped() {
    let mut pcap = Pcap::default();
    valid_echo_conn(&mut pcap, 41_000);
    let mut c = Conn::new(41_001);
    c.handshake(&mut pcap);
    for cmd in [0x72u8, 0x73, 0x75, 0xA2, 0x2F, 0x2F, 0x2F] {
        c.send_smb(&mut pcap, Dir::ToServer, &smb1(cmd, false));
        c.send_smb(&mut pcap, Dir::ToClient, &smb1(cmd, true));
    }
    c.close(&mut pcap);
    let r = check_incomplete(&pcap, "14 SMB1 messages, none checked");
    // Every SMB1 message but the client's NEGOTIATE request has a record.
    assert_eq!(r.unchecked.get("SMB1 (signing not checked)"), Some(&13));
}

/// A retransmission of the same sequence range with DIFFERENT bytes: which
/// copy did the receiver take? The checker must not say both were verified.
#[test]
fn a_conflicting_retransmission_is_reported() {
    let (mut pcap, mut c) = handshaken(41_010);
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    let seq = c.next[1];
    let good = craft::direct_tcp(&craft::signed_echo(SID, 1, true, &KEY));
    let mut forged = good.clone();
    forged[4 + 64 + 2] ^= 0xFF; // change the (signed) body: a forged copy
    c.raw(&mut pcap, Dir::ToClient, seq, flag::PSH | flag::ACK, &good);
    c.raw(
        &mut pcap,
        Dir::ToClient,
        seq,
        flag::PSH | flag::ACK,
        &forged,
    );
    c.next[1] = seq.wrapping_add(good.len() as u32);
    c.close(&mut pcap);
    let r = check_incomplete(&pcap, "a conflicting copy of a signed message");
    assert_eq!(r.streams.conflicting_retransmissions, 1);
    assert_eq!(r.unchecked.get("conflicting retransmission"), Some(&1));
}

/// Bytes after the last PDU of a frame (NextCommand 0) are covered by no signature.
#[test]
fn bytes_after_the_last_pdu_are_reported() {
    let (mut pcap, mut c) = handshaken(41_020);
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    let mut m = craft::signed_echo(SID, 1, true, &KEY);
    m.extend_from_slice(&[0xAA; 4000]);
    c.send_smb(&mut pcap, Dir::ToClient, &m);
    c.close(&mut pcap);
    check_not_verified(&pcap, "4000 unsigned trailing bytes accepted");
}

/// Payload after a FIN (beyond the FIN's sequence number) or after an RST.
#[test]
fn data_after_fin_or_rst_is_reported() {
    let (mut pcap, mut c) = handshaken(41_030);
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    c.send_echo(&mut pcap, SID, 1, true, &KEY);
    c.rst(&mut pcap, Dir::ToClient);
    let mut bad = craft::signed_echo(SID, 2, true, &KEY);
    bad[64 + 2] ^= 1;
    c.send_smb(&mut pcap, Dir::ToClient, &bad);
    check_not_verified(&pcap, "a (bad) message after RST went unreported");
}

/// Unsigned ordinary requests/responses on a session whose SESSION_SETUP is not in
/// the capture: whether signing was required is unknown, so they are unverified.
#[test]
fn unsigned_messages_of_an_unknown_session_are_not_ok() {
    let mut pcap = Pcap::default();
    valid_echo_conn(&mut pcap, 41_040);
    let mut c = Conn::new(41_041);
    c.handshake(&mut pcap);
    for mid in 1..=5u64 {
        for resp in [false, true] {
            let p = Smb2 {
                command: 13,
                flags: u32::from(resp),
                message_id: mid,
                session_id: 0x2000_0000_0002,
                ..Smb2::default()
            }
            .bytes(&ECHO_BODY);
            c.send_smb(
                &mut pcap,
                if resp { Dir::ToClient } else { Dir::ToServer },
                &p,
            );
        }
    }
    c.close(&mut pcap);
    let r = check_incomplete(&pcap, "signing requirement unknown");
    assert_eq!(r.unchecked.get("signing requirement unknown"), Some(&10));
}

/// A NetBIOS control frame type (0x85 keep-alive) with a length carrying an SMB2 message.
#[test]
fn smb_inside_a_netbios_control_frame_is_reported() {
    let (mut pcap, mut c) = handshaken(41_050);
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    let mut p = craft::direct_tcp(&craft::signed_echo(SID, 1, true, &KEY));
    p[0] = 0x85;
    c.send(&mut pcap, Dir::ToClient, &p);
    c.send_echo(&mut pcap, SID, 1, true, &KEY);
    c.close(&mut pcap);
    let r = check_incomplete(&pcap, "an 80-byte 0x85 frame holding an SMB2 PDU");
    assert_eq!(r.streams.control_frames, 0);
}

/// The same session: signed echoes, then one whose signature was stripped
/// (flag cleared, signature zeroed) — a MITM's downgrade, mid-session.
#[test]
fn a_stripped_signature_on_a_signing_session_is_not_ok() {
    let (mut pcap, mut c) = handshaken(41_060);
    for mid in 1..=3u64 {
        c.send_echo(&mut pcap, SID, mid, false, &KEY);
        let mut resp = craft::signed_echo(SID, mid, true, &KEY);
        if mid == 2 {
            resp[16] &= !8;
            resp[48..64].fill(0);
        }
        c.send_smb(&mut pcap, Dir::ToClient, &resp);
    }
    c.close(&mut pcap);
    let r = check_incomplete(&pcap, "a stripped signature in a signing session");
    assert_eq!(
        r.unchecked.get("unsigned response to a signed request"),
        Some(&1)
    );
    assert_eq!(r.count(smbsign_capture::report::Verdict::Valid), 5);
}

/// Frames the checker does not decode: each carries one TCP segment of an SMB
/// connection whose response signature is WRONG. `wrap` puts the IPv4 packet
/// in some encapsulation (VLAN QinQ, MPLS, GRE...).
fn hidden_invalid(wrap: impl Fn(&[u8]) -> Vec<u8>) -> Pcap {
    let mut pcap = Pcap::default();
    valid_echo_conn(&mut pcap, 41_070);
    let mut c = Conn::new(41_071);
    let mut bad = craft::signed_echo(SID, 9, true, &KEY);
    bad[64 + 2] ^= 1;
    let (cl, sv) = (c.client, c.server);
    let mut put = |pcap: &mut Pcap, dir: Dir, flags: u8, payload: &[u8]| {
        let seg = c.next_segment(dir, flags, payload);
        let (s, d) = if dir == Dir::ToServer {
            (cl, sv)
        } else {
            (sv, cl)
        };
        let mut ip = craft::ipv4_header(*s.ip(), *d.ip(), 6, seg.len(), 0, 0);
        ip.extend_from_slice(&seg);
        pcap.frame(&wrap(&ip));
    };
    put(
        &mut pcap,
        Dir::ToServer,
        flag::PSH | flag::ACK,
        &craft::direct_tcp(&craft::signed_echo(SID, 9, false, &KEY)),
    );
    put(
        &mut pcap,
        Dir::ToClient,
        flag::PSH | flag::ACK,
        &craft::direct_tcp(&bad),
    );
    pcap
}

#[test]
fn an_invalid_message_in_qinq_vlan_frames_is_not_hidden() {
    let pcap = hidden_invalid(|ip| {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xA8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00]);
        f.extend_from_slice(ip);
        f
    });
    check_not_verified(&pcap, "QinQ-tagged SMB with a bad signature, exit 0");
}

#[test]
fn an_invalid_message_in_mpls_frames_is_not_hidden() {
    let pcap = hidden_invalid(|ip| {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x47, 0x00, 0x01, 0x01, 0x40]); // one label, bottom of stack
        f.extend_from_slice(ip);
        f
    });
    let r = check_incomplete(&pcap, "tunnelled SMB with a bad signature");
    assert_eq!(r.frames_undecoded, 2);
}

#[test]
fn an_invalid_message_in_gre_is_not_hidden() {
    let pcap = hidden_invalid(|ip| {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(ip);
        f.extend_from_slice(&craft::ipv4_header(
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            47,
            gre.len(),
            0,
            0,
        ));
        f.extend_from_slice(&gre);
        f
    });
    let r = check_incomplete(&pcap, "tunnelled SMB with a bad signature");
    assert_eq!(r.frames_undecoded, 2);
}

fn key21() -> smbsign::smb2::SigningKey {
    smbsign::smb2::SigningKey::for_session(smbsign::smb2::dialect::SMB2_1, None, &KEY, &[0; 64])
        .unwrap()
}

/// Issue 23 item 8: only the SESSION_SETUP request says signing is required
/// (NEGOTIATE both ways: enabled, not required). A later UNSIGNED request of
/// that session must be UNSIGNED-BUT-REQUIRED.
#[test]
fn a_session_setup_request_requiring_signing_is_applied() {
    let (mut pcap, mut c) = handshaken(41_080);
    let mut neg = vec![36, 0, 1, 0, 1, 0, 0, 0];
    neg.extend_from_slice(&[0; 4 + 16 + 8]);
    neg.extend_from_slice(&0x0210u16.to_le_bytes());
    c.send_smb(
        &mut pcap,
        Dir::ToServer,
        &Smb2 {
            command: 0,
            ..Smb2::default()
        }
        .bytes(&neg),
    );
    let mut nr = vec![65, 0, 1, 0, 0x10, 0x02, 0, 0];
    nr.extend_from_slice(&[0; 16 + 4 * 4 + 16]);
    nr.extend_from_slice(&[128, 0, 0, 0, 0, 0, 0, 0]);
    c.send_smb(
        &mut pcap,
        Dir::ToClient,
        &Smb2 {
            command: 0,
            flags: 1,
            ..Smb2::default()
        }
        .bytes(&nr),
    );
    let mut ss = vec![25, 0, 0, 2]; // SecurityMode: SIGNING_REQUIRED
    ss.extend_from_slice(&[0; 8]);
    ss.extend_from_slice(&88u16.to_le_bytes());
    ss.extend_from_slice(&[0; 2 + 8]);
    c.send_smb(
        &mut pcap,
        Dir::ToServer,
        &Smb2 {
            command: 1,
            message_id: 1,
            ..Smb2::default()
        }
        .bytes(&ss),
    );
    let mut sr = Smb2 {
        command: 1,
        flags: 1,
        message_id: 1,
        session_id: SID,
        ..Smb2::default()
    }
    .bytes(&[9, 0, 0, 0, 72, 0, 0, 0]);
    smbsign::smb2::sign_pdu(&key21(), &mut sr).unwrap();
    c.send_smb(&mut pcap, Dir::ToClient, &sr);
    // A signed exchange, then an unsigned request answered signed.
    c.send_echo(&mut pcap, SID, 2, false, &KEY);
    c.send_echo(&mut pcap, SID, 2, true, &KEY);
    let unsigned = Smb2 {
        command: 13,
        message_id: 3,
        session_id: SID,
        ..Smb2::default()
    }
    .bytes(&ECHO_BODY);
    c.send_smb(&mut pcap, Dir::ToServer, &unsigned);
    c.send_echo(&mut pcap, SID, 3, true, &KEY);
    c.close(&mut pcap);
    check_not_verified(
        &pcap,
        "unsigned request on a session the client made signing-required, exit 0",
    );
}

/// Issue 23 item 1's chain [session A, unrelated session B], A signed with
/// A's key and B with `sign_b_with`, checked with both sessions' keys; with
/// `known_first` a lone signed ECHO of each session comes before it (so B's
/// key is already known). Returns the check's status.
fn item1_chain_status(port: u16, known_first: bool, sign_b_with: &[u8]) -> Status {
    const SA: u64 = 0xA;
    const SB: u64 = 0xB;
    const KA: [u8; 16] = [0x11; 16];
    const KB: [u8; 16] = [0x22; 16];
    let k = |key: &[u8]| {
        smbsign::smb2::SigningKey::for_session(smbsign::smb2::dialect::SMB2_1, None, key, &[0; 64])
            .unwrap()
    };
    let echo = |message_id, session_id, next_command| {
        Smb2 {
            command: 13,
            flags: 1,
            message_id,
            session_id,
            next_command,
            ..Smb2::default()
        }
        .bytes(&ECHO_BODY)
    };
    let mut m = echo(3, SA, 72);
    m.resize(72, 0);
    m.extend_from_slice(&echo(4, SB, 0));
    smbsign::smb2::sign_pdu(&k(&KA), &mut m).unwrap();
    smbsign::smb2::sign_pdu(&k(sign_b_with), &mut m[72..]).unwrap();
    let (mut pcap, mut c) = handshaken(port);
    if known_first {
        for (sid, key, mid) in [(SA, &KA, 1), (SB, &KB, 2)] {
            c.send_echo(&mut pcap, sid, mid, true, key);
        }
    }
    c.send_smb(&mut pcap, Dir::ToClient, &m);
    c.close(&mut pcap);
    let o = Options {
        session_keys: vec![(Some(SA), KA.to_vec()), (Some(SB), KB.to_vec())],
        diagnose: true,
        ..Options::default()
    };
    let r = check_bytes(&pcap.bytes(), &o).unwrap();
    eprintln!("{}", r.text(false));
    r.status()
}

/// Asserts issue 23 item 1's chain is verified with B signed with B's key and
/// fails with B signed with A's key.
fn assert_item1(port: u16, known_first: bool) {
    assert_eq!(
        (
            item1_chain_status(port, known_first, &[0x22; 16]),
            item1_chain_status(port, known_first, &[0x11; 16])
        ),
        (Status::Verified, Status::Failed),
        "(B with B's key, B with A's key)"
    );
}

/// Issue 23 item 1, re-checked: an unrelated PDU of session B inside a chain
/// led by session A, signed with A's key, must not be `valid`.
#[test]
fn an_unrelated_pdu_signed_with_another_sessions_key_is_invalid() {
    assert_item1(41_090, false);
}

/// Issue 23 item 1 in its original form, once B's key is known from a lone
/// message: [A, unrelated B signed with A's key] must not show B valid.
#[test]
fn issue23_item1_after_b_is_known() {
    assert_item1(41_091, true);
}

/// Issue 23 item 7: a 3.1.1 NEGOTIATE response whose contexts do not parse
/// must be MALFORMED, not ignored (then the connection is judged as 2.x).
#[test]
fn issue23_item7_malformed_negotiate_contexts() {
    let (mut pcap, mut c) = handshaken(41_100);
    let mut nr = vec![65, 0, 1, 0, 0x11, 0x03, 2, 0]; // 3.1.1, 2 contexts
    nr.extend_from_slice(&[0; 16 + 4 * 4 + 16]);
    nr.extend_from_slice(&[128, 0, 0, 0]);
    nr.extend_from_slice(&(128u32).to_le_bytes()); // NegotiateContextOffset: 128
    nr.resize(128 - 64, 0);
    nr.extend_from_slice(&[1, 0, 0xFF, 0x7F, 0, 0, 0, 0]); // a context claiming 32767 bytes
    c.send_smb(
        &mut pcap,
        Dir::ToClient,
        &Smb2 {
            command: 0,
            flags: 1,
            ..Smb2::default()
        }
        .bytes(&nr),
    );
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    c.send_echo(&mut pcap, SID, 1, true, &KEY);
    c.close(&mut pcap);
    let r = check(&pcap);
    eprintln!("{}", r.text(false));
    assert_eq!(
        r.status(),
        Status::Failed,
        "malformed 3.1.1 NEGOTIATE response not flagged; HMAC accepted on a 3.1.1 connection"
    );
}

/// F16: a mutated capture whose IPv6 extension chain made etherparse 0.19's
/// extension iterator read out of bounds (an abort in debug builds, undefined
/// behaviour in release). The chain is now walked here, bounds-checked.
#[test]
fn a_hostile_ipv6_extension_chain_reads_cleanly() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hostile-ipv6-ext-oob.pcap");
    let o = Options {
        session_keys: vec![(None, KEY.to_vec())],
        diagnose: true,
        ..Options::default()
    };
    let r = smbsign_capture::check_file(&path, &o).expect("a readable pcap");
    eprintln!("{}", r.text(false));
    assert!(
        r.total() > 0,
        "the capture's other messages are still checked"
    );
}

/// F11's rule, the other side: traffic that cannot carry SMB over TCP (ARP,
/// UDP) is noise, not counted, and leaves a verified capture verified.
#[test]
fn arp_and_udp_frames_are_noise() {
    let mut pcap = Pcap::default();
    valid_echo_conn(&mut pcap, 41_110);
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    pcap.frame(&arp);
    let (a, b) = (
        "10.0.0.1:53".parse().unwrap(),
        "10.0.0.2:53".parse().unwrap(),
    );
    pcap.ipv4(a, b, 17, &[0, 53, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4]);
    let r = check(&pcap);
    eprintln!("{}", r.text(false));
    assert_eq!((r.status(), r.frames_undecoded), (Status::Verified, 0));
}

/// F9: well-formed NetBIOS control frames (a keep-alive, a session request)
/// carry no SMB: counted in the summary, and the result stays verified.
#[test]
fn netbios_control_frames_are_counted() {
    let (mut pcap, mut c) = handshaken(41_120);
    let mut request = vec![0x81, 0, 0, 68];
    request.resize(4 + 68, 0x20);
    c.send(&mut pcap, Dir::ToServer, &request);
    c.send(&mut pcap, Dir::ToClient, &[0x82, 0, 0, 0]);
    c.send_echo(&mut pcap, SID, 1, false, &KEY);
    c.send(&mut pcap, Dir::ToServer, &[0x85, 0, 0, 0]);
    c.send_echo(&mut pcap, SID, 1, true, &KEY);
    c.close(&mut pcap);
    let r = check(&pcap);
    let text = r.text(false);
    eprintln!("{text}");
    assert_eq!(r.status(), Status::Verified);
    assert_eq!(
        (r.streams.control_frames, r.streams.bytes_control),
        (3, 72 + 4 + 4)
    );
    assert!(text.contains("netbios: 3 session-service control frames (80 bytes, no SMB)"));
}
