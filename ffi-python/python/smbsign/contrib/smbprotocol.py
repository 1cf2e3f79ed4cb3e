"""Make smbprotocol (>= 1.10) sign, verify and derive keys through smbsign.

``install()`` replaces ``smbprotocol.connection.Connection._generate_signature``,
``Connection.verify_signature`` and ``smbprotocol.session.Session._smb3kdf``;
``uninstall()`` restores them. ``STATS`` counts what smbsign did, so a test can
prove that every signature went through it.
"""

import threading
from typing import Any, Dict, Tuple

import smbsign

STATS: Dict[str, int] = {"signed": 0, "verified": 0, "verify_failed": 0, "kdf": 0}
_LOCK = threading.Lock()
_ORIGINALS: Dict[str, Any] = {}
_KEYS: Dict[Tuple[int, bytes], smbsign.SigningKey] = {}

_SMB_3_1_1 = 0x0311


def _count(name: str) -> None:
    with _LOCK:
        STATS[name] += 1


def reset_stats() -> None:
    with _LOCK:
        for k in STATS:
            STATS[k] = 0


def _algorithm(connection: Any) -> int:
    negotiated = connection.signing_algorithm_id if connection.dialect >= _SMB_3_1_1 else None
    return smbsign.algorithm_for_dialect(connection.dialect, negotiated)


def _key(algorithm: int, key: bytes) -> smbsign.SigningKey:
    # Keys precompute round keys / GHASH powers: keep one per session key.
    k = _KEYS.get((algorithm, key))
    if k is None:
        k = _KEYS[(algorithm, key)] = smbsign.SigningKey(algorithm, key)
    return k


def _signature(connection: Any, b_header: bytes, signing_key: bytes) -> bytes:
    algorithm = _algorithm(connection)
    data = bytearray(b_header)
    data[48:64] = bytes(16)
    # The GMAC nonce comes from the header itself (MessageId, role, CANCEL).
    nonce = smbsign.gmac_nonce(data) if algorithm == smbsign.AES_GMAC else None
    return _key(algorithm, bytes(signing_key)).mac(data, nonce)


def _generate_signature(self, b_header, signing_key, message_id, response, command):  # noqa: ARG001
    signature = _signature(self, b_header, signing_key)
    _count("signed")
    return signature


def _verify_signature(self, header, session_id, force=False):
    from smbprotocol.connection import Commands, NtStatus, Smb2Flags
    from smbprotocol.exceptions import SMBException

    message_id = header["message_id"].get_value()
    flags = header["flags"]
    status = header["status"].get_value()
    command = header["command"].get_value()
    if not force and (
        message_id == 0xFFFFFFFFFFFFFFFF
        or not flags.has_flag(Smb2Flags.SMB2_FLAGS_SIGNED)
        or status == NtStatus.STATUS_PENDING
        or command == Commands.SMB2_SESSION_SETUP
    ):
        return
    session = self.session_table.get(session_id, None)
    if session is None:
        raise SMBException(f"Failed to find session {session_id} for message verification")
    b_header = header.pack()
    algorithm = _algorithm(self)
    data = bytearray(b_header)
    data[48:64] = bytes(16)
    nonce = smbsign.gmac_nonce(data) if algorithm == smbsign.AES_GMAC else None
    actual = header["signature"].get_value()
    if not _key(algorithm, bytes(session.signing_key)).verify(data, actual, nonce):
        _count("verify_failed")
        raise SMBException(f"Server message signature could not be verified by smbsign (message id {message_id})")
    _count("verified")


def _smb3kdf(self, ki, label, context, length=16):  # noqa: ARG001
    _count("kdf")
    return smbsign.kdf(ki, label, context, length)


def install() -> None:
    """Route smbprotocol's signing, verification and key derivation through smbsign."""
    from smbprotocol import connection, session

    if _ORIGINALS:
        return
    _ORIGINALS["gen"] = connection.Connection._generate_signature
    _ORIGINALS["verify"] = connection.Connection.verify_signature
    _ORIGINALS["kdf"] = session.Session._smb3kdf
    connection.Connection._generate_signature = _generate_signature
    connection.Connection.verify_signature = _verify_signature
    session.Session._smb3kdf = _smb3kdf


def uninstall() -> None:
    """Restore smbprotocol's own implementations."""
    from smbprotocol import connection, session

    if not _ORIGINALS:
        return
    connection.Connection._generate_signature = _ORIGINALS.pop("gen")
    connection.Connection.verify_signature = _ORIGINALS.pop("verify")
    session.Session._smb3kdf = _ORIGINALS.pop("kdf")
    _KEYS.clear()


def installed() -> bool:
    return bool(_ORIGINALS)
