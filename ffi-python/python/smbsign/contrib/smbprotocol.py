"""Make smbprotocol (>= 1.10) sign, verify and derive keys through smbsign.

``install()`` replaces ``smbprotocol.connection.Connection._generate_signature``,
``Connection.verify_signature`` and ``smbprotocol.session.Session._smb3kdf``;
``uninstall()`` restores them. ``STATS`` counts what smbsign did, so a test can
prove that every signature went through it.
"""

import hmac
import threading
from typing import Any, Dict, Tuple

import smbsign

STATS: Dict[str, int] = {"signed": 0, "verified": 0, "verify_failed": 0, "kdf": 0}
_LOCK = threading.Lock()
_ORIGINALS: Dict[str, Any] = {}
_KEYS: Dict[Tuple[int, bytes], smbsign.SigningKey] = {}
_TLS = threading.local()
_SMB2_CANCEL = 0x000C

def _count(name: str) -> None:
    with _LOCK:
        STATS[name] += 1


def reset_stats() -> None:
    with _LOCK:
        for k in STATS:
            STATS[k] = 0


# Cached SigningKey objects (round keys / GHASH powers precomputed), one per
# (algorithm, session key); bounded so that a long-lived process with many
# sessions does not grow without end.
_MAX_KEYS = 4096


def _key(algorithm: int, key: bytes) -> smbsign.SigningKey:
    k = _KEYS.get((algorithm, key))
    if k is None:
        with _LOCK:
            if len(_KEYS) >= _MAX_KEYS:
                _KEYS.clear()
        k = _KEYS[(algorithm, key)] = smbsign.SigningKey(algorithm, key)
    return k


def _generate_signature(self, b_header, signing_key, message_id, response, command):
    """smbprotocol's ``Connection._generate_signature`` with smbsign computing the MAC
    (see ``_compute``); counts the signatures smbsign made."""
    signature, by_smbsign = _compute(self, b_header, signing_key, message_id, response, command)
    _TLS.by_smbsign = by_smbsign
    if by_smbsign and not getattr(_TLS, "verifying", False):
        _count("signed")
    return signature


def _compute(self, b_header, signing_key, message_id, response, command):
    """The signature smbprotocol's ``_generate_signature`` returns, and whether smbsign made it.

    Transparency rule: the algorithm choice, the GMAC nonce (from the
    ``message_id``/``response``/``command`` arguments, as smbprotocol does, not
    from the header) and every step that can raise are smbprotocol's own,
    in the same order. Inputs smbsign does not cover exactly as smbprotocol
    does (a non-bytes header or key, CMAC/GMAC keys that are not 16 bytes,
    which smbprotocol would run as AES-192/256 or refuse with cryptography's
    error) go to smbprotocol's own function, so the results and exceptions are
    identical by construction.
    """
    from smbprotocol import Dialects
    from smbprotocol.connection import Commands, SigningAlgorithms

    def original():
        return _ORIGINALS["gen"](self, b_header, signing_key, message_id, response, command), False

    if type(b_header) is not bytes or type(signing_key) is not bytes:  # noqa: E721
        return original()
    try:
        # The header as it is MACed (Signature zeroed): core's layout, not a slice here.
        data = smbsign.header_for_mac(b_header) + b_header[64:]
    except ValueError:
        return original()  # shorter than a header or not FE 'SMB': smbprotocol MACs it as it is

    if self.dialect >= Dialects.SMB_3_1_1 and self.signing_algorithm_id is not None:
        sign_id = self.signing_algorithm_id
    elif self.dialect >= Dialects.SMB_3_0_0:
        sign_id = SigningAlgorithms.AES_CMAC
    else:
        sign_id = SigningAlgorithms.HMAC_SHA256

    if sign_id == SigningAlgorithms.AES_GMAC:
        if len(signing_key) != 16:
            return original()
        # The nonce is core's rule (smbsign.gmac_nonce_for), fed what smbprotocol
        # tests, in its order: `if response`, then `command == SMB2_CANCEL`; a
        # message_id that int.to_bytes(8) would refuse goes to smbprotocol's code.
        server_to_client = bool(response)
        cancel = command == Commands.SMB2_CANCEL
        if type(message_id) is not int or not 0 <= message_id < 2**64:  # noqa: E721
            return original()
        nonce = smbsign.gmac_nonce_for(message_id, server_to_client, _SMB2_CANCEL if cancel else 0)
        signature = _key(smbsign.AES_GMAC, signing_key).mac(data, nonce)
    elif sign_id == SigningAlgorithms.AES_CMAC:
        if len(signing_key) != 16:
            return original()
        signature = _key(smbsign.AES_CMAC, signing_key).mac(data)
    elif len(signing_key) == 16:
        # Any other id is HMAC-SHA256 in smbprotocol.
        signature = _key(smbsign.HMAC_SHA256, signing_key).mac(data)
    else:
        # HMAC takes a key of any length (MS-SMB2 zero-pads a short session
        # key to 16 bytes, and HMAC's own zero padding makes both agree).
        signature = smbsign.hmac_sha256(signing_key, data)[:16]
    return signature, True


def _verify_signature(self, header, session_id, force=False):
    """smbprotocol's ``Connection.verify_signature``, line for line (same
    checks, same exceptions and messages), with the expected signature computed
    by ``self._generate_signature`` and compared in constant time. Counts the
    verifications smbsign made (not those handed to smbprotocol's code)."""
    import binascii

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

    # Through self._generate_signature, as smbprotocol does (an override of it
    # is honoured); the thread-local says whether smbsign computed it, and keeps
    # this computation out of the "signed" count.
    _TLS.verifying, _TLS.by_smbsign = True, False
    try:
        expected = self._generate_signature(
            header.pack(),
            session.signing_key,
            message_id,
            flags.has_flag(Smb2Flags.SMB2_FLAGS_SERVER_TO_REDIR),
            command,
        )
    finally:
        _TLS.verifying = False
    by_smbsign = _TLS.by_smbsign
    actual = header["signature"].get_value()
    if not _equal(actual, expected):
        if by_smbsign:
            _count("verify_failed")
        actual_signature = binascii.hexlify(actual).decode()
        expected_signature = binascii.hexlify(expected).decode()
        raise SMBException(
            f"Server message signature could not be verified: {actual_signature} != {expected_signature}",
        )
    if by_smbsign:
        _count("verified")


def _equal(actual: Any, expected: Any) -> bool:
    # smbprotocol compares with `!=`; for two bytes objects compare_digest gives
    # the same answer in constant time. Anything else keeps `==` semantics.
    if type(actual) is bytes and type(expected) is bytes:  # noqa: E721
        return hmac.compare_digest(actual, expected)
    return actual == expected


def _smb3kdf(self, ki, label, context, length=16):
    """smbprotocol's ``Session._smb3kdf`` (cryptography's KBKDFHMAC, counter
    first, 32-bit L) with smbsign deriving; inputs outside what smbsign covers
    identically (non-bytes arguments, a length that is not an int in
    1..=smbsign's bound) go to smbprotocol's own function."""
    if (
        type(ki) is bytes  # noqa: E721
        and type(label) is bytes  # noqa: E721
        and type(context) is bytes  # noqa: E721
        and type(length) is int  # noqa: E721
        and 1 <= length <= _KDF_MAX_OUTPUT
    ):
        _count("kdf")
        return smbsign.kdf(ki, label, context, length)
    return _ORIGINALS["kdf"](self, ki, label, context, length)


# SP 800-108's 32-bit L field counts bits.
_KDF_MAX_OUTPUT = (2**32 - 1) // 8


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
