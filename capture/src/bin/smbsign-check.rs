//! smbsign-check: verify every SMB2 signature in a packet capture.

use std::path::PathBuf;
use std::process::ExitCode;

use smbsign_capture::report::Writer;
use smbsign_capture::{check_streaming, Options};

const USAGE: &str = "usage: smbsign-check [OPTIONS] CAPTURE

Verifies every SMB2 signature and every SMB3 encryption tag in a pcap or
pcapng capture, checks the messages inside encrypted ones, and explains the
ones that fail. Encrypted messages are decrypted with the session's keys
(AES-128-CCM for 3.0.x; for 3.1.1 the cipher of the NEGOTIATE response's
ENCRYPTION_CAPABILITIES); a failed tag is diagnosed (the other direction's key,
another cipher, another session or SessionId, a nonce other than the one
sent); a nonce used twice under one key is a NONCE-REUSED finding. Not
checked: compressed messages.

options:
  --session-key [SESSIONID:]HEX  session key (hex) for one session (SessionId in hex,
                                 0x optional) or for all; repeatable
  --password PASSWORD            derive NTLMv2 session keys from the capture's NTLMSSP
  --password-file PATH           the same, the password being the file's first line
                                 (keeps it out of the process list)
  --user USER                    user name instead of the AUTHENTICATE message's
  --domain DOMAIN                domain instead of the AUTHENTICATE message's
  --json                         one JSON object instead of text
  --failures                     list only the PDUs that failed (and the summary)
  --no-diagnose                  do not explain invalid signatures
  -h, --help                     this text

exit status:
  0  at least one signature or encryption tag was verified, every message
     that was signed, encrypted or required a signature verified valid, and
     nothing went unchecked
  1  something is INVALID, UNSIGNED-BUT-REQUIRED, NO-KEY, MALFORMED or
     NONCE-REUSED
  2  the capture could not be read (or a bad option)
  3  incomplete: something could not be checked (bytes missing from the
     capture, a cut message, an ignored spoofed or out-of-window segment,
     IP fragments not reassembled, encrypted messages that could not be
     decrypted (no key, session not in the capture), compressed messages, a file
     that ends early, a conflicting retransmission, SMB1, frames in an
     encapsulation not decoded such as MPLS or GRE, an unsigned response to
     a signed request, an unsigned message of a session set up before the
     capture), or there was nothing to check; the summary says what and why
Output is written as the check goes (--json too); memory stays bounded.";

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_session_key(v: &str) -> Option<(Option<u64>, Vec<u8>)> {
    match v.split_once(':') {
        Some((sid, key)) => {
            let sid = sid.trim_start_matches("0x").trim_start_matches("0X");
            Some((Some(u64::from_str_radix(sid, 16).ok()?), parse_hex(key)?))
        }
        None => Some((None, parse_hex(v)?)),
    }
}

fn main() -> ExitCode {
    let mut opts = Options {
        diagnose: true,
        ..Options::default()
    };
    let (mut json, mut failures_only) = (false, false);
    let mut capture: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    let usage_error = |m: &str| {
        eprintln!("smbsign-check: {m}\n\n{USAGE}");
        ExitCode::from(2)
    };
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let r: Result<(), String> = match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--session-key" => value("--session-key").and_then(|v| {
                let k = parse_session_key(&v).ok_or(
                    "--session-key wants [SESSIONID:]HEX, e.g. 0x1234:00112233...".to_string(),
                )?;
                opts.session_keys.push(k);
                Ok(())
            }),
            "--password" => value("--password").map(|v| opts.password = Some(v)),
            "--password-file" => value("--password-file").and_then(|p| {
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("--password-file {p}: {e}"))?;
                opts.password = Some(text.lines().next().unwrap_or("").to_string());
                Ok(())
            }),
            "--user" => value("--user").map(|v| opts.user = Some(v)),
            "--domain" => value("--domain").map(|v| opts.domain = Some(v)),
            "--json" => {
                json = true;
                Ok(())
            }
            "--failures" => {
                failures_only = true;
                Ok(())
            }
            "--no-diagnose" => {
                opts.diagnose = false;
                Ok(())
            }
            s if s.starts_with('-') => Err(format!("unknown option {s}")),
            s if capture.is_none() => {
                capture = Some(PathBuf::from(s));
                Ok(())
            }
            _ => Err("only one capture file".into()),
        };
        if let Err(m) = r {
            return usage_error(&m);
        }
    }
    let Some(path) = capture else {
        return usage_error("no capture file given");
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("smbsign-check: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let stdout = std::io::stdout().lock();
    let mut writer = Writer::new(std::io::BufWriter::new(stdout), json, failures_only);
    let report = match check_streaming(reader, &opts, &mut |r| writer.record(r)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("smbsign-check: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    drop(writer.finish(&report));
    ExitCode::from(report.status().code())
}
