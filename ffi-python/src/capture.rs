//! `check_capture_json`: smbsign-check's library over a capture file.

use std::collections::HashMap;
use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use smbsign_capture::{check_file, CheckError, Options};

/// Checks every SMB2 signature and SMB3 encryption tag (decrypting with the
/// session's keys) in the pcap/pcapng file at `path` and returns
/// the report as the JSON text `smbsign-check --json` prints. Keys:
/// `password` (NTLMv2, with `user`/`domain` overriding the capture's),
/// `session_keys` ({SessionId: key}) and `session_key` (for every other session).
/// `summary.exit_status` is smbsign-check's (0 verified, 1 failed, 3 incomplete)
/// and `summary.not_checked` names what was not checked and why.
/// OSError when the file cannot be read, ValueError when it is not a capture.
#[pyfunction]
#[pyo3(signature = (path, password=None, session_keys=None, session_key=None, user=None, domain=None, diagnose=true))]
#[allow(clippy::too_many_arguments)]
pub fn check_capture_json(
    py: Python<'_>,
    path: PathBuf,
    password: Option<String>,
    session_keys: Option<HashMap<u64, Vec<u8>>>,
    session_key: Option<Vec<u8>>,
    user: Option<String>,
    domain: Option<String>,
    diagnose: bool,
) -> PyResult<String> {
    let mut keys: Vec<(Option<u64>, Vec<u8>)> = session_keys
        .unwrap_or_default()
        .into_iter()
        .map(|(sid, k)| (Some(sid), k))
        .collect();
    keys.extend(session_key.map(|k| (None, k)));
    let opts = Options {
        session_keys: keys,
        password,
        user,
        domain,
        diagnose,
    };
    match py.detach(|| check_file(&path, &opts)) {
        Ok(report) => Ok(report.json()),
        Err(CheckError::Io(e)) => Err(PyOSError::new_err(format!("{}: {e}", path.display()))),
        Err(e @ CheckError::Format(_)) => {
            Err(PyValueError::new_err(format!("{}: {e}", path.display())))
        }
    }
}
