//! Proves smbsign-check's verdicts on crafted captures (tests/common/craft.rs)
//! that reproduce issue 23: a compound chain is verified PDU by PDU with each
//! PDU's own session's key (a PDU signed with another session's key is INVALID,
//! related operations take the previous one's session); a SESSION_SETUP
//! request's SIGNING_REQUIRED makes a later unsigned PDU UNSIGNED-BUT-REQUIRED,
//! and each MS-SMB2 exemption is honoured and no other; a 3.1.1 NEGOTIATE
//! response whose contexts do not parse is MALFORMED and its sessions are not
//! checked under other rules; NTLMv2 user names are upper-cased per UTF-16 unit.

mod common;

use common::craft::{
    command, compound, handshaken, negotiate_context, negotiate_request_body,
    negotiate_response_body, ntlm_authenticate, session_setup_request_body,
    session_setup_response_body, sign_each, Conn, Dir, Pcap, Smb2, ECHO_BODY, RELATED, RESPONSE,
};
use smbsign::smb2::{dialect, SigningKey};
use smbsign::PreauthHash;
use smbsign_capture::{check_bytes, ntlm, Options, Report, Verdict};

const SA: u64 = 0x0000_1111_0000_0001;
const SB: u64 = 0x0000_2222_0000_0002;

fn session_key(sid: u64) -> Vec<u8> {
    (0..16)
        .map(|i| (sid as u8).wrapping_mul(31).wrapping_add(i))
        .collect()
}

/// The 3.0.2 signing key of session `sid` (no preauth hash in 3.0.2).
fn key302(sid: u64) -> SigningKey {
    SigningKey::for_session(dialect::SMB3_0_2, None, &session_key(sid), &[0; 64]).unwrap()
}

fn header(command: u16, flags: u32, status: u32, message_id: u64, session_id: u64) -> Smb2 {
    Smb2 {
        command,
        flags,
        status,
        message_id,
        session_id,
        ..Smb2::default()
    }
}

/// A connection that negotiated `dialect` with these SecurityModes.
fn negotiated(
    pcap: &mut Pcap,
    port: u16,
    dialect: u16,
    request_mode: u16,
    response_mode: u16,
) -> Conn {
    let mut c = Conn::new(port);
    c.handshake(pcap);
    let req = header(command::NEGOTIATE, 0, 0, 0, 0)
        .bytes(&negotiate_request_body(request_mode, dialect));
    let resp = header(command::NEGOTIATE, RESPONSE, 0, 0, 0).bytes(&negotiate_response_body(
        response_mode,
        dialect,
        (0, &[]),
    ));
    c.send_smb(pcap, Dir::ToServer, &req);
    c.send_smb(pcap, Dir::ToClient, &resp);
    c
}

fn keys_for(sids: &[u64]) -> Options {
    Options {
        session_keys: sids.iter().map(|&s| (Some(s), session_key(s))).collect(),
        diagnose: true,
        ..Options::default()
    }
}

fn check(pcap: &Pcap, opts: &Options) -> Report {
    check_bytes(&pcap.bytes(), opts).unwrap()
}

/// (SessionId, MessageId, verdict) of every record of `command`.
fn verdicts(r: &Report, command: u16) -> Vec<(u64, u64, Verdict)> {
    r.records
        .iter()
        .filter(|x| x.command == Some(command))
        .map(|x| (x.session_id, x.message_id, x.verdict))
        .collect()
}

/// Two unrelated ECHO responses of sessions A and B in one compound chain,
/// signed with the given keys, on a 3.0.2 connection with no SESSION_SETUP.
fn two_session_chain(keys: [&SigningKey; 2], related: bool) -> Pcap {
    let mut pcap = Pcap::default();
    let mut c = negotiated(&mut pcap, 40_001, dialect::SMB3_0_2, 1, 1);
    let b_flags = RESPONSE | if related { RELATED } else { 0 };
    let chain = compound(&[
        header(command::ECHO, RESPONSE, 0, 5, SA).bytes(&ECHO_BODY),
        header(command::ECHO, b_flags, 0, 6, SB).bytes(&ECHO_BODY),
    ]);
    c.send_smb(
        &mut pcap,
        Dir::ToClient,
        &sign_each(&chain, &[Some(keys[0]), Some(keys[1])]),
    );
    pcap
}

#[test]
fn each_pdu_of_a_chain_is_verified_with_its_own_sessions_key() {
    let (ka, kb) = (key302(SA), key302(SB));
    let both = keys_for(&[SA, SB]);
    // The forgery of issue 23 item 1: B's PDU signed with A's key.
    let r = check(&two_session_chain([&ka, &ka], false), &both);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 5, Verdict::Valid), (SB, 6, Verdict::Invalid)],
        "{}",
        r.text(false)
    );
    assert!(!r.all_valid());
    // Correctly signed: each with its own session's key.
    let r = check(&two_session_chain([&ka, &kb], false), &both);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 5, Verdict::Valid), (SB, 6, Verdict::Valid)],
        "{}",
        r.text(false)
    );
    // B without a key: NO-KEY, not valid under A's.
    let r = check(&two_session_chain([&ka, &ka], false), &keys_for(&[SA]));
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 5, Verdict::Valid), (SB, 6, Verdict::NoKey)]
    );
    // A related operation takes the previous operation's session whatever its SessionId says.
    let r = check(&two_session_chain([&ka, &ka], true), &both);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 5, Verdict::Valid), (SA, 6, Verdict::Valid)]
    );
    let r = check(&two_session_chain([&ka, &kb], true), &both);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 5, Verdict::Valid), (SA, 6, Verdict::Invalid)]
    );
}

/// A 3.0.2 session S set up in the capture (its key from --session-key), the
/// SESSION_SETUP request saying `setup_mode`, both NEGOTIATEs saying only
/// "signing enabled"; then `after`, each sent as given.
fn session_then(setup_mode: u8, after: &[(Dir, Vec<u8>)]) -> Report {
    let sid = SA;
    let mut pcap = Pcap::default();
    let mut c = negotiated(&mut pcap, 40_002, dialect::SMB3_0_2, 1, 1);
    let req = header(command::SESSION_SETUP, 0, 0, 1, 0)
        .bytes(&session_setup_request_body(setup_mode, &[]));
    let mut resp = header(command::SESSION_SETUP, RESPONSE, 0, 1, sid)
        .bytes(&session_setup_response_body(0, &[]));
    smbsign::smb2::sign_pdu(&key302(sid), &mut resp).unwrap();
    c.send_smb(&mut pcap, Dir::ToServer, &req);
    c.send_smb(&mut pcap, Dir::ToClient, &resp);
    for (dir, m) in after {
        c.send_smb(&mut pcap, *dir, m);
    }
    check(&pcap, &keys_for(&[sid]))
}

#[test]
fn session_setup_signing_required_and_every_exemption() {
    let unsigned_echo = [
        (
            Dir::ToServer,
            header(command::ECHO, 0, 0, 2, SA).bytes(&ECHO_BODY),
        ),
        (
            Dir::ToClient,
            header(command::ECHO, RESPONSE, 0, 2, SA).bytes(&ECHO_BODY),
        ),
    ];
    // Only the SESSION_SETUP request says SIGNING_REQUIRED: it applies (issue 23 item 8).
    let r = session_then(2, &unsigned_echo);
    assert_eq!(
        verdicts(&r, command::SESSION_SETUP)[1],
        (SA, 1, Verdict::Valid),
        "{}",
        r.text(false)
    );
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![
            (SA, 2, Verdict::UnsignedRequired),
            (SA, 2, Verdict::UnsignedRequired)
        ],
        "{}",
        r.text(false)
    );
    // Nobody requires signing: unsigned is no failure.
    let r = session_then(1, &unsigned_echo);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 2, Verdict::Unsigned), (SA, 2, Verdict::Unsigned)]
    );
    // The exemptions, each with its near miss, on a session that requires signing.
    const PENDING: u32 = 0x0000_0103;
    const ASYNC: u32 = 0x2;
    const OPLOCK_BREAK: u16 = 0x12;
    let to_client = |h: Smb2| (Dir::ToClient, h.bytes(&ECHO_BODY));
    let r = session_then(
        2,
        &[
            to_client(header(command::ECHO, RESPONSE | ASYNC, PENDING, 10, SA)),
            to_client(header(command::ECHO, RESPONSE, PENDING, 11, SA)),
            to_client(header(OPLOCK_BREAK, RESPONSE, 0, u64::MAX, SA)),
            to_client(header(command::ECHO, RESPONSE, 0, u64::MAX, SA)),
            to_client(header(command::ECHO, RESPONSE, 0xC000_0203, 12, SA)),
            to_client(header(command::ECHO, RESPONSE, 0xC000_035C, 13, SA)),
        ],
    );
    let got: Vec<(u64, Verdict)> = r
        .records
        .iter()
        .filter(|x| x.message_id >= 10)
        .map(|x| (x.message_id, x.verdict))
        .collect();
    assert_eq!(
        got,
        vec![
            (10, Verdict::Unsigned),         // interim response (async STATUS_PENDING)
            (11, Verdict::UnsignedRequired), // synchronous STATUS_PENDING is no interim response
            (u64::MAX, Verdict::Unsigned),   // oplock break notification
            (u64::MAX, Verdict::UnsignedRequired), // MessageId all ones on another command
            (12, Verdict::Unsigned),         // STATUS_USER_SESSION_DELETED
            (13, Verdict::UnsignedRequired), // STATUS_NETWORK_SESSION_EXPIRED: the session has its key
        ],
        "{}",
        r.text(false)
    );
}

/// A 3.1.1 connection whose NEGOTIATE response carries `contexts`, then a
/// session S (key from --session-key) whose final SESSION_SETUP response and
/// one ECHO response are signed as AES-GMAC with the preauth hash the
/// well-formed exchange gives.
fn smb311(contexts: (u16, &[u8])) -> Report {
    let sid = SA;
    let (mut pcap, mut c) = handshaken(40_003);
    let neg_req =
        header(command::NEGOTIATE, 0, 0, 0, 0).bytes(&negotiate_request_body(1, dialect::SMB3_1_1));
    let neg_resp = header(command::NEGOTIATE, RESPONSE, 0, 0, 0).bytes(&negotiate_response_body(
        1,
        dialect::SMB3_1_1,
        contexts,
    ));
    let setup_req =
        header(command::SESSION_SETUP, 0, 0, 1, 0).bytes(&session_setup_request_body(1, &[]));
    let mut h = PreauthHash::new();
    for m in [&neg_req, &neg_resp, &setup_req] {
        h.update(m);
    }
    let key =
        SigningKey::for_session(dialect::SMB3_1_1, Some(2), &session_key(sid), h.value()).unwrap();
    let mut setup_resp = header(command::SESSION_SETUP, RESPONSE, 0, 1, sid)
        .bytes(&session_setup_response_body(0, &[]));
    smbsign::smb2::sign_pdu(&key, &mut setup_resp).unwrap();
    let mut echo = header(command::ECHO, RESPONSE, 0, 2, sid).bytes(&ECHO_BODY);
    smbsign::smb2::sign_pdu(&key, &mut echo).unwrap();
    c.send_smb(&mut pcap, Dir::ToServer, &neg_req);
    c.send_smb(&mut pcap, Dir::ToClient, &neg_resp);
    c.send_smb(&mut pcap, Dir::ToServer, &setup_req);
    c.send_smb(&mut pcap, Dir::ToClient, &setup_resp);
    c.send_smb(&mut pcap, Dir::ToClient, &echo);
    check(&pcap, &keys_for(&[sid]))
}

#[test]
fn malformed_negotiate_contexts_are_flagged_not_ignored() {
    let preauth = negotiate_context(
        1,
        &[
            1, 0, 32, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    let gmac = negotiate_context(8, &[1, 0, 2, 0]);
    let good = [preauth.clone(), gmac].concat();
    // Well-formed: the chain of evidence holds, GMAC verifies.
    let r = smb311((2, &good));
    assert_eq!(verdicts(&r, command::NEGOTIATE)[1].2, Verdict::Unsigned);
    assert_eq!(
        verdicts(&r, command::ECHO),
        vec![(SA, 2, Verdict::Valid)],
        "{}",
        r.text(false)
    );
    // The count says two contexts, the message holds one (issue 23 item 7).
    let r = smb311((2, &preauth));
    let neg = r
        .records
        .iter()
        .filter(|x| x.command == Some(command::NEGOTIATE))
        .nth(1)
        .unwrap();
    assert_eq!(neg.verdict, Verdict::Malformed);
    assert!(
        neg.note.as_deref().unwrap().contains("negotiate contexts"),
        "{:?}",
        neg.note
    );
    for (_, _, v) in verdicts(&r, command::ECHO) {
        assert_eq!(v, Verdict::NoKey, "{}", r.text(false));
    }
    assert!(!r.all_valid());
    // A SIGNING_CAPABILITIES context that names no algorithm does not parse either.
    let none = [preauth, negotiate_context(8, &[0, 0])].concat();
    let r = smb311((2, &none));
    assert_eq!(verdicts(&r, command::NEGOTIATE)[1].2, Verdict::Malformed);
}

/// A 3.0.2 session set up with NTLMSSP for `user` (UTF-16 units as on the
/// wire), checked with --password; the final SESSION_SETUP response and an
/// ECHO are signed with the key NTLMv2 gives for `signed_as` (the user name
/// already in upper case).
fn ntlm_session(user: &[u16], signed_as: &[u16]) -> Report {
    const PASSWORD: &str = "Pa55-wörd";
    let sid = SA;
    let mut nt_response = vec![0x42; 16]; // NTProofStr (no CHALLENGE in the capture: not checked)
    nt_response.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0]);
    let domain: Vec<u16> = "DOM".encode_utf16().collect();
    let token = ntlm_authenticate(&nt_response, &domain, user, 1);
    let reference = ntlm::Authenticate {
        nt_response: nt_response.clone(),
        user: String::new(),
        domain: String::new(),
        user_units: signed_as.to_vec(),
        domain_units: domain,
        encrypted_session_key: Vec::new(),
        flags: 1,
    };
    let sk = ntlm::session_key(&reference, PASSWORD, None, None, None).unwrap();
    let key = SigningKey::for_session(dialect::SMB3_0_2, None, &sk[..], &[0; 64]).unwrap();
    let mut pcap = Pcap::default();
    let mut c = negotiated(&mut pcap, 40_004, dialect::SMB3_0_2, 1, 1);
    let req =
        header(command::SESSION_SETUP, 0, 0, 1, 0).bytes(&session_setup_request_body(1, &token));
    let mut resp = header(command::SESSION_SETUP, RESPONSE, 0, 1, sid)
        .bytes(&session_setup_response_body(0, &[]));
    smbsign::smb2::sign_pdu(&key, &mut resp).unwrap();
    let mut echo = header(command::ECHO, RESPONSE, 0, 2, sid).bytes(&ECHO_BODY);
    smbsign::smb2::sign_pdu(&key, &mut echo).unwrap();
    c.send_smb(&mut pcap, Dir::ToServer, &req);
    c.send_smb(&mut pcap, Dir::ToClient, &resp);
    c.send_smb(&mut pcap, Dir::ToClient, &echo);
    let opts = Options {
        password: Some(PASSWORD.into()),
        ..Options::default()
    };
    check(&pcap, &opts)
}

#[test]
fn ntlm_user_names_upcase_per_utf16_unit() {
    let u = |s: &str| -> Vec<u16> { s.encode_utf16().collect() };
    for (user, upper) in [
        (u("weiß"), u("WEIß")),
        (u("\u{FB01}ona"), u("\u{FB01}ONA")),
        (vec![0x61, 0xD800, 0x62], vec![0x41, 0xD800, 0x42]), // an unpaired surrogate kept
    ] {
        let r = ntlm_session(&user, &upper);
        assert_eq!(
            verdicts(&r, command::ECHO),
            vec![(SA, 2, Verdict::Valid)],
            "{user:x?}: {}",
            r.text(false)
        );
    }
    // Rust's full mapping ("WEISS") is not what Windows and Samba hash.
    let r = ntlm_session(&u("weiß"), &u("WEISS"));
    assert_eq!(verdicts(&r, command::ECHO), vec![(SA, 2, Verdict::Invalid)]);
}
