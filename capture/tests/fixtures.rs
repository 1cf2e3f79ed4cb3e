//! Proves smbsign-check on the committed Samba captures (capture/tests/fixtures):
//! every signed PDU verifies with the password and with the independently
//! computed session keys, over Ethernet and Linux SLL2, pcap and pcapng, and
//! re-encapsulated as Linux SLL, BSD loopback and raw IP, IPv4 and IPv6; a
//! flipped byte makes exactly its message invalid; a wrong password makes all
//! invalid; signatures re-made with a known mistake (GMAC role or CANCEL bit, another
//! algorithm, another key of the set, the 3.0 labels, a preauth hash over the
//! final response or missing the last request, the session key unKDFed, a MAC
//! over the rest of a compound or without the padding before NextCommand)
//! are each diagnosed as that mistake; a capture starting after SESSION_SETUP
//! checks with --session-key (2.x, 3.0); broken files give errors, not panics.

use std::net::SocketAddr;
use std::path::PathBuf;

use smbsign::kdf::{self, CipherKeyLen};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::PreauthHash;
use smbsign_capture::{check_bytes, for_each_message, Options, Report, Verdict};

const PASSWORD: &str = "Sm8sign-Test!";

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(p).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn keys(name: &str) -> Vec<(u64, Vec<u8>)> {
    String::from_utf8(fixture(name))
        .unwrap()
        .lines()
        .map(|l| {
            let (sid, key) = l.split_once(':').unwrap();
            (u64::from_str_radix(sid, 16).unwrap(), hex(key))
        })
        .collect()
}

fn with_password(pw: &str) -> Options {
    Options {
        password: Some(pw.into()),
        diagnose: true,
        ..Options::default()
    }
}

fn signed(r: &Report) -> Vec<(u64, u64, bool, Verdict)> {
    r.records
        .iter()
        .filter(|r| r.verdict != Verdict::Unsigned)
        .map(|r| (r.frame, r.message_id, r.response, r.verdict))
        .collect()
}

struct Msg {
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
}

fn messages(capture: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    for_each_message(capture, |_frame, src, dst, m| {
        out.push(Msg {
            src,
            dst,
            bytes: m.to_vec(),
        })
    })
    .unwrap();
    out
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The capture with the signature of `pdu` (found by its first 48 bytes) replaced.
fn resigned(capture: &[u8], pdu: &[u8], sig: [u8; 16]) -> Vec<u8> {
    let at: Vec<usize> = capture
        .windows(48)
        .enumerate()
        .filter(|(_, w)| *w == &pdu[..48])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the PDU's header occurs once in the file");
    let mut out = capture.to_vec();
    out[at[0] + 48..at[0] + 64].copy_from_slice(&sig);
    out
}

/// Checks `capture` and returns the diagnosis of its only invalid PDU, which
/// must be message `mid`.
fn only_invalid(capture: &[u8], mid: u64) -> String {
    let r = check_bytes(capture, &with_password(PASSWORD)).unwrap();
    let bad: Vec<_> = r
        .records
        .iter()
        .filter(|r| r.verdict == Verdict::Invalid)
        .collect();
    assert_eq!(bad.len(), 1, "{}", r.text(true));
    assert_eq!(bad[0].message_id, mid);
    assert!(!r.all_valid());
    bad[0].diagnosis.join(" | ")
}

#[test]
fn every_fixture_verifies_with_password_and_session_keys() {
    for (name, alg, link) in [
        ("smb311-gmac.pcap", Algorithm::AesGmac, "ethernet"),
        ("smb311-gmac.pcapng", Algorithm::AesGmac, "ethernet"),
        ("smb302-cmac.pcap", Algorithm::AesCmac, "ethernet"),
        ("smb202-hmac-sll2.pcap", Algorithm::HmacSha256, "sll2"),
    ] {
        let cap = fixture(name);
        let r = check_bytes(&cap, &with_password(PASSWORD)).unwrap();
        assert!(r.all_valid(), "{name} ({link}): {}", r.text(true));
        let valid: Vec<_> = r
            .records
            .iter()
            .filter(|r| r.verdict == Verdict::Valid)
            .collect();
        assert!(valid.len() >= 40, "{name}: {}", valid.len());
        assert!(valid.iter().all(|r| r.algorithm == Some(alg)));
        // Compound chains: several PDUs of one direction completed by one frame.
        let compound = r
            .records
            .windows(2)
            .any(|w| w[0].frame == w[1].frame && w[0].response == w[1].response);
        assert!(compound, "{name} holds compound chains");
        // Unsigned: only NEGOTIATE, SESSION_SETUP before the final response,
        // and interim (STATUS_PENDING) responses.
        assert!(r
            .records
            .iter()
            .filter(|r| r.verdict == Verdict::Unsigned)
            .all(|r| matches!(r.command, Some(0 | 1)) || r.status == 0x103));

        let key_base = name.split('.').next().unwrap();
        let by_key = Options {
            session_keys: keys(&format!("{key_base}.keys"))
                .into_iter()
                .map(|(s, k)| (Some(s), k))
                .collect(),
            ..Options::default()
        };
        let rk = check_bytes(&cap, &by_key).unwrap();
        assert!(
            rk.all_valid(),
            "{name} with --session-key: {}",
            rk.text(true)
        );
        // smbclient's and smbtorture's sessions, each named with its key source.
        assert_eq!(r.sessions.len(), 2, "{:?}", r.sessions);
        assert!(r.sessions.iter().all(|l| l.contains(&format!(
            "{}, key from --password (NTLMv2 for WORKGROUP\\smbsigntest)",
            alg.name()
        ))));
        assert!(rk
            .sessions
            .iter()
            .all(|l| l.ends_with(&format!("{}, key from --session-key", alg.name()))));
        assert_eq!(signed(&rk), signed(&r));

        let wrong = check_bytes(&cap, &with_password("Sm8sign-Test?")).unwrap();
        assert!(!wrong.all_valid());
        assert!(signed(&wrong)
            .iter()
            .zip(signed(&r))
            .all(|(w, v)| w.3 == Verdict::Invalid && (w.0, w.1, w.2) == (v.0, v.1, v.2)));
        assert!(wrong
            .notes
            .iter()
            .any(|n| n.contains("password does not match")));
    }
    let a = check_bytes(&fixture("smb311-gmac.pcap"), &with_password(PASSWORD)).unwrap();
    let b = check_bytes(&fixture("smb311-gmac.pcapng"), &with_password(PASSWORD)).unwrap();
    assert_eq!(signed(&a), signed(&b));
}

#[test]
fn no_key_without_password_and_flipped_bytes_are_found() {
    let cap = fixture("smb302-cmac.pcap");
    let r = check_bytes(&cap, &Options::default()).unwrap();
    assert!(!r.all_valid());
    assert!(r
        .records
        .iter()
        .all(|r| matches!(r.verdict, Verdict::NoKey | Verdict::Unsigned)));

    // The last byte of a signed single-PDU message.
    let msgs = messages(&cap);
    let target = msgs
        .iter()
        .find(|m| m.bytes.len() > 100 && m.bytes[16] & 8 != 0 && u16_at(&m.bytes, 20) == 0)
        .unwrap();
    let at = cap
        .windows(target.bytes.len())
        .position(|w| w == target.bytes)
        .unwrap();
    let mut bad = cap.clone();
    bad[at + target.bytes.len() - 1] ^= 1;
    let d = only_invalid(&bad, u64_at(&target.bytes, 24));
    assert!(d.contains("no known mistake"), "{d}");

    // The same message sent unsigned on a session that requires signing.
    let mut unsigned = cap.clone();
    unsigned[at + 16] &= !8;
    unsigned[at + 48..at + 64].fill(0);
    let r = check_bytes(&unsigned, &with_password(PASSWORD)).unwrap();
    let failed: Vec<_> = r
        .records
        .iter()
        .filter(|r| r.verdict.is_failure())
        .collect();
    assert_eq!(failed.len(), 1, "{}", r.text(true));
    assert_eq!(failed[0].verdict, Verdict::UnsignedRequired);
    assert_eq!(failed[0].message_id, u64_at(&target.bytes, 24));
}

/// The 3.1.1 signing inputs of the session of the connection that sent
/// compound requests (smbtorture's), derived here from its messages and the
/// fixture's session key.
struct Session311 {
    session_key: Vec<u8>,
    preauth: [u8; 64],
    /// Before the last SESSION_SETUP request.
    before_last_request: [u8; 64],
    with_final: [u8; 64],
    msgs: Vec<Msg>,
}

fn session311() -> Session311 {
    let cap = fixture("smb311-gmac.pcap");
    let msgs = messages(&cap);
    let chain = msgs
        .iter()
        .find(|m| u16_at(&m.bytes, 20) != 0 && m.bytes[16] & 1 == 0)
        .expect("a compound request");
    let client = chain.src;
    let conn: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.src == client || m.dst == client)
        .collect();
    let mut h = PreauthHash::new();
    let mut sid = 0;
    let mut with_final = [0; 64];
    let mut before_last_request = [0; 64];
    for m in conn {
        let b = &m.bytes;
        let (cmd, status) = (
            u16_at(b, 12),
            u32::from_le_bytes(b[8..12].try_into().unwrap()),
        );
        let response = b[16] & 1 != 0;
        match (cmd, response) {
            (0, _) => h.update(b),
            (1, false) => {
                before_last_request = *h.value();
                h.update(b)
            }
            (1, true) if status != 0 => h.update(b),
            (1, true) => {
                sid = u64_at(b, 40);
                let mut f = h.clone();
                f.update(b);
                with_final = *f.value();
                break;
            }
            _ => {}
        }
    }
    let session_key = keys("smb311-gmac.keys")
        .into_iter()
        .find(|(s, _)| *s == sid)
        .unwrap()
        .1;
    Session311 {
        session_key,
        preauth: *h.value(),
        before_last_request,
        with_final,
        msgs: msgs
            .into_iter()
            .filter(|m| u64_at(&m.bytes, 40) == sid && (m.src == client || m.dst == client))
            .collect(),
    }
}

#[test]
fn mistakes_are_diagnosed() {
    let cap = fixture("smb311-gmac.pcap");
    let s = session311();
    let sk = &s.session_key[..];
    let keys = kdf::smb311_keys(sk, sk, &s.preauth, CipherKeyLen::Aes128).unwrap();
    let gmac = SigningKey::new(Algorithm::AesGmac, &keys.signing).unwrap();
    // A signed single-PDU request of the session; the derived key verifies it.
    let target = s
        .msgs
        .iter()
        .find(|m| m.bytes[16] & 9 == 8 && u16_at(&m.bytes, 20) == 0 && u16_at(&m.bytes, 12) > 1)
        .unwrap();
    let pdu = &target.bytes[..];
    smb2::verify_pdu(&gmac, pdu).unwrap();
    let mid = u64_at(pdu, 24);
    let head = smb2::header_for_mac(pdu).unwrap();
    let body = &pdu[64..];
    let nonce = smb2::gmac_nonce(pdu).unwrap();
    let mac = |key: &SigningKey, nonce: Option<&[u8; 12]>| {
        key.mac_vectored(nonce, &[&head[..], body]).unwrap()
    };

    let mut role = head;
    role[16] ^= 1;
    let role_nonce = smb2::gmac_nonce(&role).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&gmac, Some(&role_nonce))), mid);
    assert!(d.contains("role bit"), "{d}");

    let mut cancel = head;
    cancel[12..14].copy_from_slice(&smb2::COMMAND_CANCEL.to_le_bytes());
    let cancel_nonce = smb2::gmac_nonce(&cancel).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&gmac, Some(&cancel_nonce))), mid);
    assert!(d.contains("CANCEL bit"), "{d}");

    let cmac = SigningKey::new(Algorithm::AesCmac, &keys.signing).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&cmac, None)), mid);
    assert!(d.contains("aes-cmac instead of aes-gmac"), "{d}");

    let app = SigningKey::new(Algorithm::AesGmac, &keys.application).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&app, Some(&nonce))), mid);
    assert!(d.contains("application key"), "{d}");

    let k30 = kdf::smb30_keys(sk).unwrap();
    let labels30 = SigningKey::new(Algorithm::AesGmac, &k30.signing).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&labels30, Some(&nonce))), mid);
    assert!(d.contains("SMB 3.0 labels"), "{d}");

    let kf = kdf::smb311_keys(sk, sk, &s.with_final, CipherKeyLen::Aes128).unwrap();
    let final_hash = SigningKey::new(Algorithm::AesGmac, &kf.signing).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&final_hash, Some(&nonce))), mid);
    assert!(d.contains("final SESSION_SETUP response"), "{d}");

    let kb = kdf::smb311_keys(sk, sk, &s.before_last_request, CipherKeyLen::Aes128).unwrap();
    let early_hash = SigningKey::new(Algorithm::AesGmac, &kb.signing).unwrap();
    let d = only_invalid(&resigned(&cap, pdu, mac(&early_hash, Some(&nonce))), mid);
    assert!(d.contains("later messages left out"), "{d}");

    let mut unflagged = head;
    unflagged[16] &= !8;
    let sig = gmac
        .mac_vectored(Some(&nonce), &[&unflagged[..], body])
        .unwrap();
    let d = only_invalid(&resigned(&cap, pdu, sig), mid);
    assert!(d.contains("before SMB2_FLAGS_SIGNED"), "{d}");

    // A compound chain's first PDU MACed over the rest of the chain.
    let chain = s
        .msgs
        .iter()
        .find(|m| u16_at(&m.bytes, 20) != 0 && m.bytes[16] & 8 != 0)
        .expect("a signed compound chain");
    let first = &chain.bytes[..];
    let h0 = smb2::header_for_mac(first).unwrap();
    let sig = gmac
        .mac_vectored(
            Some(&smb2::gmac_nonce(first).unwrap()),
            &[&h0[..], &first[64..]],
        )
        .unwrap();
    let d = only_invalid(&resigned(&cap, first, sig), u64_at(first, 24));
    assert!(d.contains("rest of the compound"), "{d}");

    // A non-last PDU of a chain MACed without its zero padding before NextCommand.
    let (padded, pad) = s
        .msgs
        .iter()
        .filter(|m| u16_at(&m.bytes, 20) != 0 && m.bytes[16] & 8 != 0)
        .find_map(|m| {
            let next = u32::from_le_bytes(m.bytes[20..24].try_into().unwrap()) as usize;
            let zeros = m.bytes[64..next]
                .iter()
                .rev()
                .take(7)
                .take_while(|&&b| b == 0)
                .count();
            (zeros > 0).then(|| (&m.bytes[..next], zeros))
        })
        .expect("a chain whose first PDU ends in padding");
    let hp = smb2::header_for_mac(padded).unwrap();
    let sig = gmac
        .mac_vectored(
            Some(&smb2::gmac_nonce(padded).unwrap()),
            &[&hp[..], &padded[64..padded.len() - pad]],
        )
        .unwrap();
    let d = only_invalid(&resigned(&cap, padded, sig), u64_at(padded, 24));
    assert!(d.contains("padding byte(s) before the next PDU"), "{d}");
}

#[test]
fn unkdfed_session_key_is_diagnosed() {
    let cap = fixture("smb302-cmac.pcap");
    let msgs = messages(&cap);
    let target = msgs
        .iter()
        .find(|m| m.bytes[16] & 9 == 9 && u16_at(&m.bytes, 20) == 0 && u16_at(&m.bytes, 12) > 1)
        .unwrap();
    let sid = u64_at(&target.bytes, 40);
    let sk = keys("smb302-cmac.keys")
        .into_iter()
        .find(|(s, _)| *s == sid)
        .unwrap()
        .1;
    let raw = SigningKey::new(Algorithm::AesCmac, &sk).unwrap();
    let head = smb2::header_for_mac(&target.bytes).unwrap();
    let sig = raw
        .mac_vectored(None, &[&head[..], &target.bytes[64..]])
        .unwrap();
    let d = only_invalid(
        &resigned(&cap, &target.bytes, sig),
        u64_at(&target.bytes, 24),
    );
    assert!(d.contains("session key itself"), "{d}");
}

#[test]
fn broken_files_are_errors_or_partial_reports_never_panics() {
    assert!(check_bytes(b"", &Options::default()).is_err());
    assert!(check_bytes(b"definitely not a capture file", &Options::default()).is_err());
    let cap = fixture("smb311-gmac.pcap");
    // The pcap header alone: no SMB, not "all valid".
    let empty = check_bytes(&cap[..24], &with_password(PASSWORD)).unwrap();
    assert!(empty.records.is_empty() && !empty.all_valid());
    assert!(empty.text(false).contains("no SMB2 messages"));
    // Cut anywhere: a prefix of the full list, valid or unsigned, and an error noted when mid-record.
    let full = check_bytes(&cap, &with_password(PASSWORD)).unwrap();
    for cut in (25..cap.len()).step_by(997) {
        let r = check_bytes(&cap[..cut], &with_password(PASSWORD)).unwrap();
        assert!(r.records.len() <= full.records.len());
        for (a, b) in r.records.iter().zip(&full.records) {
            assert_eq!((a.frame, a.message_id), (b.frame, b.message_id));
            assert!(matches!(a.verdict, Verdict::Valid | Verdict::Unsigned));
        }
    }
    // Garbage after a valid header, and every single-byte corruption of the first 4 KiB.
    let mut junk = cap[..24].to_vec();
    junk.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let _ = check_bytes(&junk, &Options::default());
    for i in (0..4096.min(cap.len())).step_by(7) {
        let mut c = cap.clone();
        c[i] ^= 0xA5;
        let _ = check_bytes(&c, &with_password(PASSWORD));
    }
}

/// A classic pcap without its first `n` frames.
fn drop_frames(pcap: &[u8], n: usize) -> Vec<u8> {
    let mut at = 24;
    for _ in 0..n {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    [&pcap[..24], &pcap[at..]].concat()
}

#[test]
fn capture_starting_after_session_setup_checks_with_session_key() {
    for (name, keys_file, alg) in [
        ("smb302-cmac.pcap", "smb302-cmac.keys", Algorithm::AesCmac),
        (
            "smb202-hmac-sll2.pcap",
            "smb202-hmac-sll2.keys",
            Algorithm::HmacSha256,
        ),
        ("smb311-gmac.pcap", "smb311-gmac.keys", Algorithm::AesGmac),
    ] {
        let cap = fixture(name);
        let full = check_bytes(&cap, &with_password(PASSWORD)).unwrap();
        // Start after the first connection's final SESSION_SETUP response, mid-stream.
        let setup_done = full
            .records
            .iter()
            .find(|r| r.command == Some(1) && r.response && r.status == 0)
            .unwrap()
            .frame;
        let cut = drop_frames(&cap, setup_done as usize);
        let opts = Options {
            session_keys: keys(keys_file)
                .into_iter()
                .map(|(s, k)| (Some(s), k))
                .collect(),
            ..Options::default()
        };
        let r = check_bytes(&cut, &opts).unwrap();
        let first_sid = full
            .records
            .iter()
            .find(|r| r.frame == setup_done)
            .unwrap()
            .session_id;
        let mid: Vec<_> = r
            .records
            .iter()
            .filter(|x| x.session_id == first_sid && x.verdict != Verdict::Unsigned)
            .collect();
        assert!(mid.len() > 5, "{name}");
        if alg == Algorithm::AesGmac {
            assert!(
                mid.iter().all(|x| x.verdict == Verdict::NoKey),
                "{}",
                r.text(false)
            );
            assert!(mid[0].note.as_deref().unwrap_or("").contains("preauth"));
        } else {
            assert!(
                mid.iter()
                    .all(|x| x.verdict == Verdict::Valid && x.algorithm == Some(alg)),
                "{name}: {}",
                r.text(false)
            );
        }
        // The other session (smbtorture's connection) is whole: valid as before.
        assert!(r
            .records
            .iter()
            .filter(|x| x.session_id != first_sid && x.verdict != Verdict::Unsigned)
            .all(|x| x.verdict == Verdict::Valid));
    }
}

/// Builds a link header for an IP version.
type LinkHeader = dyn Fn(u8) -> Vec<u8>;

/// The Ethernet/IPv4 fixture re-encapsulated: each frame's link header
/// replaced (`link` = pcap LINKTYPE, `prefix` builds the new link header from
/// the IP version), IPv4 optionally rewritten as IPv6 (::1 to ::1, same TCP).
fn reencapsulated(pcap: &[u8], link: u32, ipv6: bool, prefix: &LinkHeader) -> Vec<u8> {
    let mut out = pcap[..24].to_vec();
    out[20..24].copy_from_slice(&link.to_le_bytes());
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let rec = &pcap[at..at + 16];
        let caplen = u32::from_le_bytes(rec[8..12].try_into().unwrap()) as usize;
        let origlen = u32::from_le_bytes(rec[12..16].try_into().unwrap()) as usize;
        let frame = &pcap[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 15) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let mut body = prefix(if ipv6 { 6 } else { 4 });
        if ipv6 {
            let mut v6 = vec![0x60, 0, 0, 0];
            v6.extend_from_slice(&((total - ihl) as u16).to_be_bytes());
            v6.extend_from_slice(&[6, 64]);
            let mut lo = [0u8; 16];
            lo[15] = 1;
            v6.extend_from_slice(&lo);
            v6.extend_from_slice(&lo);
            body.extend_from_slice(&v6);
            body.extend_from_slice(&ip[ihl..]);
        } else {
            body.extend_from_slice(ip);
        }
        let grow = body.len() as isize - frame.len() as isize;
        let mut r = rec.to_vec();
        r[8..12].copy_from_slice(&(body.len() as u32).to_le_bytes());
        r[12..16].copy_from_slice(&((origlen as isize + grow) as u32).to_le_bytes());
        out.extend_from_slice(&r);
        out.extend_from_slice(&body);
    }
    out
}

#[test]
fn link_layers_and_ipv6() {
    let cap = fixture("smb311-gmac.pcap");
    let reference = signed(&check_bytes(&cap, &with_password(PASSWORD)).unwrap());
    fn ethertype(v: u8) -> [u8; 2] {
        if v == 6 {
            [0x86, 0xDD]
        } else {
            [0x08, 0x00]
        }
    }
    let ethernet = |v: u8| [vec![0u8; 12], ethertype(v).to_vec()].concat();
    let sll = |v: u8| [vec![0u8; 14], ethertype(v).to_vec()].concat();
    let null = |v: u8| {
        if v == 6 {
            vec![10, 0, 0, 0]
        } else {
            vec![2, 0, 0, 0]
        }
    };
    let raw = |_: u8| Vec::new();
    let cases: [(&str, u32, &LinkHeader); 4] = [
        ("ethernet", 1, &ethernet),
        ("linux sll", 113, &sll),
        ("bsd loopback", 0, &null),
        ("raw ip", 101, &raw),
    ];
    for (what, link, prefix) in cases {
        for ipv6 in [false, true] {
            let c = reencapsulated(&cap, link, ipv6, prefix);
            let r = check_bytes(&c, &with_password(PASSWORD)).unwrap();
            assert!(r.all_valid(), "{what} ipv6={ipv6}: {}", r.text(true));
            assert_eq!(signed(&r), reference, "{what} ipv6={ipv6}");
            if ipv6 {
                assert!(r.records.iter().all(|x| x.src.is_ipv6()));
            }
        }
    }
}
