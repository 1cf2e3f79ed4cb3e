//! The SMB2 header view and signing rules of core, for Python: the adapters
//! ask these instead of restating them.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smbsign::smb2::{self, Exemption};

use crate::buffers::{int_arg, Bytes};
use crate::pdu::value_error;

/// A u64 argument (TypeError for a non-int or bool, ValueError out of range).
fn u64_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    int_arg(obj, what)?.ok_or_else(|| PyValueError::new_err(format!("{what} out of range: {obj}")))
}

/// The SMB2 header of a PDU (MS-SMB2 2.2.1), copied and checked once:
/// `Header(pdu)` raises ValueError for fewer than 64 bytes or a ProtocolId
/// other than FE 'S' 'M' 'B'.
#[pyclass(module = "smbsign._smbsign", frozen)]
pub struct Header([u8; smb2::HEADER_LEN]);

impl Header {
    fn view(&self) -> smb2::Header<'_> {
        smb2::Header::new(&self.0).expect("checked when built")
    }
}

#[pymethods]
impl Header {
    #[new]
    fn new(pdu: &Bound<'_, PyAny>) -> PyResult<Self> {
        let b = Bytes::new(pdu, "pdu")?;
        let h = smb2::Header::new(b.as_slice()).map_err(value_error)?;
        Ok(Header(*h.bytes()))
    }
    /// Status (responses; ChannelSequence in 3.x requests).
    #[getter]
    fn status(&self) -> u32 {
        self.view().status()
    }
    /// Command.
    #[getter]
    fn command(&self) -> u16 {
        self.view().command()
    }
    /// CreditRequest/CreditResponse.
    #[getter]
    fn credit(&self) -> u16 {
        self.view().credit()
    }
    /// Flags.
    #[getter]
    fn flags(&self) -> u32 {
        self.view().flags()
    }
    /// NextCommand.
    #[getter]
    fn next_command(&self) -> u32 {
        self.view().next_command()
    }
    /// MessageId.
    #[getter]
    fn message_id(&self) -> u64 {
        self.view().message_id()
    }
    /// AsyncId (ASYNC form), else None.
    #[getter]
    fn async_id(&self) -> Option<u64> {
        self.view().async_id()
    }
    /// TreeId (SYNC form), else None.
    #[getter]
    fn tree_id(&self) -> Option<u32> {
        self.view().tree_id()
    }
    /// SessionId as the header carries it.
    #[getter]
    fn session_id(&self) -> u64 {
        self.view().session_id()
    }
    /// Signature.
    #[getter]
    fn signature<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.view().signature())
    }
    /// Whether SMB2_FLAGS_SERVER_TO_REDIR is set.
    #[getter]
    fn is_response(&self) -> bool {
        self.view().is_response()
    }
    /// Whether SMB2_FLAGS_SIGNED is set.
    #[getter]
    fn is_signed(&self) -> bool {
        self.view().is_signed()
    }
    /// Whether SMB2_FLAGS_ASYNC_COMMAND is set.
    #[getter]
    fn is_async(&self) -> bool {
        self.view().is_async()
    }
    /// Whether SMB2_FLAGS_RELATED_OPERATIONS is set.
    #[getter]
    fn is_related(&self) -> bool {
        self.view().is_related()
    }
    /// The PDU's AES-GMAC nonce.
    fn gmac_nonce<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.view().gmac_nonce())
    }
}

/// A PDU's 64-byte header as it is MACed: the Signature field zeroed.
#[pyfunction]
pub fn header_for_mac<'py>(
    py: Python<'py>,
    pdu: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let b = Bytes::new(pdu, "pdu")?;
    Ok(PyBytes::new(
        py,
        &smb2::header_for_mac(b.as_slice()).map_err(value_error)?,
    ))
}

/// The AES-GMAC nonce from its fields (MS-SMB2 3.1.4.1): MessageId, then bit
/// 0 for server-to-client, bit 1 for CANCEL.
#[pyfunction]
pub fn gmac_nonce_for<'py>(
    py: Python<'py>,
    message_id: &Bound<'_, PyAny>,
    server_to_client: bool,
    command: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mid = u64_arg(message_id, "message_id")?;
    let cmd = u16::try_from(u64_arg(command, "command")?)
        .map_err(|_| PyValueError::new_err(format!("command out of range: {command}")))?;
    Ok(PyBytes::new(
        py,
        &smb2::gmac_nonce_for(mid, server_to_client, cmd),
    ))
}

/// The session whose key verifies each PDU of a compound chain (related
/// operations take the previous operation's session).
#[pyfunction]
pub fn verifying_session_ids(chain: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    let b = Bytes::new(chain, "chain")?;
    smb2::verifying_sessions(b.as_slice()).map_err(value_error)
}

/// The name of an exemption, as Python sees it.
fn exemption_name(e: Exemption) -> &'static str {
    match e {
        Exemption::NoSession => "no_session",
        Exemption::Negotiate => "negotiate",
        Exemption::SessionSetup => "session_setup",
        Exemption::GuestOrAnonymous => "guest_or_anonymous",
        Exemption::Interim => "interim",
        Exemption::BreakNotification => "break_notification",
        Exemption::SessionDeleted => "session_deleted",
    }
}

/// Why MS-SMB2 lets this PDU travel unsigned (an exemption's name), or None.
/// `session_id` is its verifying session ([`verifying_session_ids`]).
#[pyfunction]
pub fn signing_exemption(
    pdu: &Bound<'_, PyAny>,
    session_id: &Bound<'_, PyAny>,
) -> PyResult<Option<&'static str>> {
    let b = Bytes::new(pdu, "pdu")?;
    let sid = u64_arg(session_id, "session_id")?;
    Ok(smb2::signing_exemption(b.as_slice(), sid)
        .map_err(value_error)?
        .map(exemption_name))
}

/// Whether a receiver skips verifying this PDU even when it is flagged as
/// signed (interim responses, break notifications; MS-SMB2 3.2.5.1.3).
#[pyfunction]
pub fn skips_verification(pdu: &Bound<'_, PyAny>, session_id: &Bound<'_, PyAny>) -> PyResult<bool> {
    let b = Bytes::new(pdu, "pdu")?;
    let sid = u64_arg(session_id, "session_id")?;
    Ok(smb2::signing_exemption(b.as_slice(), sid)
        .map_err(value_error)?
        .is_some_and(Exemption::skips_verification))
}

/// Whether this PDU, unsigned, breaks the signing rules on a session whose
/// Session.SigningRequired is `session_requires_signing`.
#[pyfunction]
pub fn must_be_signed(
    pdu: &Bound<'_, PyAny>,
    session_id: &Bound<'_, PyAny>,
    session_requires_signing: bool,
) -> PyResult<bool> {
    let b = Bytes::new(pdu, "pdu")?;
    let sid = u64_arg(session_id, "session_id")?;
    smb2::must_be_signed(b.as_slice(), sid, session_requires_signing).map_err(value_error)
}

/// Session.SigningRequired from the SecurityMode fields that speak for a
/// session (each None when unknown).
#[pyfunction]
#[pyo3(signature = (negotiate_request=None, negotiate_response=None, session_setup_request=None))]
pub fn session_requires_signing(
    negotiate_request: Option<u16>,
    negotiate_response: Option<u16>,
    session_setup_request: Option<u8>,
) -> bool {
    smb2::session_requires_signing(negotiate_request, negotiate_response, session_setup_request)
}

/// Why this PDU travels in the clear even on a session that encrypts
/// ("no_session", "negotiate", "session_binding"), or None.
#[pyfunction]
pub fn encryption_exemption(
    pdu: &Bound<'_, PyAny>,
    session_id: &Bound<'_, PyAny>,
) -> PyResult<Option<&'static str>> {
    let b = Bytes::new(pdu, "pdu")?;
    let sid = u64_arg(session_id, "session_id")?;
    Ok(smb2::encryption_exemption(b.as_slice(), sid)
        .map_err(value_error)?
        .map(|e| match e {
            smb2::EncryptionExemption::NoSession => "no_session",
            smb2::EncryptionExemption::Negotiate => "negotiate",
            smb2::EncryptionExemption::SessionBinding => "session_binding",
        }))
}

/// Whether this PDU must travel encrypted: `encrypt_data` is Session.EncryptData
/// or the PDU's TreeConnect/Share.EncryptData (or, for a response,
/// Request.IsEncrypted); MS-SMB2 exempts NEGOTIATE, session binding and
/// SessionId 0. A receiver refuses such a PDU that came in the clear.
#[pyfunction]
pub fn must_be_encrypted(
    pdu: &Bound<'_, PyAny>,
    session_id: &Bound<'_, PyAny>,
    encrypt_data: bool,
) -> PyResult<bool> {
    let b = Bytes::new(pdu, "pdu")?;
    let sid = u64_arg(session_id, "session_id")?;
    smb2::must_be_encrypted(b.as_slice(), sid, encrypt_data).map_err(value_error)
}

/// Whether a receiver checks a message's signatures: only when it arrived in
/// the clear (in an encrypted one SMB2_FLAGS_SIGNED and Signature are ignored).
#[pyfunction]
pub fn signature_applies(arrived_encrypted: bool) -> bool {
    smb2::signature_applies(arrived_encrypted)
}
