//! Following connections and sessions, and checking every signed PDU.
//!
//! Per connection: NEGOTIATE (dialect, SIGNING_CAPABILITIES, the 3.1.1
//! connection preauth hash); per session: SESSION_SETUP rounds (the session
//! preauth hash over every request and every response but the final one, the
//! NTLMSSP CHALLENGE and AUTHENTICATE), then the signing key from core
//! ([`SigningKey::for_session`]). Which session's key verifies each PDU of a
//! compound chain, and which unsigned messages should have been signed, are
//! core's rules ([`smbsign::smb2::rules`]), asked here, not restated. Signed
//! PDUs are queued with their own session's key and verified in batches
//! ([`smbsign::batch::verify_chains_keyed`]); a PDU that fails is then
//! diagnosed ([`crate::diagnose`]).

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};

use smbsign::batch::{self, KeyedChainJob, PduJob};
use smbsign::smb2::{self, Algorithm, SigningKey};
use smbsign::PreauthHash;
use zeroize::Zeroizing;

use crate::decrypt::{self, CipherContext, Direction, NonceLog};
use crate::diagnose::{self, KeyContext};
use crate::ntlm;
use crate::report::{Record, Report, Verdict};
use crate::smb::{self, cmd, Header};

/// Bytes of signed messages held before a batch is verified.
const BATCH_BYTES: usize = 64 << 20;
/// AES-GMAC messages at least this long are verified at once rather than queued.
const DIRECT_BYTES: usize = 64 << 10;
/// Records held before the queue is verified and they are handed on: what
/// bounds the memory of a capture of many short messages.
const MAX_HELD: usize = 1 << 14;
/// Sessions whose diagnosis keys are kept derived.
const CANDIDATES_KEPT: usize = 16;
/// Smallest SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41) and
/// COMPRESSION_TRANSFORM_HEADER (2.2.42: unchained and chained both 16).
const TRANSFORM_HEADER_LEN: usize = 52;
const COMPRESSION_HEADER_LEN: usize = 16;

#[derive(Default)]
struct Session {
    preauth: Option<PreauthHash>,
    /// The preauth hash after each update, oldest first (for the diagnosis).
    preauth_history: Vec<[u8; 64]>,
    server_challenge: Option<[u8; 8]>,
    auth: Option<ntlm::Authenticate>,
    key: Option<Rc<KeyContext>>,
    established: bool,
    guest: bool,
    no_key: Option<String>,
    /// SecurityMode of its SESSION_SETUP requests (SIGNING_REQUIRED bits OR-ed).
    setup_security_mode: Option<u8>,
    /// Adopted mid-stream (`--session-key`): its SESSION_SETUP is not in the capture.
    adopted: bool,
    /// The cipher keys, once the session is set up on an encrypting dialect.
    cipher: Option<Rc<CipherContext>>,
    /// Why there are none (beside `no_key`).
    no_cipher: Option<String>,
    /// Whether a transform message of it was decrypted (noted once).
    decrypted: bool,
}

#[derive(Default)]
struct Conn {
    dialect: Option<u16>,
    signing_algorithm: Option<u16>,
    /// The CipherId of the 3.1.1 ENCRYPTION_CAPABILITIES response (0: none).
    cipher_id: Option<u16>,
    /// The client's address: the sender of requests.
    client: Option<SocketAddr>,
    /// SecurityMode of the NEGOTIATE request and of the response.
    negotiate_request_mode: Option<u16>,
    negotiate_response_mode: Option<u16>,
    /// Why the NEGOTIATE response could not be read, when it could not: no
    /// session of this connection can then have a key.
    negotiate_malformed: Option<String>,
    preauth: Option<PreauthHash>,
    /// The session being set up by requests with SessionId 0.
    setup: Option<Session>,
    sessions: HashMap<u64, Session>,
    /// MessageIds of signed requests still waiting for their final response
    /// (MS-SMB2 3.3.4.1.1 asks that response to be signed): O(live requests).
    signed_requests: BTreeSet<u64>,
}

/// Signed requests remembered per connection without a response: more than
/// any server grants credits for (Windows and Samba: 8192); beyond it the
/// lowest (oldest) MessageId is forgotten.
const MAX_SIGNED_REQUESTS: usize = 1 << 16;

struct Queued {
    msg: Vec<u8>,
    /// The key of each PDU's own session (None: not verified).
    keys: Vec<Option<Rc<KeyContext>>>,
    /// Record index of each PDU of the chain.
    records: Vec<usize>,
    /// Per PDU: the exemption of a message its receiver does not verify even
    /// when flagged as signed ([`smb2::Exemption::skips_verification`]).
    lenient: Vec<Option<smb2::Exemption>>,
}

/// The checker: feed it messages in capture order, then [`Checker::finish`].
pub struct Checker<'o> {
    opts: &'o Options,
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    queue: Vec<Queued>,
    queued_bytes: usize,
    /// Diagnosis keys per session, most recent last.
    candidates: Vec<(Weak<KeyContext>, Rc<diagnose::Candidates>)>,
    work: diagnose::Work,
    nonces: NonceLog,
    /// What was found: the records not yet handed on, the counts.
    pub report: Report,
}

fn conn_key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl<'o> Checker<'o> {
    /// A checker with these options.
    #[must_use]
    pub fn new(opts: &'o Options) -> Checker<'o> {
        Checker {
            opts,
            conns: HashMap::new(),
            queue: Vec::new(),
            queued_bytes: 0,
            candidates: Vec::new(),
            work: diagnose::Work::default(),
            nonces: NonceLog::default(),
            report: Report::default(),
        }
    }

    /// A transform (encrypted) or compressed message: reported unchecked
    /// (this tool does not decrypt or decompress), or MALFORMED when it is
    /// shorter than its header (a 4-byte `FD 'SMB'` is no transform).
    fn transformed(&mut self, frame: u64, src: SocketAddr, dst: SocketAddr, msg: &[u8]) {
        let encrypted = msg.first() == Some(&0xFD);
        if encrypted && msg.len() >= TRANSFORM_HEADER_LEN {
            self.encrypted(frame, src, dst, msg);
            return;
        }
        let (verdict, min) = if encrypted {
            (Verdict::Encrypted, TRANSFORM_HEADER_LEN)
        } else {
            (Verdict::Compressed, COMPRESSION_HEADER_LEN)
        };
        let session_id = if encrypted {
            smb::u64_at(msg, 44).unwrap_or(0)
        } else {
            0
        };
        let mut r = Record::new(frame, src, dst, None, session_id, verdict);
        if msg.len() < min {
            r.verdict = Verdict::Malformed;
            r.note = Some(format!(
                "{} of {} bytes: shorter than its {min}-byte header",
                if encrypted {
                    "SMB2 TRANSFORM_HEADER message"
                } else {
                    "SMB2 COMPRESSION_TRANSFORM_HEADER message"
                },
                msg.len()
            ));
        } else {
            r.note = Some(
                if encrypted {
                    "encrypted (SMB2 TRANSFORM_HEADER): not decrypted, the messages inside are not checked"
                } else {
                    "compressed (SMB2 COMPRESSION_TRANSFORM_HEADER): not decompressed, the messages inside are not checked"
                }
                .into(),
            );
        }
        self.report.records.push(r);
    }

    /// A transform (encrypted) message of at least a header: its tag verified
    /// and its messages checked with the session's cipher keys; INVALID
    /// (diagnosed) when the tag fails; not checked, with why, when there are
    /// no keys; and its nonce compared with those its key carried before.
    fn encrypted(&mut self, frame: u64, src: SocketAddr, dst: SocketAddr, msg: &[u8]) {
        let sid = smb::u64_at(msg, 44).unwrap_or(0);
        let mut r = Record::new(frame, src, dst, None, sid, Verdict::Encrypted);
        if let Err(e) = smbsign::smb2::transform::TransformHeader::parse(msg) {
            r.verdict = Verdict::Malformed;
            r.note = Some(format!(
                "SMB2 TRANSFORM_HEADER message of {} bytes: {e}",
                msg.len()
            ));
            self.report.records.push(r);
            return;
        }
        let addrs = conn_key(src, dst);
        if self.conns.get(&addrs).is_none_or(|c| c.client.is_none()) {
            infer_client(&mut self.conns, addrs, self.opts, sid, src, dst, msg);
        }
        let conn = self.conns.get_mut(&addrs);
        let dir = conn.as_ref().and_then(|c| c.client).map(|c| {
            if c == src {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            }
        });
        r.response = dir == Some(Direction::ServerToClient);
        let mut why = None;
        let ctx = match (conn, dir) {
            (Some(conn), Some(d)) => {
                if conn.sessions.get(&sid).is_none_or(|s| s.cipher.is_none()) {
                    adopt_encrypted(conn, self.opts, sid, msg, d, &mut self.report, addrs);
                }
                match conn.sessions.get(&sid) {
                    Some(s) => s.cipher.clone().or_else(|| {
                        why = Some(s.no_cipher.clone().or_else(|| s.no_key.clone()).unwrap_or_else(
                            || "the session's SESSION_SETUP is not in the capture; give --session-key".into(),
                        ));
                        None
                    }),
                    None => {
                        why = Some(format!(
                            "no session {sid:#018x} on this connection in the capture (its SESSION_SETUP is missing; give --session-key)"
                        ));
                        None
                    }
                }
            }
            _ => {
                why = Some("the connection's NEGOTIATE and SESSION_SETUP are not in the capture: its client, cipher and keys are unknown".into());
                None
            }
        };
        let nonce_len = ctx
            .as_ref()
            .map_or(smbsign::smb2::transform::NONCE_FIELD_LEN, |c| {
                c.cipher.nonce_len()
            });
        let Some(ctx) = ctx else {
            r.note = Some(format!(
                "encrypted (SMB2 TRANSFORM_HEADER), not decrypted: {}; the messages inside are not checked",
                why.unwrap_or_default()
            ));
            self.report.records.push(r);
            self.nonce(frame, src, dst, sid, nonce_len, msg, None);
            return;
        };
        let dir = dir.expect("a context needs a direction");
        match decrypt::open(ctx.key(dir), msg) {
            Some(plain) => {
                if let Some(s) = self
                    .conns
                    .get_mut(&addrs)
                    .and_then(|c| c.sessions.get_mut(&sid))
                {
                    if !s.decrypted {
                        s.decrypted = true;
                        self.report.notes.push(format!(
                            "session {sid:#018x}: encrypted with {} (first decrypted in frame {frame})",
                            ctx.cipher.name()
                        ));
                    }
                }
                // Core's receiver rules for a decrypted message (a malformed
                // chain is left to message_in, which reports it).
                let refused = match smb2::check_decrypted(sid, &plain) {
                    Err(smbsign::Error::TransformSessionMismatch { session: pdu_session, .. }) => Some(format!(
                        "the tag verifies, but a PDU inside names session {pdu_session:#018x}, not the TRANSFORM_HEADER's: its receiver refuses it (MS-SMB2 3.3.5.2.7, 3.2.5.1.1.1)"
                    )),
                    Err(smbsign::Error::NestedTransform) => Some("the tag verifies, but the message inside is itself a TRANSFORM_HEADER message (MS-SMB2 3.1.4.3 encrypts SMB2 messages, not transforms)".into()),
                    _ => None,
                };
                if let Some(why) = refused {
                    r.verdict = Verdict::Malformed;
                    r.cipher = Some(ctx.cipher);
                    r.note = Some(why);
                    self.report.records.push(r);
                } else {
                    self.message_in(frame, src, dst, &plain, Some(ctx.cipher));
                }
                self.nonce(frame, src, dst, sid, nonce_len, msg, Some(ctx.cipher));
            }
            None => {
                r.verdict = Verdict::Invalid;
                r.cipher = Some(ctx.cipher);
                r.note = Some(format!(
                    "the TRANSFORM_HEADER's tag does not verify under the session's {} {} key: the messages inside are not checked",
                    dir.name(),
                    ctx.cipher.name()
                ));
                if self.opts.diagnose {
                    let others: Vec<(u64, Rc<CipherContext>)> = self
                        .conns
                        .get(&addrs)
                        .map(|c| {
                            let mut v: Vec<_> = c
                                .sessions
                                .iter()
                                .filter_map(|(&id, s)| Some((id, s.cipher.clone()?)))
                                .collect();
                            v.sort_by_key(|(id, _)| *id);
                            v
                        })
                        .unwrap_or_default();
                    let refs: Vec<(u64, &CipherContext)> =
                        others.iter().map(|(id, c)| (*id, &**c)).collect();
                    r.diagnosis = decrypt::diagnose(&ctx, dir, msg, &refs);
                }
                self.report.records.push(r);
            }
        }
    }

    /// Compares the nonce of a transform message (whose tag verified, or that
    /// could not be checked; a forged one says nothing of its sender's key)
    /// with those its key carried before: a repeat is a record of its own.
    #[allow(clippy::too_many_arguments)]
    fn nonce(
        &mut self,
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        sid: u64,
        nonce_len: usize,
        msg: &[u8],
        cipher: Option<smbsign::cipher::Cipher>,
    ) {
        let Some(reuse) = self
            .nonces
            .record(src.ip(), dst.ip(), sid, nonce_len, frame, msg)
        else {
            return;
        };
        let mut r = Record::new(frame, src, dst, None, sid, Verdict::NonceReused);
        r.cipher = cipher;
        r.response = self
            .conns
            .get(&conn_key(src, dst))
            .and_then(|c| c.client)
            .is_some_and(|c| c != src);
        let nonce: String = msg[20..20 + nonce_len]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        r.note = Some(format!(
            "nonce {nonce} was already used under this key (session {sid:#018x}, {} -> {}) in frame {}{}: MS-SMB2 2.2.41 forbids reusing a nonce within a session{}",
            src.ip(),
            dst.ip(),
            reuse.first_frame,
            if reuse.identical { ", by a byte-identical message (a replay)" } else { ", by another message" },
            match cipher {
                Some(c) if c.name().contains("gcm") => "; under GCM one reuse gives away the authentication key (forgeries) and the XOR of the plaintexts",
                Some(_) => "; under CCM one reuse gives away the XOR of the plaintexts",
                None => "",
            }
        ));
        self.report.records.push(r);
    }

    /// Stream bytes that could not be checked, with why.
    pub fn lost(
        &mut self,
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        kind: &'static str,
        reason: String,
    ) {
        let mut r = Record::new(frame, src, dst, None, 0, Verdict::Unchecked);
        r.note = Some(reason);
        r.unchecked = Some(kind);
        self.report.records.push(r);
    }

    /// The connection between `a` and `b` ended: its state goes (the queue
    /// keeps the keys of what it still has to verify).
    pub fn close(&mut self, a: SocketAddr, b: SocketAddr) {
        self.conns.remove(&conn_key(a, b));
    }

    /// Hands on the records whose verdicts are final, counting them: all of
    /// them when nothing waits for the batch, else when too many are held.
    pub fn release(&mut self, on_record: &mut dyn FnMut(&Record)) {
        self.report.peak_connections = self.report.peak_connections.max(self.conns.len());
        if !self.queue.is_empty() {
            if self.report.records.len() < MAX_HELD {
                return;
            }
            self.flush();
        }
        let records = std::mem::take(&mut self.report.records);
        for r in &records {
            self.report.tally(r);
            on_record(r);
        }
        // Keep the allocation for the next records.
        self.report.records = records;
        self.report.records.clear();
    }

    /// The diagnosis keys of `key`'s session, derived on first use.
    fn candidates_for(&mut self, key: &Rc<KeyContext>) -> Rc<diagnose::Candidates> {
        if let Some((_, c)) = self
            .candidates
            .iter()
            .find(|(w, _)| std::ptr::eq(w.as_ptr(), Rc::as_ptr(key)) && w.strong_count() > 0)
        {
            return c.clone();
        }
        let c = Rc::new(diagnose::Candidates::new(key));
        if self.candidates.len() >= CANDIDATES_KEPT {
            self.candidates.remove(0);
        }
        self.candidates.push((Rc::downgrade(key), c.clone()));
        c
    }

    /// One SMB message (direct-TCP frame payload) sent from `src` to `dst`,
    /// completed in `frame`.
    pub fn message(&mut self, frame: u64, src: SocketAddr, dst: SocketAddr, msg: &[u8]) {
        self.report.smb_bytes += msg.len() as u64;
        self.message_in(frame, src, dst, msg, None);
    }

    /// [`Checker::message`], `sealed` with the cipher of the transform whose
    /// verified tag carried it (its PDUs' signatures then do not apply: core's
    /// rule, [`smb2::signature_applies`]).
    fn message_in(
        &mut self,
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        msg: &[u8],
        sealed: Option<smbsign::cipher::Cipher>,
    ) {
        let addrs = conn_key(src, dst);
        if msg.first() != Some(&0xFE) {
            self.transformed(frame, src, dst, msg);
            return;
        }
        let Ok(ranges) = smbsign::smb2::chain_ranges(msg) else {
            let h = Header::parse(msg);
            let mut r = Record::new(frame, src, dst, h.as_ref(), 0, Verdict::Malformed);
            r.note = Some("malformed SMB2 header or compound chain".into());
            self.report.records.push(r);
            return;
        };
        let conn = self.conns.entry(addrs).or_default();
        let mut chain_records = Vec::with_capacity(ranges.len());
        let mut keys: Vec<Option<Rc<KeyContext>>> = Vec::with_capacity(ranges.len());
        let mut lenient = Vec::with_capacity(ranges.len());
        let mut previous = None;
        for (index, range) in ranges.iter().enumerate() {
            let pdu = &msg[range.clone()];
            let view = smb2::Header::new(pdu).expect("chain_ranges checked the header");
            let h = Header::from(&view);
            // Each PDU is verified with its own session's key (related operations inherit).
            let sid = smb2::verifying_session(previous, &view);
            previous = Some(sid);
            if !h.is_response() {
                conn.client.get_or_insert(src);
            }
            let malformed = track(conn, addrs, self.opts, &h, sid, pdu, &mut self.report);
            if sealed.is_none()
                && h.is_signed()
                && sid != 0
                && !conn.sessions.get(&sid).is_some_and(|s| s.established)
            {
                adopt_mid_stream(conn, addrs, self.opts, sid, msg, index, &mut self.report);
            }
            let request_signed = signed_request(conn, &h, pdu, sid);
            let session = conn.sessions.get(&sid);
            let mut record = Record::new(frame, src, dst, Some(&h), sid, Verdict::Unsigned);
            let mut key = None;
            if let Some(why) = malformed {
                record.verdict = Verdict::Malformed;
                record.note = Some(why);
            } else if let Some(c) = sealed {
                record.verdict = Verdict::Decrypted;
                record.cipher = Some(c);
                if view.is_signed() || view.signature().iter().any(|&b| b != 0) {
                    record.note = Some("inside an encrypted message, yet SMB2_FLAGS_SIGNED is set or the Signature is not zero: its receiver does not verify it (MS-SMB2 3.2.5.1.3); the encryption tag protects the message".into());
                }
            } else if h.is_signed() {
                match session.and_then(|s| s.key.clone()) {
                    Some(k) => {
                        lenient.push(
                            smb2::signing_exemption(pdu, sid)
                                .ok()
                                .flatten()
                                .filter(|e| e.skips_verification()),
                        );
                        record.algorithm = Some(k.key.algorithm());
                        record.verdict = Verdict::Valid; // provisional: the batch decides
                        key = Some(k);
                    }
                    None => {
                        record.verdict = Verdict::NoKey;
                        record.note = Some(session.and_then(|s| s.no_key.clone()).unwrap_or_else(
                            || "the session's SESSION_SETUP is not in the capture; give --session-key".into(),
                        ));
                    }
                }
            } else if signing_required(conn, session, pdu, sid) {
                record.verdict = Verdict::UnsignedRequired;
            } else if let Some((kind, note)) =
                unsigned_unverified(session, pdu, sid, request_signed)
            {
                record.verdict = Verdict::Unchecked;
                record.unchecked = Some(kind);
                record.note = Some(note.into());
            }
            if key.is_none() {
                lenient.push(None);
            }
            keys.push(key);
            chain_records.push(self.report.records.len());
            self.report.records.push(record);
        }
        if keys.iter().all(Option::is_none) {
            return;
        }
        let gmac = keys
            .iter()
            .flatten()
            .any(|k| k.key.algorithm() == Algorithm::AesGmac);
        if msg.len() >= DIRECT_BYTES && gmac {
            // Long GMAC messages are MACed one-shot even in a batch: verify in place, no copy.
            // (CMAC and HMAC chains are serial: long ones gain most from the batch's lanes.)
            let refs: Vec<Option<&SigningKey>> =
                keys.iter().map(|k| k.as_ref().map(|k| &k.key)).collect();
            let job = [KeyedChainJob {
                keys: &refs,
                pdu: msg,
            }];
            let res = batch::verify_chains_keyed(&job).pop().expect("one job");
            let q = Queued {
                msg: Vec::new(),
                keys,
                records: chain_records,
                lenient,
            };
            self.record_verdicts(&q, msg, res);
            return;
        }
        self.queued_bytes += msg.len();
        self.queue.push(Queued {
            msg: msg.to_vec(),
            keys,
            records: chain_records,
            lenient,
        });
        if self.queued_bytes >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Verifies what is queued.
    pub fn flush(&mut self) {
        let queue = std::mem::take(&mut self.queue);
        self.queued_bytes = 0;
        let refs: Vec<Vec<Option<&SigningKey>>> = queue
            .iter()
            .map(|q| q.keys.iter().map(|k| k.as_ref().map(|k| &k.key)).collect())
            .collect();
        let jobs: Vec<KeyedChainJob<'_, &[u8]>> = queue
            .iter()
            .zip(&refs)
            .map(|(q, keys)| KeyedChainJob {
                keys,
                pdu: &q.msg[..],
            })
            .collect();
        let results = batch::verify_chains_keyed(&jobs);
        for (q, res) in queue.iter().zip(results) {
            self.record_verdicts(q, &q.msg, res);
        }
    }

    /// Marks the signed PDUs of a verified chain invalid where they failed,
    /// each diagnosed with its own session's key.
    fn record_verdicts(
        &mut self,
        q: &Queued,
        msg: &[u8],
        result: smbsign::Result<Vec<Option<smbsign::Result<()>>>>,
    ) {
        let Ok(verdicts) = result else { return };
        // Shared by the chain's failures: parsed once, the costly tries paid once.
        let mut chain: Option<diagnose::ChainState> = None;
        for (i, v) in verdicts.into_iter().enumerate() {
            let Some(&at) = q.records.get(i) else { break };
            let (Some(Err(_)), Some(key)) = (v, q.keys[i].clone()) else {
                continue; // valid, or unsigned or keyless: decided already
            };
            let rec = &mut self.report.records[at];
            if let Some(e) = q.lenient[i] {
                // Flagged as signed, but a message its receiver never verifies.
                rec.verdict = Verdict::Unsigned;
                rec.algorithm = None;
                rec.note = Some(format!(
                    "SMB2_FLAGS_SIGNED set but the signature does not verify: {}, which its receiver does not verify (MS-SMB2 3.2.5.1.3)",
                    e.reason()
                ));
                continue;
            }
            rec.verdict = Verdict::Invalid;
            if self.opts.diagnose {
                let d = self.diagnosis(&key, msg, &mut chain, i);
                self.report.records[at].diagnosis = d;
            }
        }
    }

    /// The diagnosis of PDU `index` of chain `msg`, failed under `key`:
    /// `chain` carries the chain's state between its failures (start with
    /// `None`), the session's wrong keys come from the cache.
    fn diagnosis(
        &mut self,
        key: &Rc<KeyContext>,
        msg: &[u8],
        chain: &mut Option<diagnose::ChainState>,
        index: usize,
    ) -> Vec<String> {
        if chain.is_none() {
            *chain = diagnose::ChainState::new(msg);
        }
        let Some(state) = chain.as_mut() else {
            return Vec::new();
        };
        let candidates = self.candidates_for(key);
        let d = diagnose::diagnose_in(key, &candidates, msg, state, index, &mut self.work);
        self.report.diagnosis_macs = self.work.macs;
        self.report.diagnosis_bytes = self.work.bytes;
        d
    }

    /// Verifies what is still queued, hands on the last records and returns
    /// the report (counts, sessions, notes; no records).
    #[must_use]
    pub fn finish(mut self, on_record: &mut dyn FnMut(&Record)) -> Report {
        if self.nonces.full > 0 {
            self.report.notes.push(format!(
                "nonce reuse was tracked for the first {} nonces of each key; {} keys carried more, whose later nonces were not compared",
                decrypt::MAX_NONCES_PER_KEY,
                self.nonces.full
            ));
        }
        self.flush();
        self.release(on_record);
        self.report
    }
}

/// Whether `pdu`, unsigned, should have been signed: its session was set up
/// in the capture (not guest or anonymous) and requires signing
/// ([`smb2::session_requires_signing`]: the NEGOTIATE request's or response's
/// SecurityMode, or a SESSION_SETUP request's), and core's rule grants it no
/// exemption ([`smb2::must_be_signed`]).
fn signing_required(conn: &Conn, session: Option<&Session>, pdu: &[u8], sid: u64) -> bool {
    let Some(s) = session else { return false };
    if !s.established || s.guest {
        return false;
    }
    let required = smb2::session_requires_signing(
        conn.negotiate_request_mode,
        conn.negotiate_response_mode,
        s.setup_security_mode,
    );
    smb2::must_be_signed(pdu, sid, required).unwrap_or(false)
}

/// Tracks signed requests by MessageId; for a response, whether its request
/// was signed (its final response forgets the request; an interim one does not).
fn signed_request(conn: &mut Conn, h: &Header, pdu: &[u8], sid: u64) -> bool {
    if h.is_response() {
        let signed = conn.signed_requests.contains(&h.message_id);
        let interim =
            smb2::signing_exemption(pdu, sid).ok().flatten() == Some(smb2::Exemption::Interim);
        if signed && !interim {
            conn.signed_requests.remove(&h.message_id);
        }
        return signed;
    }
    // A CANCEL reuses its target's MessageId and gets no response of its own.
    if h.is_signed() && h.command != smb2::COMMAND_CANCEL {
        conn.signed_requests.insert(h.message_id);
        if conn.signed_requests.len() > MAX_SIGNED_REQUESTS {
            conn.signed_requests.pop_first();
        }
    }
    false
}

/// Why an unsigned `pdu` that broke no known requirement is still not
/// verified: (kind, reason), or None when it is fine unsigned. The response to
/// a signed request left unsigned (core's [`smb2::response_should_be_signed`],
/// MS-SMB2 3.3.4.1.1); a message of a session whose SESSION_SETUP is not in
/// the capture, which no exemption covers (whether the session required
/// signing, or was a guest's, cannot be told).
fn unsigned_unverified(
    session: Option<&Session>,
    pdu: &[u8],
    sid: u64,
    request_signed: bool,
) -> Option<(&'static str, &'static str)> {
    if smb2::response_should_be_signed(pdu, sid, request_signed).unwrap_or(false) {
        return Some((
            "unsigned response to a signed request",
            "the request was signed but its response is not: nothing verified it (MS-SMB2 3.3.4.1.1: the server signs the response to a signed request; a stripped signature looks like this)",
        ));
    }
    let set_up_here = session.is_some_and(|s| s.established && !s.adopted);
    if !set_up_here && smb2::must_be_signed(pdu, sid, true).unwrap_or(false) {
        return Some((
            "signing requirement unknown",
            "unsigned, and the session's SESSION_SETUP is not in the capture: whether signing was required is unknown",
        ));
    }
    None
}

/// Follows NEGOTIATE and SESSION_SETUP; returns why `pdu` is malformed when
/// it is a NEGOTIATE response that cannot be read.
fn track(
    conn: &mut Conn,
    addrs: (SocketAddr, SocketAddr),
    opts: &Options,
    h: &Header,
    sid: u64,
    pdu: &[u8],
    report: &mut Report,
) -> Option<String> {
    match (h.command, h.is_response()) {
        (cmd::NEGOTIATE, false) => {
            *conn = Conn::default();
            let mut p = PreauthHash::new();
            p.update(pdu);
            conn.preauth = Some(p);
            conn.negotiate_request_mode = smb::negotiate_request_security_mode(pdu);
        }
        (cmd::NEGOTIATE, true) => {
            let Some(n) = smb::negotiate_response(pdu) else {
                let why = "NEGOTIATE response too short for its SecurityMode and DialectRevision: the connection's dialect is unknown";
                conn.negotiate_malformed = Some(why.into());
                conn.preauth = None;
                return Some(why.into());
            };
            if n.dialect == 0x02FF {
                return None; // the wildcard answer to an SMB1 negotiate; the real one follows
            }
            conn.dialect = Some(n.dialect);
            conn.signing_algorithm = n.signing_algorithm;
            conn.cipher_id = n.cipher;
            conn.negotiate_response_mode = Some(n.security_mode);
            if n.malformed_contexts {
                // Not silently 2.x/3.0 rules: the algorithm and preauth hash are unknown.
                let why = "3.1.1 NEGOTIATE response whose negotiate contexts do not parse: the connection's signing algorithm and preauth hash are unknown";
                conn.negotiate_malformed = Some(why.into());
                conn.preauth = None;
                return Some(why.into());
            }
            if n.dialect == smbsign::smb2::dialect::SMB3_1_1 {
                if let Some(p) = conn.preauth.as_mut() {
                    p.update(pdu);
                }
            } else {
                conn.preauth = None;
            }
        }
        (cmd::SESSION_SETUP, false) => {
            let is_311 = conn.dialect == Some(smbsign::smb2::dialect::SMB3_1_1);
            let conn_hash = conn.preauth.clone();
            let session = if sid == 0 {
                conn.setup.insert(Session::default())
            } else {
                conn.sessions.entry(sid).or_default()
            };
            if let Some(mode) = smb::session_setup_request_security_mode(pdu) {
                *session.setup_security_mode.get_or_insert(0) |= mode;
            }
            if session.established {
                return None; // re-authentication keeps the session's keys
            }
            if is_311 {
                let p = session.preauth.get_or_insert_with(|| {
                    let c = conn_hash.unwrap_or_default();
                    session.preauth_history.push(*c.value());
                    c
                });
                p.update(pdu);
                session.preauth_history.push(*p.value());
            }
            if let Some(a) =
                smb::session_setup_security_buffer(pdu, false).and_then(ntlm::authenticate)
            {
                session.auth = Some(a);
            }
        }
        (cmd::SESSION_SETUP, true) => {
            if !conn.sessions.contains_key(&sid) {
                let s = conn.setup.take().unwrap_or_default();
                conn.sessions.insert(sid, s);
            }
            let dialect = conn.dialect;
            let alg = conn.signing_algorithm;
            let cipher_id = conn.cipher_id;
            let malformed = conn.negotiate_malformed.clone();
            let session = conn.sessions.get_mut(&sid).expect("inserted above");
            if session.established {
                return None;
            }
            let token = smb::session_setup_security_buffer(pdu, true);
            if let Some(c) = token.and_then(ntlm::server_challenge) {
                session.server_challenge = Some(c);
            }
            match h.status {
                smb::STATUS_MORE_PROCESSING_REQUIRED => {
                    if let Some(p) = session.preauth.as_mut() {
                        p.update(pdu);
                        session.preauth_history.push(*p.value());
                    }
                }
                smb::STATUS_SUCCESS => {
                    session.established = true;
                    if smb::session_setup_flags(pdu).unwrap_or(0) & smb::SESSION_FLAG_GUEST_OR_NULL
                        != 0
                    {
                        session.guest = true;
                        session.no_key = Some("guest or anonymous session: no signing key".into());
                        report
                            .sessions
                            .push(session_line(addrs, sid, dialect, session, opts));
                        return None;
                    }
                    if let Some(why) = malformed {
                        session.no_key = Some(why);
                        report
                            .sessions
                            .push(session_line(addrs, sid, dialect, session, opts));
                        return None;
                    }
                    establish(
                        session,
                        sid,
                        (dialect, alg, cipher_id),
                        opts,
                        pdu,
                        &mut report.notes,
                    );
                    report
                        .sessions
                        .push(session_line(addrs, sid, dialect, session, opts));
                }
                _ => {}
            }
        }
        _ => {}
    }
    None
}

/// A session whose SESSION_SETUP the capture does not hold (it starts
/// mid-stream), with a `--session-key` for it: the 2.x and 3.0 signing keys
/// need no preauth hash, so the one the negotiated dialect prescribes (or, with
/// the NEGOTIATE missing too, whichever of the 2.1 and 3.0.2 keys verifies this
/// signed PDU) becomes the session's. 3.1.1 keys need the SESSION_SETUP.
fn adopt_mid_stream(
    conn: &mut Conn,
    addrs: (SocketAddr, SocketAddr),
    opts: &Options,
    sid: u64,
    msg: &[u8],
    index: usize,
    report: &mut Report,
) {
    use smbsign::smb2::dialect as d;
    let Some(session_key) = opts.session_key_for(sid) else {
        return;
    };
    if let Some(why) = conn.negotiate_malformed.clone() {
        conn.sessions.entry(sid).or_default().no_key = Some(why);
        return;
    }
    let candidates = match conn.dialect {
        Some(d::SMB3_1_1) => {
            conn.sessions.entry(sid).or_default().no_key = Some(
                "3.1.1 session whose SESSION_SETUP is not in the capture: its key needs the preauth hash".into(),
            );
            return;
        }
        Some(known) => vec![known],
        None => vec![d::SMB2_1, d::SMB3_0_2],
    };
    let no_hash = [0u8; 64];
    for dialect in candidates {
        let derived =
            SigningKey::for_session(dialect, None, session_key, &no_hash).and_then(|key| {
                Ok((
                    key,
                    smbsign::smb2::session_signing_key(dialect, session_key, &no_hash)?,
                ))
            });
        let Ok((key, key_bytes)) = derived else {
            continue;
        };
        let verified = {
            let job = [PduJob {
                key: &key,
                pdu: msg,
            }];
            matches!(batch::verify_pdus_each(&job).pop(), Some(Ok(v)) if v.get(index).is_some_and(Result::is_ok))
        };
        if verified || conn.dialect.is_some() {
            let cipher_id = conn.cipher_id;
            let s = conn.sessions.entry(sid).or_default();
            if s.cipher.is_none() {
                set_cipher(s, dialect, cipher_id, session_key, &no_hash);
            }
            s.established = true;
            s.adopted = true;
            s.no_key = None;
            s.key = Some(Rc::new(KeyContext {
                key,
                key_bytes,
                dialect,
                algorithm_id: None,
                session_key: smbsign::kdf::session_key16(session_key),
                preauth: no_hash,
                preauth_history: Vec::new(),
                wrong_password: false,
            }));
            let line = session_line(addrs, sid, Some(dialect), s, opts);
            report
                .sessions
                .push(line + " (SESSION_SETUP not in the capture)");
            return;
        }
    }
    conn.sessions.entry(sid).or_default().no_key = Some(
        "session whose SESSION_SETUP is not in the capture: the --session-key verifies its first signed message neither as 2.x nor as 3.0 (a 3.1.1 key needs the preauth hash of its SESSION_SETUP)".into(),
    );
}

/// One summary line about a session: where, dialect, algorithm, key source.
fn session_line(
    addrs: (SocketAddr, SocketAddr),
    sid: u64,
    dialect: Option<u16>,
    s: &Session,
    opts: &Options,
) -> String {
    let dialect = dialect.map_or("unknown dialect".to_string(), |d| {
        format!("SMB {}.{}.{}", d >> 8, (d >> 4) & 0xF, d & 0xF)
    });
    let what = match (&s.key, &s.no_key) {
        (Some(k), _) => {
            let source = if opts.session_key_for(sid).is_some() {
                "--session-key".to_string()
            } else {
                let who = s.auth.as_ref().map_or(String::new(), |a| {
                    format!(
                        " for {}\\{}",
                        opts.domain.as_deref().unwrap_or(&a.domain),
                        opts.user.as_deref().unwrap_or(&a.user)
                    )
                });
                format!("--password (NTLMv2{who})")
            };
            format!("{}, key from {source}", k.key.algorithm().name())
        }
        (None, Some(why)) => why.clone(),
        (None, None) => "no key".into(),
    };
    format!(
        "session {sid:#018x} ({} <-> {}): {dialect}, {what}",
        addrs.0, addrs.1
    )
}

/// Derives the session's signing key when its final SESSION_SETUP response arrives.
fn establish(
    session: &mut Session,
    sid: u64,
    (dialect, alg, cipher_id): (Option<u16>, Option<u16>, Option<u16>),
    opts: &Options,
    final_response: &[u8],
    notes: &mut Vec<String>,
) {
    let Some(dialect) = dialect else {
        session.no_key = Some("the connection's NEGOTIATE is not in the capture".into());
        return;
    };
    let mut wrong_password = false;
    let session_key: Zeroizing<Vec<u8>> = Zeroizing::new(
        if let Some(k) = opts.session_key_for(sid) {
            k.to_vec()
        } else if let (Some(pw), Some(auth)) = (opts.password.as_deref(), session.auth.as_ref()) {
            let user = opts.user.as_deref();
            let domain = opts.domain.as_deref();
            match ntlm::session_key(auth, pw, user, domain, session.server_challenge.as_ref()) {
                Ok(k) => k.to_vec(),
                Err(ntlm::KeyError::WrongPassword) => {
                    // Derive from the wrong password anyway: every signature shows as invalid.
                    wrong_password = true;
                    notes.push(format!(
                    "session {sid:#018x}: the password does not match the NTLMv2 response of {}\\{} (wrong password, user or domain)",
                    domain.unwrap_or(&auth.domain),
                    user.unwrap_or(&auth.user)
                ));
                    ntlm::session_key(auth, pw, user, domain, None)
                        .map(|k| k.to_vec())
                        .unwrap_or_default()
                }
                Err(ntlm::KeyError::NotNtlmV2) => {
                    session.no_key =
                        Some("NTLMSSP response is not NTLMv2; give --session-key".into());
                    return;
                }
            }
        } else if opts.password.is_some() {
            session.no_key = Some(
                "no NTLMSSP AUTHENTICATE in the SESSION_SETUP (Kerberos?); give --session-key"
                    .into(),
            );
            return;
        } else {
            session.no_key = Some("no key: give --password or --session-key".into());
            return;
        },
    );
    let preauth = session.preauth.as_ref().map_or([0u8; 64], |p| *p.value());
    let mut history = std::mem::take(&mut session.preauth_history);
    if let Some(p) = session.preauth.as_ref() {
        // What an implementation that also hashed the final response would use.
        let mut with_final = p.clone();
        with_final.update(final_response);
        history.push(*with_final.value());
    }
    let derived = SigningKey::for_session(dialect, alg, &session_key, &preauth).and_then(|key| {
        Ok((
            key,
            smbsign::smb2::session_signing_key(dialect, &session_key, &preauth)?,
        ))
    });
    set_cipher(session, dialect, cipher_id, &session_key, &preauth);
    match derived {
        Ok((key, key_bytes)) => {
            session.key = Some(Rc::new(KeyContext {
                key,
                key_bytes,
                dialect,
                algorithm_id: alg,
                session_key: smbsign::kdf::session_key16(&session_key),
                preauth,
                preauth_history: history,
                wrong_password,
            }));
        }
        Err(e) => session.no_key = Some(format!("no signing key: {e}")),
    }
}

/// Derives the session's cipher keys, or says why there are none: 2.x
/// does not encrypt; 3.0 and 3.0.2 use AES-128-CCM; 3.1.1 the cipher of the
/// NEGOTIATE response's ENCRYPTION_CAPABILITIES (`cipher_id`).
fn set_cipher(
    session: &mut Session,
    dialect: u16,
    cipher_id: Option<u16>,
    session_key: &[u8],
    preauth: &[u8; 64],
) {
    let cipher = match smbsign::smb2::cipher_for_dialect(dialect, cipher_id) {
        Ok(c) => c,
        Err(_) if dialect == smbsign::smb2::dialect::SMB3_1_1 => {
            session.no_cipher = Some(match cipher_id {
                None | Some(0) => "the NEGOTIATE response chose no cipher (no ENCRYPTION_CAPABILITIES, or CipherId 0): the connection does not encrypt".into(),
                Some(id) => format!("the NEGOTIATE response chose CipherId {id}, which this tool does not know"),
            });
            return;
        }
        Err(_) => {
            session.no_cipher = Some(format!(
                "SMB {}.{}.{} has no encryption",
                dialect >> 8,
                (dialect >> 4) & 0xF,
                dialect & 0xF
            ));
            return;
        }
    };
    match CipherContext::new(dialect, cipher, session_key, preauth) {
        Ok(c) => session.cipher = Some(Rc::new(c)),
        Err(e) => session.no_cipher = Some(format!("no cipher keys: {e}")),
    }
}

/// A connection seen first in an encrypted message (it started before the
/// capture), with a `--session-key` for its session: which side is the
/// client is unknown, so the 3.0 AES-128-CCM keys of both directions are
/// tried on the message, and the one that verifies names it. 3.1.1 keys
/// need the SESSION_SETUP.
fn infer_client(
    conns: &mut HashMap<(SocketAddr, SocketAddr), Conn>,
    addrs: (SocketAddr, SocketAddr),
    opts: &Options,
    sid: u64,
    src: SocketAddr,
    dst: SocketAddr,
    msg: &[u8],
) {
    use smbsign::smb2::dialect as d;
    let Some(session_key) = opts.session_key_for(sid) else {
        return;
    };
    let dialect = conns.get(&addrs).and_then(|c| c.dialect);
    if dialect == Some(d::SMB3_1_1) {
        return;
    }
    let Ok(ctx) = CipherContext::new(
        dialect.unwrap_or(d::SMB3_0_2),
        smbsign::cipher::Cipher::Aes128Ccm,
        session_key,
        &[0u8; 64],
    ) else {
        return;
    };
    let client = if decrypt::open(ctx.key(Direction::ClientToServer), msg).is_some() {
        src
    } else if decrypt::open(ctx.key(Direction::ServerToClient), msg).is_some() {
        dst
    } else {
        return;
    };
    conns.entry(addrs).or_default().client = Some(client);
}

/// A session whose SESSION_SETUP is not in the capture, seen first in an
/// encrypted message, with a `--session-key` for it: the 3.0/3.0.2 cipher
/// keys need no preauth hash, so they are adopted when the connection is
/// known to be 3.0.x, or (NEGOTIATE missing too) when they verify this
/// message. 3.1.1 keys need the SESSION_SETUP.
fn adopt_encrypted(
    conn: &mut Conn,
    opts: &Options,
    sid: u64,
    msg: &[u8],
    dir: Direction,
    report: &mut Report,
    addrs: (SocketAddr, SocketAddr),
) {
    use smbsign::smb2::dialect as d;
    let Some(session_key) = opts.session_key_for(sid) else {
        return;
    };
    if conn
        .sessions
        .get(&sid)
        .is_some_and(|s| s.established && !s.adopted)
    {
        return; // set up in the capture: its keys (or why not) are known
    }
    let dialect = match conn.dialect {
        Some(d::SMB3_1_1) => {
            conn.sessions.entry(sid).or_default().no_cipher = Some(
                "3.1.1 session whose SESSION_SETUP is not in the capture: its keys need the preauth hash".into(),
            );
            return;
        }
        Some(known) => known,
        None => d::SMB3_0_2,
    };
    let Ok(ctx) = CipherContext::new(
        dialect,
        smbsign::cipher::Cipher::Aes128Ccm,
        session_key,
        &[0u8; 64],
    ) else {
        return;
    };
    if conn.dialect.is_none() && decrypt::open(ctx.key(dir), msg).is_none() {
        conn.sessions.entry(sid).or_default().no_cipher = Some(
            "session whose SESSION_SETUP is not in the capture: the --session-key's 3.0 AES-128-CCM keys do not verify its first encrypted message (3.1.1 keys need the preauth hash)".into(),
        );
        return;
    }
    let s = conn.sessions.entry(sid).or_default();
    let first = s.cipher.is_none() && !s.adopted;
    s.cipher = Some(Rc::new(ctx));
    s.no_cipher = None;
    if first {
        report.sessions.push(format!(
            "session {sid:#018x} ({} <-> {}): SMB {}.{}.{}, aes-128-ccm, cipher keys from --session-key (SESSION_SETUP not in the capture)",
            addrs.0,
            addrs.1,
            dialect >> 8,
            (dialect >> 4) & 0xF,
            dialect & 0xF
        ));
    }
}

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

impl Options {
    /// The `--session-key` for session `sid`: one given for it, else one given for all.
    #[must_use]
    pub fn session_key_for(&self, sid: u64) -> Option<&[u8]> {
        self.session_keys
            .iter()
            .find(|(s, _)| *s == Some(sid))
            .or_else(|| self.session_keys.iter().find(|(s, _)| s.is_none()))
            .map(|(_, k)| &k[..])
    }
}

/// The algorithm a record names, for output.
#[must_use]
pub fn algorithm_name(a: Option<Algorithm>) -> &'static str {
    a.map_or("-", Algorithm::name)
}
