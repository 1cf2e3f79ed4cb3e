//! One direction of a TCP connection reassembled into SMB2 messages over
//! direct TCP (MS-SMB2 2.1: a zero byte and a 3-byte big-endian length, then
//! the message). Segments may arrive out of order, be retransmitted or overlap;
//! a capture may start mid-stream, lose segments or cut them to the snap
//! length. After any gap the stream resynchronises on the next plausible frame
//! header: a zero byte, a length, and a message that starts with FE/FD/FC 'SMB'.
//!
//! Every byte of the stream ends up in exactly one of three counts: framed
//! (delivered as a message, an SMB1 or NetBIOS control frame), skipped
//! (captured but not checkable) or missing (not in the capture); what was not
//! framed is also delivered as a [`Loss`] with its reason, as are segments the
//! direction refused (a SYN on an established direction, RFC 5961; a segment
//! outside the receive window).

use std::collections::BTreeMap;

/// Largest frame accepted when resynchronising (the length field's maximum).
const MAX_FRAME: usize = 0x00FF_FFFF;
/// Bytes held out of order past a gap before the gap is taken as lost.
const MAX_PENDING: usize = 64 << 20;
/// How far from the next expected byte a segment may start: the largest TCP
/// receive window (RFC 7323: 2^30). Further is another connection or a spoof.
const WINDOW: i64 = 1 << 30;
/// Segments (and bytes) a direction first seen without its SYN holds before it
/// picks its earliest sequence number as the start: a capture that starts
/// mid-stream may record the first segments out of order.
const PRELUDE_SEGMENTS: usize = 8;
const PRELUDE_BYTES: usize = 1 << 20;
/// Stream bytes kept per direction to compare retransmissions with: a
/// retransmission of older bytes is counted as not compared.
pub const RECENT: usize = 64 << 10;
/// SMB_COM_NEGOTIATE; the reply bit is 0x80 of the Flags byte (MS-CIFS 2.2.3.1).
const SMB1_NEGOTIATE: u8 = 0x72;
/// NetBIOS session-service control frames are short (RFC 1002 4.3: at most a
/// retarget's 6 bytes); a longer "control frame" is payload, not framing.
const MAX_CONTROL_FRAME: usize = 0xFF;

/// TCP flags that matter to reassembly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// SYN: the segment carries the initial sequence number.
    pub syn: bool,
    /// FIN: the direction ends after this segment's payload.
    pub fin: bool,
    /// RST: the connection is aborted.
    pub rst: bool,
}

/// What reassembly hands on: a message (without its 4-byte frame header), or
/// stream bytes that could not be turned into messages, with the reason.
#[derive(Debug)]
pub enum Piece<'a> {
    /// One SMB message: SMB2, transform or compressed.
    Message(&'a [u8]),
    /// Bytes that are not checked.
    Lost(Loss),
}

/// Why stream bytes were not delivered as messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `missing` bytes the capture lacks (lost, or cut by the snap length),
    /// and `skipped` captured bytes around them (the broken message, and what
    /// preceded the next frame header). A capture that starts mid-message
    /// gives `missing` 0.
    Gap {
        /// Bytes not in the capture.
        missing: u64,
        /// Captured bytes that could not be framed.
        skipped: u64,
    },
    /// A frame whose direct-TCP length runs past the end of the stream: a
    /// message cut at the end of the capture, or a lying length.
    Cut {
        /// The length the frame header claims.
        declared: u64,
        /// The bytes that followed it.
        captured: u64,
    },
    /// A SYN on an established direction, ignored (RFC 5961 4): a spoof, or a
    /// connection reused without a FIN or RST in the capture.
    Syn {
        /// Payload bytes it carried.
        bytes: u64,
    },
    /// A segment more than a receive window away from the stream, ignored.
    OutOfWindow {
        /// Payload bytes it carried.
        bytes: u64,
    },
    /// A segment before the first byte the direction started with (after its
    /// SYN's ISN, or reordered at capture start past the segments held), ignored.
    BeforeStart {
        /// Payload bytes it carried.
        bytes: u64,
    },
    /// An SMB1 message (0xFF 'SMB'), framed but not checked: smbsign checks
    /// SMB2/SMB3 signing only. The multi-protocol NEGOTIATE request a client
    /// opens with is not reported (the SMB2 NEGOTIATE response answers it).
    Smb1 {
        /// Its command code.
        command: u8,
        /// Its bytes.
        bytes: u64,
    },
    /// A retransmission whose bytes differ from the first copy of the same
    /// stream range: which one the receiver took cannot be told.
    Conflict {
        /// Bytes that differ in the range compared.
        bytes: u64,
    },
}

impl Loss {
    /// A short name of the kind of loss, for counting.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Loss::Gap { missing: 0, .. } => "bytes outside SMB framing",
            Loss::Gap { .. } => "gap in the capture",
            Loss::Cut { .. } => "message cut at the end of the stream",
            Loss::Syn { .. } => "SYN on an established direction",
            Loss::OutOfWindow { .. } => "segment outside the TCP window",
            Loss::BeforeStart { .. } => "segment before the start of the stream",
            Loss::Smb1 { .. } => "SMB1 (signing not checked)",
            Loss::Conflict { .. } => "conflicting retransmission",
        }
    }

    /// Bytes it covers.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        match *self {
            Loss::Gap { missing, skipped } => missing + skipped,
            Loss::Cut { captured, .. } => captured + 4,
            Loss::Syn { bytes }
            | Loss::OutOfWindow { bytes }
            | Loss::BeforeStart { bytes }
            | Loss::Smb1 { bytes, .. }
            | Loss::Conflict { bytes } => bytes,
        }
    }

    /// The reason, in a sentence.
    #[must_use]
    pub fn reason(&self) -> String {
        match *self {
            Loss::Gap { missing: 0, skipped } => format!(
                "{skipped} captured bytes are not SMB2 direct-TCP framing (the capture starts mid-message, or the stream is not SMB): not checked"
            ),
            Loss::Gap { missing, skipped } => format!(
                "{missing} bytes missing from the capture (lost, or cut by the snap length); {skipped} captured bytes of the messages around them not checked"
            ),
            Loss::Cut { declared, captured } => format!(
                "the direct-TCP length says {declared} bytes but the stream ends after {captured}: a message cut at the end of the capture, or a lying length; not checked"
            ),
            Loss::Syn { bytes } => format!(
                "SYN on an established direction ignored (RFC 5961: a spoof, or the connection was reused without a FIN/RST in the capture); {bytes} payload bytes not checked"
            ),
            Loss::OutOfWindow { bytes } => format!(
                "segment more than a TCP window away from the stream ignored (a spoof, or another connection); {bytes} payload bytes not checked"
            ),
            Loss::BeforeStart { bytes } => format!(
                "segment before the first byte of the stream ignored (before the SYN's sequence number, or reordered at the start of the capture further than the first segments held); {bytes} payload bytes not checked"
            ),
            Loss::Conflict { bytes } => format!(
                "a retransmission carries other bytes than the first copy of the same sequence range ({bytes} range bytes): which copy the receiver took is unknown; the messages were checked as first captured"
            ),
            Loss::Smb1 { command, bytes } => format!(
                "SMB1 message (command 0x{command:02X}, {bytes} bytes): smbsign checks SMB2/SMB3 signing only; SMB1 signing not checked"
            ),
        }
    }
}

/// What a direction holds out of order: captured bytes, or bytes the sender
/// sent that the capture does not have.
#[derive(Debug)]
enum Chunk {
    /// Captured bytes.
    Data(Vec<u8>),
    Hole(u64),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Data(d) => d.len() as u64,
            Chunk::Hole(n) => *n,
        }
    }
}

/// A segment held until the start of a direction seen without its SYN is known.
#[derive(Debug)]
struct Held {
    frame: u64,
    seq: u32,
    flags: Flags,
    payload: Vec<u8>,
    missing: usize,
}

/// Counts of what reassembly had to cope with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes the capture does not have (lost, or cut by the snap length).
    pub bytes_missing: u64,
    /// Times the framing was lost and searched for again.
    pub resyncs: u64,
    /// Captured bytes that could not be framed (broken or cut messages, bytes
    /// before the first frame header).
    pub bytes_skipped: u64,
    /// Bytes of frames delivered: messages, SMB1 and NetBIOS control frames,
    /// with their 4-byte headers.
    pub bytes_framed: u64,
    /// SYNs on an established direction, ignored.
    pub syns_ignored: u64,
    /// Segments outside the window or before the start of the stream, ignored.
    pub segments_out_of_window: u64,
    /// Payload bytes of the SYNs and segments ignored.
    pub bytes_ignored: u64,
    /// NetBIOS session-service control frames (RFC 1002 4.3: session
    /// request, responses, retarget, keep-alive), which carry no SMB.
    pub control_frames: u64,
    /// Their bytes, with their 4-byte headers (part of `bytes_framed`).
    pub bytes_control: u64,
    /// Retransmissions whose bytes differ from the first copy.
    pub conflicting_retransmissions: u64,
    /// Retransmitted bytes older than the [`RECENT`] bytes kept: not compared.
    pub bytes_not_compared: u64,
}

impl StreamStats {
    /// Adds `o` to these counts.
    pub fn add(&mut self, o: &StreamStats) {
        self.bytes_missing += o.bytes_missing;
        self.resyncs += o.resyncs;
        self.bytes_skipped += o.bytes_skipped;
        self.bytes_framed += o.bytes_framed;
        self.syns_ignored += o.syns_ignored;
        self.segments_out_of_window += o.segments_out_of_window;
        self.bytes_ignored += o.bytes_ignored;
        self.control_frames += o.control_frames;
        self.bytes_control += o.bytes_control;
        self.conflicting_retransmissions += o.conflicting_retransmissions;
        self.bytes_not_compared += o.bytes_not_compared;
    }

    /// Whether every byte seen was framed: nothing missing, skipped or ignored.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.bytes_missing == 0
            && self.bytes_skipped == 0
            && self.syns_ignored == 0
            && self.segments_out_of_window == 0
            && self.conflicting_retransmissions == 0
    }
}

/// The sink a direction delivers to: the frame that completed the piece, and the piece.
pub type Out<'f> = dyn FnMut(u64, Piece<'_>) + 'f;

/// One direction of one TCP connection.
#[derive(Debug, Default)]
pub struct Direction {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Whether `base` came from a SYN.
    saw_syn: bool,
    /// Stream offset of the next byte expected.
    next: u64,
    pending: BTreeMap<u64, Chunk>,
    pending_bytes: usize,
    /// Segments seen before the start is known (no SYN yet).
    prelude: Vec<Held>,
    prelude_bytes: usize,
    /// In-order bytes not yet framed: `buf[start..]`.
    buf: Vec<u8>,
    /// The last stream bytes delivered (up to 2 x [`RECENT`]), ending at
    /// `next`, to compare retransmissions with.
    recent: Vec<u8>,
    start: usize,
    /// Whether `buf[start]` is a frame boundary.
    synced: bool,
    /// Stream offset where the FIN is.
    fin: Option<u64>,
    reset: bool,
    /// A loss being accumulated until the framing is found again: (frame, missing, skipped).
    run: Option<(u64, u64, u64)>,
    /// The last frame that carried a segment of this direction.
    last_frame: u64,
    /// A frame cut by the end was reported: it covers every byte after it.
    cut: bool,
    /// What reassembly coped with so far.
    pub stats: StreamStats,
}

impl Direction {
    /// Feeds one segment carried by `frame`; `out` receives each SMB message
    /// completed by it, in stream order, and each loss it reveals.
    pub fn push(
        &mut self,
        frame: u64,
        seq: u32,
        flags: Flags,
        payload: &[u8],
        missing: usize,
        out: &mut Out<'_>,
    ) {
        self.last_frame = frame;
        let mut seq = seq;
        if flags.syn {
            let isn1 = seq.wrapping_add(1);
            if self.saw_syn && self.base == Some(isn1) {
                return; // a retransmitted SYN
            }
            if self.base.is_some() && !self.untouched() {
                // RFC 5961 4: a SYN never resets an established direction.
                let bytes = (payload.len() + missing) as u64;
                self.stats.syns_ignored += 1;
                self.stats.bytes_ignored += bytes;
                out(frame, Piece::Lost(Loss::Syn { bytes }));
                return;
            }
            let prelude = std::mem::take(&mut self.prelude);
            *self = Direction {
                base: Some(isn1),
                saw_syn: true,
                synced: true,
                stats: self.stats,
                last_frame: frame,
                ..Direction::default()
            };
            for h in prelude {
                self.place(h.frame, h.seq, h.flags, &h.payload, h.missing, out);
            }
            seq = isn1; // a SYN's payload (TCP Fast Open) follows the ISN
        }
        if payload.is_empty() && missing == 0 && !flags.fin && !flags.rst {
            return;
        }
        if self.base.is_none() {
            self.prelude_bytes += payload.len();
            self.prelude.push(Held {
                frame,
                seq,
                flags,
                payload: payload.to_vec(),
                missing,
            });
            if self.prelude.len() >= PRELUDE_SEGMENTS || self.prelude_bytes >= PRELUDE_BYTES {
                self.settle(out);
            }
            return;
        }
        self.place(frame, seq, flags, payload, missing, out);
    }

    /// Whether nothing but a SYN was seen: another SYN may still pick the ISN.
    fn untouched(&self) -> bool {
        self.next == 0
            && self.pending.is_empty()
            && self.buf.is_empty()
            && self.fin.is_none()
            && !self.reset
    }

    /// Starts a direction seen without its SYN at its earliest held segment.
    fn settle(&mut self, out: &mut Out<'_>) {
        let prelude = std::mem::take(&mut self.prelude);
        self.prelude_bytes = 0;
        let Some(first) = prelude.first() else {
            return;
        };
        let s0 = first.seq;
        let earliest = prelude
            .iter()
            .map(|h| h.seq)
            .min_by_key(|&s| s.wrapping_sub(s0) as i32)
            .unwrap_or(s0);
        self.base = Some(earliest);
        for h in prelude {
            self.place(h.frame, h.seq, h.flags, &h.payload, h.missing, out);
        }
    }

    /// Places a segment once the start of the stream is known.
    fn place(
        &mut self,
        frame: u64,
        seq: u32,
        flags: Flags,
        payload: &[u8],
        missing: usize,
        out: &mut Out<'_>,
    ) {
        let Some(base) = self.base else { return };
        // Unwrap the 32-bit sequence number near the expected offset.
        let expected = base.wrapping_add(self.next as u32);
        let delta = i64::from(seq.wrapping_sub(expected) as i32);
        let at = self.next as i64 + delta;
        if !(-WINDOW..=WINDOW).contains(&delta) || at < 0 {
            if payload.is_empty() && missing == 0 {
                return; // a stray FIN or RST: nothing to lose, and it closes nothing
            }
            let bytes = (payload.len() + missing) as u64;
            self.stats.segments_out_of_window += 1;
            self.stats.bytes_ignored += bytes;
            let loss = if (-WINDOW..=WINDOW).contains(&delta) {
                Loss::BeforeStart { bytes }
            } else {
                Loss::OutOfWindow { bytes }
            };
            out(frame, Piece::Lost(loss));
            return;
        }
        let at = at as u64;
        if flags.rst {
            self.reset = true;
            return; // data on a RST is not delivered to the peer (RFC 9293 3.5.3)
        }
        if flags.fin {
            self.fin = Some(at + (payload.len() + missing) as u64);
        }
        if payload.is_empty() && missing == 0 {
            return;
        }
        if at == self.next && self.pending.is_empty() && missing == 0 {
            // In order with nothing waiting: straight to the framing buffer.
            self.keep_recent(payload);
            self.buf.extend_from_slice(payload);
            self.next += payload.len() as u64;
            self.frame(frame, out);
            return;
        }
        if !payload.is_empty() {
            if at + payload.len() as u64 <= self.next {
                // Delivered already, so dropped by insert: compared here
                // (a partial overlap is compared when it drains).
                self.compare(frame, at, payload, out);
            }
            self.insert(at, Chunk::Data(payload.to_vec()));
        }
        if missing > 0 {
            self.insert(at + payload.len() as u64, Chunk::Hole(missing as u64));
        }
        self.drain(frame, out);
        if self.pending_bytes > MAX_PENDING {
            self.skip_gap(frame, out);
        }
    }

    /// Whether the direction has ended: a RST, or every byte up to its FIN arrived.
    #[must_use]
    pub fn closed(&self) -> bool {
        self.reset
            || self
                .fin
                .is_some_and(|f| self.next >= f && self.pending.is_empty())
    }

    /// Whether a RST ended it.
    #[must_use]
    pub fn reset(&self) -> bool {
        self.reset
    }

    /// Stream bytes so far (each is framed, skipped or missing once finished).
    #[must_use]
    pub fn stream_len(&self) -> u64 {
        self.next
    }

    /// The end of the direction (FIN, RST, idle, end of the capture): every
    /// gap left is lost; frame what follows them; a frame cut by the end is
    /// reported and searched for the frames a lying length would hide.
    pub fn finish(&mut self, out: &mut Out<'_>) {
        if self.base.is_none() {
            self.settle(out);
        }
        let frame = self.last_frame;
        while !self.pending.is_empty() {
            self.skip_gap(frame, out);
        }
        while self.start < self.buf.len() {
            let avail = &self.buf[self.start..];
            if self.synced && avail.len() >= 4 {
                let declared = be24(&avail[1..4]) as u64;
                let captured = (avail.len() - 4) as u64;
                self.stats.bytes_skipped += 4;
                self.start += 4;
                self.synced = false;
                if !self.cut {
                    self.emit_run(out);
                    // Every byte to the end is in this loss: what follows is not reported again.
                    out(frame, Piece::Lost(Loss::Cut { declared, captured }));
                    self.cut = true;
                }
                // What the cut frame would have held: the frames behind a lying length.
                self.frame(frame, out);
                continue;
            }
            let n = avail.len() as u64;
            self.stats.bytes_skipped += n;
            self.note_skip(frame, n);
            self.start = self.buf.len();
        }
        self.buf = Vec::new();
        self.start = 0;
        self.emit_run(out);
    }

    fn insert(&mut self, at: u64, chunk: Chunk) {
        let end = at + chunk.len();
        if end <= self.next {
            return; // a retransmission of bytes already delivered
        }
        if let Some(old) = self.pending.get(&at) {
            if old.len() >= chunk.len() {
                return;
            }
        }
        self.pending_bytes += chunk.len() as usize;
        if let Some(old) = self.pending.insert(at, chunk) {
            self.pending_bytes -= old.len() as usize;
        }
    }

    /// Takes the chunks that now continue the stream, framing as it goes:
    /// what completes is completed by `frame`, the segment that filled the gap
    /// (not the earlier frame that carried the chunk), as Wireshark counts it.
    fn drain(&mut self, frame: u64, out: &mut Out<'_>) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next {
                break;
            }
            let chunk = entry.remove();
            self.pending_bytes -= chunk.len() as usize;
            let end = at + chunk.len();
            if end <= self.next {
                continue; // overlapped by what came before
            }
            let skip = (self.next - at) as usize;
            match chunk {
                Chunk::Data(d) => {
                    self.compare(frame, at, &d[..skip], out);
                    self.keep_recent(&d[skip..]);
                    self.buf.extend_from_slice(&d[skip..]);
                    self.next = end;
                    self.frame(frame, out);
                }
                Chunk::Hole(_) => {
                    self.lose(end - self.next);
                    self.next = end;
                }
            }
        }
    }

    /// Gives up on the bytes before the first pending chunk.
    fn skip_gap(&mut self, frame: u64, out: &mut Out<'_>) {
        if let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next {
                self.lose(at - self.next);
                self.next = at;
            }
        }
        self.drain(frame, out);
    }

    /// Appends delivered bytes to `recent`, keeping at most 2 x [`RECENT`].
    fn keep_recent(&mut self, d: &[u8]) {
        self.recent.extend_from_slice(d);
        if self.recent.len() > 2 * RECENT {
            self.recent.drain(..self.recent.len() - RECENT);
        }
    }

    /// Compares the part of `data` (at stream offset `at`) already delivered
    /// with what was delivered; a difference is reported.
    fn compare(&mut self, frame: u64, at: u64, data: &[u8], out: &mut Out<'_>) {
        let end = (at + data.len() as u64).min(self.next);
        if end <= at {
            return;
        }
        let kept_from = self.next - self.recent.len() as u64;
        if at < kept_from {
            self.stats.bytes_not_compared += kept_from.min(end) - at;
        }
        let from = at.max(kept_from);
        if from >= end {
            return;
        }
        let old = &self.recent[(from - kept_from) as usize..(end - kept_from) as usize];
        let new = &data[(from - at) as usize..(end - at) as usize];
        if old != new {
            self.stats.conflicting_retransmissions += 1;
            let bytes = old.iter().zip(new).filter(|(a, b)| a != b).count() as u64;
            out(frame, Piece::Lost(Loss::Conflict { bytes }));
        }
    }

    /// `n` bytes will never come: the message being assembled is lost.
    fn lose(&mut self, n: u64) {
        self.recent.clear();
        let held = (self.buf.len() - self.start) as u64;
        self.stats.bytes_missing += n;
        self.stats.bytes_skipped += held;
        let run = self.run.get_or_insert((self.last_frame, 0, 0));
        run.1 += n;
        run.2 += held;
        self.buf.clear();
        self.start = 0;
        self.synced = false;
    }

    /// Counts `n` skipped bytes into the loss being accumulated.
    fn note_skip(&mut self, frame: u64, n: u64) {
        if n > 0 && !self.cut {
            self.run.get_or_insert((frame, 0, 0)).2 += n;
        }
    }

    /// Reports the accumulated loss, if any.
    fn emit_run(&mut self, out: &mut Out<'_>) {
        if let Some((frame, missing, skipped)) = self.run.take() {
            if missing + skipped > 0 {
                out(frame, Piece::Lost(Loss::Gap { missing, skipped }));
            }
        }
    }

    /// Delivers every whole frame in `buf[start..]`.
    fn frame(&mut self, frame: u64, out: &mut Out<'_>) {
        loop {
            let avail = &self.buf[self.start..];
            if !self.synced {
                match find_frame(avail) {
                    Some(p) => {
                        self.stats.resyncs += 1;
                        self.stats.bytes_skipped += p as u64;
                        self.note_skip(frame, p as u64);
                        self.emit_run(out);
                        self.start += p;
                        self.synced = true;
                        continue;
                    }
                    None => {
                        // Keep a possible header start that straddles the next segment.
                        let keep = avail.len().min(9);
                        let n = (avail.len() - keep) as u64;
                        self.stats.bytes_skipped += n;
                        self.note_skip(frame, n);
                        self.start = self.buf.len() - keep;
                        break;
                    }
                }
            }
            if avail.len() < 4 {
                break;
            }
            let len = be24(&avail[1..4]);
            if avail[0] != 0 {
                // A NetBIOS session-service control frame (keep-alive...) carries no SMB.
                if !control_frame_length(avail[0], len) {
                    self.synced = false;
                    continue;
                }
                if 4 + len > avail.len() {
                    break;
                }
                self.start += 4 + len;
                self.stats.bytes_framed += 4 + len as u64;
                self.stats.control_frames += 1;
                self.stats.bytes_control += 4 + len as u64;
                continue;
            }
            if len < 4 {
                self.synced = false;
                continue;
            }
            if avail.len() < 8 {
                break;
            }
            let smb1 = avail[4..8] == [0xFF, b'S', b'M', b'B'];
            if !smb1 && !is_smb_magic(&avail[4..8]) {
                self.synced = false;
                continue;
            }
            if avail.len() < 4 + len {
                break;
            }
            if !smb1 {
                out(frame, Piece::Message(&avail[4..4 + len]));
            } else if !(avail[8] == SMB1_NEGOTIATE && avail.get(13).is_some_and(|f| f & 0x80 == 0))
            {
                // SMB1 is framed, not checked: every message but the client's
                // multi-protocol NEGOTIATE request is reported.
                let (command, bytes) = (avail[8], len as u64);
                out(frame, Piece::Lost(Loss::Smb1 { command, bytes }));
            }
            self.start += 4 + len;
            self.stats.bytes_framed += 4 + len as u64;
        }
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > (1 << 20) && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// Whether `len` is a length RFC 1002 4.3 gives a NetBIOS session-service
/// control frame of type `ty`: a session request's two names (at most
/// [`MAX_CONTROL_FRAME`]), a negative response's error code (1), a retarget's
/// address and port (6), nothing for a positive response or keep-alive. Any
/// other frame is not framing, and is searched past like other stray bytes.
fn control_frame_length(ty: u8, len: usize) -> bool {
    match ty {
        0x81 => len <= MAX_CONTROL_FRAME,
        0x82 | 0x85 => len == 0,
        0x83 => len == 1,
        0x84 => len == 6,
        _ => false,
    }
}

fn be24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

/// FE 'SMB' (SMB2), FD 'SMB' (transform) or FC 'SMB' (compression).
#[must_use]
pub fn is_smb_magic(b: &[u8]) -> bool {
    b.len() >= 4 && matches!(b[0], 0xFC..=0xFE) && &b[1..4] == b"SMB"
}

/// The offset of the first plausible direct-TCP frame header in `b`: a zero
/// byte, a length of at least a header, the magic, and for SMB2 the header's
/// StructureSize (64), which makes a false match in payload data rarer.
fn find_frame(b: &[u8]) -> Option<usize> {
    (0..b.len().saturating_sub(9)).find(|&p| {
        let len = be24(&b[p + 1..p + 4]);
        b[p] == 0
            && (64..=MAX_FRAME).contains(&len)
            && is_smb_magic(&b[p + 4..p + 8])
            && (b[p + 4] != 0xFE || b[p + 8..p + 10] == [64, 0])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body_len: usize, fill: u8) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0];
        v[1..4].copy_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&[0xFE, b'S', b'M', b'B', 64, 0]);
        v.resize(4 + body_len, fill);
        v
    }

    const SYN: Flags = Flags {
        syn: true,
        fin: false,
        rst: false,
    };
    const DATA: Flags = Flags {
        syn: false,
        fin: false,
        rst: false,
    };

    #[derive(Default)]
    struct Got {
        messages: Vec<Vec<u8>>,
        losses: Vec<Loss>,
    }

    fn sink(got: &mut Got) -> impl FnMut(u64, Piece<'_>) + '_ {
        |_, p| match p {
            Piece::Message(m) => got.messages.push(m.to_vec()),
            Piece::Lost(l) => got.losses.push(l),
        }
    }

    fn collect(d: &mut Direction, segs: &[(u32, &[u8], usize)]) -> Got {
        let mut got = Got::default();
        for (i, &(seq, p, missing)) in segs.iter().enumerate() {
            d.push(i as u64 + 1, seq, DATA, p, missing, &mut sink(&mut got));
        }
        d.finish(&mut sink(&mut got));
        let s = d.stats;
        assert_eq!(
            d.stream_len(),
            s.bytes_framed + s.bytes_skipped + s.bytes_missing,
            "every stream byte is framed, skipped or missing once"
        );
        got
    }

    #[test]
    fn an_overlap_with_other_bytes_is_a_conflict() {
        let stream: Vec<u8> = [frame(100, 1), frame(70, 2)].concat();
        let mut forged = stream[40..130].to_vec();
        forged[5] ^= 0xFF; // stream byte 45, delivered already
        let mut d = Direction::default();
        d.push(0, 999, SYN, &[], 0, &mut |_, _| {});
        let got = collect(
            &mut d,
            &[
                (1000, &stream[..50], 0),
                (1040, &forged[..], 0),
                (1130, &stream[130..], 0),
            ],
        );
        assert_eq!(got.messages.len(), 2);
        assert_eq!(got.losses, vec![Loss::Conflict { bytes: 1 }]);
        assert_eq!(d.stats.conflicting_retransmissions, 1);
        assert!(!d.stats.complete());
    }

    #[test]
    fn out_of_order_retransmitted_and_overlapping_segments_reassemble() {
        let stream: Vec<u8> = [frame(100, 1), frame(70, 2), frame(300, 3)].concat();
        let mut d = Direction::default();
        d.push(0, 999, SYN, &[], 0, &mut |_, _| {
            panic!("SYN carries nothing")
        });
        let s = |a: usize, b: usize| (1000 + a as u32, &stream[a..b], 0);
        let got = collect(
            &mut d,
            &[
                s(0, 50),
                s(120, 200),
                s(40, 130),
                s(0, 50),
                s(190, 400),
                s(380, stream.len()),
            ],
        );
        assert_eq!(
            got.messages,
            vec![
                stream[4..104].to_vec(),
                stream[108..178].to_vec(),
                stream[182..].to_vec()
            ]
        );
        assert!(got.losses.is_empty());
        assert!(d.stats.complete());
        assert_eq!(d.stats.bytes_framed, stream.len() as u64);
    }

    #[test]
    fn mid_stream_start_and_snap_cut_resynchronise_and_are_reported() {
        let stream: Vec<u8> = [frame(100, 1), frame(80, 2), frame(90, 3), frame(64, 4)].concat();
        let mut d = Direction::default();
        // Starts inside the first frame; the third frame's segment is cut by the snap length.
        let third = 104 + 84;
        let got = collect(
            &mut d,
            &[
                (5050, &stream[50..third + 20], 0),
                (
                    5050 + (third + 20 - 50) as u32,
                    &stream[third + 20..third + 30],
                    64,
                ),
                (5050 + (third + 94 - 50) as u32, &stream[third + 94..], 0),
            ],
        );
        assert_eq!(
            got.messages,
            vec![stream[108..188].to_vec(), stream[third + 98..].to_vec()]
        );
        assert_eq!(d.stats.bytes_missing, 64);
        assert_eq!(d.stats.resyncs, 2);
        assert_eq!(
            got.losses,
            vec![
                Loss::Gap {
                    missing: 0,
                    skipped: 54
                },
                Loss::Gap {
                    missing: 64,
                    skipped: 30
                }
            ]
        );
    }

    #[test]
    fn smb1_frames_are_reported_without_losing_sync() {
        // A client's multi-protocol NEGOTIATE request (0x72, reply bit clear)
        // passes; any other SMB1 message is reported, neither loses the framing.
        let mut negotiate = frame(80, 0);
        negotiate[4] = 0xFF;
        negotiate[8] = 0x72;
        let mut other = frame(80, 5);
        other[4] = 0xFF;
        let stream: Vec<u8> = [negotiate, other, frame(90, 6)].concat();
        let mut d = Direction::default();
        d.push(0, 99, SYN, &[], 0, &mut |_, _| {});
        let got = collect(&mut d, &[(100, &stream[..], 0)]);
        assert_eq!(got.messages, vec![stream[172..].to_vec()]);
        assert_eq!(
            got.losses,
            vec![Loss::Smb1 {
                command: 64,
                bytes: 80
            }]
        );
        assert!(d.stats.complete());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let stream: Vec<u8> = [frame(100, 7), frame(100, 8)].concat();
        let mut d = Direction::default();
        d.push(0, u32::MAX - 50, SYN, &[], 0, &mut |_, _| {});
        let seq0 = u32::MAX - 49;
        let got = collect(
            &mut d,
            &[
                (seq0, &stream[..60], 0),
                (seq0.wrapping_add(60), &stream[60..], 0),
            ],
        );
        assert_eq!(got.messages.len(), 2);
        assert_eq!(got.messages[1], stream[108..].to_vec());
    }

    #[test]
    fn a_syn_on_an_established_direction_does_not_reset_it() {
        let stream: Vec<u8> = [frame(100, 1), frame(100, 2)].concat();
        let mut d = Direction::default();
        let mut got = Got::default();
        d.push(1, 999, SYN, &[], 0, &mut sink(&mut got));
        d.push(1, 999, SYN, &[], 0, &mut sink(&mut got)); // retransmitted: silent
        d.push(2, 1000, DATA, &stream[..104], 0, &mut sink(&mut got));
        d.push(3, 0x8000_0000, SYN, &[], 0, &mut sink(&mut got));
        d.push(4, 1104, DATA, &stream[104..], 0, &mut sink(&mut got));
        d.finish(&mut sink(&mut got));
        assert_eq!(got.messages.len(), 2);
        assert_eq!(got.losses, vec![Loss::Syn { bytes: 0 }]);
        assert_eq!(d.stats.syns_ignored, 1);
        assert!(!d.stats.complete());
    }

    #[test]
    fn far_segments_are_out_of_window_and_reported() {
        let stream = frame(100, 1);
        let mut d = Direction::default();
        let mut got = Got::default();
        d.push(1, 999, SYN, &[], 0, &mut sink(&mut got));
        d.push(2, 1000 + (1 << 31), DATA, &[1; 10], 0, &mut sink(&mut got));
        d.push(3, 990, DATA, &[1; 5], 0, &mut sink(&mut got)); // before the ISN
        d.push(4, 1000, DATA, &stream, 0, &mut sink(&mut got));
        d.finish(&mut sink(&mut got));
        assert_eq!(got.messages.len(), 1);
        assert_eq!(
            got.losses,
            vec![
                Loss::OutOfWindow { bytes: 10 },
                Loss::BeforeStart { bytes: 5 }
            ]
        );
    }

    #[test]
    fn reordering_at_capture_start_keeps_the_earlier_segment() {
        let stream: Vec<u8> = [frame(100, 1), frame(100, 2)].concat();
        let got = collect(
            &mut Direction::default(),
            &[(5104, &stream[104..], 0), (5000, &stream[..104], 0)],
        );
        assert_eq!(got.messages.len(), 2);
        assert!(got.losses.is_empty());
    }

    #[test]
    fn a_lying_length_is_reported_and_the_frames_behind_it_are_found() {
        let mut liar = vec![0, 0xFF, 0xFF, 0xFF, 0xFE, b'S', b'M', b'B', 64, 0];
        liar.resize(70, 0);
        let stream: Vec<u8> = [liar, frame(100, 2), frame(80, 3)].concat();
        let mut d = Direction::default();
        d.push(0, 99, SYN, &[], 0, &mut |_, _| {});
        let got = collect(&mut d, &[(100, &stream, 0)]);
        assert_eq!(got.messages.len(), 2, "{:?}", got.losses);
        assert_eq!(
            got.losses,
            vec![Loss::Cut {
                declared: 0xFF_FFFF,
                captured: stream.len() as u64 - 4
            }]
        );
    }

    #[test]
    fn fin_closes_once_every_byte_before_it_arrived() {
        let stream = frame(100, 1);
        let mut d = Direction::default();
        let fin = Flags { fin: true, ..DATA };
        d.push(0, 99, SYN, &[], 0, &mut |_, _| {});
        d.push(1, 150, fin, &stream[50..], 0, &mut |_, _| {});
        assert!(!d.closed());
        let mut n = 0;
        d.push(2, 100, DATA, &stream[..50], 0, &mut |_, _| n += 1);
        assert!(d.closed() && n == 1);
    }
}
