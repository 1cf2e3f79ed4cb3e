//! What the checker found: one record per SMB2 PDU, a summary, text and JSON.

use std::fmt::Write as _;
use std::net::SocketAddr;

use smbsign::smb2::Algorithm;

use crate::smb::{command_name, Header};
use crate::tcp::StreamStats;

/// The verdict on one PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Signed, and the signature is right.
    Valid,
    /// Signed, and the signature is wrong.
    Invalid,
    /// Not signed although the session requires signing.
    UnsignedRequired,
    /// Signed, but no key for its session.
    NoKey,
    /// Not signed, and nothing required it (NEGOTIATE, SESSION_SETUP, interim responses...).
    Unsigned,
    /// An SMB3 transform (encrypted) message: no signature to check.
    Encrypted,
    /// An SMB3 compressed message: not checked.
    Compressed,
    /// The SMB2 header or compound chain is malformed.
    Malformed,
}

impl Verdict {
    /// The word printed for it.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "INVALID",
            Verdict::UnsignedRequired => "UNSIGNED-BUT-REQUIRED",
            Verdict::NoKey => "NO-KEY",
            Verdict::Unsigned => "unsigned",
            Verdict::Encrypted => "encrypted",
            Verdict::Compressed => "compressed",
            Verdict::Malformed => "MALFORMED",
        }
    }

    /// Whether it makes the check fail.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Invalid | Verdict::UnsignedRequired | Verdict::NoKey | Verdict::Malformed
        )
    }

    const ALL: [Verdict; 8] = [
        Verdict::Valid,
        Verdict::Invalid,
        Verdict::UnsignedRequired,
        Verdict::NoKey,
        Verdict::Unsigned,
        Verdict::Encrypted,
        Verdict::Compressed,
        Verdict::Malformed,
    ];
}

/// One SMB2 PDU.
#[derive(Clone, Debug)]
pub struct Record {
    /// Number of the frame that completed its message (from 1, as Wireshark counts).
    pub frame: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Whether it is a response (server to client).
    pub response: bool,
    /// SessionId (inherited for related compound PDUs).
    pub session_id: u64,
    /// MessageId.
    pub message_id: u64,
    /// Command code (`None` for transform and compressed messages).
    pub command: Option<u16>,
    /// Status.
    pub status: u32,
    /// The algorithm it was checked with.
    pub algorithm: Option<Algorithm>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why there was no key, and the like.
    pub note: Option<String>,
    /// For an invalid signature: what reproduces it.
    pub diagnosis: Vec<String>,
}

impl Record {
    pub(crate) fn new(
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        h: Option<&Header>,
        session_id: u64,
        verdict: Verdict,
    ) -> Record {
        Record {
            frame,
            src,
            dst,
            response: h.is_some_and(Header::is_response),
            session_id,
            message_id: h.map_or(0, |h| h.message_id),
            command: h.map(|h| h.command),
            status: h.map_or(0, |h| h.status),
            algorithm: None,
            verdict,
            note: None,
            diagnosis: Vec::new(),
        }
    }

    /// The command's name.
    #[must_use]
    pub fn command_name(&self) -> &'static str {
        match (self.command, self.verdict) {
            (Some(c), _) => command_name(c),
            (None, Verdict::Encrypted) => "(encrypted)",
            (None, Verdict::Compressed) => "(compressed)",
            (None, _) => "(malformed)",
        }
    }

    /// "C->S" or "S->C".
    #[must_use]
    pub fn direction(&self) -> &'static str {
        if self.response {
            "S->C"
        } else {
            "C->S"
        }
    }
}

/// Everything the check found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One record per SMB2 PDU, in capture order.
    pub records: Vec<Record>,
    /// One line per session set up or adopted: addresses, dialect, algorithm, key source.
    pub sessions: Vec<String>,
    /// Remarks about sessions (a wrong password...).
    pub notes: Vec<String>,
    /// Frames read.
    pub frames: u64,
    /// Frames holding TCP.
    pub tcp_frames: u64,
    /// Bytes of the capture file's frames.
    pub captured_bytes: u64,
    /// Bytes of SMB messages.
    pub smb_bytes: u64,
    /// Reassembly statistics, summed over every direction.
    pub streams: StreamStats,
    /// Set when the file ended early or was corrupt after some frames.
    pub read_error: Option<String>,
}

impl Report {
    /// How many records have `v`.
    #[must_use]
    pub fn count(&self, v: Verdict) -> usize {
        self.records.iter().filter(|r| r.verdict == v).count()
    }

    /// Whether every signature checked out: at least one SMB2 PDU, none failed,
    /// and the file was read to its end.
    #[must_use]
    pub fn all_valid(&self) -> bool {
        !self.records.is_empty()
            && self.read_error.is_none()
            && !self.records.iter().any(|r| r.verdict.is_failure())
    }

    /// One line per PDU (or per failed PDU with `failures_only`), diagnoses
    /// indented under failures, then the summary.
    #[must_use]
    pub fn text(&self, failures_only: bool) -> String {
        let mut s = String::new();
        for r in self
            .records
            .iter()
            .filter(|r| !failures_only || r.verdict.is_failure())
        {
            let _ = writeln!(
                s,
                "{:>7} {} {:#018x} {:>8} {:<16} {:<11} {}",
                r.frame,
                r.direction(),
                r.session_id,
                r.message_id,
                r.command_name(),
                r.algorithm.map_or("-", Algorithm::name),
                r.verdict.word()
            );
            if let Some(n) = &r.note {
                let _ = writeln!(s, "          note: {n}");
            }
            for d in &r.diagnosis {
                let _ = writeln!(s, "          diagnosis: {d}");
            }
        }
        s.push_str(&self.summary());
        s
    }

    /// The summary lines.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "summary: {} frames ({} TCP), {} SMB2 PDUs, {} SMB bytes",
            self.frames,
            self.tcp_frames,
            self.records.len(),
            self.smb_bytes
        );
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .map(|&v| format!("{} {}", self.count(v), v.word()))
            .collect();
        let _ = writeln!(s, "verdicts: {}", counts.join(", "));
        let st = &self.streams;
        if st.bytes_missing + st.resyncs + st.bytes_skipped > 0 {
            let _ = writeln!(
                s,
                "reassembly: {} bytes missing from the capture, {} resynchronisations, {} bytes skipped",
                st.bytes_missing, st.resyncs, st.bytes_skipped
            );
        }
        for l in &self.sessions {
            let _ = writeln!(s, "{l}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        if let Some(e) = &self.read_error {
            let _ = writeln!(s, "error: capture file: {e}");
        }
        if self.records.is_empty() {
            s.push_str("no SMB2 messages found in the capture\n");
        }
        let _ = writeln!(
            s,
            "result: {}",
            if self.all_valid() {
                "every signature checked out"
            } else {
                "FAILED"
            }
        );
        s
    }

    /// The whole report as one JSON object.
    #[must_use]
    pub fn json(&self) -> String {
        let mut s = String::from("{\"messages\":[");
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"frame\":{},\"direction\":\"{}\",\"src\":{},\"dst\":{},\"session_id\":{},\"message_id\":{},\"command\":{},\"command_name\":{},\"status\":{},\"algorithm\":{},\"verdict\":{},\"note\":{},\"diagnosis\":[{}]}}",
                r.frame,
                r.direction(),
                json_str(&r.src.to_string()),
                json_str(&r.dst.to_string()),
                r.session_id,
                r.message_id,
                r.command.map_or("null".into(), |c| c.to_string()),
                json_str(r.command_name()),
                r.status,
                r.algorithm.map_or("null".into(), |a| json_str(a.name())),
                json_str(r.verdict.word()),
                r.note.as_deref().map_or("null".into(), json_str),
                r.diagnosis.iter().map(|d| json_str(d)).collect::<Vec<_>>().join(",")
            );
        }
        s.push_str("],\"summary\":{");
        let _ = write!(
            s,
            "\"frames\":{},\"tcp_frames\":{},\"pdus\":{},\"smb_bytes\":{},\"bytes_missing\":{},\"resyncs\":{},\"all_valid\":{}",
            self.frames,
            self.tcp_frames,
            self.records.len(),
            self.smb_bytes,
            self.streams.bytes_missing,
            self.streams.resyncs,
            self.all_valid()
        );
        for v in Verdict::ALL {
            let _ = write!(s, ",{}:{}", json_str(v.word()), self.count(v));
        }
        s.push_str("},\"sessions\":[");
        s.push_str(
            &self
                .sessions
                .iter()
                .map(|n| json_str(n))
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push_str("],\"notes\":[");
        s.push_str(
            &self
                .notes
                .iter()
                .chain(self.read_error.iter())
                .map(|n| json_str(n))
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push_str("]}\n");
        s
    }
}

/// `v` as a JSON string literal (quoted and escaped); smbsign-probe writes its JSON Lines with it.
#[must_use]
pub fn json_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}
