//! Per-process counters of what was computed here and what was forwarded to
//! GnuTLS, appended as one JSON line to `$SMBSIGN_GNUTLS_STATS` at exit.
//!
//! Calls on own handles count into the handle's [`Tally`] with plain loads and
//! stores (one thread uses a handle at a time, so no locked add and no cache
//! line shared between threads); a tally moves into the process totals when
//! its handle is released, and the exit report adds the live ones. Calls
//! without an own handle count into the totals directly.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// What a call is counted under.
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Bucket {
    HmacSha256 = 0,
    AesCmac128 = 1,
    /// AES-128-GCM handles: computed = GMAC (no plaintext), forwarded = the rest.
    Aes128Gcm = 2,
    MacOther = 3,
    AeadOther = 4,
    /// Handles that are GnuTLS's own (stepped aside, slots full, or made
    /// where this library was not bound): forwarded, algorithm unknown.
    Unwrapped = 5,
    /// AES-256-GCM, AES-128-CCM and AES-256-CCM handles (SMB3 encryption):
    /// computed = encrypt/decrypt on SMB's parameters, forwarded = the rest.
    Aes256Gcm = 6,
    Aes128Ccm = 7,
    Aes256Ccm = 8,
}

/// The JSON names, in `Bucket` order (the first six as before the ciphers came).
const NAMES: [&str; BUCKET_COUNT] = [
    "hmac-sha256",
    "aes-cmac-128",
    "aes-128-gcm",
    "mac-other",
    "aead-other",
    "unwrapped",
    "aes-256-gcm",
    "aes-128-ccm",
    "aes-256-ccm",
];

const BUCKET_COUNT: usize = 9;

/// The counters of a bucket: computed calls, computed bytes, forwarded calls,
/// forwarded bytes (every bucket), then for the AEADs the computed calls
/// with a plaintext: encrypt calls, encrypt bytes (plaintext), decrypt
/// calls, decrypt bytes, and the decrypt calls that failed the tag check
/// (`GNUTLS_E_DECRYPTION_FAILED`, computed here or by GnuTLS).
const COUNTERS: usize = 9;
const ENCRYPTED: usize = 4;
const DECRYPTED: usize = 6;
const TAG_FAILURES: usize = 8;

/// The buckets whose calls can carry a plaintext, reported in the `"aead"` member.
const AEAD_BUCKETS: [Bucket; 6] = [
    Bucket::Aes128Gcm,
    Bucket::Aes256Gcm,
    Bucket::Aes128Ccm,
    Bucket::Aes256Ccm,
    Bucket::AeadOther,
    Bucket::Unwrapped,
];

/// [bucket][counter], see [`COUNTERS`].
static COUNTS: [[AtomicU64; COUNTERS]; BUCKET_COUNT] =
    [const { [const { AtomicU64::new(0) }; COUNTERS] }; BUCKET_COUNT];

/// Counts without an own handle (GnuTLS's handles, `gnutls_hmac_fast`).
#[inline]
pub fn computed(b: Bucket, calls: u64, bytes: u64) {
    COUNTS[b as usize][0].fetch_add(calls, Ordering::Relaxed);
    COUNTS[b as usize][1].fetch_add(bytes, Ordering::Relaxed);
}

/// As [`computed`], for calls forwarded to GnuTLS.
#[inline]
pub fn forwarded(b: Bucket, calls: u64, bytes: u64) {
    COUNTS[b as usize][2].fetch_add(calls, Ordering::Relaxed);
    COUNTS[b as usize][3].fetch_add(bytes, Ordering::Relaxed);
}

/// A tag failure on a handle that is not own.
#[inline]
pub fn tag_failure(b: Bucket) {
    COUNTS[b as usize][TAG_FAILURES].fetch_add(1, Ordering::Relaxed);
}

/// One own handle's counts (those of a [`COUNTS`] row) and its bucket.
pub struct Tally {
    bucket: AtomicU8,
    n: [AtomicU64; COUNTERS],
}

impl Tally {
    pub const fn new() -> Tally {
        Tally {
            bucket: AtomicU8::new(0),
            n: [const { AtomicU64::new(0) }; COUNTERS],
        }
    }

    /// Only the thread using the handle writes: a load and a store, no lock.
    #[inline]
    fn bump(&self, i: usize, v: u64) {
        let c = &self.n[i];
        c.store(c.load(Ordering::Relaxed).wrapping_add(v), Ordering::Relaxed);
    }

    /// `calls` is a constant at most call sites (0 for `gnutls_hmac`), so
    /// the test folds away and a zero costs no store.
    #[inline]
    pub fn computed(&self, calls: u64, bytes: u64) {
        if calls != 0 {
            self.bump(0, calls);
        }
        self.bump(1, bytes);
    }

    #[inline]
    pub fn forwarded(&self, calls: u64, bytes: u64) {
        if calls != 0 {
            self.bump(2, calls);
        }
        self.bump(3, bytes);
    }

    /// A call computed here that encrypted `bytes` of plaintext (also
    /// counted in [`Tally::computed`]).
    #[inline]
    pub fn encrypted(&self, bytes: u64) {
        self.bump(ENCRYPTED, 1);
        self.bump(ENCRYPTED + 1, bytes);
    }

    /// As [`Tally::encrypted`], for a decrypt that passed the tag check.
    #[inline]
    pub fn decrypted(&self, bytes: u64) {
        self.bump(DECRYPTED, 1);
        self.bump(DECRYPTED + 1, bytes);
    }

    /// A decrypt call that returned `GNUTLS_E_DECRYPTION_FAILED`.
    #[inline]
    pub fn tag_failure(&self) {
        self.bump(TAG_FAILURES, 1);
    }

    pub fn bucket(&self) -> Bucket {
        BUCKETS[usize::from(self.bucket.load(Ordering::Relaxed)) % BUCKETS.len()]
    }

    /// Starts counting a new handle under `bucket` (the counts are zero: a
    /// released handle's moved to the totals).
    pub fn open(&self, bucket: Bucket) {
        self.bucket.store(bucket as u8, Ordering::Relaxed);
    }

    /// Moves the counts into the process totals (the handle is released).
    pub fn close(&self) {
        let row = &COUNTS[self.bucket() as usize];
        for (total, c) in row.iter().zip(&self.n) {
            total.fetch_add(c.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

const BUCKETS: [Bucket; BUCKET_COUNT] = [
    Bucket::HmacSha256,
    Bucket::AesCmac128,
    Bucket::Aes128Gcm,
    Bucket::MacOther,
    Bucket::AeadOther,
    Bucket::Unwrapped,
    Bucket::Aes256Gcm,
    Bucket::Aes128Ccm,
    Bucket::Aes256Ccm,
];

/// A forked child reports only its own work: zeroes the totals and `tallies`
/// (every own handle's, inherited from the parent).
pub fn reset_in_child(tallies: &[&[Tally]]) {
    let all = tallies.iter().flat_map(|t| t.iter().map(|t| &t.n));
    for row in COUNTS.iter().chain(all) {
        for c in row {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// `$SMBSIGN_GNUTLS_STATS`, except in secure-execution mode (set-user-ID or
/// capability programs, `AT_SECURE`, as glibc's `secure_getenv`): there the
/// user who sets the environment is not the one whose rights the file would
/// be created or appended with.
fn stats_path() -> Option<std::ffi::OsString> {
    // SAFETY: getauxval only reads the auxiliary vector.
    if unsafe { libc::getauxval(libc::AT_SECURE) } != 0 {
        return None;
    }
    std::env::var_os("SMBSIGN_GNUTLS_STATS")
}

/// `s` as the inside of a JSON string. (Rust's `escape_default` writes `\'`
/// and `\u{e9}`, which JSON rejects, for paths such as `/home/o'brien/é`.)
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out += &format!("\\u{:04x}", u32::from(c)),
            c => out.push(c),
        }
    }
    out
}

/// Appends this process's line (the totals plus the live handles' `tallies`),
/// if it did anything and a file is named.
pub fn write_at_exit(mode: &str, tallies: &[&[Tally]]) {
    let mut snapshot: Vec<[u64; COUNTERS]> = COUNTS
        .iter()
        .map(|row| core::array::from_fn(|i| row[i].load(Ordering::Relaxed)))
        .collect();
    for t in tallies.iter().flat_map(|t| t.iter()) {
        let row = &mut snapshot[t.bucket() as usize];
        for (s, c) in row.iter_mut().zip(&t.n) {
            *s += c.load(Ordering::Relaxed);
        }
    }
    if snapshot.iter().all(|r| r.iter().all(|&v| v == 0)) {
        return;
    }
    let Some(path) = stats_path() else {
        return;
    };
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut line = format!(
        "{{\"pid\":{},\"exe\":\"{}\",\"mode\":\"{mode}\"",
        std::process::id(),
        json_escape(&exe)
    );
    line += &crate::policy::stats_fields(mode);
    for (name, r) in NAMES.iter().zip(&snapshot) {
        line += &format!(
            ",\"{name}\":{{\"computed_calls\":{},\"computed_bytes\":{},\"forwarded_calls\":{},\"forwarded_bytes\":{}}}",
            r[0], r[1], r[2], r[3]
        );
    }
    // The AEAD calls with a plaintext, per bucket, apart from the rows above
    // (whose members stay as they were): AES-128-GCM's computed calls also
    // hold its GMACs.
    line += ",\"aead\":{";
    for (i, b) in AEAD_BUCKETS.iter().enumerate() {
        let r = &snapshot[*b as usize];
        line += &format!(
            "{}\"{}\":{{\"encrypt_calls\":{},\"encrypt_bytes\":{},\"decrypt_calls\":{},\"decrypt_bytes\":{},\"tag_failures\":{}}}",
            if i == 0 { "" } else { "," },
            NAMES[*b as usize],
            r[ENCRYPTED],
            r[ENCRYPTED + 1],
            r[DECRYPTED],
            r[DECRYPTED + 1],
            r[TAG_FAILURES]
        );
    }
    line += "}}\n";
    // One append-mode write per process keeps concurrent writers' lines whole.
    // O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of
    // hanging the exiting process; O_NOCTTY: a terminal never becomes a
    // daemon's controlling terminal.
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
