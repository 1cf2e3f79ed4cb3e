//! hashlib-style MAC objects and one-shot functions.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smbsign::{cmac, gmac, hmac};

use crate::buffers::{fixed, maybe_detach, Bytes};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A hashlib-style MAC class: the constructor (from its own arguments, then an
/// optional initial `data`) is given; `update`, `digest`, `hexdigest`, `copy`
/// and the `digest_size` / `block_size` / `name` attributes are the same for all.
macro_rules! mac_object {
    (
        $(#[$doc:meta])*
        $name:ident($state:ty), name = $pyname:literal, digest_size = $dsize:expr, block_size = $bsize:expr,
        signature = $sig:tt,
        new($($arg:ident: $argty:ty),*) => $make:expr
    ) => {
        $(#[$doc])*
        #[pyclass(module = "smbsign._smbsign")]
        #[derive(Clone)]
        pub struct $name(Box<$state>);

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = $sig)]
            fn new(py: Python<'_>, $($arg: $argty,)* data: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
                let mut m = $name(Box::new($make));
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
            /// The tag of everything absorbed so far.
            fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
                PyBytes::new(py, &(*self.0).clone().finalize())
            }
            /// The tag as hex.
            fn hexdigest(&self) -> String {
                hex(&(*self.0).clone().finalize())
            }
            /// An independent copy of the current state.
            fn copy(&self) -> Self {
                self.clone()
            }
            #[getter]
            fn digest_size(&self) -> usize {
                $dsize
            }
            #[getter]
            fn block_size(&self) -> usize {
                $bsize
            }
            #[getter]
            fn name(&self) -> &'static str {
                $pyname
            }
        }
    };
}

mac_object! {
    /// AES-128-CMAC (RFC 4493), hashlib style: `AesCmac(key, data=None)`.
    AesCmac(cmac::State<'static>), name = "aes-cmac", digest_size = 16, block_size = 16,
    signature = (key, data=None),
    new(key: &Bound<'_, PyAny>) => cmac::Key::new(&fixed::<16>(key, "key")?).into_state()
}

mac_object! {
    /// AES-128-GMAC (GCM with empty plaintext), hashlib style: `AesGmac(key, nonce, data=None)`.
    AesGmac(gmac::State<'static>), name = "aes-gmac", digest_size = 16, block_size = 16,
    signature = (key, nonce, data=None),
    new(key: &Bound<'_, PyAny>, nonce: &Bound<'_, PyAny>) => {
        let k = fixed::<16>(key, "key")?;
        gmac::Key::new(&k).into_state(&fixed::<12>(nonce, "nonce")?)
    }
}

mac_object! {
    /// HMAC-SHA256, hashlib/hmac style: `HmacSha256(key, data=None)`; `digest()`
    /// is the full 32 bytes (SMB 2.x signatures are its first 16).
    HmacSha256(hmac::State<'static>), name = "hmac-sha256", digest_size = 32, block_size = 64,
    signature = (key, data=None),
    new(key: &Bound<'_, PyAny>) => hmac::Key::new(Bytes::new(key, "key")?.as_slice()).into_state()
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
