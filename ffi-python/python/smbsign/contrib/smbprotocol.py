"""Make smbprotocol (>= 1.10) sign, verify, derive keys, encrypt and decrypt through smbsign.

``install()`` replaces ``smbprotocol.connection.Connection._generate_signature``,
``Connection.verify_signature``, ``Connection._encrypt``, ``Connection._decrypt``
and ``smbprotocol.session.Session._smb3kdf``; ``uninstall()`` restores them.
``STATS`` counts what smbsign did, so a test can prove that every signature and
every encrypted message went through it.

Encryption keeps smbprotocol's own nonces (``os.urandom`` as smbprotocol's
connection module calls it), so a message is byte-for-byte the one smbprotocol
would have sent with the same randomness; decryption of a message smbsign
refuses (bad tag, OriginalMessageSize not the length that follows) is handed
to smbprotocol's own code, so the exception is exactly smbprotocol's.
"""

import hmac
import threading
from typing import Any, Dict, Optional, Tuple

import smbsign

STATS: Dict[str, int] = {
    "signed": 0,
    "verified": 0,
    "verify_failed": 0,
    "kdf": 0,
    "encrypted": 0,
    "decrypted": 0,
    "decrypt_failed": 0,
}
_LOCK = threading.Lock()
_ORIGINALS: Dict[str, Any] = {}
_KEYS: Dict[Tuple[int, bytes], smbsign.SigningKey] = {}
_CIPHER_KEYS: Dict[Tuple[str, bytes], smbsign.EncryptionKey] = {}
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


def _cipher_key(cipher: Optional[int], key: Any) -> Any:
    """The smbsign key for CipherId ``cipher`` (core's choice for the
    connection, ``_cipher``) and smbprotocol's key bytes, or None for what
    smbsign does not take identically: no cipher, a non-bytes key, or a key
    whose length is not the cipher's (smbprotocol's own code then runs and
    raises what it raises)."""
    if cipher is None or type(key) is not bytes:  # noqa: E721
        return None
    k = _CIPHER_KEYS.get((cipher, key))
    if k is None:
        try:
            k = smbsign.EncryptionKey(cipher, key)
        except ValueError:
            return None
        with _LOCK:
            if len(_CIPHER_KEYS) >= _MAX_KEYS:
                _CIPHER_KEYS.clear()
        _CIPHER_KEYS[(cipher, key)] = k
    return k


def _cipher(self: Any) -> Optional[int]:
    """The CipherId this connection encrypts with, by core's rule
    (``smbsign.cipher_for_dialect``: AES-128-CCM for 3.0 and 3.0.2, the
    negotiated CipherId for 3.1.1), or None where core refuses (no cipher, an
    unknown id, an odd connection object): smbprotocol's own code then runs."""
    try:
        dialect = int(self.dialect)
        cipher_id = getattr(self, "cipher_id", None)
        return smbsign.cipher_for_dialect(dialect, None if cipher_id is None else int(cipher_id))
    except (ValueError, TypeError, AttributeError, OverflowError):
        return None


def _encrypt(self, b_data, session):
    """smbprotocol's ``Connection._encrypt`` with smbsign sealing: the same
    header fields in the same order, the nonce from ``os.urandom`` as
    smbprotocol draws it; anything smbsign does not take identically (non-bytes
    data, a message shorter than an SMB2 header, a session id outside 64 bits,
    a key that is not the negotiated cipher's) goes to smbprotocol's own function."""
    from smbprotocol import connection

    key = getattr(session, "encryption_key", None)
    sid = getattr(session, "session_id", None)
    k = _cipher_key(_cipher(self), key)
    if (
        k is None
        or type(b_data) is not bytes  # noqa: E721
        or len(b_data) < smbsign.MIN_MESSAGE_LEN  # smbsign refuses less than an SMB2 header
        or type(sid) is not int  # noqa: E721
        or not 0 <= sid < 2**64
    ):
        return _ORIGINALS["encrypt"](self, b_data, session)
    header = connection.SMB2TransformHeader()
    header["original_message_size"] = len(b_data)
    header["session_id"] = sid
    nonce = connection.os.urandom(k.nonce_len)
    header["nonce"] = nonce + b"\x00" * (16 - len(nonce))
    wire = smbsign.encrypt_message(k, sid, b_data, nonce=nonce)
    header["signature"] = wire[4:20]
    header["data"] = wire[52:]
    _count("encrypted")
    return header


def _decrypt(self, message):
    """smbprotocol's ``Connection._decrypt`` with smbsign opening: the same
    Flags check and session lookup (same exceptions), then smbsign verifies the
    tag before releasing any plaintext, and refuses (SMBException) a plaintext
    that is a nested transform or carries another session's SessionId. A message smbsign refuses goes to
    smbprotocol's own function, which raises its own exception for it."""
    from smbprotocol.exceptions import SMBException

    value = message["flags"].get_value()
    if value != 0x0001:
        raise SMBException(f"Expecting flag of 0x0001 but got {value:x} in the SMB Transform Header Response")
    session_id = message["session_id"].get_value()
    session = self.session_table.get(session_id, None)
    if session is None:
        raise SMBException(f"Failed to find valid session {session_id} for message decryption")
    k = _cipher_key(_cipher(self), getattr(session, "decryption_key", None))
    if k is not None:
        try:
            plain = smbsign.decrypt_message(k, message.pack())
        except ValueError:
            _count("decrypt_failed")
        else:
            # Core's receiver rules: no nested transform, and every PDU's
            # SessionId the transform's (MS-SMB2 3.2.5.1.1.1, 3.3.5.2.7).
            try:
                smbsign.check_decrypted(session_id, plain)
            except ValueError as e:
                raise SMBException(f"Decrypted message refused by smbsign: {e}") from None
            _count("decrypted")
            return plain
    return _ORIGINALS["decrypt"](self, message)


# SP 800-108's 32-bit L field counts bits.
_KDF_MAX_OUTPUT = (2**32 - 1) // 8


def install() -> None:
    """Route smbprotocol's signing, verification, key derivation, encryption and decryption through smbsign."""
    from smbprotocol import connection, session

    if _ORIGINALS:
        return
    _ORIGINALS["gen"] = connection.Connection._generate_signature
    _ORIGINALS["verify"] = connection.Connection.verify_signature
    _ORIGINALS["kdf"] = session.Session._smb3kdf
    _ORIGINALS["encrypt"] = connection.Connection._encrypt
    _ORIGINALS["decrypt"] = connection.Connection._decrypt
    connection.Connection._encrypt = _encrypt
    connection.Connection._decrypt = _decrypt
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
    connection.Connection._encrypt = _ORIGINALS.pop("encrypt")
    connection.Connection._decrypt = _ORIGINALS.pop("decrypt")
    _KEYS.clear()
    _CIPHER_KEYS.clear()


def installed() -> bool:
    return bool(_ORIGINALS)
