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

pub use report::{Record, Report, Verdict};

/// What to check with.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--session-key [SESSIONID:]HEX`: for one session, or (`None`) for every session.
    pub session_keys: Vec<(Option<u64>, Vec<u8>)>,
    /// `--password`: NTLMv2 session keys from the capture's AUTHENTICATE messages.
    pub password: Option<String>,
    /// `--user`: instead of the AUTHENTICATE message's UserName.
    pub user: Option<String>,
    /// `--domain`: instead of the AUTHENTICATE message's DomainName.
    pub domain: Option<String>,
    /// Explain every invalid signature.
    pub diagnose: bool,
}

/// Why a capture could not be checked at all.
#[derive(Debug)]
pub enum CheckError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// It is not a pcap or pcapng capture.
    Format(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Io(e) => write!(f, "{e}"),
            CheckError::Format(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CheckError {}

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
    /// Why reading stopped before the end of the file, if it did.
    pub read_error: Option<String>,
}

/// Calls `f(frame, src, dst, message)` for every SMB message (direct-TCP
/// frame payload: SMB2, transform or compressed) in the capture, each
/// direction reassembled, in the order they complete. A file that is not a
/// capture is an error; one that ends early or turns corrupt is walked up to
/// there ([`Walk::read_error`]).
pub fn for_each_message<R: Read>(
    reader: R,
    mut f: impl FnMut(u64, SocketAddr, SocketAddr, &[u8]),
) -> Result<Walk, CheckError> {
    let mut frames = packets::Frames::open(reader)?;
    let mut dirs: HashMap<(SocketAddr, SocketAddr), tcp::Direction> = HashMap::new();
    let mut walk = Walk::default();
    let walked = frames.for_each(|frame| {
        walk.frames += 1;
        walk.captured_bytes += frame.data.len() as u64;
        let Some(seg) = packets::decode(frame.link, frame.data, frame.orig_len) else {
            return;
        };
        walk.tcp_frames += 1;
        let (src, dst) = (seg.src, seg.dst);
        let dir = dirs.entry((src, dst)).or_default();
        dir.push(
            walk.frames,
            seg.seq,
            seg.syn,
            seg.payload,
            seg.missing,
            &mut |n, m| {
                f(n, src, dst, m);
            },
        );
    });
    // Messages past gaps that were never filled, in a stable order.
    let mut keys: Vec<_> = dirs.keys().copied().collect();
    keys.sort();
    for k in keys {
        let dir = dirs.get_mut(&k).expect("key from the map");
        dir.finish(&mut |n, m| f(n, k.0, k.1, m));
        walk.streams.bytes_missing += dir.stats.bytes_missing;
        walk.streams.resyncs += dir.stats.resyncs;
        walk.streams.bytes_skipped += dir.stats.bytes_skipped;
    }
    walk.read_error = walked.err().map(|e| e.to_string());
    Ok(walk)
}

/// Checks a capture read from `reader`. A file that is not a capture is an
/// error; one that ends early or turns corrupt is checked up to there and the
/// report says so ([`Report::read_error`]).
pub fn check_reader<R: Read>(reader: R, opts: &Options) -> Result<Report, CheckError> {
    let mut checker = check::Checker::new(opts);
    let walk = for_each_message(reader, |n, src, dst, m| checker.message(n, src, dst, m))?;
    let mut report = checker.finish();
    report.frames = walk.frames;
    report.tcp_frames = walk.tcp_frames;
    report.captured_bytes = walk.captured_bytes;
    report.streams = walk.streams;
    report.read_error = walk.read_error;
    Ok(report)
}
