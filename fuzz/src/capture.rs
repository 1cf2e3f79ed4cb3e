//! smbsign-check's parsers on arbitrary bytes: the capture reader (pcap and
//! pcapng, link layers, IP fragments, TCP), the per-direction reassembly and
//! the SMB2, NTLMSSP and session tracking behind it never panic, and the
//! report keeps its promise: exit status 0 only when every record is valid,
//! unsigned or decrypted (inside a transform whose tag verified), at least one
//! is valid or decrypted, and no byte went unaccounted for; the
//! counts match the records. The first byte picks the mode: a capture file as
//! is, or the rest fed as TCP segments of one direction (lengths, sequence
//! offsets and flags from the input), where every stream byte must end up
//! framed, skipped or missing, and every byte not framed must be reported.

use smbsign_capture::report::Status;
use smbsign_capture::tcp::{is_smb_magic, Direction, Flags, Piece};
use smbsign_capture::{check_bytes, Options, Verdict};

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
            assert_eq!(r.total(), r.records.len() as u64, "every record counted");
            if r.status() == Status::Verified {
                assert!(r.records.iter().all(|x| matches!(
                    x.verdict,
                    Verdict::Valid | Verdict::Unsigned | Verdict::Decrypted
                )));
                assert!(r
                    .records
                    .iter()
                    .any(|x| matches!(x.verdict, Verdict::Valid | Verdict::Decrypted)));
                assert!(
                    r.streams.complete() && r.fragment_bytes_lost == 0 && r.frames_undecoded == 0
                );
                assert!(r.read_error.is_none());
            }
            if r.records.iter().any(|x| x.verdict.is_failure()) {
                assert_eq!(r.status(), Status::Failed);
            }
            let _ = (r.text(false), r.json());
        }
        return;
    }
    // Segments: [len u8][seq delta i8][flags u8] then len bytes, until the input ends.
    let mut dir = Direction::default();
    let mut seq: u32 = 1000;
    let mut at = 0;
    let mut frame = 0;
    let mut reported = 0u64;
    let mut deliver = |_: u64, p: Piece<'_>| match p {
        Piece::Message(m) => assert!(is_smb_magic(m)),
        Piece::Lost(l) => reported += l.bytes(),
    };
    while at + 3 <= rest.len() {
        let len = usize::from(rest[at]);
        let delta = rest[at + 1] as i8;
        let bits = rest[at + 2];
        at += 3;
        let payload = &rest[at..(at + len).min(rest.len())];
        at += payload.len();
        frame += 1;
        let s = seq.wrapping_add(delta as i32 as u32);
        let flags = Flags {
            syn: bits & 1 != 0,
            fin: bits & 2 != 0,
            rst: bits & 4 != 0 && bits & 8 != 0,
        };
        dir.push(
            frame,
            s,
            flags,
            payload,
            usize::from(bits >> 4),
            &mut deliver,
        );
        seq = s.wrapping_add(payload.len() as u32);
    }
    dir.finish(&mut deliver);
    let st = dir.stats;
    assert_eq!(
        dir.stream_len(),
        st.bytes_framed + st.bytes_skipped + st.bytes_missing,
        "every stream byte framed, skipped or missing"
    );
    // Each byte not framed is in a reported loss (a cut frame's loss counts its header too).
    assert!(reported >= st.bytes_skipped + st.bytes_missing + st.bytes_ignored);
}
