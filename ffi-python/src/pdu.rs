//! SMB2 signing keys and in-place PDU signing.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smbsign::smb2::{self, Algorithm};
use smbsign::Error;

use crate::buffers::{fixed, int_arg, maybe_detach, Bytes};

/// smbsign errors become ValueError with the library's message.
pub fn value_error(e: Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An algorithm from a SigningAlgorithmId (0, 1, 2) or a name
/// ("hmac-sha256", "aes-cmac", "aes-gmac"). Any other int, however large or
/// negative, is the same ValueError; bool and other types are TypeError.
fn algorithm(obj: &Bound<'_, PyAny>) -> PyResult<Algorithm> {
    if let Ok(name) = obj.extract::<String>() {
        return Algorithm::from_name(&name)
            .ok_or_else(|| PyValueError::new_err(format!("unknown algorithm {name:?}")));
    }
    algorithm_id(obj, "algorithm")
}

/// An algorithm from an int SigningAlgorithmId (ValueError for any other int).
fn algorithm_id(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Algorithm> {
    match int_arg(obj, what)?.and_then(|v| u16::try_from(v).ok()) {
        Some(id) => Algorithm::from_id(id).map_err(value_error),
        None => Err(PyValueError::new_err(format!(
            "unknown SMB2 SigningAlgorithmId {obj}"
        ))),
    }
}

/// A session's SMB2 signing key: `SigningKey(algorithm, key)` with algorithm a
/// SigningAlgorithmId (0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC) or its name, and
/// the 16-byte signing key. Immutable; safe to share between threads.
#[pyclass(module = "smbsign._smbsign", frozen)]
pub struct SigningKey(pub Box<smb2::SigningKey>);

#[pymethods]
impl SigningKey {
    #[new]
    fn new(algorithm_: &Bound<'_, PyAny>, key: &Bound<'_, PyAny>) -> PyResult<Self> {
        let alg = algorithm(algorithm_)?;
        let k = Bytes::new(key, "key")?;
        Ok(SigningKey(Box::new(
            smb2::SigningKey::new(alg, k.as_slice()).map_err(value_error)?,
        )))
    }
    /// The SigningAlgorithmId.
    #[getter]
    fn algorithm(&self) -> u16 {
        self.0.algorithm().id()
    }
    /// The algorithm's name.
    #[getter]
    fn algorithm_name(&self) -> &'static str {
        self.0.algorithm().name()
    }
    /// The 16-byte MAC of `data`; `nonce` (12 bytes) is required for AES-GMAC only.
    #[pyo3(signature = (data, nonce=None))]
    fn mac<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'_, PyAny>,
        nonce: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let n = nonce.map(|n| fixed::<12>(n, "nonce")).transpose()?;
        let b = Bytes::new(data, "data")?;
        let tag = maybe_detach(py, b.len(), || self.0.mac(n.as_ref(), b.as_slice()))
            .map_err(value_error)?;
        Ok(PyBytes::new(py, &tag))
    }
    /// Whether `tag` is the MAC of `data`, compared in constant time.
    #[pyo3(signature = (data, tag, nonce=None))]
    fn verify(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        tag: &Bound<'_, PyAny>,
        nonce: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let n = nonce.map(|n| fixed::<12>(n, "nonce")).transpose()?;
        let b = Bytes::new(data, "data")?;
        let t = Bytes::new(tag, "tag")?;
        // A tag of the wrong length is not the MAC: False (as `verify_batch`),
        // after the nonce rule has been checked as for any other tag.
        match maybe_detach(py, b.len(), || {
            self.0.verify(n.as_ref(), b.as_slice(), t.as_slice())
        }) {
            Ok(()) => Ok(true),
            Err(Error::TagMismatch) => Ok(false),
            Err(e) => Err(value_error(e)),
        }
    }
    /// Signs a PDU or compound chain in place (see the module function `sign_pdu`).
    fn sign_pdu(&self, py: Python<'_>, pdu: &Bound<'_, PyAny>) -> PyResult<()> {
        sign_pdu(py, self, pdu)
    }
    /// Verifies a PDU or compound chain (see the module function `verify_pdu`).
    fn verify_pdu(&self, py: Python<'_>, pdu: &Bound<'_, PyAny>) -> PyResult<bool> {
        verify_pdu(py, self, pdu)
    }
    fn __repr__(&self) -> String {
        format!("SigningKey({:?})", self.0.algorithm().name())
    }
}

/// Signs a PDU or compound chain in place in a writable buffer (bytearray,
/// writable memoryview...): sets SMB2_FLAGS_SIGNED, zeroes and fills each
/// Signature. Raises ValueError for a malformed PDU (buffer untouched),
/// TypeError for a read-only buffer.
#[pyfunction]
pub fn sign_pdu(py: Python<'_>, key: &SigningKey, pdu: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut b = Bytes::new_mut(pdu, "pdu")?;
    let len = b.len();
    let buf = b.as_mut();
    maybe_detach(py, len, || smb2::sign_pdu(&key.0, buf)).map_err(value_error)
}

/// Whether every PDU of a PDU or compound chain is signed and its signature
/// matches (constant-time). False on a bad or missing signature; ValueError
/// for a malformed PDU. The buffer is not modified.
#[pyfunction]
pub fn verify_pdu(py: Python<'_>, key: &SigningKey, pdu: &Bound<'_, PyAny>) -> PyResult<bool> {
    let b = Bytes::new(pdu, "pdu")?;
    match maybe_detach(py, b.len(), || smb2::verify_pdu(&key.0, b.as_slice())) {
        Ok(()) => Ok(true),
        Err(Error::BadSignature { .. } | Error::NotSigned { .. }) => Ok(false),
        Err(e) => Err(value_error(e)),
    }
}

/// The SigningAlgorithmId a connection of `dialect` signs with; for 3.1.1,
/// `signing_algorithm_id` is the negotiated one (None: AES-CMAC). Any int
/// out of range is the same ValueError as an unsupported dialect or id.
#[pyfunction]
#[pyo3(signature = (dialect, signing_algorithm_id=None))]
pub fn algorithm_for_dialect(
    dialect: &Bound<'_, PyAny>,
    signing_algorithm_id: Option<&Bound<'_, PyAny>>,
) -> PyResult<u16> {
    let Some(d) = int_arg(dialect, "dialect")?.and_then(|v| u16::try_from(v).ok()) else {
        let hex = dialect.call_method1("__format__", ("#06x",))?;
        return Err(PyValueError::new_err(format!(
            "dialect {hex} has no SMB2 signing"
        )));
    };
    // An id outside u16 stands in as 0xFFFF (no such SigningAlgorithmId):
    // the core refuses it exactly when the dialect reads the id (3.1.1), and
    // the message then names the value given.
    let negotiated = match signing_algorithm_id {
        None => None,
        Some(obj) => {
            match int_arg(obj, "signing_algorithm_id")?.and_then(|v| u16::try_from(v).ok()) {
                Some(id) => Some(id),
                None => {
                    return Algorithm::for_dialect(d, Some(u16::MAX))
                        .map(Algorithm::id)
                        .map_err(|e| match e {
                            Error::UnknownSigningAlgorithm(_) => PyValueError::new_err(format!(
                                "unknown SMB2 SigningAlgorithmId {obj}"
                            )),
                            e => value_error(e),
                        })
                }
            }
        }
    };
    Algorithm::for_dialect(d, negotiated)
        .map(Algorithm::id)
        .map_err(value_error)
}

/// The AES-GMAC nonce of a PDU header: MessageId, then the role/CANCEL word.
#[pyfunction]
pub fn gmac_nonce<'py>(
    py: Python<'py>,
    header: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let b = Bytes::new(header, "header")?;
    Ok(PyBytes::new(
        py,
        &smb2::gmac_nonce(b.as_slice()).map_err(value_error)?,
    ))
}
