//! What the probe measures on one target, and the verdict it draws.
//!
//! Every message is built and read with `smbsign-wire`; every key, preauth
//! hash, signature and verification is core's; a bad signature is explained
//! by smbsign-check's diagnosis.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smbsign::preauth::PreauthHash;
use smbsign::smb2::{self, dialect, Algorithm, SigningKey};
use smbsign_capture::diagnose::{self, KeyContext};
use smbsign_wire::msg::{self, Negotiate};
use smbsign_wire::smb::{self, Header, NegotiateResponse};
use smbsign_wire::{ntlm_client, smb::cmd};
use zeroize::Zeroizing;

use crate::conn::{Conn, Failure};

/// The dialects probed, each offered alone, with their names.
pub const DIALECTS: [(u16, &str); 5] = [
    (dialect::SMB2_0_2, "2.0.2"),
    (dialect::SMB2_1, "2.1"),
    (dialect::SMB3_0, "3.0"),
    (dialect::SMB3_0_2, "3.0.2"),
    (dialect::SMB3_1_1, "3.1.1"),
];

/// A Windows 11 client's SIGNING_CAPABILITIES order.
pub const WINDOWS_SIGNING_ORDER: [Algorithm; 3] = [
    Algorithm::AesGmac,
    Algorithm::AesCmac,
    Algorithm::HmacSha256,
];

/// A Windows 11 client's ENCRYPTION_CAPABILITIES order (AES-128-GCM, AES-128-CCM,
/// AES-256-GCM, AES-256-CCM); also the order `encryption_ciphers` lists them in.
pub const WINDOWS_CIPHER_ORDER: [u16; 4] = [0x0002, 0x0001, 0x0004, 0x0003];

/// SecurityMode of a client that requires signing (enabled and required).
const REQUIRE_SIGNING: u16 = msg::SIGNING_ENABLED | smb::SIGNING_REQUIRED;

/// The workstation name the AUTHENTICATE message carries.
const WORKSTATION: &str = "SMBSIGN-PROBE";

/// An account to authenticate with.
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Domain (empty: the server's own).
    pub domain: String,
    /// Password.
    pub password: Zeroizing<String>,
}

/// How to probe.
pub struct Config {
    /// The account, if any; without one only anonymous and guest are tried.
    pub credentials: Option<Credentials>,
    /// Bound on each TCP connect.
    pub connect_timeout: Duration,
    /// Bound on each request's answer.
    pub request_timeout: Duration,
}

/// A target as given: `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// Parses a target; the default port is 445.
    pub fn parse(s: &str) -> Result<Target, String> {
        let s = s.trim();
        let bad = || format!("bad target {s:?}: want HOST[:PORT] or [IPv6]:PORT");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(bad()),
            }
        } else if s.matches(':').count() > 1 {
            (s, None)
        } else if let Some((h, p)) = s.split_once(':') {
            (h, Some(p))
        } else {
            (s, None)
        };
        if host.is_empty() {
            return Err(bad());
        }
        let port = match port {
            Some(p) => p.parse().ok().filter(|&p| p != 0).ok_or_else(bad)?,
            None => 445,
        };
        Ok(Target {
            host: host.to_string(),
            port,
        })
    }

    /// `host:port`, IPv6 in brackets.
    #[must_use]
    pub fn name(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What a dialect offered alone got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DialectResult {
    /// The server chose it.
    pub accepted: bool,
    /// SecurityMode has SIGNING_ENABLED.
    pub signing_enabled: bool,
    /// SecurityMode has SIGNING_REQUIRED.
    pub signing_required: bool,
}

/// The state of one signature check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sig {
    /// Verified with core.
    Valid,
    /// Signed, and the signature is wrong.
    Invalid,
    /// Not signed where it must be.
    Unsigned,
    /// The dialect or algorithm is not accepted.
    NotSupported,
    /// Not checked (no credentials, encryption required, the request failed).
    NotTested,
}

impl Sig {
    /// The word the output uses.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Sig::Valid => "valid",
            Sig::Invalid => "invalid",
            Sig::Unsigned => "unsigned",
            Sig::NotSupported => "not-supported",
            Sig::NotTested => "not-tested",
        }
    }
}

/// A verdict for a client that requires signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything checked out: it signs correctly and enforces signing.
    Ok,
    /// Such a client cannot connect, or its signatures would be wrong.
    Fails,
    /// It works, but the server does not enforce signing on requests.
    AtRisk,
    /// What would decide it could not be tested (reasons say what).
    Incomplete,
}

impl Verdict {
    /// The word the output uses.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Fails => "fails",
            Verdict::AtRisk => "at-risk",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// Everything measured on one target.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `host:port`.
    pub target: String,
    /// A TCP connection could be made.
    pub reachable: bool,
    /// An SMB1 multi-protocol NEGOTIATE got an NT LM 0.12 answer.
    pub smb1: bool,
    /// Each dialect offered alone, in [`DIALECTS`] order.
    pub dialects: Vec<(&'static str, DialectResult)>,
    /// The 3.1.1 signing algorithms accepted when offered alone.
    pub signing_algorithms: Vec<Algorithm>,
    /// The algorithm chosen from a Windows 11 client's offer (3.1.1).
    pub preferred_signing_algorithm: Option<Algorithm>,
    /// The cipher chosen from a Windows 11 client's offer (3.1.1; `None`: none in common or no context).
    pub preferred_encryption_cipher: Option<&'static str>,
    /// The 3.1.1 ciphers accepted when offered alone.
    pub encryption_ciphers: Vec<&'static str>,
    /// A session with the credentials was set up (not as guest or null).
    pub authenticated: bool,
    /// One summary per dialect (`2.0.2`...) and per 3.1.1 algorithm (`3.1.1/aes-gmac`...).
    pub signatures: Vec<(String, Sig)>,
    /// The single checks behind each summary (session_setup, tree_connect, echo, compound).
    pub signature_checks: Vec<(String, Vec<(&'static str, Sig)>)>,
    /// smbsign-check's explanations of each invalid signature, keyed like `signatures`.
    pub diagnosis: Vec<(String, Vec<String>)>,
    /// A request with a wrong signature was refused (`None`: not tested).
    pub rejects_forged_signature: Option<bool>,
    /// An unsigned request was refused (`None`: not tested).
    pub rejects_unsigned: Option<bool>,
    /// A guest session was granted.
    pub guest: bool,
    /// A null (anonymous) session was granted.
    pub anonymous: bool,
    /// The server requires encryption (SessionFlags or ShareFlags ENCRYPT_DATA).
    pub encryption_required: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, most severe first, then the notable facts.
    pub reasons: Vec<String>,
}

/// `n` random bytes from the system (client GUID, salt, client challenge).
fn random<const N: usize>() -> [u8; N] {
    use std::io::Read;
    let mut b = [0u8; N];
    // A probe without randomness would send a predictable client challenge:
    // better to stop than to authenticate with it.
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("reading /dev/urandom");
    b
}

fn filetime_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    116_444_736_000_000_000 + since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

/// One negotiated connection.
struct Negotiated {
    conn: Conn,
    resp: NegotiateResponse,
    /// The connection's preauth hash after NEGOTIATE (3.1.1).
    preauth: PreauthHash,
}

/// Offers `dialects` (3.1.1 contexts from `algs` and `ciphers`) with a client
/// that requires signing. `Ok(None)`: the server refused or chose another.
fn negotiate(
    addrs: &[SocketAddr],
    cfg: &Config,
    dialects: &[u16],
    algs: &[Algorithm],
    ciphers: &[u16],
) -> Result<Option<Negotiated>, Failure> {
    let mut conn = Conn::open(addrs, cfg.connect_timeout, cfg.request_timeout)?;
    if dialects == [dialect::SMB2_0_2] {
        conn.credit_charge = 0;
    }
    let caps = if dialects.iter().any(|&d| d >= dialect::SMB3_0) {
        msg::CAP_ENCRYPTION
    } else {
        0
    };
    let req = msg::negotiate_request(
        &conn.header(cmd::NEGOTIATE),
        &Negotiate {
            dialects: dialects.to_vec(),
            security_mode: REQUIRE_SIGNING,
            capabilities: caps,
            client_guid: random(),
            salt: random(),
            ciphers: ciphers.to_vec(),
            signing_algorithms: algs.iter().map(|a| a.id()).collect(),
        },
    );
    let resp = match conn.call(&req) {
        Ok(r) => r,
        // Refusing a dialect by hanging up is an answer, not an error.
        Err(Failure::Closed(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(h) = Header::parse(&resp).filter(|h| h.command == cmd::NEGOTIATE) else {
        return Err(Failure::Protocol(
            "the answer to NEGOTIATE is not a NEGOTIATE response".into(),
        ));
    };
    if h.status != smb::STATUS_SUCCESS {
        return Ok(None);
    }
    // A success answer that does not parse is a finding, never "not accepted":
    // a client that offered this cannot connect.
    let offered = || {
        dialects
            .iter()
            .map(|&d| dialect_name(d))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(r) = smb::negotiate_response(&resp) else {
        return Err(Failure::Broken(format!(
            "malformed NEGOTIATE response to an offer of {}",
            offered()
        )));
    };
    // Not what was offered: nothing is known about the offer (a Windows 11
    // client offers every dialect, so it still connects): unknown, not "not accepted".
    if !dialects.contains(&r.dialect) {
        return Err(Failure::Protocol(format!(
            "answered dialect {} to an offer of {}",
            dialect_name(r.dialect),
            offered()
        )));
    }
    // A 3.1.1 response whose contexts do not parse leaves the algorithm and
    // preauth hash unknown: nothing on it can be verified.
    if r.malformed_contexts {
        return Err(Failure::Broken(format!(
            "malformed NEGOTIATE response to an offer of {}: its negotiate contexts do not parse",
            offered()
        )));
    }
    let mut preauth = PreauthHash::new();
    if r.dialect == dialect::SMB3_1_1 {
        preauth.update(&req);
        preauth.update(&resp);
    }
    Ok(Some(Negotiated {
        conn,
        resp: r,
        preauth,
    }))
}

/// A dialect's name, or its number.
fn dialect_name(d: u16) -> String {
    DIALECTS
        .iter()
        .find(|x| x.0 == d)
        .map_or_else(|| format!("{d:#06x}"), |x| x.1.to_string())
}

/// Who to authenticate as.
#[derive(Clone, Copy)]
enum Auth<'a> {
    User(&'a Credentials),
    /// An account the server does not know, empty password: granted only as guest.
    Guest,
    Anonymous,
}

/// A session that was set up (or refused).
struct Session {
    /// Status of the final SESSION_SETUP response.
    status: u32,
    /// SessionFlags.
    flags: u16,
    /// The signing key and how it was derived (user sessions only).
    key: Option<KeyContext>,
    /// The final SESSION_SETUP response.
    final_response: Vec<u8>,
}

fn session_setup(n: &mut Negotiated, auth: Auth<'_>) -> Result<Session, Failure> {
    let d = n.resp.dialect;
    let mut preauth = PreauthHash::from_value(*n.preauth.value());
    let mut history = vec![*preauth.value()];
    let conn = &mut n.conn;
    let mode = REQUIRE_SIGNING as u8;
    let req1 = msg::session_setup_request(
        &conn.header(cmd::SESSION_SETUP),
        mode,
        &ntlm_client::negotiate_message(),
    );
    let resp1 = conn.call(&req1)?;
    let h1 = Header::parse(&resp1).expect("recv returns SMB2 messages");
    if h1.status != smb::STATUS_MORE_PROCESSING_REQUIRED {
        return Ok(Session {
            status: h1.status,
            flags: 0,
            key: None,
            final_response: resp1,
        });
    }
    conn.session_id = h1.session_id;
    let is_311 = d == dialect::SMB3_1_1;
    if is_311 {
        for m in [&req1, &resp1] {
            preauth.update(m);
            history.push(*preauth.value());
        }
    }
    let ch = smb::session_setup_security_buffer(&resp1, true)
        .and_then(ntlm_client::challenge)
        .ok_or_else(|| Failure::Protocol("no NTLMSSP CHALLENGE in SESSION_SETUP".into()))?;
    let (token, session_key) = match auth {
        Auth::Anonymous => (ntlm_client::anonymous_authenticate(&ch), None),
        Auth::User(c) => {
            let (t, k) = ntlm_client::ntlmv2_authenticate(
                &ch,
                &c.user,
                &c.domain,
                &c.password,
                WORKSTATION,
                random(),
                filetime_now(),
            )
            .map_err(|e| Failure::Protocol(format!("NTLMv2: {e:?}")))?;
            (t, Some(k))
        }
        Auth::Guest => {
            let user = format!("smbsign-probe-guest-{:08x}", u32::from_le_bytes(random()));
            let (t, _) = ntlm_client::ntlmv2_authenticate(
                &ch,
                &user,
                "",
                "",
                WORKSTATION,
                random(),
                filetime_now(),
            )
            .map_err(|e| Failure::Protocol(format!("NTLMv2: {e:?}")))?;
            (t, None)
        }
    };
    let req2 = msg::session_setup_request(&conn.header(cmd::SESSION_SETUP), mode, &token);
    if is_311 {
        preauth.update(&req2);
    }
    let preauth_value = *preauth.value();
    let resp2 = conn.call(&req2)?;
    let h2 = Header::parse(&resp2).expect("recv returns SMB2 messages");
    let flags = smb::session_setup_flags(&resp2).unwrap_or(0);
    let mut key = None;
    if let (Some(sk), smb::STATUS_SUCCESS) = (session_key, h2.status) {
        if flags & smb::SESSION_FLAG_GUEST_OR_NULL == 0 {
            if is_311 {
                history.push(preauth_value);
                let mut with_final = PreauthHash::from_value(preauth_value);
                with_final.update(&resp2);
                history.push(*with_final.value());
            }
            key = Some(key_context(
                d,
                n.resp.signing_algorithm,
                &sk,
                preauth_value,
                history,
            )?);
        }
    }
    Ok(Session {
        status: h2.status,
        flags,
        key,
        final_response: resp2,
    })
}

fn key_context(
    d: u16,
    algorithm_id: Option<u16>,
    session_key: &[u8; 16],
    preauth: [u8; 64],
    preauth_history: Vec<[u8; 64]>,
) -> Result<KeyContext, Failure> {
    let core = |e: smbsign::Error| Failure::Protocol(format!("signing key: {e}"));
    let key = SigningKey::for_session(d, algorithm_id, session_key, &preauth).map_err(core)?;
    Ok(KeyContext {
        key,
        key_bytes: smbsign::smb2::session_signing_key(d, session_key, &preauth).map_err(core)?,
        dialect: d,
        algorithm_id,
        session_key: *session_key,
        preauth,
        preauth_history,
        wrong_password: false,
    })
}

/// Verifies `resp` (a PDU or a compound chain); invalid ones get the diagnosis.
fn check(ctx: &KeyContext, resp: &[u8], what: &str, diag: &mut Vec<String>) -> Sig {
    match smb2::verify_pdu(&ctx.key, resp) {
        Ok(()) => Sig::Valid,
        Err(smbsign::Error::NotSigned { .. }) => Sig::Unsigned,
        Err(smbsign::Error::BadSignature { offset }) => {
            let index = smb2::chain_ranges(resp)
                .map(|r| r.iter().position(|x| x.start == offset).unwrap_or(0))
                .unwrap_or(0);
            for d in diagnose::diagnose(ctx, resp, index) {
                diag.push(format!("{what}: {d}"));
            }
            Sig::Invalid
        }
        Err(e) => {
            diag.push(format!("{what}: malformed response: {e}"));
            Sig::Invalid
        }
    }
}

fn sign(ctx: &KeyContext, pdu: &mut [u8]) {
    smb2::sign_pdu(&ctx.key, pdu).expect("the probe's own PDUs are well formed");
}

/// The signature checks of one session; encryption required stops them after SESSION_SETUP.
struct Checks {
    checks: Vec<(&'static str, Sig)>,
    diagnosis: Vec<String>,
    /// Why a check could not run.
    notes: Vec<String>,
    encryption_required: bool,
}

fn signed_checks(n: &mut Negotiated, s: &Session, host: &str) -> Checks {
    let ctx = s.key.as_ref().expect("user sessions have a key");
    let mut out = Checks {
        checks: Vec::new(),
        diagnosis: Vec::new(),
        notes: Vec::new(),
        encryption_required: s.flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0,
    };
    // 3.1.1 signs the final SESSION_SETUP response always; earlier dialects
    // sign it when the session signs, and it is checked when signed.
    let ss_signed = Header::parse(&s.final_response).is_some_and(|h| h.is_signed());
    if n.resp.dialect == dialect::SMB3_1_1 || ss_signed {
        let v = check(ctx, &s.final_response, "SESSION_SETUP", &mut out.diagnosis);
        out.checks.push(("session_setup", v));
    }
    let names = ["tree_connect", "echo", "compound"];
    if out.encryption_required {
        out.checks
            .extend(names.iter().map(|&w| (w, Sig::NotTested)));
        return out;
    }
    let conn = &mut n.conn;
    let mut run = |conn: &mut Conn, what: &'static str, mut req: Vec<u8>| {
        // Each request PDU's (MessageId, Command): every one must be answered.
        let asked: Vec<(u64, u16)> = smb2::chain_ranges(&req)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| Header::parse(&req[r]).map(|h| (h.message_id, h.command)))
            .collect();
        sign(ctx, &mut req);
        let mut frames = Vec::new();
        let mut answered: Vec<(u64, u16, u32)> = Vec::new();
        // A compound's responses may come in separate frames: read until each
        // request has its response, or the request's deadline passes.
        let mut read = conn.call(&req);
        loop {
            match read {
                Ok(r) => {
                    for x in smb2::chain_ranges(&r).unwrap_or_default() {
                        if let Some(h) = Header::parse(&r[x]) {
                            answered.push((h.message_id, h.command, h.status));
                        }
                    }
                    frames.push(r);
                }
                Err(e) => {
                    out.notes.push(format!(
                        "{what}: {} of {} responses arrived ({e})",
                        answered.len(),
                        asked.len()
                    ));
                    break;
                }
            }
            if answered.len() >= asked.len() {
                break;
            }
            read = conn.recv();
        }
        if frames.is_empty() || answered.len() < asked.len() {
            out.checks.push((what, Sig::NotTested));
            return None;
        }
        // Matched by MessageId and command: a response to something else
        // (a replayed earlier one) answers nothing.
        let unmatched = asked
            .iter()
            .filter(|(id, c)| !answered.iter().any(|(i, k, _)| i == id && k == c))
            .count();
        if unmatched > 0 || answered.len() != asked.len() {
            out.notes.push(format!(
                "{what}: the responses do not match the requests' MessageIds and commands ({unmatched} of {} unanswered)",
                asked.len()
            ));
            out.checks.push((what, Sig::NotTested));
            return None;
        }
        if let Some((_, _, status)) = answered.iter().find(|a| a.2 != smb::STATUS_SUCCESS) {
            out.notes.push(format!(
                "{what}: refused with status {status:#010x}, not checked"
            ));
            out.checks.push((what, Sig::NotTested));
            return None;
        }
        let mut v = Sig::Valid;
        for f in &frames {
            match check(ctx, f, what, &mut out.diagnosis) {
                Sig::Valid => {}
                Sig::Invalid => v = Sig::Invalid,
                other if v == Sig::Valid => v = other,
                _ => {}
            }
        }
        out.checks.push((what, v));
        frames.into_iter().next()
    };
    let tree =
        msg::tree_connect_request(&conn.header(msg::TREE_CONNECT), &format!(r"\\{host}\IPC$"));
    let mut share_encrypted = false;
    if let Some(r) = run(conn, "tree_connect", tree) {
        if let Some(t) = msg::tree_connect_response(&r) {
            conn.tree_id = t.tree_id;
            share_encrypted = t.share_flags & msg::SHAREFLAG_ENCRYPT_DATA != 0;
        }
    }
    let echo = msg::echo_request(&conn.header(msg::ECHO));
    run(conn, "echo", echo);
    let pair = msg::compound(&[
        msg::echo_request(&conn.header(msg::ECHO)),
        msg::echo_request(&conn.header(msg::ECHO)),
    ]);
    run(conn, "compound", pair);
    // IPC$ asking for encryption is the share-level form of "encryption
    // required": what was verified stands, and the verdict says the rest is open.
    if share_encrypted {
        out.encryption_required = true;
        out.notes
            .push("IPC$ has SMB2_SHAREFLAG_ENCRYPT_DATA: the share requires encryption".into());
    }
    logoff(conn, ctx);
    out
}

/// Ends the session politely; its answer does not matter.
fn logoff(conn: &mut Conn, ctx: &KeyContext) {
    let mut req = msg::logoff_request(&conn.header(msg::LOGOFF));
    sign(ctx, &mut req);
    let _ = conn.call(&req);
}

/// A fresh connection offering `d` (and `alg`, 3.1.1) with a signed user session on it.
fn signed_session(
    addrs: &[SocketAddr],
    cfg: &Config,
    d: u16,
    alg: Option<Algorithm>,
) -> Result<(Negotiated, KeyContext), String> {
    let algs: Vec<Algorithm> = alg.into_iter().collect();
    let mut n = match negotiate(addrs, cfg, &[d], &algs, &WINDOWS_CIPHER_ORDER) {
        Ok(Some(n)) => n,
        Ok(None) => return Err("NEGOTIATE refused".into()),
        Err(e) => return Err(format!("NEGOTIATE: {e}")),
    };
    let creds = cfg.credentials.as_ref().ok_or("no credentials")?;
    match session_setup(&mut n, Auth::User(creds)) {
        Ok(Session { key: Some(k), .. }) => Ok((n, k)),
        Ok(s) => Err(format!("no signed session (status {:#010x})", s.status)),
        Err(e) => Err(format!("SESSION_SETUP: {e}")),
    }
}

/// TREE_CONNECT to IPC$ on `n`: correctly signed, with a wrong signature (`forge`) or unsigned.
fn tree_connect(
    n: &mut Negotiated,
    ctx: &KeyContext,
    host: &str,
    signed: bool,
    forge: bool,
) -> Result<u32, Failure> {
    let mut req = msg::tree_connect_request(
        &n.conn.header(msg::TREE_CONNECT),
        &format!(r"\\{host}\IPC$"),
    );
    if signed {
        sign(ctx, &mut req);
        if forge {
            req[smb2::SIGNATURE_OFFSET] ^= 0x01;
        }
    }
    let r = n.conn.call(&req)?;
    Ok(Header::parse(&r).map_or(0, |h| h.status))
}

/// Sends TREE_CONNECT to IPC$ with a wrong signature (`forge`) or unsigned,
/// on a fresh signed session. `Some(false)`: accepted; `Some(true)`: refused
/// (a status or a disconnect) while a correctly signed TREE_CONNECT right
/// after, on the same session or a fresh one, was granted: only then is the
/// refusal the signature's. `None`: could not be tested (the reason in `notes`).
fn enforcement(
    addrs: &[SocketAddr],
    cfg: &Config,
    d: u16,
    alg: Option<Algorithm>,
    host: &str,
    forge: bool,
    notes: &mut Vec<String>,
) -> Option<bool> {
    let what = if forge { "forged" } else { "unsigned" };
    let (mut n, ctx) = match signed_session(addrs, cfg, d, alg) {
        Ok(x) => x,
        Err(e) => {
            notes.push(format!("{what} request not tested: {e}"));
            return None;
        }
    };
    // The refusal's status; `None`: a disconnect.
    let refusal = match tree_connect(&mut n, &ctx, host, forge, forge) {
        Ok(smb::STATUS_SUCCESS) => {
            // The server granted a tree on IPC$ to the bad request:
            // disconnect it along with the session.
            logoff(&mut n.conn, &ctx);
            return Some(false);
        }
        Ok(status) => Some(status),
        Err(Failure::Closed(_)) => None,
        Err(e) => {
            notes.push(format!("{what} request not tested: {e}"));
            return None;
        }
    };
    // The control: a correctly signed TREE_CONNECT right after, on the same
    // session if it is still there, else on a fresh one.
    let mut control = tree_connect(&mut n, &ctx, host, true, false);
    if !matches!(control, Ok(smb::STATUS_SUCCESS)) {
        control = match signed_session(addrs, cfg, d, alg) {
            Ok((mut m, c)) => {
                let r = tree_connect(&mut m, &c, host, true, false);
                logoff(&mut m.conn, &c);
                r
            }
            Err(e) => Err(Failure::Protocol(e)),
        };
    } else {
        logoff(&mut n.conn, &ctx);
    }
    let refused = refusal.map_or("a disconnect".to_string(), |s| format!("status {s:#010x}"));
    match control {
        Ok(smb::STATUS_SUCCESS) => {
            if refusal.is_some_and(|s| s != msg::STATUS_ACCESS_DENIED) {
                notes.push(format!(
                    "the {what} request was refused with {refused}, not STATUS_ACCESS_DENIED"
                ));
            }
            Some(true)
        }
        other => {
            let why = match other {
                Ok(s) => format!("status {s:#010x}"),
                Err(e) => e.to_string(),
            };
            notes.push(format!(
                "{what} request not tested: it was refused ({refused}), but so was a correctly signed TREE_CONNECT right after ({why}): the refusal says nothing about its signature"
            ));
            None
        }
    }
}

/// Probes one target.
pub fn probe(target: &Target, cfg: &Config) -> Outcome {
    let mut o = Outcome {
        target: target.name(),
        reachable: false,
        smb1: false,
        dialects: DIALECTS
            .iter()
            .map(|&(_, n)| (n, DialectResult::default()))
            .collect(),
        signing_algorithms: Vec::new(),
        preferred_signing_algorithm: None,
        preferred_encryption_cipher: None,
        encryption_ciphers: Vec::new(),
        authenticated: false,
        // Every key present from the start (fleet scripts index them); filled in below.
        signatures: signature_keys().map(|k| (k, Sig::NotTested)).collect(),
        signature_checks: Vec::new(),
        diagnosis: Vec::new(),
        rejects_forged_signature: None,
        rejects_unsigned: None,
        guest: false,
        anonymous: false,
        encryption_required: false,
        verdict: Verdict::Fails,
        reasons: Vec::new(),
    };
    let addrs: Vec<SocketAddr> = match (target.host.as_str(), target.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            o.reasons.push(format!("unreachable: cannot resolve: {e}"));
            return o;
        }
    };
    // SMB1: its own connection; any answer but an NT LM 0.12 one means off.
    match Conn::open(&addrs, cfg.connect_timeout, cfg.request_timeout) {
        Ok(mut c) => {
            o.reachable = true;
            if c.send(&msg::smb1_negotiate_request()).is_ok() {
                o.smb1 = c
                    .recv_raw()
                    .ok()
                    .and_then(|m| msg::smb1_negotiate_dialect(&m))
                    == Some("NT LM 0.12");
            }
        }
        Err(e) => {
            o.reasons.push(format!("unreachable: {e}"));
            return o;
        }
    }
    let mut notes = Vec::new();
    let mut failures = Vec::new();
    let mut broken = Vec::new();
    // The 3.1.1 key whose session ran on the Windows 11 offer's connection.
    let mut windows_key: Option<String> = None;
    let creds = cfg.credentials.as_ref();
    let host = target.host.as_str();

    // Each dialect alone; the 2.x/3.0.x sessions run on those connections.
    for (i, &(d, name)) in DIALECTS.iter().enumerate() {
        let n = negotiate(
            &addrs,
            cfg,
            &[d],
            &WINDOWS_SIGNING_ORDER,
            &WINDOWS_CIPHER_ORDER,
        );
        let mut n = match n {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            // What a client offering this dialect gets, and cannot use.
            Err(e @ Failure::Broken(_)) => {
                broken.push(format!("{name}: {e}: a client offering it cannot connect"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: NEGOTIATE: {e}"));
                continue;
            }
        };
        o.dialects[i].1 = DialectResult {
            accepted: true,
            signing_enabled: n.resp.security_mode & msg::SIGNING_ENABLED != 0,
            signing_required: n.resp.security_mode & smb::SIGNING_REQUIRED != 0,
        };
        if d == dialect::SMB3_1_1 {
            o.preferred_encryption_cipher = n
                .resp
                .cipher
                .and_then(|c| msg::CIPHERS.iter().find(|x| x.0 == c))
                .map(|x| x.1);
            // No SIGNING_CAPABILITIES in the response means AES-CMAC.
            let chosen = n.resp.signing_algorithm.unwrap_or(Algorithm::AesCmac.id());
            match WINDOWS_SIGNING_ORDER.iter().find(|a| a.id() == chosen) {
                Some(&a) => {
                    o.preferred_signing_algorithm = Some(a);
                    // What a real client uses: authenticate on this connection.
                    let key = format!("3.1.1/{}", a.name());
                    user_session(&mut o, &mut n, creds, &key, host, &mut failures);
                    windows_key = Some(key);
                }
                None => broken.push(format!(
                    "3.1.1: answered signing algorithm {chosen:#06x}, not one offered: a Windows 11 client cannot connect"
                )),
            }
            continue;
        }
        user_session(&mut o, &mut n, creds, name, host, &mut failures);
    }
    let has_311 = o.dialects[4].1.accepted;
    let refused: Vec<&str> = (o.dialects[..4].iter())
        .filter(|(_, r)| !r.accepted)
        .map(|(n, _)| *n)
        .collect();
    for name in refused {
        set_sig(&mut o, name, Sig::NotSupported);
    }

    // 3.1.1: each signing algorithm alone, with a session each.
    for alg in WINDOWS_SIGNING_ORDER {
        let key = format!("3.1.1/{}", alg.name());
        if !has_311 {
            set_sig(&mut o, &key, Sig::NotSupported);
            continue;
        }
        let done = windows_key.as_deref() == Some(key.as_str());
        match negotiate(
            &addrs,
            cfg,
            &[dialect::SMB3_1_1],
            &[alg],
            &WINDOWS_CIPHER_ORDER,
        ) {
            Ok(Some(mut n)) => {
                // No SIGNING_CAPABILITIES in the response means AES-CMAC; a
                // server without `alg` answers AES-CMAC (MS-SMB2 3.3.5.4).
                let chosen = n.resp.signing_algorithm.unwrap_or(Algorithm::AesCmac.id());
                if chosen != alg.id() {
                    if chosen != Algorithm::AesCmac.id() {
                        notes.push(format!(
                            "{key} offered alone: answered signing algorithm {chosen:#06x}, neither the one offered nor AES-CMAC"
                        ));
                    }
                    if !done {
                        set_sig(&mut o, &key, Sig::NotSupported);
                    }
                    continue;
                }
                o.signing_algorithms.push(alg);
                if !done {
                    user_session(&mut o, &mut n, creds, &key, host, &mut failures);
                }
            }
            Ok(None) => {
                // A refusal of the offer is not silently "not supported": say so.
                notes.push(format!("{key} offered alone: NEGOTIATE refused"));
                if !done {
                    set_sig(&mut o, &key, Sig::NotSupported);
                }
            }
            Err(e) => {
                failures.push(format!("{key}: NEGOTIATE: {e}"));
                if !done {
                    set_sig(&mut o, &key, Sig::NotTested);
                }
            }
        }
    }

    // 3.1.1: each cipher alone.
    if has_311 {
        for c in WINDOWS_CIPHER_ORDER {
            let name = msg::CIPHERS.iter().find(|x| x.0 == c).map_or("?", |x| x.1);
            match negotiate(
                &addrs,
                cfg,
                &[dialect::SMB3_1_1],
                &WINDOWS_SIGNING_ORDER,
                &[c],
            ) {
                Ok(Some(n)) if n.resp.cipher == Some(c) => o.encryption_ciphers.push(name),
                Ok(_) => {}
                // Unknown is not "not accepted": the list would be a guess.
                Err(e) => failures.push(format!("cipher {name}: NEGOTIATE: {e}")),
            }
        }
    }

    // The best dialect: 3.1.1 with what a Windows 11 client would get, else the highest.
    let best = DIALECTS
        .iter()
        .rev()
        .zip(o.dialects.iter().rev())
        .find(|(_, (_, r))| r.accepted)
        .map(|((d, _), _)| *d);

    // Guest and anonymous.
    if let Some(d) = best {
        for (auth, is_guest) in [(Auth::Guest, true), (Auth::Anonymous, false)] {
            let what = if is_guest { "guest" } else { "anonymous" };
            let n = negotiate(
                &addrs,
                cfg,
                &[d],
                &WINDOWS_SIGNING_ORDER,
                &WINDOWS_CIPHER_ORDER,
            );
            let s = match n {
                Ok(Some(mut n)) => session_setup(&mut n, auth),
                Ok(None) => Err(Failure::Protocol("NEGOTIATE refused".into())),
                Err(e) => Err(e),
            };
            match s {
                Err(e) => failures.push(format!("{what} session not tested: {e}")),
                Ok(s) => {
                    // An unknown account or no account at all that gets in
                    // is a guest or null session, whatever SessionFlags say
                    // (Samba sets neither flag on a 3.1.1 anonymous session).
                    let granted = s.status == smb::STATUS_SUCCESS;
                    if is_guest {
                        o.guest = granted;
                    } else {
                        o.anonymous = granted;
                    }
                }
            }
        }
    }

    // Enforcement, on the best dialect's session. A refusal means something
    // only where a correctly signed TREE_CONNECT to IPC$ was granted.
    let tree_granted = o
        .signature_checks
        .iter()
        .flat_map(|(_, c)| c)
        .any(|&(w, v)| w == "tree_connect" && v == Sig::Valid);
    if o.authenticated && !o.encryption_required && !tree_granted {
        notes.push(
            "enforcement not-tested: no correctly signed TREE_CONNECT to IPC$ was granted to compare with".into(),
        );
    } else if let (Some(d), true, false) = (best, o.authenticated, o.encryption_required) {
        let alg = (d == dialect::SMB3_1_1)
            .then_some(o.preferred_signing_algorithm)
            .flatten();
        o.rejects_forged_signature = enforcement(&addrs, cfg, d, alg, host, true, &mut notes);
        o.rejects_unsigned = enforcement(&addrs, cfg, d, alg, host, false, &mut notes);
    }

    verdict(&mut o, cfg, broken, failures, notes);
    o
}

/// The `signatures` keys, in output order: the dialects, then 3.1.1's algorithms.
fn signature_keys() -> impl Iterator<Item = String> {
    DIALECTS[..4].iter().map(|d| d.1.to_string()).chain(
        WINDOWS_SIGNING_ORDER
            .iter()
            .map(|a| format!("3.1.1/{}", a.name())),
    )
}

fn set_sig(o: &mut Outcome, key: &str, v: Sig) {
    if let Some(slot) = o.signatures.iter_mut().find(|(k, _)| k == key) {
        slot.1 = v;
    }
}

/// Sets up a user session on `n` and runs the signature checks, recording them under `key`.
fn user_session(
    o: &mut Outcome,
    n: &mut Negotiated,
    creds: Option<&Credentials>,
    key: &str,
    host: &str,
    failures: &mut Vec<String>,
) {
    let Some(c) = creds else {
        set_sig(o, key, Sig::NotTested);
        return;
    };
    let s = match session_setup(n, Auth::User(c)) {
        Ok(s) => s,
        Err(e) => {
            failures.push(format!("{key}: SESSION_SETUP: {e}"));
            set_sig(o, key, Sig::NotTested);
            return;
        }
    };
    if s.status != smb::STATUS_SUCCESS {
        failures.push(format!(
            "{key}: authentication refused (status {:#010x})",
            s.status
        ));
        set_sig(o, key, Sig::NotTested);
        return;
    }
    if s.key.is_none() {
        if s.flags & msg::SESSION_FLAG_IS_GUEST != 0 {
            o.guest = true;
        }
        failures.push(format!(
            "{key}: the credentials got a guest or null session, which has no signing key"
        ));
        set_sig(o, key, Sig::NotTested);
        return;
    }
    o.authenticated = true;
    let c = signed_checks(n, &s, host);
    o.encryption_required |= c.encryption_required;
    // The summary: invalid beats unsigned beats not-tested; valid only if all were.
    let sum = [Sig::Invalid, Sig::Unsigned, Sig::NotTested]
        .into_iter()
        .find(|w| c.checks.iter().any(|(_, v)| v == w))
        .unwrap_or(Sig::Valid);
    set_sig(o, key, sum);
    o.signature_checks.push((key.to_string(), c.checks));
    failures.extend(c.notes.into_iter().map(|n| format!("{key}: {n}")));
    if !c.diagnosis.is_empty() {
        o.diagnosis.push((key.to_string(), c.diagnosis));
    }
}

/// The verdict for a client that requires signing, with its reasons.
///
/// `broken`: answers a client that requires signing cannot use (fails);
/// `failures`: what could not be measured (incomplete); `notes`: facts.
fn verdict(
    o: &mut Outcome,
    cfg: &Config,
    broken: Vec<String>,
    failures: Vec<String>,
    notes: Vec<String>,
) {
    let mut fails = broken;
    let mut risks = Vec::new();
    let mut untested = Vec::new();
    let any_smb2 = o.dialects.iter().any(|(_, r)| r.accepted);
    if !any_smb2 {
        // Timeouts and garbled answers are not refusals: say how many there were.
        let failed = DIALECTS
            .iter()
            .filter(|(_, n)| {
                let at = format!("{n}: ");
                failures.iter().chain(&fails).any(|f| f.starts_with(&at))
            })
            .count();
        let why = if failed > 0 {
            format!(
                "no SMB2/3 dialect accepted: {failed} of the {} NEGOTIATEs failed (below) rather than being refused",
                DIALECTS.len()
            )
        } else {
            "no SMB2/3 dialect accepted".to_string()
        };
        fails.push(if o.smb1 {
            format!("SMB1 only: {why}")
        } else {
            why
        });
    }
    let keys = |w: Sig| -> Vec<String> {
        o.signatures
            .iter()
            .filter(|(_, v)| *v == w)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let invalid = keys(Sig::Invalid);
    if !invalid.is_empty() {
        fails.push(format!("signatures invalid: {}", invalid.join(", ")));
    }
    let unsigned = keys(Sig::Unsigned);
    if !unsigned.is_empty() {
        fails.push(format!("server doesn't sign: {}", unsigned.join(", ")));
    }
    if o.rejects_forged_signature == Some(false) {
        risks.push(
            "accepts a request with a forged signature (the most severe finding)".to_string(),
        );
    }
    if o.rejects_unsigned == Some(false) {
        risks.push("accepts an unsigned request on a session that requires signing".to_string());
    }
    if any_smb2 && !o.authenticated {
        if cfg.credentials.is_some() && (o.guest || o.anonymous) {
            fails.push(
                "with the credentials given, only guest or anonymous sessions are granted: a client that requires signing refuses them (no key to sign with)".into(),
            );
        } else if o.guest {
            fails.push(
                "grants guest sessions to an unknown user (map to guest): a client that requires signing refuses guest sessions (no key to sign with)".into(),
            );
        } else if cfg.credentials.is_none() {
            untested.push(
                "no credentials: signatures and enforcement not-tested (give --user and a password)"
                    .to_string(),
            );
        } else {
            untested.push(
                "with the credentials given, no session was authenticated: signatures and enforcement not-tested"
                    .to_string(),
            );
        }
    }
    if o.authenticated {
        let not_tested = keys(Sig::NotTested);
        if !not_tested.is_empty() {
            untested.push(format!("signatures not-tested: {}", not_tested.join(", ")));
        }
        // Encryption required says so itself, below.
        if (o.rejects_forged_signature.is_none() || o.rejects_unsigned.is_none())
            && !o.encryption_required
        {
            untested.push("enforcement not-tested".to_string());
        }
    }
    if o.encryption_required {
        untested.push(
            "encryption required: only the final SESSION_SETUP responses were verified; TREE_CONNECT, ECHO, compound and enforcement are not-tested (smbsign has no SMB3 transform yet)".into(),
        );
    }
    // A promise: `ok` only when a signature verified and enforcement was tested.
    if fails.is_empty() && risks.is_empty() && untested.is_empty() && failures.is_empty() {
        if keys(Sig::Valid).is_empty() {
            untested.push("no signature was verified valid".to_string());
        }
        if o.rejects_forged_signature != Some(true) || o.rejects_unsigned != Some(true) {
            untested.push("enforcement not-tested".to_string());
        }
    }
    o.verdict = if !fails.is_empty() {
        Verdict::Fails
    } else if !risks.is_empty() {
        Verdict::AtRisk
    } else if !untested.is_empty() || !failures.is_empty() {
        Verdict::Incomplete
    } else {
        Verdict::Ok
    };
    o.reasons = fails;
    o.reasons.extend(risks);
    o.reasons.extend(untested);
    // 2.x cannot encrypt, so a server that requires encryption refuses it.
    o.reasons.extend(failures.into_iter().map(|f| {
        if o.encryption_required && f.ends_with("(status 0xc0000022)") {
            f + ", as a server that requires encryption does for a dialect without it"
        } else {
            f
        }
    }));
    // The notable facts.
    if o.smb1 {
        o.reasons.push("SMB1 enabled".into());
    }
    if o.dialects.iter().any(|(n, r)| *n == "3.1.1" && r.accepted)
        && !o.signing_algorithms.contains(&Algorithm::AesGmac)
        && o.preferred_signing_algorithm != Some(Algorithm::AesGmac)
    {
        o.reasons.push("no AES-GMAC".into());
    }
    if o.authenticated && o.guest {
        o.reasons.push("grants guest sessions to unknown users (map to guest): clients that require signing cannot use them".into());
    }
    if any_smb2 && !o.dialects.iter().any(|(_, r)| r.signing_required) {
        o.reasons.push("signing not required by the server".into());
    }
    for (k, d) in &o.diagnosis {
        for line in d {
            o.reasons.push(format!("{k}: {line}"));
        }
    }
    o.reasons.extend(notes);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn cfg(with_credentials: bool) -> Config {
        Config {
            credentials: with_credentials.then(|| Credentials {
                user: "u".into(),
                domain: String::new(),
                password: Zeroizing::new("p".into()),
            }),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        }
    }

    /// What a server that gets everything right measures (before the verdict).
    pub(crate) fn good() -> Outcome {
        let on = DialectResult {
            accepted: true,
            signing_enabled: true,
            signing_required: true,
        };
        let keys = ["2.0.2", "2.1", "3.0", "3.0.2"]
            .map(String::from)
            .into_iter()
            .chain(WINDOWS_SIGNING_ORDER.map(|a| format!("3.1.1/{}", a.name())));
        Outcome {
            target: "h:445".into(),
            reachable: true,
            smb1: false,
            dialects: DIALECTS.iter().map(|&(_, n)| (n, on)).collect(),
            signing_algorithms: WINDOWS_SIGNING_ORDER.to_vec(),
            preferred_signing_algorithm: Some(Algorithm::AesGmac),
            preferred_encryption_cipher: Some("aes-128-gcm"),
            encryption_ciphers: vec!["aes-128-gcm"],
            authenticated: true,
            signatures: keys.map(|k| (k, Sig::Valid)).collect(),
            signature_checks: vec![("2.0.2".into(), vec![("tree_connect", Sig::Valid)])],
            diagnosis: Vec::new(),
            rejects_forged_signature: Some(true),
            rejects_unsigned: Some(true),
            guest: false,
            anonymous: false,
            encryption_required: false,
            verdict: Verdict::Fails,
            reasons: Vec::new(),
        }
    }

    pub(crate) fn judged(mut o: Outcome, creds: bool, failures: &[&str]) -> Outcome {
        let f = failures.iter().map(|s| s.to_string()).collect();
        verdict(&mut o, &cfg(creds), Vec::new(), f, Vec::new());
        o
    }

    #[test]
    fn everything_verified_is_ok_with_no_reasons() {
        let o = judged(good(), true, &[]);
        assert_eq!(
            (o.verdict, o.reasons.len()),
            (Verdict::Ok, 0),
            "{:?}",
            o.reasons
        );
    }

    #[test]
    fn any_gap_keeps_it_from_ok() {
        let mut bad = good();
        bad.signatures[4].1 = Sig::Invalid;
        bad.diagnosis = vec![("3.1.1/aes-gmac".into(), vec!["echo: why".into()])];
        let o = judged(bad, true, &[]);
        assert_eq!(o.verdict, Verdict::Fails);
        assert!(
            o.reasons[0].contains("3.1.1/aes-gmac") && o.reasons.iter().any(|r| r.contains("why"))
        );

        let mut unsigned = good();
        unsigned.signatures[0].1 = Sig::Unsigned;
        assert_eq!(judged(unsigned, true, &[]).verdict, Verdict::Fails);

        let mut forged = good();
        forged.rejects_forged_signature = Some(false);
        let o = judged(forged, true, &[]);
        assert_eq!(o.verdict, Verdict::AtRisk);
        assert!(o.reasons[0].contains("forged"));

        let mut lax = good();
        lax.rejects_unsigned = Some(false);
        assert_eq!(judged(lax, true, &[]).verdict, Verdict::AtRisk);

        let mut untested = good();
        untested.rejects_unsigned = None;
        assert_eq!(judged(untested, true, &[]).verdict, Verdict::Incomplete);

        let mut partly = good();
        partly.signatures[1].1 = Sig::NotTested;
        assert_eq!(judged(partly, true, &[]).verdict, Verdict::Incomplete);

        let mut enc = good();
        enc.encryption_required = true;
        assert_eq!(judged(enc, true, &[]).verdict, Verdict::Incomplete);

        assert_eq!(
            judged(good(), true, &["3.0: NEGOTIATE: timeout"]).verdict,
            Verdict::Incomplete
        );
    }

    #[test]
    fn not_supported_is_no_gap_but_facts_are_said() {
        let mut o = good();
        o.signing_algorithms = vec![Algorithm::AesCmac];
        o.preferred_signing_algorithm = Some(Algorithm::AesCmac);
        o.signatures[4].1 = Sig::NotSupported;
        o.signatures[6].1 = Sig::NotSupported;
        o.smb1 = true;
        for d in &mut o.dialects {
            d.1.signing_required = false;
        }
        let o = judged(o, true, &[]);
        assert_eq!(o.verdict, Verdict::Ok);
        assert_eq!(
            o.reasons,
            [
                "SMB1 enabled",
                "no AES-GMAC",
                "signing not required by the server"
            ]
        );
    }

    #[test]
    fn without_an_account() {
        let anonymous_only = || {
            let mut o = good();
            o.authenticated = false;
            o.anonymous = true;
            o.rejects_forged_signature = None;
            o.rejects_unsigned = None;
            for s in &mut o.signatures {
                s.1 = Sig::NotTested;
            }
            o
        };
        assert_eq!(
            judged(anonymous_only(), false, &[]).verdict,
            Verdict::Incomplete
        );
        let mut guest = anonymous_only();
        guest.guest = true;
        assert_eq!(judged(guest, false, &[]).verdict, Verdict::Fails);
        // Credentials that only get a null session: such a client cannot sign.
        assert_eq!(judged(anonymous_only(), true, &[]).verdict, Verdict::Fails);
    }

    /// F1 (review): credentials given, no session authenticated, nothing
    /// verified or enforced: never `ok`; and `ok` needs a valid signature
    /// and tested enforcement even when no other rule fires.
    #[test]
    fn nothing_verified_is_never_ok() {
        let mut o = good();
        o.authenticated = false;
        o.rejects_forged_signature = None;
        o.rejects_unsigned = None;
        for s in &mut o.signatures {
            s.1 = Sig::NotSupported;
        }
        o.signature_checks.clear();
        let j = judged(o.clone(), true, &[]);
        assert_eq!(j.verdict, Verdict::Incomplete);
        assert!(
            j.reasons[0].contains("no session was authenticated"),
            "{:?}",
            j.reasons
        );
        // Authenticated, yet no signature valid (all not-supported): not ok.
        o.authenticated = true;
        o.rejects_forged_signature = Some(true);
        o.rejects_unsigned = Some(true);
        let j = judged(o, true, &[]);
        assert_eq!(j.verdict, Verdict::Incomplete);
        assert!(j
            .reasons
            .iter()
            .any(|r| r == "no signature was verified valid"));
        // F10: an answer a client cannot use fails.
        let mut o = good();
        verdict(
            &mut o,
            &cfg(true),
            vec!["3.1.1: malformed".into()],
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(
            (o.verdict, o.reasons[0].as_str()),
            (Verdict::Fails, "3.1.1: malformed")
        );
    }

    /// A response signed with HMAC where 3.0 needs CMAC is invalid, and
    /// smbsign-check's diagnosis names the mistake, also for the second PDU of a compound.
    #[test]
    fn wrong_algorithm_is_diagnosed() {
        let ctx = key_context(dialect::SMB3_0, None, &[7; 16], [0; 64], Vec::new()).unwrap();
        let wrong = SigningKey::new(Algorithm::HmacSha256, &ctx.key_bytes).unwrap();
        // An ECHO response has the request's shape with the response flag.
        let response = |id| {
            msg::echo_request(&msg::RequestHeader {
                command: msg::ECHO,
                message_id: id,
                flags: smb2::FLAGS_SERVER_TO_REDIR,
                ..msg::RequestHeader::default()
            })
        };
        let mut one = response(1);
        smb2::sign_pdu(&ctx.key, &mut one).unwrap();
        let mut diag = Vec::new();
        assert_eq!(check(&ctx, &one, "echo", &mut diag), Sig::Valid);
        smb2::sign_pdu(&wrong, &mut one).unwrap();
        assert_eq!(check(&ctx, &one, "echo", &mut diag), Sig::Invalid);
        assert!(
            diag.iter()
                .any(|d| d.starts_with("echo: signed with hmac-sha256 instead of aes-cmac")),
            "{diag:?}"
        );
        let mut pair = msg::compound(&[response(2), response(3)]);
        smb2::sign_pdu(&ctx.key, &mut pair).unwrap();
        let second = smb2::chain_ranges(&pair).unwrap()[1].clone();
        smb2::sign_pdu(&wrong, &mut pair[second.clone()]).unwrap();
        let mut diag = Vec::new();
        assert_eq!(check(&ctx, &pair, "compound", &mut diag), Sig::Invalid);
        assert!(
            diag.iter()
                .any(|d| d.contains("hmac-sha256 instead of aes-cmac")),
            "{diag:?}"
        );
        pair[second.start + 16] &= !(smb2::FLAGS_SIGNED as u8);
        assert_eq!(
            check(&ctx, &pair, "compound", &mut Vec::new()),
            Sig::Unsigned
        );
    }

    #[test]
    fn smb1_only_and_unreachable_fail() {
        let mut o = good();
        o.smb1 = true;
        o.authenticated = false;
        for d in &mut o.dialects {
            d.1 = DialectResult::default();
        }
        for s in &mut o.signatures {
            s.1 = Sig::NotSupported;
        }
        let o = judged(o, true, &[]);
        assert_eq!(o.verdict, Verdict::Fails);
        assert!(o.reasons[0].starts_with("SMB1 only"));
        let closed = probe(&Target::parse("127.0.0.1:1").unwrap(), &cfg(true));
        assert!(!closed.reachable && closed.verdict == Verdict::Fails);
    }

    #[test]
    fn targets_parse() {
        let t = |s: &str| Target::parse(s).map(|t| (t.host, t.port));
        assert_eq!(t("host"), Ok(("host".into(), 445)));
        assert_eq!(t("10.0.0.1:4455"), Ok(("10.0.0.1".into(), 4455)));
        assert_eq!(t("::1"), Ok(("::1".into(), 445)));
        assert_eq!(t("[::1]:139"), Ok(("::1".into(), 139)));
        assert_eq!(t("[fe80::1]"), Ok(("fe80::1".into(), 445)));
        assert!(t("host:0").is_err() && t("host:x").is_err() && t(":445").is_err());
        assert!(t("[::1]x").is_err());
        assert_eq!(Target::parse("[::1]:139").unwrap().name(), "[::1]:139");
    }
}
