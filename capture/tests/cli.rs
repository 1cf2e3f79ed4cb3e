//! Proves the smbsign-check command line: exit status 0 when every signature
//! checks out, 1 when any does not (wrong password, no key), 2 for a file that
//! is not a capture or a bad option, 3 when something went unchecked (the
//! summary says what); --password-file and --session-key work;
//! --json is one JSON object; --failures lists only failures.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_smbsign-check"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn exit_status_and_outputs() {
    let cap = fixture("smb302-cmac.pcap");
    let cap = cap.to_str().unwrap();
    let (rc, text) = run(&["--password", "Sm8sign-Test!", cap]);
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains(" valid\n") && text.ends_with("result: every signature checked out\n"));

    let pw = std::env::temp_dir().join(format!("smbsign-check-pw-{}", std::process::id()));
    std::fs::write(&pw, "Sm8sign-Test!\n").unwrap();
    assert_eq!(run(&["--password-file", pw.to_str().unwrap(), cap]).0, 0);
    std::fs::remove_file(&pw).unwrap();

    let (rc, text) = run(&["--password", "nope", "--failures", cap]);
    assert_eq!(rc, 1);
    assert!(text.lines().filter(|l| l.contains(" INVALID")).count() >= 40);
    assert!(!text.contains(" valid\n") && !text.contains(" unsigned\n"));

    assert_eq!(run(&[cap]).0, 1); // no key
    let keys = std::fs::read_to_string(fixture("smb302-cmac.keys")).unwrap();
    let mut args: Vec<String> = keys
        .lines()
        .flat_map(|l| ["--session-key".to_string(), format!("0x{l}")])
        .collect();
    args.push("--json".into());
    args.push(cap.into());
    let (rc, json) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(rc, 0);
    assert!(json.starts_with("{\"messages\":[") && json.trim_end().ends_with('}'));
    assert!(json.contains("\"all_valid\":true"));

    assert_eq!(run(&[fixture("README.md").to_str().unwrap()]).0, 2);
    assert_eq!(run(&["--session-key", "zz", cap]).0, 2);
    assert_eq!(run(&["--bogus", cap]).0, 2);
    assert_eq!(run(&[]).0, 2);
}

mod common;

#[test]
fn exit_status_3_when_something_went_unchecked_and_the_summary_says_why() {
    use common::craft::{self, handshaken, Dir};
    let (mut pcap, mut c) = handshaken(40_100);
    let key = [0x42u8; 16];
    c.send_smb(
        &mut pcap,
        Dir::ToServer,
        &craft::signed_echo(5, 1, false, &key),
    );
    // A message cut by the end of the capture.
    let cut = craft::direct_tcp(&craft::signed_echo(5, 2, false, &key));
    c.send(&mut pcap, Dir::ToServer, &cut[..20]);
    let path = std::env::temp_dir().join(format!("smbsign-check-cut-{}.pcap", std::process::id()));
    std::fs::write(&path, pcap.bytes()).unwrap();
    let p = path.to_str().unwrap();
    let (rc, text) = run(&["--session-key", "42424242424242424242424242424242", p]);
    assert_eq!(rc, 3, "{text}");
    assert!(text.contains(" valid\n"), "{text}");
    assert!(
        text.contains("not checked: 1 message cut at the end of the stream"),
        "{text}"
    );
    assert!(text.contains("result: INCOMPLETE"), "{text}");
    let (rc, json) = run(&[
        "--json",
        "--session-key",
        "42424242424242424242424242424242",
        p,
    ]);
    assert_eq!(rc, 3);
    assert!(json.contains("\"exit_status\":3") && json.contains("\"verdict\":\"unchecked\""));
    // Without a key nothing verifies: NO-KEY is a failure, which wins.
    assert_eq!(run(&[p]).0, 1);
    std::fs::remove_file(&path).unwrap();
}
