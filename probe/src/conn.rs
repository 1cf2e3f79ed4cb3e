//! One TCP connection to an SMB server: direct-TCP framing (MS-SMB2 2.1: a
//! zero byte and a 24-bit length before each message), MessageIds, blocking
//! reads and writes under a per-request deadline (not per read: a server that
//! trickles bytes or sends STATUS_PENDING forever is cut off at the deadline).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use smbsign_wire::msg::RequestHeader;
use smbsign_wire::smb::{self, Header};

/// Credits asked for in every request: enough that the probe never waits for any.
const CREDIT_REQUEST: u16 = 64;

/// A connection and its request counter.
pub struct Conn {
    stream: TcpStream,
    next_message_id: u64,
    /// Bound on each request, from its send to its last response byte.
    request_timeout: Duration,
    /// When the request in flight runs out of time.
    deadline: Instant,
    /// CreditCharge of one-credit requests: 0 on 2.0.2 (no multi-credit), 1 otherwise.
    pub credit_charge: u16,
    /// SessionId of the session being set up or in use.
    pub session_id: u64,
    /// TreeId for requests that need one.
    pub tree_id: u32,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum Failure {
    /// The connection ended or was reset (a refusal, for enforcement).
    Closed(io::Error),
    /// No answer within the request timeout.
    Timeout,
    /// The answer is not the SMB message expected.
    Protocol(String),
    /// A success answer that a client cannot use (a NEGOTIATE response that
    /// does not parse): a finding.
    Broken(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Closed(e) => write!(f, "connection closed ({e})"),
            Failure::Timeout => f.write_str("no answer within the request timeout"),
            Failure::Protocol(m) | Failure::Broken(m) => f.write_str(m),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
            _ => Failure::Closed(e),
        }
    }
}

impl Conn {
    /// Connects to the first of `addrs` that answers within `connect_timeout`.
    pub fn open(
        addrs: &[SocketAddr],
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> io::Result<Conn> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(a, connect_timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(request_timeout))?;
                    stream.set_write_timeout(Some(request_timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(Conn {
                        stream,
                        next_message_id: 0,
                        request_timeout,
                        deadline: Instant::now() + request_timeout,
                        credit_charge: 1,
                        session_id: 0,
                        tree_id: 0,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The header of the next request for `command` on this session and tree.
    pub fn header(&mut self, command: u16) -> RequestHeader {
        let id = self.next_message_id;
        self.next_message_id += 1;
        RequestHeader {
            command,
            credit_charge: self.credit_charge,
            credit_request: CREDIT_REQUEST,
            flags: 0,
            message_id: id,
            tree_id: self.tree_id,
            session_id: self.session_id,
        }
    }

    /// Sends one message (a PDU, a compound chain, or an SMB1 message).
    pub fn send(&mut self, msg: &[u8]) -> Result<(), Failure> {
        let len = u32::try_from(msg.len())
            .ok()
            .filter(|&l| l < 1 << 24)
            .ok_or_else(|| Failure::Protocol("message over 16 MiB".into()))?;
        let mut frame = Vec::with_capacity(4 + msg.len());
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(msg);
        self.deadline = Instant::now() + self.request_timeout;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// Fills `buf` before the request's deadline, shrinking the socket
    /// timeout to what is left before each read.
    fn read_by_deadline(&mut self, buf: &mut [u8]) -> Result<(), Failure> {
        let mut at = 0;
        while at < buf.len() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Timeout);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buf[at..]) {
                Ok(0) => {
                    return Err(Failure::Closed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "end of stream",
                    )))
                }
                Ok(n) => at += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads one message as framed, whatever it is, before the request's deadline.
    pub fn recv_raw(&mut self) -> Result<Vec<u8>, Failure> {
        let mut len = [0u8; 4];
        self.read_by_deadline(&mut len)?;
        if len[0] != 0 {
            return Err(Failure::Protocol(format!(
                "not a direct-TCP SMB frame (first byte {:#04x})",
                len[0]
            )));
        }
        let mut msg = vec![0u8; u32::from_be_bytes(len) as usize];
        self.read_by_deadline(&mut msg)?;
        Ok(msg)
    }

    /// Reads the next SMB2 response, skipping interim (STATUS_PENDING) ones,
    /// all before the deadline of the request last sent.
    pub fn recv(&mut self) -> Result<Vec<u8>, Failure> {
        loop {
            let msg = self.recv_raw()?;
            let h = Header::parse(&msg).ok_or_else(|| {
                Failure::Protocol(if msg.first() == Some(&0xFD) {
                    "an encrypted (transform) message: not readable without the SMB3 transform"
                        .into()
                } else {
                    "not an SMB2 message".into()
                })
            })?;
            if !h.is_response() {
                return Err(Failure::Protocol("a request from the server".into()));
            }
            if h.flags & smb::FLAGS_ASYNC != 0 && h.status == smb::STATUS_PENDING {
                continue;
            }
            return Ok(msg);
        }
    }

    /// Sends `msg` and reads its response.
    pub fn call(&mut self, msg: &[u8]) -> Result<Vec<u8>, Failure> {
        self.send(msg)?;
        self.recv()
    }
}
