//! One direction of a TCP connection reassembled into SMB2 messages over
//! direct TCP (MS-SMB2 2.1: a zero byte and a 3-byte big-endian length, then
//! the message). Segments may arrive out of order, be retransmitted or overlap;
//! a capture may start mid-stream, lose segments or cut them to the snap
//! length. After any gap the stream resynchronises on the next plausible frame
//! header: a zero byte, a length, and a message that starts with FE/FD/FC 'SMB'.

use std::collections::BTreeMap;

/// Largest frame accepted when resynchronising (the length field's maximum).
const MAX_FRAME: usize = 0x00FF_FFFF;
/// Bytes held out of order past a gap before the gap is taken as lost.
const MAX_PENDING: usize = 64 << 20;

/// What a direction holds out of order: captured bytes, or bytes the sender
/// sent that the capture does not have.
#[derive(Debug)]
enum Chunk {
    /// Captured bytes and the frame that carried them.
    Data(Vec<u8>, u64),
    Hole(u64),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Data(d, _) => d.len() as u64,
            Chunk::Hole(n) => *n,
        }
    }
}

/// Counts of what reassembly had to cope with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes the capture does not have (lost, or cut by the snap length).
    pub bytes_missing: u64,
    /// Times the framing was lost and searched for again.
    pub resyncs: u64,
    /// Bytes skipped while searching for a frame header.
    pub bytes_skipped: u64,
}

/// One direction of one TCP connection.
#[derive(Debug, Default)]
pub struct Direction {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Stream offset of the next byte expected.
    next: u64,
    pending: BTreeMap<u64, Chunk>,
    pending_bytes: usize,
    /// In-order bytes not yet framed: `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    /// Whether `buf[start]` is a frame boundary.
    synced: bool,
    /// What reassembly coped with so far.
    pub stats: StreamStats,
}

impl Direction {
    /// Feeds one segment carried by `frame`; `on_message` receives each SMB
    /// message (without its 4-byte frame header) completed by it, in stream
    /// order, with the number of the frame that completed it.
    pub fn push(
        &mut self,
        frame: u64,
        seq: u32,
        syn: bool,
        payload: &[u8],
        missing: usize,
        on_message: &mut dyn FnMut(u64, &[u8]),
    ) {
        if syn {
            let isn1 = seq.wrapping_add(1);
            if self.base != Some(isn1) {
                // A new connection on the same addresses starts afresh.
                *self = Direction {
                    base: Some(isn1),
                    synced: true,
                    stats: self.stats,
                    ..Direction::default()
                };
            }
            return;
        }
        if payload.is_empty() && missing == 0 {
            return;
        }
        let base = *self.base.get_or_insert(seq);
        // Unwrap the 32-bit sequence number near the expected offset.
        let expected = base.wrapping_add(self.next as u32);
        let delta = i64::from(seq.wrapping_sub(expected) as i32);
        let Some(at) = u64::try_from(self.next as i64 + delta).ok() else {
            return; // before the start of what this direction has seen
        };
        if at == self.next && self.pending.is_empty() && missing == 0 {
            // In order with nothing waiting: straight to the framing buffer.
            self.buf.extend_from_slice(payload);
            self.next += payload.len() as u64;
            self.frame(frame, on_message);
            return;
        }
        if !payload.is_empty() {
            self.insert(at, Chunk::Data(payload.to_vec(), frame));
        }
        if missing > 0 {
            self.insert(at + payload.len() as u64, Chunk::Hole(missing as u64));
        }
        self.drain(on_message);
        if self.pending_bytes > MAX_PENDING {
            self.skip_gap(on_message);
        }
    }

    /// The end of the capture: every gap left is lost; frame what follows them.
    pub fn finish(&mut self, on_message: &mut dyn FnMut(u64, &[u8])) {
        while !self.pending.is_empty() {
            self.skip_gap(on_message);
        }
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

    /// Takes the chunks that now continue the stream, framing as it goes.
    fn drain(&mut self, on_message: &mut dyn FnMut(u64, &[u8])) {
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
                Chunk::Data(d, frame) => {
                    self.buf.extend_from_slice(&d[skip..]);
                    self.next = end;
                    self.frame(frame, on_message);
                }
                Chunk::Hole(_) => {
                    self.lose(end - self.next);
                    self.next = end;
                }
            }
        }
    }

    /// Gives up on the bytes before the first pending chunk.
    fn skip_gap(&mut self, on_message: &mut dyn FnMut(u64, &[u8])) {
        if let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next {
                self.lose(at - self.next);
                self.next = at;
            }
        }
        self.drain(on_message);
    }

    /// `n` bytes will never come: the message being assembled is lost.
    fn lose(&mut self, n: u64) {
        self.stats.bytes_missing += n;
        self.stats.bytes_skipped += (self.buf.len() - self.start) as u64;
        self.buf.clear();
        self.start = 0;
        self.synced = false;
    }

    /// Delivers every whole frame in `buf[start..]`.
    fn frame(&mut self, frame: u64, on_message: &mut dyn FnMut(u64, &[u8])) {
        loop {
            let avail = &self.buf[self.start..];
            if !self.synced {
                match find_frame(avail) {
                    Some(p) => {
                        self.stats.resyncs += 1;
                        self.stats.bytes_skipped += p as u64;
                        self.start += p;
                        self.synced = true;
                        continue;
                    }
                    None => {
                        // Keep a possible header start that straddles the next segment.
                        let keep = avail.len().min(9);
                        self.stats.bytes_skipped += (avail.len() - keep) as u64;
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
                if 4 + len > avail.len() {
                    break;
                }
                self.start += 4 + len;
                continue;
            }
            if avail.len() < 4 + len {
                break;
            }
            if len >= 4 && avail[4..8] == [0xFF, b'S', b'M', b'B'] {
                // SMB1 (a multi-protocol NEGOTIATE before SMB2): framed, not signed here.
                self.start += 4 + len;
                continue;
            }
            if len < 4 || !is_smb_magic(&avail[4..8]) {
                self.synced = false;
                self.start += 1;
                continue;
            }
            on_message(frame, &avail[4..4 + len]);
            self.start += 4 + len;
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

    fn collect(d: &mut Direction, segs: &[(u32, &[u8], usize)]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for (i, &(seq, p, missing)) in segs.iter().enumerate() {
            d.push(i as u64 + 1, seq, false, p, missing, &mut |_, m| {
                out.push(m.to_vec())
            });
        }
        d.finish(&mut |_, m| out.push(m.to_vec()));
        out
    }

    #[test]
    fn out_of_order_retransmitted_and_overlapping_segments_reassemble() {
        let stream: Vec<u8> = [frame(100, 1), frame(70, 2), frame(300, 3)].concat();
        let mut d = Direction::default();
        d.push(0, 999, true, &[], 0, &mut |_, _| {
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
            got,
            vec![
                stream[4..104].to_vec(),
                stream[108..178].to_vec(),
                stream[182..].to_vec()
            ]
        );
        assert_eq!(d.stats, StreamStats::default());
    }

    #[test]
    fn mid_stream_start_and_snap_cut_resynchronise() {
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
            got,
            vec![stream[108..188].to_vec(), stream[third + 98..].to_vec()]
        );
        assert_eq!(d.stats.bytes_missing, 64);
        assert_eq!(d.stats.resyncs, 2);
    }

    #[test]
    fn smb1_frames_are_skipped_without_losing_sync() {
        let mut smb1 = frame(80, 5);
        smb1[4] = 0xFF;
        let stream: Vec<u8> = [smb1, frame(90, 6)].concat();
        let mut d = Direction::default();
        d.push(0, 99, true, &[], 0, &mut |_, _| {});
        let got = collect(&mut d, &[(100, &stream[..], 0)]);
        assert_eq!(got, vec![stream[88..].to_vec()]);
        assert_eq!(d.stats, StreamStats::default());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let stream: Vec<u8> = [frame(100, 7), frame(100, 8)].concat();
        let mut d = Direction::default();
        d.push(0, u32::MAX - 50, true, &[], 0, &mut |_, _| {});
        let seq0 = u32::MAX - 49;
        let got = collect(
            &mut d,
            &[
                (seq0, &stream[..60], 0),
                (seq0.wrapping_add(60), &stream[60..], 0),
            ],
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], stream[108..].to_vec());
    }
}
