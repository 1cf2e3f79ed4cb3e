//! Key derivation, the preauth hash, and backend information.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use smbsign::kdf::{self as core_kdf, CipherKeyLen, SessionKeys};

use crate::buffers::{fixed, int_arg, maybe_detach, Bytes};
use crate::pdu::value_error;

/// A KDF output length, validated before anything is sized by it: ValueError
/// for 0, for anything over `MAX_OUTPUT_LEN` (the `[L]_32` bit count), and for
/// any negative or huge int; TypeError for a non-int.
fn output_len(length: &Bound<'_, PyAny>) -> PyResult<usize> {
    match int_arg(length, "length")?.and_then(|v| usize::try_from(v).ok()) {
        Some(n) => core_kdf::check_output_len(n)
            .map(|()| n)
            .map_err(value_error),
        None => Err(PyValueError::new_err(format!(
            "unsupported output length {length}"
        ))),
    }
}

/// `length` bytes of KDF output, derived straight into a new bytes object
/// (Python's allocator: MemoryError, not an abort, if it cannot be had).
fn derive<'py>(
    py: Python<'py>,
    length: &Bound<'_, PyAny>,
    f: impl FnOnce(&mut [u8]) -> smbsign::Result<()> + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    let n = output_len(length)?;
    PyBytes::new_with(py, n, |out| {
        maybe_detach(py, n, || f(out)).map_err(value_error)
    })
}

/// The SMB KDF (SP 800-108 counter mode, HMAC-SHA256):
/// `KDF(key, label || 0x00 || context || [8*length]_32)`, `length` bytes
/// (1 to 536,870,911: L counts bits in 32 bits).
#[pyfunction]
pub fn kdf<'py>(
    py: Python<'py>,
    key: &Bound<'_, PyAny>,
    label: &Bound<'_, PyAny>,
    context: &Bound<'_, PyAny>,
    length: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (k, l, c) = (
        Bytes::new(key, "key")?,
        Bytes::new(label, "label")?,
        Bytes::new(context, "context")?,
    );
    derive(py, length, |out| {
        core_kdf::smb_kdf(k.as_slice(), l.as_slice(), c.as_slice(), out)
    })
}

/// SP 800-108 counter-mode KDF with HMAC-SHA256 over raw fixed input (counter first).
#[pyfunction]
pub fn kbkdf_hmac_sha256<'py>(
    py: Python<'py>,
    key: &Bound<'_, PyAny>,
    fixed_input: &Bound<'_, PyAny>,
    length: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (k, f) = (
        Bytes::new(key, "key")?,
        Bytes::new(fixed_input, "fixed_input")?,
    );
    derive(py, length, |out| {
        core_kdf::counter_hmac_sha256(k.as_slice(), &[f.as_slice()], out)
    })
}

fn keys_dict<'py>(py: Python<'py>, k: &SessionKeys) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("signing", PyBytes::new(py, &k.signing))?;
    d.set_item("application", PyBytes::new(py, &k.application))?;
    d.set_item(
        "client_to_server",
        PyBytes::new(py, k.client_to_server_key()),
    )?;
    d.set_item(
        "server_to_client",
        PyBytes::new(py, k.server_to_client_key()),
    )?;
    Ok(d)
}

/// SMB 3.0/3.0.2 keys from the session key, as a dict of bytes:
/// signing, application, client_to_server, server_to_client.
#[pyfunction]
pub fn smb30_keys<'py>(
    py: Python<'py>,
    session_key: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let k = core_kdf::smb30_keys(Bytes::new(session_key, "session_key")?.as_slice())
        .map_err(value_error)?;
    keys_dict(py, &k)
}

/// SMB 3.1.1 keys with the 64-byte preauth hash as context; `cipher_key_len`
/// 16 or 32 (32 derives the cipher keys from `full_session_key`, which is then
/// required: ValueError without it). [`session_cipher_keys`] applies the rule itself.
#[pyfunction]
#[pyo3(signature = (session_key, preauth_hash, cipher_key_len=None, full_session_key=None))]
pub fn smb311_keys<'py>(
    py: Python<'py>,
    session_key: &Bound<'_, PyAny>,
    preauth_hash: &Bound<'_, PyAny>,
    cipher_key_len: Option<&Bound<'_, PyAny>>,
    full_session_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    // None (the default) is 16.
    let cipher = match cipher_key_len {
        None => CipherKeyLen::Aes128,
        Some(n) => match int_arg(n, "cipher_key_len")? {
            Some(16) => CipherKeyLen::Aes128,
            Some(32) => CipherKeyLen::Aes256,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "cipher_key_len must be 16 or 32, got {n}"
                )))
            }
        },
    };
    let sk = Bytes::new(session_key, "session_key")?;
    let full = full_session_key
        .map(|f| Bytes::new(f, "full_session_key"))
        .transpose()?;
    let h = fixed::<64>(preauth_hash, "preauth_hash")?;
    // AES-256 keys derive from Session.FullSessionKey: without it the 16-byte
    // session key would silently give wrong keys.
    if matches!(cipher, CipherKeyLen::Aes256) && full.is_none() {
        return Err(PyValueError::new_err(
            "cipher_key_len=32 derives from full_session_key: pass it (or use session_cipher_keys)",
        ));
    }
    let full_slice = full.as_ref().map_or(sk.as_slice(), Bytes::as_slice);
    let k = core_kdf::smb311_keys(sk.as_slice(), full_slice, &h, cipher).map_err(value_error)?;
    keys_dict(py, &k)
}

/// The SMB 3.1.1 preauth integrity hash: `PreauthHash(value=None)`;
/// `update(message)` chains `H = SHA-512(H || message)`; `value` is the current 64 bytes.
#[pyclass(module = "smbsign._smbsign")]
#[derive(Clone)]
pub struct PreauthHash(Box<smbsign::PreauthHash>);

#[pymethods]
impl PreauthHash {
    #[new]
    #[pyo3(signature = (value=None))]
    fn new(value: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PreauthHash(Box::new(match value {
            Some(v) => smbsign::PreauthHash::from_value(fixed::<64>(v, "value")?),
            None => smbsign::PreauthHash::new(),
        })))
    }
    /// Chains one whole NEGOTIATE or SESSION_SETUP message.
    fn update(&mut self, message: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.update(Bytes::new(message, "message")?.as_slice());
        Ok(())
    }
    /// The current 64-byte value.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.0.value())
    }
    /// An independent copy (a session forks the connection's hash).
    fn copy(&self) -> Self {
        self.clone()
    }
}

/// The active backend: tier and the kernel per algorithm, and why.
#[pyfunction]
pub fn backend_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let i = smbsign::backend_info();
    let d = PyDict::new(py);
    d.set_item("tier", i.tier.name())?;
    d.set_item("hmac-sha256", i.hmac_sha256)?;
    d.set_item("aes-cmac", i.aes_cmac)?;
    d.set_item("aes-gmac", i.aes_gmac)?;
    d.set_item("hmac-sha256-batch", i.sha256_batch)?;
    d.set_item("aes-cmac-batch", i.aes_batch)?;
    d.set_item("aes-gmac-batch", i.gmac_batch)?;
    d.set_item("reason", i.reason)?;
    d.set_item("requested", i.requested)?;
    d.set_item("fallback", i.fallback.map(|e| e.to_string()))?;
    Ok(d)
}

/// A session's keys as `dialect` and `cipher` (a name or CipherId) prescribe
/// (core's `smb2::session_cipher_keys`): `session_key` is the authentication
/// protocol's whole key, untruncated; the AES-256 ciphers derive their keys
/// from all of it, everything else from its first 16 bytes. `preauth_hash`
/// (64 bytes) is required for 3.1.1 and ignored otherwise. ValueError for a
/// dialect without encryption or a cipher the dialect does not have.
#[pyfunction]
#[pyo3(signature = (dialect, cipher, session_key, preauth_hash=None))]
pub fn session_cipher_keys<'py>(
    py: Python<'py>,
    dialect: &Bound<'_, PyAny>,
    cipher: &Bound<'_, PyAny>,
    session_key: &Bound<'_, PyAny>,
    preauth_hash: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    // TypeError for a non-int (bool included), ValueError out of range, as elsewhere.
    let dialect = int_arg(dialect, "dialect")?
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(|| {
            PyValueError::new_err(format!("dialect {dialect} has no SMB3 encryption"))
        })?;
    let c = crate::transform::to_cipher(cipher)?;
    let sk = Bytes::new(session_key, "session_key")?;
    let h = match preauth_hash {
        Some(p) => fixed::<64>(p, "preauth_hash")?,
        None if dialect == smbsign::smb2::dialect::SMB3_1_1 => {
            return Err(PyValueError::new_err("dialect 3.1.1 needs preauth_hash"))
        }
        None => [0u8; 64],
    };
    let k =
        smbsign::smb2::session_cipher_keys(dialect, c, sk.as_slice(), &h).map_err(value_error)?;
    keys_dict(py, &k)
}
