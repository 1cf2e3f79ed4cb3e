//! A generator of crafted captures for the capture suite: classic pcap files
//! of Ethernet/IPv4/TCP frames, built connection by connection, with SMB2
//! messages framed for direct TCP. Tests build the unusual cases (gaps,
//! spoofed or reordered segments, cut frames, lying lengths, forged chains)
//! from these pieces instead of committing opaque binary files.
#![allow(dead_code)] // each test file uses the part it needs

use std::net::SocketAddrV4;

/// TCP flag bits.
pub mod flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A classic (libpcap) capture being written, link type Ethernet.
pub struct Pcap {
    out: Vec<u8>,
    snaplen: u32,
    time: u32,
}

impl Default for Pcap {
    fn default() -> Self {
        Pcap::new(262_144)
    }
}

impl Pcap {
    /// An empty capture whose header says `snaplen`; frames longer than it are
    /// cut to it, with their original length recorded, as `tcpdump -s N` does.
    #[must_use]
    pub fn new(snaplen: u32) -> Pcap {
        let mut out = Vec::new();
        out.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // thiszone, sigfigs
        out.extend_from_slice(&snaplen.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        Pcap {
            out,
            snaplen,
            time: 1_700_000_000,
        }
    }

    /// Appends one link-layer frame (cut to the snap length), one second after the last.
    pub fn frame(&mut self, frame: &[u8]) {
        self.time += 1;
        let caplen = frame.len().min(self.snaplen as usize);
        self.out.extend_from_slice(&self.time.to_le_bytes());
        self.out.extend_from_slice(&0u32.to_le_bytes());
        self.out.extend_from_slice(&(caplen as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.out.extend_from_slice(&frame[..caplen]);
    }

    /// Appends an Ethernet/IPv4 frame carrying `ip_payload` with IP protocol `proto`.
    pub fn ipv4(&mut self, src: SocketAddrV4, dst: SocketAddrV4, proto: u8, ip_payload: &[u8]) {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ipv4_header(
            *src.ip(),
            *dst.ip(),
            proto,
            ip_payload.len(),
            0,
            0,
        ));
        f.extend_from_slice(ip_payload);
        self.frame(&f);
    }

    /// The capture file's bytes.
    #[must_use]
    pub fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// An IPv4 header (no options) for a payload of `len` bytes; `id` and
/// `frag` (flags and fragment offset, as on the wire) for fragments.
#[must_use]
pub fn ipv4_header(
    src: std::net::Ipv4Addr,
    dst: std::net::Ipv4Addr,
    proto: u8,
    len: usize,
    id: u16,
    frag: u16,
) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + len) as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

fn checksum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while s > 0xFFFF {
        s = (s & 0xFFFF) + (s >> 16);
    }
    !(s as u16)
}

/// A TCP segment header (20 bytes, no options; checksum left zero, as
/// offloaded loopback captures show it) followed by `payload`.
#[must_use]
pub fn tcp_segment(
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&src_port.to_be_bytes());
    t.extend_from_slice(&dst_port.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags]);
    t.extend_from_slice(&65_535u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// Which way a segment goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// One TCP connection between a client and a server, keeping each
/// direction's next sequence number.
pub struct Conn {
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    /// Next sequence number client to server, server to client.
    pub next: [u32; 2],
}

impl Conn {
    /// A connection from `client_port` on 127.0.0.1 to 127.0.0.2:445, with
    /// initial sequence numbers derived from the port (distinct per connection).
    #[must_use]
    pub fn new(client_port: u16) -> Conn {
        Conn::between(
            SocketAddrV4::new([127, 0, 0, 1].into(), client_port),
            SocketAddrV4::new([127, 0, 0, 2].into(), 445),
        )
    }

    /// A connection between these two endpoints.
    #[must_use]
    pub fn between(client: SocketAddrV4, server: SocketAddrV4) -> Conn {
        let seed = u32::from(client.port()).wrapping_mul(0x9E37_79B9);
        Conn {
            client,
            server,
            next: [seed, seed ^ 0x5555_0000],
        }
    }

    fn ends(&self, dir: Dir) -> (SocketAddrV4, SocketAddrV4, usize) {
        match dir {
            Dir::ToServer => (self.client, self.server, 0),
            Dir::ToClient => (self.server, self.client, 1),
        }
    }

    /// Writes a segment with an explicit sequence number and flags, changing
    /// no state: for spoofed, duplicated or out-of-window segments.
    pub fn raw(&self, pcap: &mut Pcap, dir: Dir, seq: u32, flags: u8, payload: &[u8]) {
        let (src, dst, i) = self.ends(dir);
        let ack = self.next[1 - i];
        let seg = tcp_segment(src.port(), dst.port(), seq, ack, flags, payload);
        pcap.ipv4(src, dst, 6, &seg);
    }

    /// The TCP segment bytes (header and payload) that `send` would write next,
    /// advancing the sequence number: for callers that wrap them (IP fragments).
    pub fn next_segment(&mut self, dir: Dir, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, i) = self.ends(dir);
        let seq = self.next[i];
        let ack = self.next[1 - i];
        self.next[i] = seq.wrapping_add(payload.len() as u32);
        tcp_segment(src.port(), dst.port(), seq, ack, flags, payload)
    }

    /// The three-way handshake (SYN and SYN-ACK each take one sequence number).
    pub fn handshake(&mut self, pcap: &mut Pcap) {
        self.raw(pcap, Dir::ToServer, self.next[0], flag::SYN, &[]);
        self.next[0] = self.next[0].wrapping_add(1);
        self.raw(
            pcap,
            Dir::ToClient,
            self.next[1],
            flag::SYN | flag::ACK,
            &[],
        );
        self.next[1] = self.next[1].wrapping_add(1);
        self.raw(pcap, Dir::ToServer, self.next[0], flag::ACK, &[]);
    }

    /// One data segment of `payload`, in order.
    pub fn send(&mut self, pcap: &mut Pcap, dir: Dir, payload: &[u8]) {
        let (src, dst, _) = self.ends(dir);
        let seg = self.next_segment(dir, flag::PSH | flag::ACK, payload);
        pcap.ipv4(src, dst, 6, &seg);
    }

    /// One SMB message (SMB2, transform or compressed) in one segment, with
    /// its 4-byte direct-TCP length in front.
    pub fn send_smb(&mut self, pcap: &mut Pcap, dir: Dir, message: &[u8]) {
        self.send(pcap, dir, &direct_tcp(message));
    }

    /// The signed ECHO [`signed_echo`] makes, in its direction: a request to the
    /// server, a response (`response`) to the client.
    pub fn send_echo(
        &mut self,
        pcap: &mut Pcap,
        session_id: u64,
        message_id: u64,
        response: bool,
        session_key: &[u8],
    ) {
        let dir = if response {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        let echo = signed_echo(session_id, message_id, response, session_key);
        self.send_smb(pcap, dir, &echo);
    }

    /// FIN from one side (takes one sequence number).
    pub fn fin(&mut self, pcap: &mut Pcap, dir: Dir) {
        let (_, _, i) = self.ends(dir);
        self.raw(pcap, dir, self.next[i], flag::FIN | flag::ACK, &[]);
        self.next[i] = self.next[i].wrapping_add(1);
    }

    /// FIN both ways: the connection closes.
    pub fn close(&mut self, pcap: &mut Pcap) {
        self.fin(pcap, Dir::ToServer);
        self.fin(pcap, Dir::ToClient);
    }

    /// RST from one side.
    pub fn rst(&mut self, pcap: &mut Pcap, dir: Dir) {
        let (_, _, i) = self.ends(dir);
        self.raw(pcap, dir, self.next[i], flag::RST, &[]);
    }
}

/// A capture holding one connection from `client_port` (as [`Conn::new`]),
/// after its handshake.
#[must_use]
pub fn handshaken(client_port: u16) -> (Pcap, Conn) {
    let mut pcap = Pcap::default();
    let mut c = Conn::new(client_port);
    c.handshake(&mut pcap);
    (pcap, c)
}

/// `message` with its direct-TCP header (a zero byte and a 24-bit big-endian length).
#[must_use]
pub fn direct_tcp(message: &[u8]) -> Vec<u8> {
    let len = message.len() as u32;
    assert!(len < 1 << 24, "direct TCP carries at most 16 MiB - 1");
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(message);
    v
}

/// An SMB2 header's fields, for [`Smb2::bytes`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Smb2 {
    pub command: u16,
    pub flags: u32,
    pub status: u32,
    pub next_command: u32,
    pub message_id: u64,
    pub session_id: u64,
    pub tree_id: u32,
    pub credit: u16,
}

impl Smb2 {
    /// The 64-byte sync header (StructureSize 64, signature zero) followed by `body`.
    #[must_use]
    pub fn bytes(&self, body: &[u8]) -> Vec<u8> {
        let mut h = Vec::with_capacity(64 + body.len());
        h.extend_from_slice(&smbsign::smb2::PROTOCOL_ID);
        h.extend_from_slice(&64u16.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // CreditCharge
        h.extend_from_slice(&self.status.to_le_bytes());
        h.extend_from_slice(&self.command.to_le_bytes());
        h.extend_from_slice(&self.credit.to_le_bytes());
        h.extend_from_slice(&self.flags.to_le_bytes());
        h.extend_from_slice(&self.next_command.to_le_bytes());
        h.extend_from_slice(&self.message_id.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // Reserved (ProcessId)
        h.extend_from_slice(&self.tree_id.to_le_bytes());
        h.extend_from_slice(&self.session_id.to_le_bytes());
        h.extend_from_slice(&[0; 16]);
        h.extend_from_slice(body);
        h
    }
}

/// An ECHO request or response body (StructureSize 4, Reserved).
pub const ECHO_BODY: [u8; 4] = [4, 0, 0, 0];

impl Pcap {
    /// Lets `secs` seconds of capture time pass before the next frame.
    pub fn wait(&mut self, secs: u32) {
        self.time = self.time.wrapping_add(secs);
    }

    /// Appends the IPv4 fragments of one datagram carrying `ip_payload`: each
    /// `(offset, len)` of `pieces` (offsets in bytes, multiples of 8) as one
    /// frame, in the order given; the piece that reaches the end is the last.
    pub fn ipv4_fragments(
        &mut self,
        src: std::net::Ipv4Addr,
        dst: std::net::Ipv4Addr,
        proto: u8,
        id: u16,
        ip_payload: &[u8],
        pieces: &[(usize, usize)],
    ) {
        for &(at, len) in pieces {
            let part = &ip_payload[at..at + len];
            let more = if at + len < ip_payload.len() {
                0x2000
            } else {
                0
            };
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend_from_slice(&ipv4_header(
                src,
                dst,
                proto,
                part.len(),
                id,
                more | (at / 8) as u16,
            ));
            f.extend_from_slice(part);
            self.frame(&f);
        }
    }

    /// Appends an Ethernet/IPv6 frame carrying `ip_payload` (next header `proto`).
    pub fn ipv6(
        &mut self,
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        proto: u8,
        ip_payload: &[u8],
    ) {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x86, 0xDD]);
        f.extend_from_slice(&ipv6_header(src, dst, proto, ip_payload.len()));
        f.extend_from_slice(ip_payload);
        self.frame(&f);
    }

    /// Appends the IPv6 fragments (RFC 8200 4.5) of `ip_payload`, as
    /// [`Pcap::ipv4_fragments`] does.
    pub fn ipv6_fragments(
        &mut self,
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        proto: u8,
        id: u32,
        ip_payload: &[u8],
        pieces: &[(usize, usize)],
    ) {
        for &(at, len) in pieces {
            let part = &ip_payload[at..at + len];
            let more = u16::from(at + len < ip_payload.len());
            let mut body = vec![proto, 0];
            body.extend_from_slice(&((at as u16) | more).to_be_bytes());
            body.extend_from_slice(&id.to_be_bytes());
            body.extend_from_slice(part);
            self.ipv6(src, dst, 44, &body);
        }
    }
}

/// An IPv6 header for a payload of `len` bytes.
#[must_use]
pub fn ipv6_header(
    src: std::net::Ipv6Addr,
    dst: std::net::Ipv6Addr,
    next: u8,
    len: usize,
) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(len as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h
}

/// A signed SMB2 ECHO (request, or response with `response`) of session
/// `session_id`, signed with the SMB 2.1 key made from `session_key` (HMAC-SHA256),
/// which `--session-key` lets the checker adopt without a SESSION_SETUP.
#[must_use]
pub fn signed_echo(
    session_id: u64,
    message_id: u64,
    response: bool,
    session_key: &[u8],
) -> Vec<u8> {
    let mut pdu = Smb2 {
        command: 13,
        flags: u32::from(response) | 8,
        message_id,
        session_id,
        ..Smb2::default()
    }
    .bytes(&ECHO_BODY);
    let key = smbsign::smb2::SigningKey::for_session(
        smbsign::smb2::dialect::SMB2_1,
        None,
        session_key,
        &[0; 64],
    )
    .unwrap();
    smbsign::smb2::sign_pdu(&key, &mut pdu).unwrap();
    pdu
}

// ---- SMB2 message builders (MS-SMB2 2.2) -------------------------------------

/// `SMB2_FLAGS_SERVER_TO_REDIR`.
pub const RESPONSE: u32 = 0x1;
/// `SMB2_FLAGS_RELATED_OPERATIONS`.
pub const RELATED: u32 = 0x4;
/// SMB2 command codes used here.
pub mod command {
    pub const NEGOTIATE: u16 = 0;
    pub const SESSION_SETUP: u16 = 1;
    pub const ECHO: u16 = 13;
}

/// A NEGOTIATE request body (StructureSize 36) offering `dialect`, with `security_mode`.
#[must_use]
pub fn negotiate_request_body(security_mode: u16, dialect: u16) -> Vec<u8> {
    let mut b = vec![0u8; 36];
    b[0..2].copy_from_slice(&36u16.to_le_bytes());
    b[2..4].copy_from_slice(&1u16.to_le_bytes()); // DialectCount
    b[4..6].copy_from_slice(&security_mode.to_le_bytes());
    b.extend_from_slice(&dialect.to_le_bytes());
    b
}

/// A NEGOTIATE response body (StructureSize 65) choosing `dialect`, with
/// `security_mode`; `contexts` (count, raw bytes) are placed right after the
/// fixed part, 8-aligned, and NegotiateContextOffset points at them.
#[must_use]
pub fn negotiate_response_body(
    security_mode: u16,
    dialect: u16,
    contexts: (u16, &[u8]),
) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[0..2].copy_from_slice(&65u16.to_le_bytes());
    b[2..4].copy_from_slice(&security_mode.to_le_bytes());
    b[4..6].copy_from_slice(&dialect.to_le_bytes());
    b[6..8].copy_from_slice(&contexts.0.to_le_bytes());
    let offset = 64 + 64u32; // header + fixed body: already 8-aligned
    b[60..64].copy_from_slice(&offset.to_le_bytes());
    b.extend_from_slice(contexts.1);
    b
}

/// One negotiate context (MS-SMB2 2.2.3.1): type, length, reserved, data, padded to 8.
#[must_use]
pub fn negotiate_context(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut c = ty.to_le_bytes().to_vec();
    c.extend_from_slice(&(data.len() as u16).to_le_bytes());
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(data);
    c.resize(c.len().div_ceil(8) * 8, 0);
    c
}

/// A SESSION_SETUP request body (StructureSize 25) with `security_mode` and `token`.
#[must_use]
pub fn session_setup_request_body(security_mode: u8, token: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[0..2].copy_from_slice(&25u16.to_le_bytes());
    b[3] = security_mode;
    b[12..14].copy_from_slice(&(64u16 + 24).to_le_bytes());
    b[14..16].copy_from_slice(&(token.len() as u16).to_le_bytes());
    b.extend_from_slice(token);
    b
}

/// A SESSION_SETUP response body (StructureSize 9) with `session_flags` and `token`.
#[must_use]
pub fn session_setup_response_body(session_flags: u16, token: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b[0..2].copy_from_slice(&9u16.to_le_bytes());
    b[2..4].copy_from_slice(&session_flags.to_le_bytes());
    b[4..6].copy_from_slice(&(64u16 + 8).to_le_bytes());
    b[6..8].copy_from_slice(&(token.len() as u16).to_le_bytes());
    b.extend_from_slice(token);
    b
}

/// PDUs joined into a compound chain: each but the last padded to 8 bytes,
/// its NextCommand pointing at the next.
#[must_use]
pub fn compound(pdus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in pdus.iter().enumerate() {
        let mut p = p.clone();
        if i + 1 < pdus.len() {
            p.resize(p.len().div_ceil(8) * 8, 0);
            let next = p.len() as u32;
            p[20..24].copy_from_slice(&next.to_le_bytes());
        }
        out.extend_from_slice(&p);
    }
    out
}

/// `chain` with PDU `i` signed with `keys[i]` (None: left as it is): each PDU
/// is taken from a copy of the whole chain signed with its key (a PDU's
/// signature covers only its own bytes, NextCommand included).
#[must_use]
pub fn sign_each(chain: &[u8], keys: &[Option<&smbsign::SigningKey>]) -> Vec<u8> {
    let ranges = smbsign::smb2::chain_ranges(chain).unwrap();
    assert_eq!(ranges.len(), keys.len());
    let mut out = chain.to_vec();
    for (r, k) in ranges.into_iter().zip(keys) {
        if let Some(k) = k {
            let mut signed = chain.to_vec();
            smbsign::smb2::sign_pdu(k, &mut signed).unwrap();
            out[r.clone()].copy_from_slice(&signed[r]);
        }
    }
    out
}

/// A raw NTLMSSP AUTHENTICATE message (MS-NLMP 2.2.1.3, UNICODE) with these
/// fields; `user` and `domain` as UTF-16 units.
#[must_use]
pub fn ntlm_authenticate(nt_response: &[u8], domain: &[u16], user: &[u16], flags: u32) -> Vec<u8> {
    let utf16 = |u: &[u16]| -> Vec<u8> { u.iter().flat_map(|c| c.to_le_bytes()).collect() };
    let fields: [Vec<u8>; 6] = [
        Vec::new(), // LmChallengeResponse
        nt_response.to_vec(),
        utf16(domain),
        utf16(user),
        Vec::new(), // Workstation
        Vec::new(), // EncryptedRandomSessionKey
    ];
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut payload = Vec::new();
    let base = 64usize;
    for f in &fields {
        m.extend_from_slice(&(f.len() as u16).to_le_bytes());
        m.extend_from_slice(&(f.len() as u16).to_le_bytes());
        m.extend_from_slice(&((base + payload.len()) as u32).to_le_bytes());
        payload.extend_from_slice(f);
    }
    m.extend_from_slice(&flags.to_le_bytes());
    assert_eq!(m.len(), base);
    m.extend_from_slice(&payload);
    m
}
