//! hashlib-style MAC objects and one-shot functions.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smbsign::{cmac, gmac, hmac};

use crate::buffers::{fixed, maybe_detach, Bytes};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// AES-128-CMAC (RFC 4493), hashlib style: `AesCmac(key, data=None)`.
#[pyclass(module = "smbsign._smbsign")]
#[derive(Clone)]
pub struct AesCmac(cmac::State<'static>);

#[pymethods]
impl AesCmac {
    #[new]
    #[pyo3(signature = (key, data=None))]
    fn new(
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let k = fixed::<16>(key, "key")?;
        let mut m = AesCmac(cmac::Key::new(&k).into_state());
        if let Some(d) = data {
            m.update(py, d)?;
        }
        Ok(m)
    }
    /// Absorbs `data` (any bytes-like object).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = Bytes::new(data, "data")?;
        let st = &mut self.0;
        maybe_detach(py, b.len(), || st.update(b.as_slice()));
        Ok(())
    }
    /// The 16-byte tag of everything absorbed so far.
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.clone().finalize())
    }
    /// The tag as hex.
    fn hexdigest(&self) -> String {
        hex(&self.0.clone().finalize())
    }
    /// An independent copy of the current state.
    fn copy(&self) -> Self {
        self.clone()
    }
    #[getter]
    fn digest_size(&self) -> usize {
        16
    }
    #[getter]
    fn block_size(&self) -> usize {
        16
    }
    #[getter]
    fn name(&self) -> &'static str {
        "aes-cmac"
    }
}

/// AES-128-GMAC (GCM with empty plaintext), hashlib style: `AesGmac(key, nonce, data=None)`.
#[pyclass(module = "smbsign._smbsign")]
#[derive(Clone)]
pub struct AesGmac(gmac::State<'static>);

#[pymethods]
impl AesGmac {
    #[new]
    #[pyo3(signature = (key, nonce, data=None))]
    fn new(
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        nonce: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let k = fixed::<16>(key, "key")?;
        let n = fixed::<12>(nonce, "nonce")?;
        let mut m = AesGmac(gmac::Key::new(&k).into_state(&n));
        if let Some(d) = data {
            m.update(py, d)?;
        }
        Ok(m)
    }
    /// Absorbs `data`.
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = Bytes::new(data, "data")?;
        let st = &mut self.0;
        maybe_detach(py, b.len(), || st.update(b.as_slice()));
        Ok(())
    }
    /// The 16-byte tag of everything absorbed so far.
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.clone().finalize())
    }
    /// The tag as hex.
    fn hexdigest(&self) -> String {
        hex(&self.0.clone().finalize())
    }
    /// An independent copy of the current state.
    fn copy(&self) -> Self {
        self.clone()
    }
    #[getter]
    fn digest_size(&self) -> usize {
        16
    }
    #[getter]
    fn block_size(&self) -> usize {
        16
    }
    #[getter]
    fn name(&self) -> &'static str {
        "aes-gmac"
    }
}

/// HMAC-SHA256, hashlib/hmac style: `HmacSha256(key, data=None)`; `digest()`
/// is the full 32 bytes (SMB 2.x signatures are its first 16).
#[pyclass(module = "smbsign._smbsign")]
#[derive(Clone)]
pub struct HmacSha256(hmac::State<'static>);

#[pymethods]
impl HmacSha256 {
    #[new]
    #[pyo3(signature = (key, data=None))]
    fn new(
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let k = Bytes::new(key, "key")?;
        let mut m = HmacSha256(hmac::Key::new(k.as_slice()).into_state());
        if let Some(d) = data {
            m.update(py, d)?;
        }
        Ok(m)
    }
    /// Absorbs `data`.
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = Bytes::new(data, "data")?;
        let st = &mut self.0;
        maybe_detach(py, b.len(), || st.update(b.as_slice()));
        Ok(())
    }
    /// The 32-byte HMAC of everything absorbed so far.
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.clone().finalize())
    }
    /// The HMAC as hex.
    fn hexdigest(&self) -> String {
        hex(&self.0.clone().finalize())
    }
    /// An independent copy of the current state.
    fn copy(&self) -> Self {
        self.clone()
    }
    #[getter]
    fn digest_size(&self) -> usize {
        32
    }
    #[getter]
    fn block_size(&self) -> usize {
        64
    }
    #[getter]
    fn name(&self) -> &'static str {
        "hmac-sha256"
    }
}

/// AES-128-CMAC of `data` under the 16-byte `key`.
#[pyfunction]
pub fn aes_cmac<'py>(
    py: Python<'py>,
    key: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let k = cmac::Key::new(&fixed::<16>(key, "key")?);
    let b = Bytes::new(data, "data")?;
    let tag = maybe_detach(py, b.len(), || k.mac(b.as_slice()));
    Ok(PyBytes::new(py, &tag))
}

/// AES-128-GMAC of `data` under the 16-byte `key` and 12-byte `nonce`.
#[pyfunction]
pub fn aes_gmac<'py>(
    py: Python<'py>,
    key: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let k = gmac::Key::new(&fixed::<16>(key, "key")?);
    let n = fixed::<12>(nonce, "nonce")?;
    let b = Bytes::new(data, "data")?;
    let tag = maybe_detach(py, b.len(), || k.mac(&n, b.as_slice()));
    Ok(PyBytes::new(py, &tag))
}

/// The full 32-byte HMAC-SHA256 of `data` under `key` (any length).
#[pyfunction]
pub fn hmac_sha256<'py>(
    py: Python<'py>,
    key: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let k = hmac::Key::new(Bytes::new(key, "key")?.as_slice());
    let b = Bytes::new(data, "data")?;
    let tag = maybe_detach(py, b.len(), || k.mac(b.as_slice()));
    Ok(PyBytes::new(py, &tag))
}
