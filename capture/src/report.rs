//! What the checker found: one record per SMB2 PDU (and per stretch of
//! bytes that could not be checked), a summary, text and JSON, and the exit
//! status that sums it up. Records can be written as they become final
//! ([`Writer`]), so a report of any size takes no memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use smbsign::cipher::Cipher;
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
    /// An SMB3 transform (encrypted) message that could not be decrypted
    /// (no keys, unknown session or cipher): the note says why.
    Encrypted,
    /// A PDU inside a transform message whose tag verified (it is not
    /// signed: the tag protects it).
    Decrypted,
    /// A transform message whose nonce an earlier one under the same key
    /// (session and direction) carried: a security finding of its own.
    NonceReused,
    /// An SMB3 compressed message: not checked.
    Compressed,
    /// The SMB2 header or compound chain is malformed.
    Malformed,
    /// Bytes that could not be checked (a gap, a cut message, an ignored
    /// segment...): the note says why.
    Unchecked,
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
            Verdict::Decrypted => "decrypted",
            Verdict::NonceReused => "NONCE-REUSED",
            Verdict::Compressed => "compressed",
            Verdict::Malformed => "MALFORMED",
            Verdict::Unchecked => "unchecked",
        }
    }

    /// Whether it makes the check fail.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Invalid
                | Verdict::UnsignedRequired
                | Verdict::NoKey
                | Verdict::Malformed
                | Verdict::NonceReused
        )
    }

    /// Whether it stands for something that was not checked (exit status 3
    /// unless something failed): encrypted or compressed messages, lost bytes.
    #[must_use]
    pub fn is_unchecked(self) -> bool {
        matches!(
            self,
            Verdict::Encrypted | Verdict::Compressed | Verdict::Unchecked
        )
    }

    const ALL: [Verdict; 11] = [
        Verdict::Valid,
        Verdict::Invalid,
        Verdict::UnsignedRequired,
        Verdict::NoKey,
        Verdict::Unsigned,
        Verdict::Encrypted,
        Verdict::Decrypted,
        Verdict::NonceReused,
        Verdict::Compressed,
        Verdict::Malformed,
        Verdict::Unchecked,
    ];

    fn index(self) -> usize {
        Verdict::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }
}

/// What the exit status says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: at least one signature or encryption tag verified, every message
    /// that was signed, encrypted or required a signature verified valid,
    /// nothing unchecked.
    Verified,
    /// 1: something INVALID, UNSIGNED-BUT-REQUIRED, NO-KEY, MALFORMED or NONCE-REUSED.
    Failed,
    /// 3: incomplete: something could not be checked (lost, cut, encrypted,
    /// compressed, the file ended early), or nothing was signed.
    Incomplete,
}

impl Status {
    /// The process exit status (2, unreadable input, is the caller's).
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Status::Verified => 0,
            Status::Failed => 1,
            Status::Incomplete => 3,
        }
    }
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
    /// The cipher of the transform message it came in (or that failed).
    pub cipher: Option<Cipher>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why there was no key, and the like.
    pub note: Option<String>,
    /// For an invalid signature: what reproduces it.
    pub diagnosis: Vec<String>,
    /// For unchecked records: the kind of loss (counted in the summary).
    pub unchecked: Option<&'static str>,
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
            cipher: None,
            verdict,
            note: None,
            diagnosis: Vec::new(),
            unchecked: None,
        }
    }

    /// The command's name.
    #[must_use]
    pub fn command_name(&self) -> &'static str {
        match (self.command, self.verdict) {
            (Some(c), _) => command_name(c),
            (None, Verdict::NonceReused) => "(nonce reuse)",
            (None, Verdict::Encrypted | Verdict::Invalid) if self.cipher.is_some() => "(encrypted)",
            (None, Verdict::Encrypted) => "(encrypted)",
            (None, Verdict::Compressed) => "(compressed)",
            (None, Verdict::Unchecked) => "(not checked)",
            (None, _) => "(malformed)",
        }
    }

    /// "C->S" or "S->C".
    #[must_use]
    pub fn direction(&self) -> &'static str {
        if self.command.is_none() && self.verdict == Verdict::Unchecked {
            "-" // bytes of a stream, not a message: src and dst say which way
        } else if self.response {
            "S->C"
        } else {
            "C->S"
        }
    }
}

/// Everything the check found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One record per SMB2 PDU and per stretch of unchecked bytes, in the
    /// order their verdicts became final (filled by [`crate::check_bytes`]
    /// and [`crate::check_file`]; empty after [`crate::check_streaming`]).
    pub records: Vec<Record>,
    /// Records of each verdict, in [`Verdict::ALL`] order.
    counts: [u64; 11],
    /// Unchecked records by kind of loss.
    pub unchecked: BTreeMap<&'static str, u64>,
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
    /// IP fragment bytes that could not be reassembled.
    pub fragment_bytes_lost: u64,
    /// Frames that may carry TCP in an encapsulation not decoded (MPLS, GRE,
    /// IP tunnels, unknown link types): their messages are not checked.
    pub frames_undecoded: u64,
    /// Most TCP directions alive at once.
    pub peak_directions: usize,
    /// Most connections the checker held state for at once.
    pub peak_connections: usize,
    /// Diagnosis work: MACs computed, and the bytes they covered.
    pub diagnosis_macs: u64,
    /// Bytes MACed by the diagnosis.
    pub diagnosis_bytes: u64,
    /// Set when the file ended early or was corrupt after some frames.
    pub read_error: Option<String>,
}

impl Report {
    /// How many records have `v`.
    #[must_use]
    pub fn count(&self, v: Verdict) -> u64 {
        self.counts[v.index()]
    }

    /// Counts one final record.
    pub fn tally(&mut self, r: &Record) {
        self.counts[r.verdict.index()] += 1;
        let kind = match r.verdict {
            Verdict::Encrypted => Some("encrypted (not decrypted)"),
            Verdict::Compressed => Some("compressed (not decompressed)"),
            Verdict::Unchecked => Some(r.unchecked.unwrap_or("not checked")),
            _ => None,
        };
        if let Some(k) = kind {
            *self.unchecked.entry(k).or_default() += 1;
        }
    }

    /// Records counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The exit status's meaning: failures first, then anything unchecked or
    /// nothing verified, else verified.
    #[must_use]
    pub fn status(&self) -> Status {
        let failed = Verdict::ALL
            .iter()
            .any(|&v| v.is_failure() && self.count(v) > 0);
        if failed {
            return Status::Failed;
        }
        let unchecked = Verdict::ALL
            .iter()
            .any(|&v| v.is_unchecked() && self.count(v) > 0);
        if unchecked
            || self.read_error.is_some()
            || !self.streams.complete()
            || self.fragment_bytes_lost > 0
            || self.frames_undecoded > 0
            || self.count(Verdict::Valid) + self.count(Verdict::Decrypted) == 0
        {
            return Status::Incomplete;
        }
        Status::Verified
    }

    /// Whether every signature checked out (exit status 0): see [`Report::status`].
    #[must_use]
    pub fn all_valid(&self) -> bool {
        self.status() == Status::Verified
    }

    /// One line per record (or per failed one with `failures_only`),
    /// diagnoses indented under failures, then the summary.
    #[must_use]
    pub fn text(&self, failures_only: bool) -> String {
        let mut s = String::new();
        for r in &self.records {
            write_text_record(&mut s, r, failures_only);
        }
        s.push_str(&self.summary());
        s
    }

    /// Why the result is not "verified", in a few words per cause.
    fn incomplete_causes(&self) -> Vec<String> {
        let mut why: Vec<String> = self
            .unchecked
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if self.fragment_bytes_lost > 0 {
            why.push(format!(
                "{} bytes of IP fragments not reassembled",
                self.fragment_bytes_lost
            ));
        }
        if self.frames_undecoded > 0 {
            why.push(format!(
                "{} frames in an encapsulation not decoded (MPLS, GRE/ERSPAN, IP tunnels, unknown link types) may carry SMB",
                self.frames_undecoded
            ));
        }
        if self.read_error.is_some() {
            why.push("the capture file ends early or is corrupt".into());
        }
        if self.count(Verdict::Valid) + self.count(Verdict::Decrypted) == 0 {
            why.push("no signature was verified (and no encryption tag)".into());
        }
        why
    }

    /// The summary lines.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "summary: {} frames ({} TCP), {} records, {} SMB bytes",
            self.frames,
            self.tcp_frames,
            self.total(),
            self.smb_bytes
        );
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .map(|&v| format!("{} {}", self.count(v), v.word()))
            .collect();
        let _ = writeln!(s, "verdicts: {}", counts.join(", "));
        let st = &self.streams;
        if !st.complete() || st.resyncs > 0 {
            let _ = writeln!(
                s,
                "reassembly: {} bytes missing from the capture, {} resynchronisations, {} bytes skipped, {} SYNs and {} out-of-window segments ignored ({} bytes)",
                st.bytes_missing, st.resyncs, st.bytes_skipped, st.syns_ignored, st.segments_out_of_window, st.bytes_ignored
            );
        }
        if st.bytes_not_compared > 0 {
            let _ = writeln!(
                s,
                "retransmissions: {} bytes retransmitted more than {} KiB behind the stream, not compared with the first copy",
                st.bytes_not_compared,
                crate::tcp::RECENT >> 10
            );
        }
        if st.control_frames > 0 {
            let _ = writeln!(
                s,
                "netbios: {} session-service control frames ({} bytes, no SMB)",
                st.control_frames, st.bytes_control
            );
        }
        if !self.unchecked.is_empty() {
            let what: Vec<String> = self
                .unchecked
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            let _ = writeln!(s, "not checked: {}", what.join(", "));
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
        if self.total() == 0 {
            s.push_str("no SMB2 messages found in the capture\n");
        }
        let result = match self.status() {
            Status::Verified if self.count(Verdict::Decrypted) > 0 => {
                "every signature and encryption tag checked out".to_string()
            }
            Status::Verified => "every signature checked out".to_string(),
            Status::Failed => "FAILED".to_string(),
            Status::Incomplete => format!(
                "INCOMPLETE: not everything could be checked ({})",
                self.incomplete_causes().join("; ")
            ),
        };
        let _ = writeln!(s, "result: {result}");
        s
    }

    /// The summary as JSON members (no braces).
    fn json_summary(&self) -> String {
        let mut s = String::new();
        let st = &self.streams;
        let _ = write!(
            s,
            "\"frames\":{},\"tcp_frames\":{},\"pdus\":{},\"smb_bytes\":{},\"bytes_missing\":{},\"resyncs\":{},\"bytes_skipped\":{},\"syns_ignored\":{},\"segments_out_of_window\":{},\"fragment_bytes_lost\":{},\"frames_undecoded\":{},\"control_frames\":{},\"bytes_control\":{},\"conflicting_retransmissions\":{},\"bytes_not_compared\":{},\"all_valid\":{},\"exit_status\":{}",
            self.frames,
            self.tcp_frames,
            self.total(),
            self.smb_bytes,
            st.bytes_missing,
            st.resyncs,
            st.bytes_skipped,
            st.syns_ignored,
            st.segments_out_of_window,
            self.fragment_bytes_lost,
            self.frames_undecoded,
            st.control_frames,
            st.bytes_control,
            st.conflicting_retransmissions,
            st.bytes_not_compared,
            self.all_valid(),
            self.status().code()
        );
        for v in Verdict::ALL {
            let _ = write!(s, ",{}:{}", json_str(v.word()), self.count(v));
        }
        let causes = if self.status() == Status::Incomplete {
            self.incomplete_causes()
        } else {
            Vec::new()
        };
        let _ = write!(
            s,
            ",\"not_checked\":[{}]",
            causes
                .iter()
                .map(|c| json_str(c))
                .collect::<Vec<_>>()
                .join(",")
        );
        s
    }

    /// The whole report as one JSON object.
    #[must_use]
    pub fn json(&self) -> String {
        let mut w = Writer::new(Vec::new(), true, false);
        for r in &self.records {
            w.record(r);
        }
        let out = w.finish(self);
        String::from_utf8(out).unwrap_or_default()
    }
}

fn write_text_record(s: &mut String, r: &Record, failures_only: bool) {
    if failures_only && !r.verdict.is_failure() {
        return;
    }
    let _ = writeln!(
        s,
        "{:>7} {} {:#018x} {:>8} {:<16} {:<11} {}",
        r.frame,
        r.direction(),
        r.session_id,
        r.message_id,
        r.command_name(),
        record_algorithm(r),
        r.verdict.word()
    );
    if r.command.is_none() && r.verdict == Verdict::Unchecked {
        let _ = writeln!(s, "          {} -> {}", r.src, r.dst);
    }
    if let Some(n) = &r.note {
        let _ = writeln!(s, "          note: {n}");
    }
    for d in &r.diagnosis {
        let _ = writeln!(s, "          diagnosis: {d}");
    }
}

/// The algorithm column: the signing algorithm, else the cipher.
fn record_algorithm(r: &Record) -> &'static str {
    match (r.algorithm, r.cipher) {
        (Some(a), _) => a.name(),
        (None, Some(c)) => c.name(),
        (None, None) => "-",
    }
}

fn json_record(s: &mut String, r: &Record) {
    let _ = write!(
        s,
        "{{\"frame\":{},\"direction\":\"{}\",\"src\":{},\"dst\":{},\"session_id\":{},\"message_id\":{},\"command\":{},\"command_name\":{},\"status\":{},\"algorithm\":{},\"cipher\":{},\"verdict\":{},\"note\":{},\"diagnosis\":[{}]}}",
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
        r.cipher.map_or("null".into(), |c| json_str(c.name())),
        json_str(r.verdict.word()),
        r.note.as_deref().map_or("null".into(), json_str),
        r.diagnosis.iter().map(|d| json_str(d)).collect::<Vec<_>>().join(",")
    );
}

/// Writes records as they come, then the summary: text (one line per
/// record) or one JSON object whose "messages" array is streamed. Write
/// errors (a closed pipe) are remembered and end the output, not the check.
pub struct Writer<W: std::io::Write> {
    out: W,
    json: bool,
    failures_only: bool,
    first: bool,
    buf: String,
    /// The first write error, if any.
    pub error: Option<std::io::Error>,
}

impl<W: std::io::Write> Writer<W> {
    /// A writer of JSON (`json`) or text, all records or `failures_only`.
    pub fn new(out: W, json: bool, failures_only: bool) -> Writer<W> {
        Writer {
            out,
            json,
            failures_only,
            first: true,
            buf: String::new(),
            error: None,
        }
    }

    fn put(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(self.buf.as_bytes()) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }

    /// Writes one final record.
    pub fn record(&mut self, r: &Record) {
        if self.json {
            self.buf
                .push_str(if self.first { "{\"messages\":[" } else { "," });
            self.first = false;
            json_record(&mut self.buf, r);
        } else {
            write_text_record(&mut self.buf, r, self.failures_only);
        }
        if self.buf.len() >= 1 << 16 {
            self.put();
        }
    }

    /// Writes the summary and returns the output.
    pub fn finish(mut self, report: &Report) -> W {
        if self.json {
            if self.first {
                self.buf.push_str("{\"messages\":[");
            }
            let _ = write!(self.buf, "],\"summary\":{{{}}}", report.json_summary());
            self.buf.push_str(",\"sessions\":[");
            let sessions: Vec<String> = report.sessions.iter().map(|n| json_str(n)).collect();
            self.buf.push_str(&sessions.join(","));
            self.buf.push_str("],\"notes\":[");
            let notes: Vec<String> = report
                .notes
                .iter()
                .chain(report.read_error.iter())
                .map(|n| json_str(n))
                .collect();
            self.buf.push_str(&notes.join(","));
            self.buf.push_str("]}\n");
        } else {
            self.buf.push_str(&report.summary());
        }
        self.put();
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
        self.out
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
