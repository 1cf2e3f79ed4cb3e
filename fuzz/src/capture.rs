//! smbsign-check's parsers on arbitrary bytes: the capture reader (pcap and
//! pcapng, link layers, IP/TCP), the per-direction reassembly and the SMB2,
//! NTLMSSP and session tracking behind it never panic, and the report is
//! consistent: records ordered by frame, "all valid" only without failures.
//! The first byte picks the mode: a capture file as is, or the rest fed as TCP
//! segments of one direction (lengths and sequence offsets from the input).

use smbsign_capture::tcp::{is_smb_magic, Direction};
use smbsign_capture::{check_bytes, Options};

/// Runs the check.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let opts = Options {
            password: Some("Sm8sign-Test!".into()),
            diagnose: true,
            session_keys: vec![(None, vec![0x42; 16])]
                .into_iter()
                .filter(|_| mode & 2 != 0)
                .collect(),
            ..Options::default()
        };
        if let Ok(r) = check_bytes(rest, &opts) {
            assert!(r.records.windows(2).all(|w| w[0].frame <= w[1].frame));
            assert!(!r.all_valid() || r.records.iter().all(|x| !x.verdict.is_failure()));
            let _ = (r.text(false), r.json());
        }
        return;
    }
    // Segments: [len u8][seq delta i8][flags u8] then len bytes, until the input ends.
    let mut dir = Direction::default();
    let mut seq: u32 = 1000;
    let mut at = 0;
    let mut frame = 0;
    let mut deliver = |_: u64, m: &[u8]| assert!(is_smb_magic(m));
    while at + 3 <= rest.len() {
        let len = usize::from(rest[at]);
        let delta = rest[at + 1] as i8;
        let flags = rest[at + 2];
        at += 3;
        let payload = &rest[at..(at + len).min(rest.len())];
        at += payload.len();
        frame += 1;
        let s = seq.wrapping_add(delta as i32 as u32);
        dir.push(
            frame,
            s,
            flags & 1 != 0,
            payload,
            usize::from(flags >> 4),
            &mut deliver,
        );
        seq = s.wrapping_add(payload.len() as u32);
    }
    dir.finish(&mut deliver);
}
