//! smbsign-probe: does this SMB server really sign, and will a client that
//! requires signing get in?

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use smbsign_probe::probe::{self, Config, Credentials, Outcome, Target, Verdict};
use smbsign_probe::report;
use zeroize::Zeroizing;

const USAGE: &str = "usage: smbsign-probe [OPTIONS] HOST[:PORT]...
       smbsign-probe [OPTIONS] --targets FILE

Probes SMB servers for what a client that requires signing (Windows 11 24H2,
Windows Server 2025) will meet: SMB1, each dialect alone and its signing bits,
the 3.1.1 signing algorithms and ciphers, NTLMv2 sessions whose signatures are
verified (SESSION_SETUP, TREE_CONNECT to IPC$, ECHO, a compound of two ECHOs),
whether forged and unsigned requests are refused, guest and anonymous access;
then a verdict: ok, fails, at-risk, or incomplete (something deciding could
not be tested). Requests are benign: no file is opened, written or deleted.

targets: HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address; port 445 by default.

options:
  --targets FILE          one target a line (# comments and blank lines skipped)
  --user USER             account for the signed sessions (env SMBSIGN_PROBE_USER)
  --domain DOMAIN         its domain (env SMBSIGN_PROBE_DOMAIN; default: the server's)
  --password-file PATH    its password, the file's first line (keeps it out of
                          the process list)
  --password PASSWORD     its password (visible to other users; env
                          SMBSIGN_PROBE_PASSWORD is the better choice)
  --json                  one JSON object per target per line, in the order given
  --concurrency N         targets probed at once (default 16)
  --connect-timeout SECS  bound on each TCP connect (default 5)
  --timeout SECS          deadline for each request's whole answer (default 10)
  -h, --help              this text

Without credentials only anonymous and guest sessions are tried, and the
signatures and enforcement are not-tested.

exit status: 0 when every target is ok; 1 when any reachable target fails
or is at-risk (this outranks 2: it is the more severe news); else 2 when a
target is unreachable or the usage is wrong; else 3 when some target is
incomplete.";

struct Args {
    targets: Vec<Target>,
    json: bool,
    concurrency: usize,
    cfg: Config,
}

fn secs(v: &str, name: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{name} wants seconds (0 < s <= 3600)"))
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut targets = Vec::new();
    let (mut json, mut concurrency) = (false, 16usize);
    let mut user = std::env::var("SMBSIGN_PROBE_USER").ok();
    let mut domain = std::env::var("SMBSIGN_PROBE_DOMAIN").ok();
    let mut password = std::env::var("SMBSIGN_PROBE_PASSWORD")
        .ok()
        .map(Zeroizing::new);
    let (mut connect_timeout, mut request_timeout) =
        (Duration::from_secs(5), Duration::from_secs(10));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => json = true,
            "--user" => user = Some(value("--user")?),
            "--domain" => domain = Some(value("--domain")?),
            "--password" => password = Some(Zeroizing::new(value("--password")?)),
            "--password-file" => {
                let p = value("--password-file")?;
                let text = Zeroizing::new(
                    std::fs::read_to_string(&p).map_err(|e| format!("--password-file {p}: {e}"))?,
                );
                password = Some(Zeroizing::new(
                    text.lines().next().unwrap_or("").to_string(),
                ));
            }
            "--targets" => {
                let p = value("--targets")?;
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("--targets {p}: {e}"))?;
                for line in text.lines().map(str::trim) {
                    if !line.is_empty() && !line.starts_with('#') {
                        targets.push(Target::parse(line)?);
                    }
                }
            }
            "--concurrency" => {
                concurrency = value("--concurrency")?
                    .parse()
                    .ok()
                    .filter(|&n| (1..=1024).contains(&n))
                    .ok_or("--concurrency wants 1 to 1024")?;
            }
            "--connect-timeout" => {
                connect_timeout = secs(&value("--connect-timeout")?, "--connect-timeout")?
            }
            "--timeout" => request_timeout = secs(&value("--timeout")?, "--timeout")?,
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            t => targets.push(Target::parse(t)?),
        }
    }
    if targets.is_empty() {
        return Err("no target".into());
    }
    let credentials = match (user, password) {
        (Some(user), Some(password)) => Some(Credentials {
            user,
            domain: domain.unwrap_or_default(),
            password,
        }),
        (Some(_), None) => return Err(
            "--user without a password: give --password-file, SMBSIGN_PROBE_PASSWORD or --password"
                .into(),
        ),
        (None, _) => None,
    };
    Ok(Some(Args {
        targets,
        json,
        concurrency,
        cfg: Config {
            credentials,
            connect_timeout,
            request_timeout,
        },
    }))
}

/// Results in target order; each printed as soon as all before it are.
struct Printer {
    done: Vec<Option<Outcome>>,
    next: usize,
    json: bool,
}

impl Printer {
    fn put(&mut self, i: usize, o: Outcome) {
        self.done[i] = Some(o);
        let mut out = std::io::stdout().lock();
        while let Some(Some(o)) = self.done.get(self.next) {
            let line = if self.json {
                report::json(o) + "\n"
            } else {
                report::text(o) + "\n"
            };
            let _ = out.write_all(line.as_bytes());
            self.next += 1;
        }
        let _ = out.flush();
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(m) => {
            eprintln!("smbsign-probe: {m}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let n = args.targets.len();
    let printer = Mutex::new(Printer {
        done: vec![None; n],
        next: 0,
        json: args.json,
    });
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let verdicts = Mutex::new(Vec::with_capacity(n));
    // A bounded pool: each worker takes the next target until none is left.
    std::thread::scope(|s| {
        for _ in 0..args.concurrency.min(n) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = args.targets.get(i) else { break };
                let o = probe::probe(t, &args.cfg);
                verdicts
                    .lock()
                    .expect("no panics hold it")
                    .push((o.reachable, o.verdict));
                printer.lock().expect("no panics hold it").put(i, o);
                let k = finished.fetch_add(1, Ordering::Relaxed) + 1;
                if n > 8 {
                    eprintln!("smbsign-probe: {k}/{n} targets probed");
                }
            });
        }
    });
    let v = verdicts.into_inner().expect("no panics hold it");
    // A reachable target that fails or is at-risk is the more severe news:
    // it outranks an unreachable one, so `$? == 1` never hides it.
    let code = if v
        .iter()
        .any(|(r, v)| *r && matches!(v, Verdict::Fails | Verdict::AtRisk))
    {
        1
    } else if v.iter().any(|(r, _)| !r) {
        2
    } else if v.iter().any(|(_, v)| *v == Verdict::Incomplete) {
        3
    } else {
        0
    };
    ExitCode::from(code)
}
