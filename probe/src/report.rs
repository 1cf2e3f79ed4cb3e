//! The probe's output: a readable table per target, or one JSON object per
//! target per line (JSON Lines; the field names are documented in the README
//! and kept stable).

use std::fmt::Write;

use smbsign_capture::report::json_str;

use crate::probe::Outcome;

fn opt_bool(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

fn str_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.into_iter().map(json_str).collect();
    format!("[{}]", v.join(", "))
}

/// One JSON object (no newline).
#[must_use]
pub fn json(o: &Outcome) -> String {
    let mut s = String::with_capacity(2048);
    let _ = write!(
        s,
        "{{\"target\": {}, \"reachable\": {}, \"smb1\": {}, \"dialects\": {{",
        json_str(&o.target),
        o.reachable,
        o.smb1
    );
    for (i, (name, r)) in o.dialects.iter().enumerate() {
        let _ = write!(
            s,
            "{}{}: {{\"accepted\": {}, \"signing_enabled\": {}, \"signing_required\": {}}}",
            if i > 0 { ", " } else { "" },
            json_str(name),
            r.accepted,
            r.signing_enabled,
            r.signing_required
        );
    }
    let _ = write!(
        s,
        "}}, \"signing_algorithms\": {}, \"encryption_ciphers\": {}, \"authenticated\": {}, \"signatures\": {{",
        str_list(o.signing_algorithms.iter().map(|a| a.name())),
        str_list(o.encryption_ciphers.iter().copied()),
        o.authenticated
    );
    let sigs: Vec<String> = o
        .signatures
        .iter()
        .map(|(k, v)| format!("{}: {}", json_str(k), json_str(v.word())))
        .collect();
    s.push_str(&sigs.join(", "));
    let _ = write!(
        s,
        "}}, \"rejects_forged_signature\": {}, \"rejects_unsigned\": {}, \"guest\": {}, \"anonymous\": {}, \"verdict\": {}, \"reasons\": {}",
        opt_bool(o.rejects_forged_signature),
        opt_bool(o.rejects_unsigned),
        o.guest,
        o.anonymous,
        json_str(o.verdict.word()),
        str_list(o.reasons.iter().map(String::as_str))
    );
    // Beyond the issue's fields: what the summaries rest on.
    let _ = write!(
        s,
        ", \"preferred_signing_algorithm\": {}, \"preferred_encryption_cipher\": {}, \"encryption_required\": {}, \"signature_checks\": {{",
        o.preferred_signing_algorithm
            .map_or("null".to_string(), |a| json_str(a.name())),
        o.preferred_encryption_cipher.map_or("null".to_string(), json_str),
        o.encryption_required
    );
    let checks: Vec<String> = o
        .signature_checks
        .iter()
        .map(|(k, c)| {
            let inner: Vec<String> = c
                .iter()
                .map(|(w, v)| format!("{}: {}", json_str(w), json_str(v.word())))
                .collect();
            format!("{}: {{{}}}", json_str(k), inner.join(", "))
        })
        .collect();
    s.push_str(&checks.join(", "));
    s.push_str("}, \"diagnosis\": {");
    let diag: Vec<String> = o
        .diagnosis
        .iter()
        .map(|(k, d)| {
            format!(
                "{}: {}",
                json_str(k),
                str_list(d.iter().map(String::as_str))
            )
        })
        .collect();
    s.push_str(&diag.join(", "));
    s.push_str("}}");
    s
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The readable table of one target.
#[must_use]
pub fn text(o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}  verdict: {}", o.target, o.verdict.word());
    if o.reachable {
        let _ = writeln!(s, "  {:<26} {}", "SMB1 (NT LM 0.12)", yes(o.smb1));
        for (name, r) in &o.dialects {
            let what = if !r.accepted {
                "not accepted".to_string()
            } else {
                format!(
                    "accepted, signing {}",
                    if r.signing_required {
                        "required"
                    } else if r.signing_enabled {
                        "enabled, not required"
                    } else {
                        "not enabled"
                    }
                )
            };
            let _ = writeln!(s, "  {:<26} {what}", format!("dialect {name}"));
        }
        let algs: Vec<&str> = o.signing_algorithms.iter().map(|a| a.name()).collect();
        let _ = writeln!(
            s,
            "  {:<26} {}{}",
            "3.1.1 signing algorithms",
            if algs.is_empty() {
                "-".to_string()
            } else {
                algs.join(", ")
            },
            o.preferred_signing_algorithm
                .map_or(String::new(), |a| format!(
                    " (Windows 11 order gets {})",
                    a.name()
                ))
        );
        let _ = writeln!(
            s,
            "  {:<26} {}{}",
            "3.1.1 ciphers",
            if o.encryption_ciphers.is_empty() {
                "-".to_string()
            } else {
                o.encryption_ciphers.join(", ")
            },
            o.preferred_encryption_cipher
                .map_or(String::new(), |c| format!(" (Windows 11 order gets {c})"))
        );
        let _ = writeln!(
            s,
            "  {:<26} {}   guest: {}   anonymous: {}",
            "authenticated",
            yes(o.authenticated),
            yes(o.guest),
            yes(o.anonymous)
        );
        for (k, v) in &o.signatures {
            let detail = o
                .signature_checks
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, c)| {
                    let parts: Vec<String> =
                        c.iter().map(|(w, v)| format!("{w} {}", v.word())).collect();
                    format!("  ({})", parts.join(", "))
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<26} {}{detail}",
                format!("signatures {k}"),
                v.word()
            );
        }
        let enf = |v: Option<bool>| match v {
            Some(true) => "refused",
            Some(false) => "ACCEPTED",
            None => "not-tested",
        };
        let _ = writeln!(
            s,
            "  {:<26} {}   unsigned request: {}",
            "forged request",
            enf(o.rejects_forged_signature),
            enf(o.rejects_unsigned)
        );
        if o.encryption_required {
            let _ = writeln!(s, "  {:<26} yes", "encryption required");
        }
    }
    for r in &o.reasons {
        let _ = writeln!(s, "  - {r}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::json;
    use crate::probe::tests::{good, judged};

    /// The JSON Lines object carries the issue's fields, names and order exactly.
    #[test]
    fn json_has_the_stable_fields() {
        let j = json(&judged(good(), true, &[]));
        let d = r#"{"accepted": true, "signing_enabled": true, "signing_required": true}"#;
        let want = format!(
            r#"{{"target": "h:445", "reachable": true, "smb1": false, "dialects": {{"2.0.2": {d}, "2.1": {d}, "3.0": {d}, "3.0.2": {d}, "3.1.1": {d}}}, "signing_algorithms": ["aes-gmac", "aes-cmac", "hmac-sha256"], "encryption_ciphers": ["aes-128-gcm"], "authenticated": true, "signatures": {{"2.0.2": "valid", "2.1": "valid", "3.0": "valid", "3.0.2": "valid", "3.1.1/aes-gmac": "valid", "3.1.1/aes-cmac": "valid", "3.1.1/hmac-sha256": "valid"}}, "rejects_forged_signature": true, "rejects_unsigned": true, "guest": false, "anonymous": false, "verdict": "ok", "reasons": [], "preferred_signing_algorithm": "aes-gmac", "preferred_encryption_cipher": "aes-128-gcm", "encryption_required": false, "signature_checks": {{"2.0.2": {{"tree_connect": "valid"}}}}, "diagnosis": {{}}}}"#
        );
        assert_eq!(j, want);
        let mut o = good();
        o.rejects_forged_signature = None;
        o.reasons = vec!["a \"quoted\"\nline".into()];
        let j = json(&o);
        assert!(j.contains(r#""rejects_forged_signature": null"#));
        assert!(
            j.contains(r#""reasons": ["a \"quoted\"\u000aline"]"#),
            "{j}"
        );
    }
}
