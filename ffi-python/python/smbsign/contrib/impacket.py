"""Make impacket (tested with 0.13.1) sign, derive keys, encrypt and, on request, verify through smbsign.

``install()`` replaces ``impacket.smb3.SMB3.signSMB`` (client signing),
``impacket.crypto.KDF_CounterMode`` (and every binding of it made by
``from impacket.crypto import KDF_CounterMode``),
``impacket.smbserver.SMBSERVER.signSMBv2`` (its SMB server's signing) and
``impacket.smb3.AES`` (the client's AES-CCM sealing, see below) with
functions that give byte-for-byte the same results, side effects and
exceptions, only faster; ``uninstall()`` restores them. Inputs smbsign does
not take (an AES-256 "CMAC" key, a key that is not bytes, a KDF length that
impacket truncates oddly) are handed to impacket's own function unchanged and
counted in ``STATS["fallback"]``.

``install(verify=True)`` also checks every response ``SMB3.recvSMB`` returns
(MS-SMB2 3.2.5.1.3): a signed response must verify; on a session that signs, an
unsigned one is refused too (clearing the flag would otherwise strip the
signature), unless smbsign's core rule exempts it (``smbsign.must_be_signed``:
interim responses, oplock and lease break notifications, STATUS_USER_SESSION_DELETED
and the others MS-SMB2 names); interim responses and break notifications are not
verified even when flagged as signed (``smbsign.skips_verification``). The final
SESSION_SETUP response is signed with the key derived after it arrives (from
the preauth hash in 3.1.1), so it is checked when ``login``/``kerberosLogin``
returns. A failure raises ``SignatureError``, an ``impacket.smb3.SessionError``
with STATUS_INVALID_SIGNATURE (``SMBConnection`` re-raises it as its own
``SessionError`` with that code). Responses that arrive encrypted are not
checked for a signature (MS-SMB2 3.2.5.1.3; Samba's signature inside them is not
one): their integrity rests on the AES-CCM tag, which impacket itself does not
check (its ``cipher.verify`` is commented out). With ``verify=True`` smbsign
checks that tag on every encrypted frame before impacket decrypts it (MS-SMB2
3.2.5.1.1.1: header, then tag under the session's DecryptionKey), then core's
receiver rules on the plaintext (``smbsign.check_decrypted``: no nested
transform, every PDU's SessionId the transform's); a frame that fails raises
``SignatureError`` and is never parsed (``STATS["tag_verified"]``,
``STATS["tag_failed"]``). Whether a response is checked for a signature at all
is core's rule too (``smbsign.signature_applies``: not when it came encrypted),
and a response that came in the clear on a session or tree impacket encrypts
for is refused when core says it must be encrypted (``smbsign.must_be_encrypted``).

Encryption: impacket seals inline in ``SMB3.sendSMB`` with pycryptodome
(``AES.new(key, AES.MODE_CCM, nonce)``, ``update(aad)``, ``encrypt``,
``digest``). ``install()`` gives ``impacket.smb3`` an ``AES`` whose ``new``
returns, for CCM, an object that seals through smbsign when the AAD is the
transform header smbsign would write for that nonce, length and SessionId (and
is checked to be, byte for byte), and otherwise replays the calls on
pycryptodome's own object: same bytes, same exceptions
(``STATS["encrypted"]``). Decryption objects are pycryptodome's (impacket gives
them no tag; with ``verify=True`` the tag was checked on the frame already).

``STATS`` counts what smbsign did, so a test can prove that every signature
went through it.
"""

import hmac
import threading
from typing import Any, Callable, Dict, Optional, Tuple

import smbsign

STATS: Dict[str, int] = {
    "signed": 0,
    "server_signed": 0,
    "verified": 0,
    "verify_failed": 0,
    "kdf": 0,
    "fallback": 0,
    "encrypted_skipped": 0,
    "tag_verified": 0,
    "tag_failed": 0,
    "encrypted": 0,
}
_LOCK = threading.Lock()
_ORIGINALS: Dict[str, Any] = {}
# Modules (other than impacket.crypto) that bound KDF_CounterMode by name.
_KDF_BINDINGS: list = []
# Per (algorithm, key): a smbsign.SigningKey (16-byte keys) or, for HMAC keys of
# another length, a keyed smbsign.HmacSha256 to copy. Built once per session key.
_KEYS: Dict[Tuple[int, bytes], Any] = {}
_MAX_KEYS = 1024  # a long-running server sees many sessions: bound the cache
_Signer = Callable[[bytes], bytes]

_BYTES = (bytes, bytearray)
_SMB2_FLAGS_SIGNED = 0x00000008
_SMB2_SESSION_SETUP = 0x0001
_SMB2_SESSION_FLAG_ENCRYPT_DATA = 0x0004
_STATUS_SUCCESS = 0x00000000
_STATUS_INVALID_SIGNATURE = 0xC000A000
_MAX_PLAIN_FRAMES = 256


def _count(name: str) -> None:
    with _LOCK:
        STATS[name] += 1


def reset_stats() -> None:
    with _LOCK:
        for k in STATS:
            STATS[k] = 0


def _key(algorithm: int, key: Any) -> Any:
    cache_key = (algorithm, bytes(key))
    k = _KEYS.get(cache_key)
    if k is None:
        # impacket keeps a Kerberos session key whole (32 bytes with AES): smbsign's
        # HMAC object takes any key length, its SigningKey 16 bytes.
        k = smbsign.SigningKey(algorithm, key) if len(key) == 16 else smbsign.HmacSha256(key)
        with _LOCK:
            if len(_KEYS) >= _MAX_KEYS:
                _KEYS.pop(next(iter(_KEYS)), None)
            _KEYS[cache_key] = k
    return k


def _signer(algorithm: int, key: Any) -> _Signer:
    """The MAC function of (algorithm, key); key is 16 bytes unless algorithm is HMAC."""
    k = _key(algorithm, key)
    if isinstance(k, smbsign.SigningKey):
        return k.mac

    def hmac_truncated(data: bytes) -> bytes:
        h = k.copy()
        h.update(data)
        return h.digest()[:16]

    return hmac_truncated


def _client_signer(smb3: Any) -> Optional[_Signer]:
    """The signer impacket's SMB3.signSMB would use on this connection, or None
    where smbsign does not take the key (then impacket's own code runs)."""
    try:
        algorithm = smbsign.algorithm_for_dialect(smb3._Connection["Dialect"])
    except (ValueError, TypeError, OverflowError):
        return None  # a dialect smbsign does not sign: impacket's own rule decides
    if algorithm == smbsign.HMAC_SHA256:
        key = smb3._Session["SessionKey"]
        ok = type(key) in _BYTES
    else:
        key = smb3._Session["SigningKey"]
        ok = type(key) in _BYTES and len(key) == 16  # AES.new also takes 24/32-byte keys
    return _signer(algorithm, key) if ok else None


# ---- client signing ---------------------------------------------------------


def _sign_smb(self: Any, packet: Any) -> None:
    session_key = self._Session["SessionKey"]
    if type(session_key) not in _BYTES:
        _count("fallback")
        return _ORIGINALS["signSMB"](self, packet)
    if len(session_key) == 0:
        packet["Signature"] = "\x00" * 16  # what impacket leaves: no key, no signature
        return None
    signer = _client_signer(self)
    if signer is None:
        _count("fallback")
        return _ORIGINALS["signSMB"](self, packet)
    packet["Signature"] = "\x00" * 16
    packet["Signature"] = signer(packet.getData())
    _count("signed")
    return None


# ---- key derivation -----------------------------------------------------------


def _kdf_counter_mode(KI: Any, Label: Any, Context: Any, L: Any) -> bytes:  # noqa: N803 - impacket's names
    # impacket derives floor(L/256) blocks (at least one) and cuts to L/8 bytes;
    # for these L that is exactly SP 800-108 with [L]2 = L, which smbsign.kdf computes.
    if (
        type(KI) in _BYTES
        and type(Label) in _BYTES
        and type(Context) in _BYTES
        and type(L) is int
        and 0 < L < 2**32
        and L % 8 == 0
        and (L <= 256 or L % 256 == 0)
    ):
        # impacket's Label carries its own NUL; smbsign.kdf adds the separator NUL as impacket does.
        out = smbsign.kdf(KI, Label, Context, L // 8)
        _count("kdf")
        return out
    _count("fallback")
    return _ORIGINALS["kdf"](KI, Label, Context, L)


# ---- server signing -------------------------------------------------------------


def _sign_smb_v2(self: Any, packet: Any, signingSessionKey: Any, padLength: int = 0) -> None:  # noqa: N803
    if type(signingSessionKey) not in _BYTES:
        _count("fallback")
        return _ORIGINALS["signSMBv2"](self, packet, signingSessionKey, padLength)
    packet["Signature"] = b"\x00" * 16
    packet["Flags"] |= _SMB2_FLAGS_SIGNED
    packet_data = packet.getData() + b"\x00" * padLength
    packet["Signature"] = _signer(smbsign.HMAC_SHA256, signingSessionKey)(packet_data)
    _count("server_signed")
    return None


# ---- response verification (install(verify=True)) -----------------------------


def _signature_error() -> type:
    from impacket import smb3

    class SignatureError(smb3.SessionError):
        """A response whose signature smbsign could not verify (or that should
        have been signed and was not)."""

        def __init__(self, reason: str, packet: Any) -> None:
            super().__init__(_STATUS_INVALID_SIGNATURE, packet)
            self.reason = reason

        def __str__(self) -> str:
            return f"SMB SessionError: STATUS_INVALID_SIGNATURE: {self.reason}"

    return SignatureError


SignatureError: Any = None  # set by install(): the class needs impacket


def _refuse(reason: str, packet: Any) -> None:
    _count("verify_failed")
    raise SignatureError(
        f"{reason} (command {packet['Command']:#06x}, message id {packet['MessageID']}, "
        f"status {packet['Status']:#010x}); checked by smbsign",
        packet,
    )


def _verify(smb3: Any, packet: Any) -> None:
    """Checks one signed response against the key impacket signs with."""
    try:
        algorithm = smbsign.algorithm_for_dialect(smb3._Connection["Dialect"])
    except (ValueError, TypeError, OverflowError):
        _refuse("signed response on a dialect smbsign does not sign", packet)
    key = smb3._Session["SessionKey" if algorithm == smbsign.HMAC_SHA256 else "SigningKey"]
    raw = packet.rawData
    if type(key) in _BYTES and len(key) == 16:
        try:
            ok = smbsign.verify_pdu(_key(algorithm, key), raw)
        except ValueError as e:
            _refuse(f"malformed signed response ({e})", packet)
    elif algorithm == smbsign.HMAC_SHA256 and type(key) in _BYTES and len(raw) >= 64:
        # An HMAC key of another length: SigningKey takes 16 bytes, so the MAC of
        # the PDU with its Signature zeroed, as impacket's signSMB computes it.
        try:
            header = smbsign.Header(raw)
        except ValueError as e:
            _refuse(f"malformed signed response ({e})", packet)
        covered = smbsign.header_for_mac(raw) + bytes(raw[64:])
        ok = hmac.compare_digest(_signer(algorithm, key)(covered), header.signature)
    else:
        _refuse("signed response, and no key smbsign can verify it with", packet)
    if not ok:
        _refuse("response signature does not verify", packet)
    _count("verified")


_CCM_KEYS: Dict[bytes, Any] = {}


def _ccm_key(key: bytes) -> Any:
    k = _CCM_KEYS.get(key)
    if k is None:
        with _LOCK:
            if len(_CCM_KEYS) >= _MAX_KEYS:
                _CCM_KEYS.clear()
        name = smbsign.AES_128_CCM if len(key) == 16 else smbsign.AES_256_CCM
        k = _CCM_KEYS[key] = smbsign.EncryptionKey(name, key)
    return k


class _Ccm:
    """pycryptodome's CCM object as impacket uses it to seal a message: calls
    are recorded; ``update(aad)`` then one ``encrypt(plaintext)`` seals through
    smbsign when the result is provably pycryptodome's (the AAD is exactly the
    header smbsign writes for this nonce, length and SessionId); anything else
    replays the recorded calls on pycryptodome's own object and continues there."""

    def __init__(self, real_new: Any, mode: Any, key: bytes, nonce: bytes) -> None:
        self._real_new, self._mode, self._key, self._nonce = real_new, mode, key, nonce
        self._aad: list = []
        self._real: Any = None
        self._tag: Optional[bytes] = None
        self._sealed: Optional[bytes] = None

    def _fallback(self) -> Any:
        """pycryptodome's object in the state the recorded calls leave it in."""
        if self._real is None:
            self._real = self._real_new(self._key, self._mode, self._nonce)
            for a in self._aad:
                self._real.update(a)
            if self._sealed is not None:
                self._real.encrypt(self._sealed)  # the same ciphertext smbsign returned
        return self._real

    def update(self, assoc_data: Any) -> Any:
        if self._real is not None or self._tag is not None:
            self._fallback().update(assoc_data)  # pycryptodome raises what it raises
            return self
        self._aad.append(assoc_data)
        return self

    def encrypt(self, plaintext: Any, *args: Any, **kwargs: Any) -> Any:
        if self._real is None and self._tag is None and not args and not kwargs:
            sealed = self._seal(plaintext)
            if sealed is not None:
                return sealed
        return self._fallback().encrypt(plaintext, *args, **kwargs)

    def _seal(self, plaintext: Any) -> Optional[bytes]:
        if len(self._aad) != 1 or type(self._aad[0]) is not bytes or type(plaintext) is not bytes:  # noqa: E721
            return None
        aad = self._aad[0]
        if len(aad) != 32 or aad[:11] != self._nonce or len(plaintext) < smbsign.MIN_MESSAGE_LEN:
            return None
        # The AAD's fields as the transform header carries them; the check below
        # proves the reading: smbsign's header must reproduce the AAD exactly.
        session_id = int.from_bytes(aad[24:32], "little")
        wire = smbsign.encrypt_message(_ccm_key(self._key), session_id, plaintext, nonce=aad[:16])
        if wire[20:52] != aad:
            return None
        self._tag, self._sealed = wire[4:20], plaintext
        _count("encrypted")
        return wire[52:]

    def digest(self) -> bytes:
        if self._tag is not None and self._real is None:
            return self._tag
        return self._fallback().digest()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._fallback(), name)


class _Aes:
    """``impacket.smb3.AES``: pycryptodome's AES module, except that ``new`` for
    CCM with a 16- or 32-byte bytes key and an 11-byte bytes nonce (impacket's
    calls) returns a ``_Ccm``."""

    def __init__(self, real: Any) -> None:
        self._real_module = real

    def new(self, key: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
        real = self._real_module
        if (
            mode == real.MODE_CCM
            and len(args) == 1
            and not kwargs
            and type(key) is bytes  # noqa: E721
            and len(key) in (16, 32)
            and type(args[0]) is bytes  # noqa: E721
            and len(args[0]) == 11
        ):
            return _Ccm(real.new, mode, key, args[0])
        return real.new(key, mode, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real_module, name)


def _check_transform(self: Any, trailer: Any) -> None:
    """Verifies the AES-128-CCM tag of an encrypted frame (impacket negotiates
    no other cipher) under the DecryptionKey of the SMB3 session that reads it,
    before impacket decrypts it without checking."""
    ref = self.__dict__.get("_smbsign_owner")
    owner = ref() if ref is not None else None
    key = owner._Session.get("DecryptionKey") if owner is not None else None
    if type(key) not in _BYTES or len(key) != 16:
        return  # not a session smbsign knows the key of: impacket's own handling
    k = _ccm_key(bytes(key))
    try:
        plain = smbsign.decrypt_message(k, trailer)
    except ValueError as e:
        _count("tag_failed")
        raise SignatureError(f"encrypted response refused ({e}); checked by smbsign", None) from None
    # Core's receiver rules on the plaintext: no nested transform, every PDU's
    # SessionId the transform's (MS-SMB2 3.2.5.1.1.1).
    try:
        smbsign.check_decrypted(smbsign.transform_session_id(trailer), plain)
    except ValueError as e:
        _count("tag_failed")
        raise SignatureError(f"decrypted response refused ({e}); checked by smbsign", None) from None
    _count("tag_verified")


def _recv_packet(self: Any, timeout: Any = None) -> Any:
    frame = _ORIGINALS["recv_packet"](self, timeout)
    trailer = frame.get_trailer()
    if trailer[:4] == b"\xfdSMB":
        _check_transform(self, trailer)
    if trailer[:4] == b"\xfeSMB":
        # Remember the frames that came in the clear: recvSMB parses this very
        # object, while it parses a new one (the plaintext) for an encrypted frame.
        plain = self.__dict__.setdefault("_smbsign_plain", {})
        if len(plain) >= _MAX_PLAIN_FRAMES:
            plain.pop(next(iter(plain)), None)
        plain[id(trailer)] = trailer
    return frame


def _was_encrypted(smb3: Any, packet: Any) -> Optional[bool]:
    """True: the packet came encrypted; False: it came in the clear; None: not
    known (a transport that is not watched), checked as if in the clear."""
    plain = getattr(smb3._NetBIOSSession, "__dict__", {}).get("_smbsign_plain")
    if plain is None:
        return None
    raw = packet.rawData
    if plain.pop(id(raw), None) is raw:
        return False
    # Without a decryption key impacket cannot have decrypted it: check it.
    return True if smb3._Session.get("DecryptionKey") else None


def _encrypts(smb3: Any, packet: Any) -> bool:
    """Session.EncryptData or the response's TreeConnect.EncryptData as impacket
    holds them (the flags impacket itself encrypts by)."""
    session = smb3._Session
    if session.get("SessionFlags", 0) & _SMB2_SESSION_FLAG_ENCRYPT_DATA:
        return True
    tree = session.get("TreeConnectTable", {}).get(packet["TreeID"]) if packet["TreeID"] else None
    return bool(tree is not None and tree.get("EncryptData") is True)


def _check_response(smb3: Any, packet: Any) -> None:
    if getattr(packet, "_smbsign_checked", False):
        return  # recvSMB recursed: this packet was checked on the way out already
    packet._smbsign_checked = True
    encrypted = _was_encrypted(smb3, packet)
    if not smbsign.signature_applies(encrypted is True):
        # Core's rule: a decrypted message is not checked for a signature, its
        # flag and Signature field are ignored (MS-SMB2 3.2.5.1.3); its
        # integrity is the AES-CCM tag (checked by _check_transform).
        _count("encrypted_skipped")
        return
    if packet["Command"] == _SMB2_SESSION_SETUP:
        # Signed (if at all) with a key derived after the final response arrives:
        # that one is checked when login returns (_check_final_setup).
        if packet["Status"] == _STATUS_SUCCESS:
            smb3.__dict__["_smbsign_final_setup"] = packet
        return
    session = smb3._Session
    if len(session["SessionKey"]) == 0:
        return  # no session key (anonymous/guest, or not yet authenticated): nothing signs
    # Which responses must be signed, and which are never verified, is core's rule.
    raw, session_id = packet.rawData, packet["SessionID"]
    try:
        # A response in the clear on a session or tree that encrypts (core's
        # rule, MS-SMB2 3.2.4.1.8 / 3.3.4.1.4: the server encrypts it).
        if encrypted is False and smbsign.must_be_encrypted(raw, session_id, _encrypts(smb3, packet)):
            _refuse("unencrypted response on a session or share that encrypts", packet)
        if smbsign.skips_verification(raw, session_id):
            return  # interim response or break notification (MS-SMB2 3.2.5.1.3)
        required = smbsign.must_be_signed(raw, session_id, session["SigningActivated"] is True)
    except ValueError as e:
        _refuse(f"malformed response ({e})", packet)
    if packet["Flags"] & _SMB2_FLAGS_SIGNED:
        _verify(smb3, packet)
    elif required:
        _refuse("unsigned response on a session that signs", packet)


def _recv_smb(self: Any, packetID: Any = None) -> Any:  # noqa: N803
    import weakref

    # The transport reads the frames: tell it whose session keys check them.
    transport = getattr(self, "_NetBIOSSession", None)
    if transport is not None and hasattr(transport, "__dict__"):
        transport.__dict__["_smbsign_owner"] = weakref.ref(self)
    packet = _ORIGINALS["recvSMB"](self, packetID)
    _check_response(self, packet)
    return packet


def _check_final_setup(smb3: Any) -> None:
    packet = smb3.__dict__.pop("_smbsign_final_setup", None)
    session = smb3._Session
    if packet is None or type(session["SessionKey"]) not in _BYTES or len(session["SessionKey"]) == 0:
        return
    if packet["Flags"] & _SMB2_FLAGS_SIGNED:
        _verify(smb3, packet)
    elif smbsign.must_be_signed(packet.rawData, packet["SessionID"], session["SigningActivated"] is True):
        # (core exempts a guest or anonymous session's final response)
        _refuse("unsigned final SESSION_SETUP response on a session that signs", packet)


def _login_wrapper(name: str) -> Callable[..., Any]:
    def login(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__.pop("_smbsign_final_setup", None)
        result = _ORIGINALS[name](self, *args, **kwargs)
        _check_final_setup(self)
        return result

    login.__name__ = name
    return login


# ---- install / uninstall ------------------------------------------------------------


def install(verify: bool = False) -> None:
    """Route impacket's SMB2/3 signing, key derivation and encryption through smbsign;
    with ``verify=True`` also verify every signed response the client receives, and
    the tag of every encrypted one."""
    global SignatureError
    import sys

    from impacket import crypto, nmb, smb3, smbserver

    if _ORIGINALS:
        if bool(verify) != ("recvSMB" in _ORIGINALS):
            uninstall()
        else:
            return
    if SignatureError is None:
        SignatureError = _signature_error()  # one class for the life of the process
    _ORIGINALS["signSMB"] = smb3.SMB3.signSMB
    _ORIGINALS["kdf"] = crypto.KDF_CounterMode
    _ORIGINALS["signSMBv2"] = smbserver.SMBSERVER.signSMBv2
    _ORIGINALS["AES"] = smb3.AES
    smb3.AES = _Aes(smb3.AES)
    smb3.SMB3.signSMB = _sign_smb
    smbserver.SMBSERVER.signSMBv2 = _sign_smb_v2
    crypto.KDF_CounterMode = _kdf_counter_mode
    # `from impacket.crypto import KDF_CounterMode` binds the function at import
    # time: rebind it in every module loaded so far (impacket's or a caller's).
    # Modules imported later bind the replacement from impacket.crypto.
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if module is not crypto and isinstance(namespace, dict):
            if namespace.get("KDF_CounterMode") is _ORIGINALS["kdf"]:
                namespace["KDF_CounterMode"] = _kdf_counter_mode
                _KDF_BINDINGS.append(module)
    if verify:
        _ORIGINALS["recvSMB"] = smb3.SMB3.recvSMB
        _ORIGINALS["login"] = smb3.SMB3.login
        _ORIGINALS["kerberosLogin"] = smb3.SMB3.kerberosLogin
        smb3.SMB3.recvSMB = _recv_smb
        smb3.SMB3.login = _login_wrapper("login")
        smb3.SMB3.kerberosLogin = _login_wrapper("kerberosLogin")
        _ORIGINALS["recv_packet"] = nmb.NetBIOSTCPSession.recv_packet
        nmb.NetBIOSTCPSession.recv_packet = _recv_packet


def uninstall() -> None:
    """Restore impacket's own implementations."""
    from impacket import crypto, nmb, smb3, smbserver

    if not _ORIGINALS:
        return
    smb3.SMB3.signSMB = _ORIGINALS.pop("signSMB")
    smbserver.SMBSERVER.signSMBv2 = _ORIGINALS.pop("signSMBv2")
    smb3.AES = _ORIGINALS.pop("AES")
    kdf = _ORIGINALS.pop("kdf")
    crypto.KDF_CounterMode = kdf
    while _KDF_BINDINGS:
        module = _KDF_BINDINGS.pop()
        if module.__dict__.get("KDF_CounterMode") is _kdf_counter_mode:
            module.__dict__["KDF_CounterMode"] = kdf
    for name in ("recvSMB", "login", "kerberosLogin"):
        if name in _ORIGINALS:
            setattr(smb3.SMB3, name, _ORIGINALS.pop(name))
    if "recv_packet" in _ORIGINALS:
        nmb.NetBIOSTCPSession.recv_packet = _ORIGINALS.pop("recv_packet")
    _KEYS.clear()
    _CCM_KEYS.clear()


def installed() -> bool:
    return bool(_ORIGINALS)


def verifying() -> bool:
    return "recvSMB" in _ORIGINALS
