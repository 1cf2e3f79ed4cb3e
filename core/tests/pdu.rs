//! Proves SMB2 PDU semantics: signatures equal an independent computation
//! (reference crates over the header with Signature zeroed and SIGNED set, GMAC
//! nonce from MessageId/role/CANCEL), sign-verify round trips on every backend,
//! any single flipped bit fails verification, compound chains of 1..=8 PDUs,
//! scatter-gather forms equal contiguous ones, and every malformed input returns
//! its error with the buffer untouched.

mod common;

use common::{backends, bytes, ref_cmac, ref_gmac, ref_hmac};
use smbsign::smb2::{
    self, dialect, gmac_nonce, Algorithm, SigningKey, FLAGS_SERVER_TO_REDIR, FLAGS_SIGNED,
};
use smbsign::Error;

/// A PDU with a valid header: `len` bytes (>= 64), given command, flags, message id.
fn pdu(seed: u64, len: usize, command: u16, flags: u32, message_id: u64) -> Vec<u8> {
    let mut p = bytes(seed, len);
    p[..4].copy_from_slice(&smb2::PROTOCOL_ID);
    p[4..6].copy_from_slice(&64u16.to_le_bytes());
    p[12..14].copy_from_slice(&command.to_le_bytes());
    p[16..20].copy_from_slice(&flags.to_le_bytes());
    p[20..24].copy_from_slice(&0u32.to_le_bytes());
    p[24..32].copy_from_slice(&message_id.to_le_bytes());
    p
}

/// A compound chain of PDUs with the given body lengths, each but the last padded to 8.
fn chain(seed: u64, lens: &[usize]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut buf = Vec::new();
    let mut ranges = Vec::new();
    for (i, &l) in lens.iter().enumerate() {
        let mut p = pdu(
            seed + i as u64,
            64 + l,
            8 + i as u16,
            (i as u32) & 1,
            100 + i as u64,
        );
        if i + 1 < lens.len() {
            p.resize(p.len().div_ceil(8) * 8, 0);
            let next = p.len() as u32;
            p[20..24].copy_from_slice(&next.to_le_bytes());
        }
        ranges.push((buf.len(), buf.len() + p.len()));
        buf.extend_from_slice(&p);
    }
    (buf, ranges)
}

/// The signature computed independently with the reference crates.
fn reference_signature(alg: Algorithm, key: &[u8; 16], pdu: &[u8]) -> [u8; 16] {
    let mut m = pdu.to_vec();
    let flags = u32::from_le_bytes(m[16..20].try_into().unwrap()) | FLAGS_SIGNED;
    m[16..20].copy_from_slice(&flags.to_le_bytes());
    m[48..64].fill(0);
    match alg {
        Algorithm::HmacSha256 => ref_hmac(key, &m)[..16].try_into().unwrap(),
        Algorithm::AesCmac => ref_cmac(key, &m),
        Algorithm::AesGmac => {
            let mut nonce = m[24..32].to_vec();
            let role = flags & FLAGS_SERVER_TO_REDIR;
            let cancel = u32::from(u16::from_le_bytes([m[12], m[13]]) == 0x0C) << 1;
            nonce.extend_from_slice(&(role | cancel).to_le_bytes());
            ref_gmac(key, &nonce, &m)
        }
    }
}

#[test]
fn signatures_match_reference_on_every_backend() {
    let key: [u8; 16] = bytes(1, 16).try_into().unwrap();
    for b in backends() {
        for alg in Algorithm::ALL {
            let k = SigningKey::with_backend(alg, &key, b).unwrap();
            for (i, len) in [64, 65, 100, 127, 128, 300, 1500, 70000]
                .into_iter()
                .enumerate()
            {
                for (command, flags) in [(5, 0), (5, FLAGS_SERVER_TO_REDIR), (0x0C, 0), (0x0C, 1)] {
                    let mut p = pdu(i as u64, len, command, flags, 0x1122_3344_5566_7788);
                    let want = reference_signature(alg, &key, &p);
                    smb2::sign_pdu(&k, &mut p).unwrap();
                    assert_eq!(&p[48..64], &want, "{alg:?} {:?} len {len}", b.tier());
                    assert_ne!(
                        u32::from_le_bytes(p[16..20].try_into().unwrap()) & FLAGS_SIGNED,
                        0
                    );
                    smb2::verify_pdu(&k, &p).unwrap();
                }
            }
        }
    }
}

#[test]
fn gmac_pdus_of_every_body_length_to_1100_match_reference_on_every_backend() {
    // Header copy and body reach GMAC as two parts: the fused two-part kernels
    // (up to 512 bytes in all), then the streaming path, at every length and alignment.
    let key: [u8; 16] = bytes(2, 16).try_into().unwrap();
    for b in backends() {
        let k = SigningKey::with_backend(Algorithm::AesGmac, &key, b).unwrap();
        for body in 0..=1100 {
            let off = body % 17;
            let mut buf = vec![0u8; off];
            buf.extend(pdu(
                body as u64,
                64 + body,
                5,
                (body as u32) & 1,
                body as u64,
            ));
            let want = reference_signature(Algorithm::AesGmac, &key, &buf[off..]);
            smb2::sign_pdu(&k, &mut buf[off..]).unwrap();
            assert_eq!(buf[off + 48..off + 64], want, "body {body} {:?}", b.tier());
        }
    }
}

#[test]
fn every_single_bit_flip_fails_verification() {
    let key = bytes(2, 16);
    for alg in Algorithm::ALL {
        let k = SigningKey::new(alg, &key).unwrap();
        let mut p = pdu(3, 120, 9, 0, 42);
        smb2::sign_pdu(&k, &mut p).unwrap();
        for bit in 0..p.len() * 8 {
            let mut q = p.clone();
            q[bit / 8] ^= 1 << (bit % 8);
            assert!(
                smb2::verify_pdu(&k, &q).is_err(),
                "{alg:?} bit {bit} accepted"
            );
        }
        let other = SigningKey::new(alg, &bytes(4, 16)).unwrap();
        assert_eq!(
            smb2::verify_pdu(&other, &p),
            Err(Error::BadSignature { offset: 0 })
        );
    }
}

#[test]
fn compound_chains_sign_each_pdu_over_its_own_bytes() {
    let key: [u8; 16] = bytes(5, 16).try_into().unwrap();
    for alg in Algorithm::ALL {
        let k = SigningKey::new(alg, &key).unwrap();
        for n in 1..=8usize {
            let lens: Vec<usize> = (0..n).map(|i| (i * 37 + n * 11) % 200).collect();
            let (mut buf, ranges) = chain(n as u64 * 10, &lens);
            let wants: Vec<[u8; 16]> = ranges
                .iter()
                .map(|&(a, e)| reference_signature(alg, &key, &buf[a..e]))
                .collect();
            smb2::sign_pdu(&k, &mut buf).unwrap();
            for (&(a, _), want) in ranges.iter().zip(&wants) {
                assert_eq!(&buf[a + 48..a + 64], want, "{alg:?} chain of {n}");
            }
            smb2::verify_pdu(&k, &buf).unwrap();
            // Tampering with the last PDU names it.
            let last = ranges[n - 1].0;
            let mut bad = buf.clone();
            bad[last + 50] ^= 0x80;
            assert_eq!(
                smb2::verify_pdu(&k, &bad),
                Err(Error::BadSignature { offset: last })
            );
        }
    }
}

#[test]
fn vectored_forms_equal_contiguous_at_every_split() {
    let key = bytes(6, 16);
    for alg in Algorithm::ALL {
        let k = SigningKey::new(alg, &key).unwrap();
        let (buf, _) = chain(60, &[13, 0, 77]);
        let mut want = buf.clone();
        smb2::sign_pdu(&k, &mut want).unwrap();
        for s in 0..=buf.len() {
            // Two segments split at s (headers straddle for s inside a header).
            let mut a = buf[..s].to_vec();
            let mut b = buf[s..].to_vec();
            smb2::sign_pdu_vectored(&k, &mut [&mut a[..], &mut b[..]]).unwrap();
            assert_eq!(
                [a.as_slice(), b.as_slice()].concat(),
                want,
                "{alg:?} split {s}"
            );
            smb2::verify_pdu_vectored(&k, &[&want[..s], &want[s..]]).unwrap();
        }
        // Many small segments.
        let mut segs: Vec<Vec<u8>> = buf.chunks(7).map(<[u8]>::to_vec).collect();
        let mut refs: Vec<&mut [u8]> = segs.iter_mut().map(|v| v.as_mut_slice()).collect();
        smb2::sign_pdu_vectored(&k, &mut refs).unwrap();
        assert_eq!(segs.concat(), want);
        let mac = k.mac_vectored(
            (alg == Algorithm::AesGmac).then_some(&[1u8; 12]),
            &[&buf[..3], &buf[3..]],
        );
        assert_eq!(
            mac,
            k.mac((alg == Algorithm::AesGmac).then_some(&[1u8; 12]), &buf)
        );
    }
}

#[test]
fn gmac_nonce_layout() {
    let p = pdu(7, 64, 5, FLAGS_SERVER_TO_REDIR, 0x0102_0304_0506_0708);
    assert_eq!(
        gmac_nonce(&p).unwrap(),
        [8, 7, 6, 5, 4, 3, 2, 1, 1, 0, 0, 0]
    );
    let p = pdu(7, 64, 0x0C, 0, 9);
    assert_eq!(
        gmac_nonce(&p).unwrap(),
        [9, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]
    );
    let p = pdu(7, 64, 0x0C, FLAGS_SERVER_TO_REDIR | FLAGS_SIGNED, 9);
    assert_eq!(gmac_nonce(&p).unwrap()[8..], [3, 0, 0, 0]);
    assert_eq!(
        gmac_nonce(&p[..63]),
        Err(Error::Truncated { offset: 0, len: 63 })
    );
}

fn assert_rejected(k: &SigningKey, buf: &[u8], err: Error) {
    let mut copy = buf.to_vec();
    assert_eq!(smb2::sign_pdu(k, &mut copy), Err(err));
    assert_eq!(copy, buf, "buffer modified on error");
    assert_eq!(smb2::verify_pdu(k, buf), Err(err));
}

#[test]
fn malformed_input_is_rejected_and_untouched() {
    for alg in Algorithm::ALL {
        let k = SigningKey::new(alg, &[9; 16]).unwrap();
        for len in 0..64 {
            let p = pdu(8, 64, 1, 0, 1);
            assert_rejected(&k, &p[..len], Error::Truncated { offset: 0, len });
        }
        let mut p = pdu(8, 80, 1, 0, 1);
        p[0] = 0xFF;
        assert_rejected(&k, &p, Error::BadProtocolId { offset: 0 });

        let (good, ranges) = chain(9, &[20, 30, 40]);
        let second = ranges[1].0;
        let set_next = |buf: &mut Vec<u8>, at: usize, v: u32| {
            buf[at + 20..at + 24].copy_from_slice(&v.to_le_bytes())
        };
        let total = good.len() as u32;
        for bad in [
            4u32,
            12,
            56,
            60,
            63,
            second as u32 + 1,
            total,
            total + 8,
            u32::MAX - 7,
        ] {
            let mut b = good.clone();
            set_next(&mut b, 0, bad);
            assert_rejected(
                &k,
                &b,
                Error::BadNextCommand {
                    offset: 0,
                    next_command: bad,
                },
            );
        }
        // A bad link late in the chain leaves the earlier PDUs unsigned too.
        let mut b = good.clone();
        let third_next = (good.len() - ranges[1].0 - 8) as u32;
        set_next(&mut b, second, third_next);
        assert_rejected(
            &k,
            &b,
            Error::BadNextCommand {
                offset: second,
                next_command: third_next,
            },
        );
        let mut b = good.clone();
        b[ranges[2].0] = 0;
        assert_rejected(
            &k,
            &b,
            Error::BadProtocolId {
                offset: ranges[2].0,
            },
        );

        // Unsigned PDU: verification refuses it.
        let p = pdu(10, 70, 1, 0, 1);
        assert_eq!(
            smb2::verify_pdu(&k, &p),
            Err(Error::NotSigned { offset: 0 })
        );
    }
    assert_eq!(
        SigningKey::new(Algorithm::AesGmac, &[0; 15]).unwrap_err(),
        Error::KeyLength {
            expected: 16,
            got: 15
        }
    );
    assert!(SigningKey::new(Algorithm::HmacSha256, &[0; 32]).is_err());
    let g = SigningKey::new(Algorithm::AesGmac, &[0; 16]).unwrap();
    assert_eq!(g.mac(None, b"x"), Err(Error::MissingNonce));
    let c = SigningKey::new(Algorithm::AesCmac, &[0; 16]).unwrap();
    assert_eq!(c.mac(Some(&[0; 12]), b"x"), Err(Error::UnexpectedNonce));
}

#[test]
fn dialect_table() {
    use Algorithm::*;
    let cases = [
        (dialect::SMB2_0_2, None, Ok(HmacSha256)),
        (dialect::SMB2_1, None, Ok(HmacSha256)),
        (dialect::SMB3_0, None, Ok(AesCmac)),
        (dialect::SMB3_0_2, None, Ok(AesCmac)),
        (dialect::SMB3_1_1, None, Ok(AesCmac)),
        (dialect::SMB3_1_1, Some(0), Ok(HmacSha256)),
        (dialect::SMB3_1_1, Some(1), Ok(AesCmac)),
        (dialect::SMB3_1_1, Some(2), Ok(AesGmac)),
        (
            dialect::SMB3_1_1,
            Some(3),
            Err(Error::UnknownSigningAlgorithm(3)),
        ),
        (0x02FF, None, Err(Error::UnsupportedDialect(0x02FF))),
        (0x0301, None, Err(Error::UnsupportedDialect(0x0301))),
    ];
    for (d, n, want) in cases {
        assert_eq!(Algorithm::for_dialect(d, n), want, "{d:#x} {n:?}");
    }
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::from_id(a.id()), Ok(a));
    }
}

/// Issue 16: the chain is walked once and nothing is written until every PDU
/// has been checked and signed, so a malformed PDU anywhere (after 0..=7 good
/// ones: the stack-held and the spilled signatures alike) leaves the whole
/// buffer untouched; and a malformed chain's error takes precedence over an
/// earlier PDU's bad signature when verifying.
#[test]
fn malformed_tail_leaves_every_earlier_pdu_unsigned() {
    for alg in Algorithm::ALL {
        let k = SigningKey::new(alg, &[3; 16]).unwrap();
        for n in 1..=8usize {
            let lens: Vec<usize> = (0..n).map(|i| 16 + i * 8).collect();
            let (mut buf, ranges) = chain(70 + n as u64, &lens);
            let last = ranges[n - 1].0;
            buf[last] = 0; // the last PDU's ProtocolId
            assert_rejected(&k, &buf, Error::BadProtocolId { offset: last });
            // Signed with a good tail, then the first signature broken and the
            // tail's ProtocolId broken: the chain error wins.
            buf[last] = 0xFE;
            smb2::sign_pdu(&k, &mut buf).unwrap();
            buf[50] ^= 1;
            buf[last] = 0;
            assert_eq!(
                smb2::verify_pdu(&k, &buf),
                Err(Error::BadProtocolId { offset: last })
            );
        }
    }
}
