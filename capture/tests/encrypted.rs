//! smbsign-check on encrypted sessions recorded from Debian's smbd 4.17 with
//! `server smb encrypt = required` (capture/tests/fixtures/smb3*-{ccm,gcm}*.pcap,
//! `scripts/record-encrypted-fixtures.py`): one per cipher, AES-128-CCM on
//! 3.0.2 and the four on 3.1.1. Every transform message verifies and
//! decrypts with the password and with the session key (computed
//! independently, `*.keys`), and the PDUs inside are checked; without keys
//! they are reported not checked; a flipped ciphertext byte is INVALID, a
//! message of the other direction in its place is diagnosed as the other
//! direction's key, a replayed or re-encrypted message with an earlier nonce
//! is a NONCE-REUSED finding, and a retransmitted segment is not.

use std::path::PathBuf;

use smbsign::cipher::{Cipher, Key};
use smbsign::kdf;
use smbsign::smb2::transform;
use smbsign_capture::report::Status;
use smbsign_capture::{check_bytes, for_each_message, Options, Report, Verdict};

const PASSWORD: &str = "Sm8sign-Test!";

const FIXTURES: [(&str, Cipher); 5] = [
    ("smb302-ccm128", Cipher::Aes128Ccm),
    ("smb311-ccm128", Cipher::Aes128Ccm),
    ("smb311-gcm128", Cipher::Aes128Gcm),
    ("smb311-ccm256", Cipher::Aes256Ccm),
    ("smb311-gcm256", Cipher::Aes256Gcm),
];

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(p).unwrap()
}

fn session_key(name: &str) -> (u64, Vec<u8>) {
    let text = String::from_utf8(fixture(&format!("{name}.keys"))).unwrap();
    let (sid, key) = text.trim().split_once(':').unwrap();
    let key = (0..key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key[i..i + 2], 16).unwrap())
        .collect();
    (u64::from_str_radix(sid, 16).unwrap(), key)
}

fn with_password() -> Options {
    Options {
        password: Some(PASSWORD.into()),
        diagnose: true,
        ..Options::default()
    }
}

/// Transform messages of the capture, in order: (client-to-server, bytes).
fn transforms(cap: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut client = None;
    for_each_message(cap, |_, src, _, m| {
        if m.starts_with(b"\xfeSMB") && m[16] & 1 == 0 {
            client.get_or_insert(src);
        }
        if transform::is_transform(m) {
            out.push((Some(src) == client, m.to_vec()));
        }
    })
    .unwrap();
    out
}

/// The capture with message `from` (whole, in one frame) replaced by `to`, of the same length.
fn replaced(cap: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = cap
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the message occurs once in the file");
    let mut out = cap.to_vec();
    out[at[0]..at[0] + to.len()].copy_from_slice(to);
    out
}

fn failures(r: &Report) -> Vec<&smbsign_capture::Record> {
    r.records
        .iter()
        .filter(|r| r.verdict.is_failure())
        .collect()
}

#[test]
fn every_cipher_decrypts_with_password_and_session_key() {
    for (name, cipher) in FIXTURES {
        let cap = fixture(&format!("{name}.pcap"));
        let (sid, key) = session_key(name);
        let by_key = Options {
            session_keys: vec![(Some(sid), key)],
            ..Options::default()
        };
        let n = transforms(&cap).len();
        assert!(n >= 20, "{name}: {n} transform messages");
        for opts in [with_password(), by_key] {
            let r = check_bytes(&cap, &opts).unwrap();
            assert_eq!(r.status(), Status::Verified, "{name}: {}", r.text(false));
            assert_eq!(r.status().code(), 0);
            // Each transform carries one PDU here (smbclient does not compound under encryption).
            let dec: Vec<_> = r
                .records
                .iter()
                .filter(|x| x.verdict == Verdict::Decrypted)
                .collect();
            assert_eq!(dec.len(), n, "{name}");
            assert!(dec
                .iter()
                .all(|x| x.cipher == Some(cipher) && x.session_id == sid && x.note.is_none()));
            // The PDUs inside were read: what `ls` does.
            for cmd in ["TREE_CONNECT", "CREATE", "QUERY_DIRECTORY", "CLOSE"] {
                assert!(dec.iter().any(|x| x.command_name() == cmd), "{name}: {cmd}");
            }
            assert_eq!(r.count(Verdict::Encrypted), 0);
            assert_eq!(r.count(Verdict::NonceReused), 0);
            let note = format!(
                "session {sid:#018x}: encrypted with {} (first decrypted in frame 12)",
                cipher.name()
            );
            assert!(r.notes.contains(&note), "{:?}", r.notes);
            assert!(r
                .json()
                .contains(&format!("\"cipher\":\"{}\"", cipher.name())));
        }
    }
}

#[test]
fn without_keys_transforms_are_not_checked() {
    for (name, _) in FIXTURES {
        let cap = fixture(&format!("{name}.pcap"));
        let n = transforms(&cap).len();
        let r = check_bytes(&cap, &Options::default()).unwrap();
        assert_eq!(r.count(Verdict::Encrypted), n as u64, "{name}");
        assert!(r
            .records
            .iter()
            .filter(|x| x.verdict == Verdict::Encrypted)
            .all(|x| x
                .note
                .as_deref()
                .unwrap()
                .contains("not decrypted: no key: give --password or --session-key")));
        // The final SESSION_SETUP response is signed: NO-KEY, a failure.
        assert_eq!(r.status(), Status::Failed);
        // Only the transform messages (the capture cut after SESSION_SETUP, no key): not checked, exit 3.
        let last_setup = r
            .records
            .iter()
            .filter(|x| x.command == Some(1))
            .map(|x| x.frame)
            .max()
            .unwrap();
        let cut = drop_frames(&cap, last_setup as usize);
        let r = check_bytes(&cut, &with_password()).unwrap();
        assert_eq!(
            r.count(Verdict::Encrypted),
            n as u64,
            "{name}: {}",
            r.text(false)
        );
        assert_eq!(r.status(), Status::Incomplete);
        assert_eq!(r.status().code(), 3);
        assert!(r.summary().contains("encrypted (not decrypted)"));
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

/// A classic pcap with frame `i` (from 0) written twice in a row: a TCP retransmission.
fn duplicate_frame(pcap: &[u8], i: usize) -> Vec<u8> {
    let mut at = 24;
    for _ in 0..i {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
    let frame = &pcap[at..at + 16 + caplen];
    [&pcap[..at + 16 + caplen], frame, &pcap[at + 16 + caplen..]].concat()
}

#[test]
fn a_mid_stream_30_session_decrypts_with_session_key() {
    let name = "smb302-ccm128";
    let cap = fixture(&format!("{name}.pcap"));
    let (sid, key) = session_key(name);
    let full = check_bytes(&cap, &with_password()).unwrap();
    let last_setup = full
        .records
        .iter()
        .filter(|x| x.command == Some(1))
        .map(|x| x.frame)
        .max()
        .unwrap();
    let cut = drop_frames(&cap, last_setup as usize);
    let opts = Options {
        session_keys: vec![(Some(sid), key)],
        ..Options::default()
    };
    let r = check_bytes(&cut, &opts).unwrap();
    assert_eq!(r.count(Verdict::Encrypted), 0, "{}", r.text(false));
    assert_eq!(r.count(Verdict::Decrypted), transforms(&cap).len() as u64);
    assert!(r
        .sessions
        .iter()
        .any(|s| s.contains("cipher keys from --session-key")));
    // 3.1.1 cannot: its keys need the preauth hash of the SESSION_SETUP.
    let cap = fixture("smb311-gcm128.pcap");
    let (sid, key) = session_key("smb311-gcm128");
    let full = check_bytes(&cap, &with_password()).unwrap();
    let last_setup = full
        .records
        .iter()
        .filter(|x| x.command == Some(1))
        .map(|x| x.frame)
        .max()
        .unwrap();
    let r = check_bytes(
        &drop_frames(&cap, last_setup as usize),
        &Options {
            session_keys: vec![(Some(sid), key)],
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(r.count(Verdict::Decrypted), 0);
    assert_eq!(r.status(), Status::Incomplete);
}

#[test]
fn a_flipped_ciphertext_byte_is_invalid_and_undiagnosed() {
    for (name, cipher) in FIXTURES {
        let cap = fixture(&format!("{name}.pcap"));
        let msgs = transforms(&cap);
        let (_, m) = &msgs[msgs.len() / 2];
        let mut bad = m.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        let r = check_bytes(&replaced(&cap, m, &bad), &with_password()).unwrap();
        let f = failures(&r);
        assert_eq!(f.len(), 1, "{name}: {}", r.text(true));
        assert_eq!(f[0].verdict, Verdict::Invalid);
        assert_eq!(f[0].cipher, Some(cipher));
        assert_eq!(f[0].command_name(), "(encrypted)");
        assert!(
            f[0].diagnosis[0].starts_with("no variant verifies"),
            "{:?}",
            f[0].diagnosis
        );
        assert_eq!(r.status().code(), 1);
        // Its PDU is not reported: one transform fewer decrypted.
        assert_eq!(r.count(Verdict::Decrypted), msgs.len() as u64 - 1);
    }
}

#[test]
fn the_other_directions_message_is_diagnosed_as_the_other_key() {
    for (name, _) in FIXTURES {
        let cap = fixture(&format!("{name}.pcap"));
        let msgs = transforms(&cap);
        // A server-to-client message put where a client-to-server one of the same length was.
        let (c2s, s2c) = msgs
            .iter()
            .filter(|(c, _)| *c)
            .find_map(|(_, a)| {
                msgs.iter()
                    .find(|(c, b)| !*c && b.len() == a.len())
                    .map(|(_, b)| (a, b))
            })
            .expect("a request and a response of the same length");
        let r = check_bytes(&replaced(&cap, c2s, s2c), &with_password()).unwrap();
        let f = failures(&r);
        assert_eq!(f.len(), 1, "{name}: {}", r.text(true));
        assert_eq!(f[0].verdict, Verdict::Invalid);
        assert!(!f[0].response);
        assert!(
            f[0].diagnosis[0].starts_with(
                "verifies with the server-to-client key instead of the client-to-server one"
            ),
            "{name}: {:?}",
            f[0].diagnosis
        );
    }
}

#[test]
fn a_replayed_message_is_a_nonce_reuse() {
    for (name, _) in FIXTURES {
        let cap = fixture(&format!("{name}.pcap"));
        let msgs = transforms(&cap);
        // A later client-to-server message of the same length replaced by an earlier one.
        let (first, later) = msgs
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| *c)
            .find_map(|(i, (_, a))| {
                msgs[i + 1..]
                    .iter()
                    .find(|(c, b)| *c && b.len() == a.len())
                    .map(|(_, b)| (a, b))
            })
            .expect("two requests of the same length");
        let r = check_bytes(&replaced(&cap, later, first), &with_password()).unwrap();
        let f = failures(&r);
        assert_eq!(f.len(), 1, "{name}: {}", r.text(true));
        assert_eq!(f[0].verdict, Verdict::NonceReused);
        let note = f[0].note.as_deref().unwrap();
        assert!(
            note.contains("a byte-identical message (a replay)"),
            "{note}"
        );
        assert_eq!(r.status(), Status::Failed);
        // The replayed copy decrypts: its PDU is still checked.
        assert_eq!(r.count(Verdict::Decrypted), msgs.len() as u64);
    }
}

#[test]
fn a_message_re_encrypted_under_an_earlier_nonce_is_a_nonce_reuse() {
    let name = "smb302-ccm128";
    let cap = fixture(&format!("{name}.pcap"));
    let (sid, session_key) = session_key(name);
    // 3.0.2 keys need no preauth hash: derived here from the independent session key.
    let keys = kdf::smb30_keys(&session_key).unwrap();
    let c2s = Key::new(Cipher::Aes128Ccm, keys.client_to_server_key()).unwrap();
    let msgs = transforms(&cap);
    let requests: Vec<&Vec<u8>> = msgs.iter().filter(|(c, _)| *c).map(|(_, m)| m).collect();
    let (first, later) = (requests[1], requests[4]);
    let plain = transform::decrypt_to_vec(&c2s, later).unwrap();
    let (h, _) = transform::TransformHeader::parse(first).unwrap();
    let again = transform::encrypt_to_vec(&c2s, h.nonce_field(), sid, &plain).unwrap();
    assert_eq!(&again[20..36], &first[20..36]);
    let r = check_bytes(&replaced(&cap, later, &again), &with_password()).unwrap();
    let f = failures(&r);
    assert_eq!(f.len(), 1, "{}", r.text(true));
    assert_eq!(f[0].verdict, Verdict::NonceReused);
    let note = f[0].note.as_deref().unwrap();
    assert!(note.contains("by another message"), "{note}");
    assert!(note.contains(&format!("session {sid:#018x}")), "{note}");
    assert!(note.contains("CCM"), "{note}");
    assert_eq!(r.count(Verdict::Decrypted), msgs.len() as u64);
}

#[test]
fn a_retransmitted_segment_is_no_nonce_reuse() {
    let cap = fixture("smb311-gcm128.pcap");
    let full = check_bytes(&cap, &with_password()).unwrap();
    let frame = full
        .records
        .iter()
        .find(|x| x.verdict == Verdict::Decrypted && !x.response)
        .unwrap()
        .frame;
    let dup = duplicate_frame(&cap, frame as usize - 1);
    let r = check_bytes(&dup, &with_password()).unwrap();
    assert_eq!(r.count(Verdict::NonceReused), 0, "{}", r.text(true));
    assert_eq!(r.count(Verdict::Decrypted), full.count(Verdict::Decrypted));
    assert_eq!(r.status(), Status::Verified, "{}", r.summary());
}

#[test]
fn a_pdu_naming_another_session_is_malformed() {
    let name = "smb302-ccm128";
    let cap = fixture(&format!("{name}.pcap"));
    let (sid, session_key) = session_key(name);
    let keys = kdf::smb30_keys(&session_key).unwrap();
    let c2s = Key::new(Cipher::Aes128Ccm, keys.client_to_server_key()).unwrap();
    let msgs = transforms(&cap);
    let m = &msgs.iter().find(|(c, _)| *c).unwrap().1;
    let mut plain = transform::decrypt_to_vec(&c2s, m).unwrap();
    plain[40..48].copy_from_slice(&(sid ^ 1).to_le_bytes());
    let (h, _) = transform::TransformHeader::parse(m).unwrap();
    let mut nonce = *h.nonce_field();
    nonce[0] ^= 0x55; // a fresh nonce: no reuse
    let again = transform::encrypt_to_vec(&c2s, &nonce, sid, &plain).unwrap();
    let r = check_bytes(&replaced(&cap, m, &again), &with_password()).unwrap();
    let f = failures(&r);
    assert_eq!(f.len(), 1, "{}", r.text(true));
    assert_eq!(f[0].verdict, Verdict::Malformed);
    assert!(f[0].note.as_deref().unwrap().contains("MS-SMB2 3.3.5.2.7"));
}
