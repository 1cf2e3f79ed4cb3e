//! Why a signature failed: recompute it the ways implementations get it wrong
//! and name the ones that reproduce the signature on the wire. Each try uses
//! core's MACs, KDF and nonce; only the inputs are deliberately wrong.
//!
//! Linear by construction: the wrong keys are derived once per session
//! ([`Candidates`]), a PDU gets a fixed number of tries over its own bytes,
//! the one try over "the rest of the chain" is paid at most once per chain
//! ([`ChainState`]), and a chain's failures past [`PER_CHAIN`] are named but
//! not diagnosed.

use std::ops::Range;

use smbsign::kdf::{self, CipherKeyLen};
use smbsign::smb2::{self, dialect, Algorithm, SigningKey};
use zeroize::Zeroize;

/// A session's signing key and what it was derived from.
pub struct KeyContext {
    /// The signing key the dialect prescribes.
    pub key: SigningKey,
    /// Its 16 bytes.
    pub key_bytes: [u8; 16],
    /// The connection's dialect.
    pub dialect: u16,
    /// The 3.1.1 SigningAlgorithmId, if negotiated.
    pub algorithm_id: Option<u16>,
    /// Session.SessionKey.
    pub session_key: [u8; 16],
    /// The preauth hash the key was derived with (3.1.1).
    pub preauth: [u8; 64],
    /// Other preauth hash values of the session's setup, oldest first: after
    /// NEGOTIATE, after each SESSION_SETUP message, and with the final response.
    pub preauth_history: Vec<[u8; 64]>,
    /// The password did not match the NTLMv2 response.
    pub wrong_password: bool,
}

impl Drop for KeyContext {
    fn drop(&mut self) {
        self.key_bytes.zeroize();
        self.session_key.zeroize();
    }
}

/// Failed PDUs of one compound chain that are diagnosed; the rest get a note.
pub const PER_CHAIN: usize = 16;
/// Preauth hash values of a session's setup tried as wrong KDF contexts: the
/// first (the connection's) and the last ones. A setup of many rounds would
/// otherwise cost rounds x failures.
const HISTORY_TRIED: usize = 8;

/// Work done by the diagnosis, for the report (and the tests that keep it linear).
#[derive(Clone, Copy, Debug, Default)]
pub struct Work {
    /// MACs computed.
    pub macs: u64,
    /// Bytes they covered.
    pub bytes: u64,
}

/// What diagnosing one chain remembers between its failed PDUs.
pub struct ChainState {
    ranges: Vec<Range<usize>>,
    diagnosed: usize,
    /// Whether the "rest of the chain" try was made.
    rest_tried: bool,
}

impl ChainState {
    /// The state for chain `msg`; `None` when it does not parse.
    #[must_use]
    pub fn new(msg: &[u8]) -> Option<ChainState> {
        Some(ChainState {
            ranges: smb2::chain_ranges(msg).ok()?,
            diagnosed: 0,
            rest_tried: false,
        })
    }
}

/// The keys a session's failures are tried with, derived once.
pub struct Candidates {
    /// The right key bytes under each other algorithm.
    other_algorithms: Vec<(Algorithm, SigningKey)>,
    /// Other keys of the key set, same algorithm, with what each would mean.
    wrong_keys: Vec<(String, SigningKey)>,
}

impl Candidates {
    /// Derives them for `ctx`.
    #[must_use]
    pub fn new(ctx: &KeyContext) -> Candidates {
        let alg = ctx.key.algorithm();
        let other_algorithms = Algorithm::ALL
            .into_iter()
            .filter(|&a| a != alg)
            .filter_map(|a| Some((a, SigningKey::new(a, &ctx.key_bytes).ok()?)))
            .collect();
        let wrong_keys = wrong_keys(ctx)
            .into_iter()
            .filter_map(|(what, mut key)| {
                let k = SigningKey::new(alg, &key).ok();
                key.zeroize();
                Some((what, k?))
            })
            .collect();
        Candidates {
            other_algorithms,
            wrong_keys,
        }
    }
}

/// Whether `key` over `header` and `body`, with the GMAC nonce taken from
/// `nonce_header`, reproduces `sig`.
fn matches(
    work: &mut Work,
    key: &SigningKey,
    header: &[u8; 64],
    nonce_header: &[u8; 64],
    body: &[&[u8]],
    sig: &[u8],
) -> bool {
    let nonce = match key.algorithm() {
        Algorithm::AesGmac => smb2::gmac_nonce(nonce_header).ok(),
        _ => None,
    };
    let mut parts: Vec<&[u8]> = vec![header];
    parts.extend_from_slice(body);
    work.macs += 1;
    work.bytes += parts.iter().map(|p| p.len() as u64).sum::<u64>();
    key.mac_vectored(nonce.as_ref(), &parts)
        .is_ok_and(|m| smbsign::ct::eq(&m, sig))
}

/// Explanations for the failed signature of PDU `index` of the chain `msg`
/// (a one-off: [`diagnose_in`] shares the work across a chain and a session).
#[must_use]
pub fn diagnose(ctx: &KeyContext, msg: &[u8], index: usize) -> Vec<String> {
    let Some(mut chain) = ChainState::new(msg) else {
        return vec![];
    };
    diagnose_in(
        ctx,
        &Candidates::new(ctx),
        msg,
        &mut chain,
        index,
        &mut Work::default(),
    )
}

/// Explanations for the failed signature of PDU `index` of the chain `msg`,
/// with the session's `candidates` and the chain's state, counting the work.
#[must_use]
pub fn diagnose_in(
    ctx: &KeyContext,
    candidates: &Candidates,
    msg: &[u8],
    chain: &mut ChainState,
    index: usize,
    work: &mut Work,
) -> Vec<String> {
    if ctx.wrong_password {
        return vec![
            "the password (or user/domain) does not match the NTLMv2 response: the key is wrong"
                .into(),
        ];
    }
    if chain.diagnosed >= PER_CHAIN {
        return vec![format!(
            "not diagnosed: only the first {PER_CHAIN} failed PDUs of a compound chain are (the others likely share their cause)"
        )];
    }
    chain.diagnosed += 1;
    let Some(range) = chain.ranges.get(index).cloned() else {
        return vec![];
    };
    let last = index + 1 == chain.ranges.len();
    let pdu = &msg[range.clone()];
    let Ok(header) = smb2::header_for_mac(pdu) else {
        return vec![];
    };
    let sig = &pdu[smb2::SIGNATURE_OFFSET..smb2::SIGNATURE_OFFSET + smb2::SIGNATURE_LEN];
    let body = &pdu[smb2::HEADER_LEN..];
    let alg = ctx.key.algorithm();
    let mut found = Vec::new();

    // Another algorithm with the right key.
    for (other, k) in &candidates.other_algorithms {
        {
            if matches(work, k, &header, &header, &[body], sig) {
                found.push(format!(
                    "signed with {} instead of {} (the right key, the wrong algorithm{})",
                    other.name(),
                    alg.name(),
                    match ctx.algorithm_id {
                        Some(id) => format!("; SIGNING_CAPABILITIES chose {id}"),
                        None => String::new(),
                    }
                ));
            }
        }
    }

    // The GMAC nonce's role and cancel bits.
    if alg == Algorithm::AesGmac {
        let flags_at = 16;
        let mut role = header;
        role[flags_at] ^= smb2::FLAGS_SERVER_TO_REDIR as u8;
        if matches(work, &ctx.key, &header, &role, &[body], sig) {
            found.push(
                "AES-GMAC nonce has the role bit (server-to-client) wrong: it must be set exactly for responses".into(),
            );
        }
        let mut cancel = header;
        let is_cancel = u16::from_le_bytes([header[12], header[13]]) == smb2::COMMAND_CANCEL;
        let flipped = if is_cancel { 0 } else { smb2::COMMAND_CANCEL };
        cancel[12..14].copy_from_slice(&flipped.to_le_bytes());
        if matches(work, &ctx.key, &header, &cancel, &[body], sig) {
            found.push(
                "AES-GMAC nonce has the CANCEL bit wrong: it must be set exactly for SMB2 CANCEL requests".into(),
            );
        }
    }

    // Another key of the key set.
    for (what, k) in &candidates.wrong_keys {
        if matches(work, k, &header, &header, &[body], sig) {
            found.push(format!("signed with {what}"));
        }
    }

    // The range the MAC covers.
    if !last {
        // Once per chain: tried for every failure it would cost chain x failures.
        if !chain.rest_tried {
            chain.rest_tried = true;
            let rest = &msg[range.start + smb2::HEADER_LEN..];
            if matches(work, &ctx.key, &header, &header, &[rest], sig) {
                found.push("signature covers the rest of the compound chain, not just this PDU (up to its NextCommand)".into());
            }
        }
        let zeros = body.iter().rev().take(7).take_while(|&&b| b == 0).count();
        for k in 1..=zeros {
            if matches(
                work,
                &ctx.key,
                &header,
                &header,
                &[&body[..body.len() - k]],
                sig,
            ) {
                found.push(format!(
                    "signature excludes the {k} padding byte(s) before the next PDU; it must cover the PDU up to NextCommand"
                ));
            }
        }
    } else if !pdu.len().is_multiple_of(8) {
        let pad = [0u8; 8];
        let n = 8 - pdu.len() % 8;
        if matches(work, &ctx.key, &header, &header, &[body, &pad[..n]], sig) {
            found.push(format!(
                "signature covers {n} zero padding byte(s) after the last PDU that were not sent"
            ));
        }
    }

    // SMB2_FLAGS_SIGNED set only after signing.
    let mut unsigned_flag = header;
    unsigned_flag[16] &= !(smb2::FLAGS_SIGNED as u8);
    if matches(work, &ctx.key, &unsigned_flag, &header, &[body], sig) {
        found.push("signature computed before SMB2_FLAGS_SIGNED was set in the header".into());
    }

    if found.is_empty() {
        found.push(
            "no known mistake reproduces it: the bytes changed after signing, or the session key is not the one the peer used".into(),
        );
    }
    found
}

/// Keys an implementation might sign with by mistake, same algorithm.
fn wrong_keys(ctx: &KeyContext) -> Vec<(String, [u8; 16])> {
    let sk = &ctx.session_key;
    let mut out = Vec::new();
    let is_3x = matches!(
        ctx.dialect,
        dialect::SMB3_0 | dialect::SMB3_0_2 | dialect::SMB3_1_1
    );
    if is_3x {
        out.push((
            "the session key itself (the SMB 2.x rule, no KDF)".to_string(),
            *sk,
        ));
    }
    if ctx.dialect != dialect::SMB3_0 && ctx.dialect != dialect::SMB3_0_2 {
        if let Ok(k) = kdf::smb30_keys(sk) {
            out.push((
                "a key derived with the SMB 3.0 labels (\"SMB2AESCMAC\"/\"SmbSign\")".to_string(),
                k.signing,
            ));
        }
    }
    let set = match ctx.dialect {
        dialect::SMB3_1_1 => kdf::smb311_keys(sk, sk, &ctx.preauth, CipherKeyLen::Aes128).ok(),
        dialect::SMB3_0 | dialect::SMB3_0_2 => kdf::smb30_keys(sk).ok(),
        _ => None,
    };
    if let Some(k) = set {
        out.push((
            "the application key instead of the signing key".to_string(),
            k.application,
        ));
        let mut c2s = [0u8; 16];
        c2s.copy_from_slice(&k.client_to_server[..16]);
        out.push((
            "the client-to-server encryption key instead of the signing key".to_string(),
            c2s,
        ));
        let mut s2c = [0u8; 16];
        s2c.copy_from_slice(&k.server_to_client[..16]);
        out.push((
            "the server-to-client encryption key instead of the signing key".to_string(),
            s2c,
        ));
    }
    if ctx.dialect == dialect::SMB3_1_1 {
        let n = ctx.preauth_history.len();
        for (i, h) in ctx.preauth_history.iter().enumerate() {
            if h == &ctx.preauth || (i > 0 && i + HISTORY_TRIED <= n) {
                continue; // the right one, or a middle round of a long setup
            }
            let what = if i == 0 {
                "the 3.1.1 KDF over the connection's preauth hash (after NEGOTIATE only)"
                    .to_string()
            } else if i + 1 == n {
                "the 3.1.1 KDF over a preauth hash that also covers the final SESSION_SETUP response".to_string()
            } else {
                format!("the 3.1.1 KDF over the preauth hash after SESSION_SETUP message {i} (later messages left out)")
            };
            if let Ok(k) = kdf::smb311_keys(sk, sk, h, CipherKeyLen::Aes128) {
                out.push((what, k.signing));
            }
        }
        if let Ok(k) = kdf::smb311_keys(sk, sk, &[0; 64], CipherKeyLen::Aes128) {
            out.push((
                "the 3.1.1 KDF over an all-zero preauth hash".to_string(),
                k.signing,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(rounds: usize) -> KeyContext {
        let sk = [9u8; 16];
        let preauth = [1u8; 64];
        let key = SigningKey::for_session(dialect::SMB3_1_1, Some(2), &sk, &preauth).unwrap();
        let key_bytes =
            smbsign::smb2::session_signing_key(dialect::SMB3_1_1, &sk, &preauth).unwrap();
        KeyContext {
            key,
            key_bytes,
            dialect: dialect::SMB3_1_1,
            algorithm_id: Some(2),
            session_key: sk,
            preauth,
            preauth_history: (0..rounds).map(|i| [(i % 200) as u8 + 2; 64]).collect(),
            wrong_password: false,
        }
    }

    #[test]
    fn candidates_do_not_grow_with_session_setup_rounds() {
        let few = Candidates::new(&ctx(4)).wrong_keys.len();
        let many = Candidates::new(&ctx(5000)).wrong_keys.len();
        // Four rounds: all tried; 5000 rounds: the first and the last seven.
        assert_eq!(many, few + HISTORY_TRIED - 4);
    }
}
