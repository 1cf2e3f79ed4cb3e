//! SMB 3.x encryption: cipher keys with their nonce source, and TRANSFORM_HEADER
//! messages encrypted and decrypted (core's `smb2::transform`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smbsign::cipher::Cipher;
use smbsign::smb2::cipher_for_dialect as core_cipher_for_dialect;
use smbsign::smb2::transform::{self, EncryptionKey as CoreKey, TRANSFORM_HEADER_LEN};

use crate::buffers::{int_arg, maybe_detach, Bytes};
use crate::pdu::value_error;

/// A cipher from a name ("aes-128-ccm", "aes-128-gcm", "aes-256-ccm",
/// "aes-256-gcm") or a CipherId (1 to 4). Any other int is ValueError; bool
/// and other types TypeError.
pub(crate) fn to_cipher(obj: &Bound<'_, PyAny>) -> PyResult<Cipher> {
    if let Ok(name) = obj.extract::<String>() {
        return Cipher::from_name(&name)
            .map_err(|_| PyValueError::new_err(format!("unknown cipher {name:?}")));
    }
    match int_arg(obj, "cipher")?.and_then(|v| u16::try_from(v).ok()) {
        Some(id) => Cipher::from_id(id).map_err(value_error),
        None => Err(PyValueError::new_err(format!(
            "unknown SMB2 CipherId {obj}"
        ))),
    }
}

/// A SessionId: any int in 0..2^64 (ValueError otherwise).
pub(crate) fn session_id(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    int_arg(obj, "session_id")?
        .ok_or_else(|| PyValueError::new_err(format!("session_id out of range: {obj}")))
}

/// A session's cipher key: `EncryptionKey(cipher, key)`, cipher a name
/// ("aes-128-ccm", "aes-128-gcm", "aes-256-ccm", "aes-256-gcm") or CipherId,
/// key 16 bytes (AES-128) or 32 (AES-256). It holds the nonce source: every
/// message it encrypts without an explicit nonce gets the next value of one
/// 64-bit counter (with a random fixed field), never reused; safe to share
/// between threads.
#[pyclass(module = "smbsign._smbsign", frozen)]
pub struct EncryptionKey(pub(crate) Box<CoreKey>);

#[pymethods]
impl EncryptionKey {
    #[new]
    fn new(cipher: &Bound<'_, PyAny>, key: &Bound<'_, PyAny>) -> PyResult<Self> {
        let c = to_cipher(cipher)?;
        let k = Bytes::new(key, "key")?;
        Ok(EncryptionKey(Box::new(
            CoreKey::new(c, k.as_slice()).map_err(value_error)?,
        )))
    }
    /// The CipherId (1 AES-128-CCM, 2 AES-128-GCM, 3 AES-256-CCM, 4 AES-256-GCM).
    #[getter]
    fn cipher(&self) -> u16 {
        self.0.cipher().id()
    }
    /// The cipher's name.
    #[getter]
    fn cipher_name(&self) -> &'static str {
        self.0.cipher().name()
    }
    /// The length of the cipher's nonce: 11 (CCM) or 12 (GCM).
    #[getter]
    fn nonce_len(&self) -> usize {
        self.0.cipher().nonce_len()
    }
    /// The next nonce of this key's source, as the 16-byte Nonce field.
    fn next_nonce<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let n = self.0.nonces().next().map_err(value_error)?;
        Ok(PyBytes::new(py, &n))
    }
    fn __repr__(&self) -> String {
        format!("EncryptionKey({:?})", self.0.cipher().name())
    }
}

/// Encrypts `parts` under `key`: with the key's next nonce, or with `nonce`
/// (the cipher's 11 or 12 bytes, or the whole 16-byte field) when given.
fn seal(
    key: &CoreKey,
    nonce: Option<&Bytes>,
    sid: u64,
    parts: &mut [&mut [u8]],
) -> smbsign::Result<[u8; TRANSFORM_HEADER_LEN]> {
    match nonce {
        Some(n) => transform::encrypt_message(key.key(), n.as_slice(), sid, parts),
        None => key.encrypt_message(sid, parts),
    }
}

/// The transform message of the SMB2 message `message` (a PDU or a compound
/// chain): the 52-byte TRANSFORM_HEADER with SessionId `session_id`, then the
/// ciphertext. `nonce` is for tests and differentials only: it must never
/// have been used with this key (None takes the key's next nonce).
#[pyfunction]
#[pyo3(signature = (key, session_id, message, nonce=None))]
pub fn encrypt_message<'py>(
    py: Python<'py>,
    key: &EncryptionKey,
    session_id: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
    nonce: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let sid = self::session_id(session_id)?;
    let m = Bytes::new(message, "message")?;
    let n = nonce.map(|n| Bytes::new(n, "nonce")).transpose()?;
    let len = m.len();
    PyBytes::new_with(py, TRANSFORM_HEADER_LEN + len, |out| {
        maybe_detach(py, len, || {
            let (head, body) = out.split_at_mut(TRANSFORM_HEADER_LEN);
            body.copy_from_slice(m.as_slice());
            head.copy_from_slice(&seal(&key.0, n.as_ref(), sid, &mut [body])?);
            Ok(())
        })
        .map_err(value_error)
    })
}

/// The SMB2 message a transform message `data` carries. ValueError when the
/// header is malformed (short, not FD 'SMB', Flags not 1, OriginalMessageSize
/// not the length that follows) or the tag does not match: no plaintext is
/// released then.
#[pyfunction]
pub fn decrypt_message<'py>(
    py: Python<'py>,
    key: &EncryptionKey,
    data: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let d = Bytes::new(data, "data")?;
    let (h, body) = transform::TransformHeader::parse(d.as_slice()).map_err(value_error)?;
    let header = *h.bytes();
    PyBytes::new_with(py, body.len(), |out| {
        maybe_detach(py, body.len(), || {
            out.copy_from_slice(body);
            transform::decrypt_message(key.0.key(), &header, &mut [out])
        })
        .map_err(value_error)
    })
}

/// Encrypts in place a writable buffer (bytearray, writable memoryview...)
/// laid out as on the wire: 52 bytes of room for the TRANSFORM_HEADER, then
/// the message. Nothing is written on error (ValueError; TypeError for a
/// read-only buffer). `nonce` as for `encrypt_message`.
#[pyfunction]
#[pyo3(signature = (key, session_id, buffer, nonce=None))]
pub fn encrypt_in_place(
    py: Python<'_>,
    key: &EncryptionKey,
    session_id: &Bound<'_, PyAny>,
    buffer: &Bound<'_, PyAny>,
    nonce: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let sid = self::session_id(session_id)?;
    let n = nonce.map(|n| Bytes::new(n, "nonce")).transpose()?;
    let mut b = Bytes::new_mut(buffer, "buffer")?;
    let len = b.len();
    let buf = b.as_mut();
    maybe_detach(py, len, || {
        if buf.len() < TRANSFORM_HEADER_LEN {
            return Err(smbsign::Error::TransformTruncated { len: buf.len() });
        }
        let (head, body) = buf.split_at_mut(TRANSFORM_HEADER_LEN);
        let h = seal(&key.0, n.as_ref(), sid, &mut [body])?;
        head.copy_from_slice(&h);
        Ok(())
    })
    .map_err(value_error)
}

/// Decrypts in place a whole transform message in a writable buffer; the
/// SMB2 message is then `buffer[52:]` (the header bytes stay). On any error
/// (ValueError) the buffer holds exactly what it held: a bad tag leaves the
/// ciphertext.
#[pyfunction]
pub fn decrypt_in_place(
    py: Python<'_>,
    key: &EncryptionKey,
    buffer: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let mut b = Bytes::new_mut(buffer, "buffer")?;
    let len = b.len();
    let buf = b.as_mut();
    maybe_detach(py, len, || {
        transform::decrypt_in_place(key.0.key(), buf).map(|_| ())
    })
    .map_err(value_error)
}

/// The SessionId of the transform message `data` (whose key decrypts it),
/// after checking its header: ValueError if it is not one.
#[pyfunction]
pub fn transform_session_id(data: &Bound<'_, PyAny>) -> PyResult<u64> {
    let d = Bytes::new(data, "data")?;
    Ok(transform::TransformHeader::new(d.as_slice())
        .map_err(value_error)?
        .session_id())
}

/// The CipherId a connection of `dialect` encrypts with: AES-128-CCM (1) for
/// 3.0 and 3.0.2; for 3.1.1 `cipher_id`, the one ENCRYPTION_CAPABILITIES
/// negotiated (None: no encryption, ValueError). ValueError for 2.x and for
/// any int out of range.
#[pyfunction]
#[pyo3(signature = (dialect, cipher_id=None))]
pub fn cipher_for_dialect(
    dialect: &Bound<'_, PyAny>,
    cipher_id: Option<&Bound<'_, PyAny>>,
) -> PyResult<u16> {
    let d = int_arg(dialect, "dialect")?
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(|| {
            PyValueError::new_err(format!("dialect {dialect} has no SMB3 encryption"))
        })?;
    // An id outside u16 stands in as 0xFFFF (no such CipherId): refused exactly
    // when the dialect reads the id (3.1.1).
    let n = match cipher_id {
        None => None,
        Some(obj) => Some(
            int_arg(obj, "cipher_id")?
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(u16::MAX),
        ),
    };
    core_cipher_for_dialect(d, n)
        .map(Cipher::id)
        .map_err(value_error)
}

/// A decrypted message's checks (core's `smb2::check_decrypted`): ValueError
/// for a nested transform or a PDU whose SessionId is not
/// `transform_session_id` (the first PDU's and each unrelated one's; MS-SMB2
/// 3.3.5.2.7), and for a malformed chain. A compressed message passes: check
/// it again after decompression.
#[pyfunction]
pub fn check_decrypted(
    transform_session_id: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let sid = session_id(transform_session_id)?;
    let b = Bytes::new(message, "message")?;
    smbsign::smb2::check_decrypted(sid, b.as_slice()).map_err(value_error)
}

/// Clears SMB2_FLAGS_SIGNED and zeroes the Signature of every PDU of the
/// writable `message` in place, before it is encrypted (an encrypted message
/// is not signed). ValueError for a malformed chain, nothing written.
#[pyfunction]
pub fn clear_signatures(message: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut b = Bytes::new_mut(message, "message")?;
    smbsign::smb2::clear_signatures(b.as_mut()).map_err(value_error)
}
