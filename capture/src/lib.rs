//! # smbsign-capture
//!
//! `smbsign-check` as a library: read a pcap or pcapng capture, reassemble its
//! TCP streams, follow SMB2 connections and sessions, and verify every signed
//! PDU with the `smbsign` core, explaining the failures.
//!
//! ```no_run
//! let opts = smbsign_capture::Options {
//!     password: Some("secret".into()),
//!     ..Default::default()
//! };
//! let report = smbsign_capture::check_file("capture.pcapng".as_ref(), &opts)?;
//! print!("{}", report.text(false));
//! # Ok::<(), smbsign_capture::CheckError>(())
//! ```

pub mod check;
pub mod decrypt;
pub mod diagnose;
pub mod packets;
pub mod report;
pub mod tcp;

/// The shared SMB2 wire layer (messages, NTLMSSP), re-exported under its old paths.
pub use smbsign_wire::{ntlm, smb};

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use check::Options;
pub use packets::CheckError;
pub use report::{Record, Report, Verdict};

/// Checks the capture file at `path`.
pub fn check_file(path: &Path, opts: &Options) -> Result<Report, CheckError> {
    let f = std::fs::File::open(path).map_err(CheckError::Io)?;
    check_reader(std::io::BufReader::with_capacity(1 << 20, f), opts)
}

/// Checks a capture held in memory.
pub fn check_bytes(capture: &[u8], opts: &Options) -> Result<Report, CheckError> {
    check_reader(capture, opts)
}

/// What reading a capture met, besides its SMB messages.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Frames read.
    pub frames: u64,
    /// Frames holding TCP.
    pub tcp_frames: u64,
    /// Bytes of the frames as captured.
    pub captured_bytes: u64,
    /// Reassembly statistics, summed over every direction.
    pub streams: tcp::StreamStats,
    /// IP fragment bytes that could not be reassembled.
    pub fragment_bytes_lost: u64,
    /// Frames in an encapsulation not decoded that may carry TCP
    /// ([`packets::Decoder::undecoded`]).
    pub frames_undecoded: u64,
    /// Most TCP directions held at once (each freed on FIN/RST or when idle).
    pub peak_directions: usize,
    /// Directions ended by being idle.
    pub idle_directions: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub read_error: Option<String>,
}

/// What walking a capture delivers, in capture order.
#[derive(Debug)]
pub enum Event<'a> {
    /// One SMB message (direct-TCP frame payload: SMB2, transform or
    /// compressed), completed in `frame`.
    Message {
        /// Frame that completed it.
        frame: u64,
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// The message.
        msg: &'a [u8],
    },
    /// Bytes that could not be made into messages.
    Lost {
        /// Frame where the loss showed.
        frame: u64,
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// The kind of loss, for counting.
        kind: &'static str,
        /// The reason, in a sentence.
        reason: String,
    },
    /// Both directions between `a` and `b` ended: their state can go.
    Closed {
        /// One end.
        a: SocketAddr,
        /// The other end.
        b: SocketAddr,
    },
}

/// A direction with no segment for this long (capture time) is taken as
/// ended and freed: longer than SMB's own idle limits (Windows closes an idle
/// session after 15 minutes), so a live connection is rarely cut.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// How often (capture time) directions are checked for idleness.
const SWEEP: Duration = Duration::from_secs(60);

struct Live {
    dir: tcp::Direction,
    last: Duration,
}

/// Calls `f(frame, src, dst, message)` for every SMB message in the capture,
/// each direction reassembled, in the order they complete (see [`walk`]).
pub fn for_each_message<R: Read>(
    reader: R,
    mut f: impl FnMut(u64, SocketAddr, SocketAddr, &[u8]),
) -> Result<Walk, CheckError> {
    walk(reader, |e| {
        if let Event::Message {
            frame,
            src,
            dst,
            msg,
        } = e
        {
            f(frame, src, dst, msg);
        }
    })
}

/// Walks the capture: every SMB message, each direction reassembled, in the
/// order they complete; every loss with its reason; each connection's end. A
/// file that is not a capture is an error; one that ends early or turns
/// corrupt is walked up to there ([`Walk::read_error`]). Memory: the
/// directions alive (freed on FIN/RST, and after [`IDLE`]) and the largest
/// message.
pub fn walk<R: Read>(reader: R, mut f: impl FnMut(Event<'_>)) -> Result<Walk, CheckError> {
    let mut frames = packets::Frames::open(reader)?;
    let mut decoder = packets::Decoder::default();
    let mut dirs: HashMap<(SocketAddr, SocketAddr), Live> = HashMap::new();
    let mut walk = Walk::default();
    let mut next_sweep = Duration::ZERO;
    let walked = frames.for_each(|frame| {
        walk.frames += 1;
        walk.captured_bytes += frame.data.len() as u64;
        let n = walk.frames;
        let now = frame.time;
        if let Some(seg) = decoder.decode(n, &frame) {
            walk.tcp_frames += 1;
            let (src, dst) = (seg.src, seg.dst);
            let carries = !seg.payload.is_empty() || seg.missing > 0;
            let live = match dirs.entry((src, dst)) {
                std::collections::hash_map::Entry::Occupied(o) => Some(o.into_mut()),
                // A bare ACK (or FIN, RST) on no live direction starts nothing.
                std::collections::hash_map::Entry::Vacant(v) if carries || seg.flags.syn => {
                    Some(v.insert(Live {
                        dir: tcp::Direction::default(),
                        last: now,
                    }))
                }
                std::collections::hash_map::Entry::Vacant(_) => None,
            };
            if let Some(live) = live {
                live.last = live.last.max(now);
                live.dir.push(
                    n,
                    seg.seq,
                    seg.flags,
                    seg.payload,
                    seg.missing,
                    &mut |fr, p| deliver(&mut f, fr, src, dst, p),
                );
                if live.dir.closed() {
                    // A RST aborts both directions (RFC 9293 3.10.7.4).
                    let reset = live.dir.reset();
                    end(&mut dirs, &mut walk, (src, dst), &mut f);
                    if reset {
                        end(&mut dirs, &mut walk, (dst, src), &mut f);
                    }
                }
            }
            walk.peak_directions = walk.peak_directions.max(dirs.len());
        }
        fragment_losses(&mut decoder, &mut walk, &mut f);
        if now >= next_sweep {
            next_sweep = now + SWEEP;
            let idle: Vec<_> = dirs
                .iter()
                .filter(|(_, l)| now.saturating_sub(l.last) > IDLE)
                .map(|(k, _)| *k)
                .collect();
            for k in idle {
                walk.idle_directions += 1;
                end(&mut dirs, &mut walk, k, &mut f);
            }
        }
    });
    decoder.finish();
    fragment_losses(&mut decoder, &mut walk, &mut f);
    walk.frames_undecoded = decoder.undecoded;
    // What is left at the end of the capture, in a stable order.
    let mut keys: Vec<_> = dirs.keys().copied().collect();
    keys.sort();
    for k in keys {
        end(&mut dirs, &mut walk, k, &mut f);
    }
    walk.read_error = walked.err().map(|e| e.to_string());
    Ok(walk)
}

fn fragment_losses(decoder: &mut packets::Decoder, walk: &mut Walk, f: &mut impl FnMut(Event<'_>)) {
    for l in decoder.losses.drain(..) {
        walk.fragment_bytes_lost += l.bytes;
        f(Event::Lost {
            frame: l.frame,
            src: SocketAddr::new(l.src, 0),
            dst: SocketAddr::new(l.dst, 0),
            kind: "IP fragments not reassembled",
            reason: format!("{}; {} bytes not checked", l.reason, l.bytes),
        });
    }
}

fn deliver(
    f: &mut impl FnMut(Event<'_>),
    frame: u64,
    src: SocketAddr,
    dst: SocketAddr,
    p: tcp::Piece<'_>,
) {
    match p {
        tcp::Piece::Message(msg) => f(Event::Message {
            frame,
            src,
            dst,
            msg,
        }),
        tcp::Piece::Lost(l) => f(Event::Lost {
            frame,
            src,
            dst,
            kind: l.kind(),
            reason: l.reason(),
        }),
    }
}

/// Finishes and frees one direction; the connection ends with its second.
fn end(
    dirs: &mut HashMap<(SocketAddr, SocketAddr), Live>,
    walk: &mut Walk,
    k: (SocketAddr, SocketAddr),
    f: &mut impl FnMut(Event<'_>),
) {
    let Some(mut live) = dirs.remove(&k) else {
        return;
    };
    live.dir.finish(&mut |fr, p| deliver(f, fr, k.0, k.1, p));
    walk.streams.add(&live.dir.stats);
    if !dirs.contains_key(&(k.1, k.0)) {
        f(Event::Closed { a: k.0, b: k.1 });
    }
}

/// Checks a capture read from `reader`, keeping every record in
/// [`Report::records`]. A file that is not a capture is an error; one that
/// ends early or turns corrupt is checked up to there and the report says so
/// ([`Report::read_error`]).
pub fn check_reader<R: Read>(reader: R, opts: &Options) -> Result<Report, CheckError> {
    let mut records = Vec::new();
    let mut report = check_streaming(reader, opts, &mut |r| records.push(r.clone()))?;
    report.records = records;
    Ok(report)
}

/// Checks a capture, handing each record to `on_record` once its verdict is
/// final (in the order its message completed) and keeping none: the report
/// returned has the counts, sessions and notes, no records.
pub fn check_streaming<R: Read>(
    reader: R,
    opts: &Options,
    on_record: &mut dyn FnMut(&Record),
) -> Result<Report, CheckError> {
    let mut checker = check::Checker::new(opts);
    let walk = walk(reader, |e| {
        match e {
            Event::Message {
                frame,
                src,
                dst,
                msg,
            } => checker.message(frame, src, dst, msg),
            Event::Lost {
                frame,
                src,
                dst,
                kind,
                reason,
            } => checker.lost(frame, src, dst, kind, reason),
            Event::Closed { a, b } => checker.close(a, b),
        }
        checker.release(on_record);
    })?;
    let mut report = checker.finish(on_record);
    report.frames = walk.frames;
    report.tcp_frames = walk.tcp_frames;
    report.captured_bytes = walk.captured_bytes;
    report.streams = walk.streams;
    report.fragment_bytes_lost = walk.fragment_bytes_lost;
    report.frames_undecoded = walk.frames_undecoded;
    report.peak_directions = walk.peak_directions;
    report.read_error = walk.read_error;
    Ok(report)
}
