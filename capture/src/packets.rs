//! Capture files to TCP segments: pcap and pcapng via `pcap-file`, link layers
//! (Ethernet, Linux cooked SLL and SLL2, BSD loopback, raw IP) and IPv4/IPv6 +
//! TCP via `etherparse`. Frames that are not TCP are counted and skipped.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

use crate::CheckError;

/// One TCP segment as captured.
#[derive(Debug)]
pub struct Segment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (of the SYN itself when `syn`).
    pub seq: u32,
    /// SYN flag.
    pub syn: bool,
    /// FIN or RST flag: the direction ends.
    pub fin: bool,
    /// The captured payload.
    pub payload: &'a [u8],
    /// Payload bytes the sender sent but the capture cut off (snap length).
    pub missing: usize,
}

/// Decodes one frame of link type `link`; `None` when it holds no TCP segment.
#[must_use]
pub fn decode(link: DataLink, data: &[u8], orig_len: usize) -> Option<Segment<'_>> {
    let pkt = match link {
        DataLink::ETHERNET => LaxSlicedPacket::from_ethernet(data).ok()?,
        DataLink::LINUX_SLL => ip_after(data, 16, u16_be(data, 14)?)?,
        DataLink::LINUX_SLL2 => ip_after(data, 20, u16_be(data, 0)?)?,
        // BSD loopback: a 4-byte address family in host order; the IP version says the rest.
        DataLink::NULL | DataLink::LOOP => LaxSlicedPacket::from_ip(data.get(4..)?).ok()?,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => LaxSlicedPacket::from_ip(data).ok()?,
        _ => return None,
    };
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match pkt.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => (
            v4.header().source_addr().into(),
            v4.header().destination_addr().into(),
        ),
        LaxNetSlice::Ipv6(v6) => (
            v6.header().source_addr().into(),
            v6.header().destination_addr().into(),
        ),
        LaxNetSlice::Arp(_) => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = pkt.transport else {
        return None;
    };
    Some(Segment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        fin: tcp.fin() || tcp.rst(),
        payload: tcp.payload(),
        missing: orig_len.saturating_sub(data.len()),
    })
}

fn u16_be(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// The IP packet after a cooked header of `len` bytes whose protocol is `ether_type`.
fn ip_after(data: &[u8], len: usize, ether_type: u16) -> Option<LaxSlicedPacket<'_>> {
    match ether_type {
        0x0800 | 0x86DD => LaxSlicedPacket::from_ip(data.get(len..)?).ok(),
        _ => None,
    }
}

/// A reader with the magic number put back in front.
pub type Rewound<R> = std::io::Chain<std::io::Cursor<[u8; 4]>, R>;

/// A pcap or pcapng file's frames, numbered from 1 as Wireshark numbers them.
pub enum Frames<R: Read> {
    /// Classic pcap.
    Pcap(PcapReader<R>),
    /// pcapng (link type per interface).
    PcapNg(PcapNgReader<R>),
}

/// One frame: its link type, captured bytes and original length.
pub struct Frame<'a> {
    /// Link type of its interface.
    pub link: DataLink,
    /// Captured bytes.
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: usize,
}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

impl<R: Read> Frames<R> {
    /// Opens a capture, telling pcap from pcapng by the first four bytes.
    pub fn open(mut reader: R) -> Result<Frames<Rewound<R>>, CheckError> {
        let mut magic = [0u8; 4];
        reader
            .read_exact(&mut magic)
            .map_err(|_| CheckError::Format("file is shorter than a capture header".into()))?;
        let chained = std::io::Cursor::new(magic).chain(reader);
        if PCAP_MAGICS.contains(&magic) {
            PcapReader::new(chained)
                .map(Frames::Pcap)
                .map_err(|e| CheckError::Format(format!("bad pcap header: {e}")))
        } else if magic == PCAPNG_MAGIC {
            PcapNgReader::new(chained)
                .map(Frames::PcapNg)
                .map_err(|e| CheckError::Format(format!("bad pcapng header: {e}")))
        } else {
            Err(CheckError::Format(
                "not a pcap or pcapng file (unknown magic number)".into(),
            ))
        }
    }

    /// Calls `f` on every frame in order. A truncated or corrupt tail ends the
    /// walk with an error after the frames before it were delivered.
    pub fn for_each(&mut self, mut f: impl FnMut(Frame<'_>)) -> Result<(), CheckError> {
        match self {
            Frames::Pcap(r) => {
                let link = r.header().datalink;
                while let Some(pkt) = r.next_packet() {
                    let pkt = pkt.map_err(|e| CheckError::Format(format!("pcap: {e}")))?;
                    f(Frame {
                        link,
                        data: &pkt.data,
                        orig_len: pkt.orig_len as usize,
                    });
                }
            }
            Frames::PcapNg(r) => {
                // Interfaces as their description blocks arrive (a block borrows the reader).
                let mut links: Vec<DataLink> = Vec::new();
                let link_of = |links: &[DataLink], id: u32| {
                    links
                        .get(id as usize)
                        .copied()
                        .unwrap_or(DataLink::Unknown(u32::MAX))
                };
                while let Some(block) = r.next_block() {
                    let block = block.map_err(|e| CheckError::Format(format!("pcapng: {e}")))?;
                    match block {
                        Block::SectionHeader(_) => links.clear(),
                        Block::InterfaceDescription(idb) => links.push(idb.linktype),
                        Block::EnhancedPacket(epb) => f(Frame {
                            link: link_of(&links, epb.interface_id),
                            data: &epb.data,
                            orig_len: epb.original_len as usize,
                        }),
                        Block::SimplePacket(spb) => f(Frame {
                            link: link_of(&links, 0),
                            data: &spb.data,
                            orig_len: spb.original_len as usize,
                        }),
                        Block::Packet(pb) => f(Frame {
                            link: link_of(&links, u32::from(pb.interface_id)),
                            data: &pb.data,
                            orig_len: pb.original_len as usize,
                        }),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}
